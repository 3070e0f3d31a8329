"""The ``petf2i`` command line. Each module here registers one command group."""
