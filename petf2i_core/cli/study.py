"""``petf2i study run``: run a study config end to end (data, notebooks, manifest)."""

from __future__ import annotations

import argparse
import logging

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("study", help="run a study: data, systems, metrics, notebooks")
    commands = parser.add_subparsers(dest="study_command", required=True)

    run = commands.add_parser("run", help="run a study config end to end")
    run.add_argument("config", help="study YAML, e.g. configs/study/default.yaml")
    run.add_argument("--data", help="run on this file or prepared folder instead of the config's data.source")
    run.add_argument("--name", help="study name (outputs go to runs/NAME); defaults to the config's name")
    run.add_argument("--private", action="store_true", help="mark the data as patient data (no remote backends, no report text in the book)")
    run.add_argument("--only", nargs="+", metavar="PAGE", help="execute only these pages (dataset, metrics, train, system, results, examples, efficiency)")
    run.add_argument("--build-book", action="store_true", help="build the study's Jupyter Book after the run")
    run.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    from petf2i_core.study.config import load_study_config
    from petf2i_core.study.notebooks import NotebookError
    from petf2i_core.study.runner import run_study

    overrides: dict = {}
    if args.name:
        overrides["name"] = args.name
    data_overrides = {}
    if args.data:
        data_overrides["source"] = args.data
    if args.private:
        data_overrides["private"] = True
    if data_overrides:
        overrides["data"] = data_overrides
    if (args.data or args.name) and "book_dir" not in overrides:
        # A study on other data must not overwrite the default study's book.
        overrides["book_dir"] = None

    config = load_study_config(args.config, overrides)
    try:
        run = run_study(config, only=args.only)
    except NotebookError as error:
        logger.error("%s", error)
        return 1
    logger.info("study %s finished in %.0f s; manifest %s", config.name, sum(run.seconds.values()), run.manifest)

    if args.build_book:
        return build_book(config.book_path)
    return 0


def build_book(book_dir) -> int:
    """Build a Jupyter Book folder with the ``jupyter-book`` of this environment."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    executable = Path(sys.executable).with_name("jupyter-book")
    command = [str(executable if executable.exists() else shutil.which("jupyter-book") or "jupyter-book"), "build", str(book_dir)]
    logger.info("building the book: %s", " ".join(command))
    return subprocess.call(command)
