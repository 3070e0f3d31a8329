"""``petf2i evaluate``: score a JSONL file of predictions against reference impressions."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` command."""
    from petf2i_core.metrics.registry import METRIC_NAMES

    parser = subparsers.add_parser(
        "evaluate",
        help="score predictions against reference impressions",
        description=(
            "Score a JSONL file whose rows have id, findings, impression (the reference) and prediction. "
            "Writes corpus scores with bootstrap 95% intervals, signatures, per-sample scores and "
            "package versions to --out."
        ),
    )
    parser.add_argument("input", type=Path, help="JSONL file of rows to score")
    parser.add_argument("--lang", choices=("zh", "en", "auto"), default="auto",
                        help="language of all rows, or auto to group rows by language (default: auto)")
    parser.add_argument("--metrics", nargs="+", default=list(METRIC_NAMES), metavar="NAME",
                        help=f"metrics to compute (default: {' '.join(METRIC_NAMES)})")
    parser.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                        help="bootstrap resamples per 95%% interval; 0 skips intervals (default: 1000)")
    parser.add_argument("--seed", type=int, default=12345, help="bootstrap seed (default: 12345)")
    parser.add_argument("--option", action="append", default=[], metavar="METRIC.KEY=VALUE",
                        help="a metric constructor option, e.g. bertscore.chunked=true or rougeL.tokenizer=jieba; "
                             "VALUE is parsed as JSON when it can be; repeatable")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write the scores to")
    parser.set_defaults(handler=run)


def parse_options(items: list[str]) -> dict[str, dict[str, Any]]:
    """Parse ``METRIC.KEY=VALUE`` strings into ``{metric: {key: value}}``; raise ValueError on bad syntax."""
    options: dict[str, dict[str, Any]] = {}
    for item in items:
        name, _, value = item.partition("=")
        metric, _, key = name.partition(".")
        if not metric or not key or not _:
            raise ValueError(f"invalid --option {item!r}; write METRIC.KEY=VALUE, e.g. bertscore.chunked=true")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        options.setdefault(metric, {})[key] = parsed
    return options


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Read and validate JSONL rows, naming the file and line of the first bad one."""
    from petf2i_core.metrics.evaluate import validate_row

    if not path.is_file():
        raise FileNotFoundError(f"input file {path} not found")
    rows = []
    with path.open(encoding="utf-8-sig") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{line_number}: invalid JSON ({error.msg}); write one JSON object per line") from error
            validate_row(row, str(path), line_number)
            rows.append(row)
    if not rows:
        raise ValueError(f"{path}: no rows; the file is empty")
    return rows


def run(args: argparse.Namespace) -> int:
    """Score the input file and write the result JSON; print the language x metric table."""
    from petf2i_core.metrics.evaluate import evaluate

    rows = read_rows(args.input)
    result = evaluate(
        rows,
        language=args.lang,
        metrics=args.metrics,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        metric_options=parse_options(args.option),
        source=str(args.input),
    )
    result.to_json(args.out)
    print(result.table(with_interval=args.bootstrap > 0).to_string())
    logger.info("wrote %s", args.out)
    return 0
