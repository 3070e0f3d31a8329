"""Entry point of the ``petf2i`` command.

Each command module exposes ``register(subparsers)``, which adds its parser and
sets ``handler`` to a function taking the parsed arguments and returning an exit
code. Modules import heavy libraries (torch, transformers) inside their handlers,
so ``petf2i --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

COMMAND_MODULES = (
    "petf2i_core.cli.data",
    "petf2i_core.cli.models",
    "petf2i_core.cli.generate",
    "petf2i_core.cli.train",
    "petf2i_core.cli.evaluate",
    "petf2i_core.cli.study",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="petf2i",
        description="Impression generation for PET/CT reports: data, models, generation, training, metrics, study.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue  # a command group not built yet
        module.register(subparsers)
    return parser


# Errors caused by the user's input or set-up: their messages name the file, row or
# setting and the fix, so the command prints them without a traceback (unless -v).
USER_ERRORS = (ValueError, KeyError, FileNotFoundError, NotADirectoryError, PermissionError, TypeError)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args) or 0)
    except USER_ERRORS as error:
        if args.verbose:
            raise
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"petf2i {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
