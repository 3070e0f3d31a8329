"""``petf2i data synth``: write the synthetic PET/CT report corpus and its dataset card."""

from __future__ import annotations

import argparse
import logging

logger = logging.getLogger(__name__)


def register_synth(data_subparsers) -> None:
    """Add the ``synth`` command to the ``petf2i data`` group."""
    parser = data_subparsers.add_parser(
        "synth",
        help="generate synthetic Chinese/English PET/CT reports with gold entities",
        description="Generate synthetic whole-body PET/CT reports (findings, impression, gold entities) as JSONL, "
        "with a dataset card written to <out>.card.md.",
    )
    parser.add_argument("--n", type=_non_negative, required=True, help="number of cases (each gives one report per language)")
    parser.add_argument("--lang", choices=("zh", "en", "both"), default="both", help="report language(s) (default: both)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives byte-identical output (default: 0)")
    parser.add_argument("--out", required=True, help="output JSONL file")
    parser.add_argument("--noise-rate", type=_rate, default=0.05, help="chance that each editable spot gets noise, 0 to 1 (default: 0.05)")
    parser.set_defaults(handler=run_synth)


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"--n must be >= 0, got {number}")
    return number


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"--noise-rate must be between 0 and 1, got {rate}")
    return rate


def run_synth(args: argparse.Namespace) -> int:
    """Generate the corpus described by ``args`` and write it with its card."""
    from petf2i_core.data.synth import card_path, generate_corpus, write_corpus

    reports = generate_corpus(args.n, language=args.lang, seed=args.seed, noise_rate=args.noise_rate)
    path = write_corpus(reports, args.out)
    print(f"wrote {len(reports)} reports to {path} and the card to {card_path(path)}")
    return 0
