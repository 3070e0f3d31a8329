"""The ``petf2i data`` command group: ``prepare`` (and ``synth`` when the corpus module is installed)."""

from __future__ import annotations

import argparse
import logging

logger = logging.getLogger(__name__)


def _ratios(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"invalid ratios {text!r}; pass three numbers like 0.8,0.1,0.1") from error
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"invalid ratios {text!r}; pass three numbers like 0.8,0.1,0.1")
    return values  # type: ignore[return-value]


def _add_prepare(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="clean, de-identify and split report exports into train/val/test JSONL",
        description=(
            "Read report exports (JSONL, JSON, CSV, TSV, XLSX, Parquet, saved datasets folders), "
            "de-identify them, and write train.jsonl, val.jsonl, test.jsonl, rejects.jsonl, summary.json and card.md."
        ),
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="input files or saved datasets folders")
    parser.add_argument("--out", required=True, help="output folder")

    columns = parser.add_argument_group("columns (recognised by common names when omitted)")
    columns.add_argument("--findings-col", help="findings column (a position such as 0 for JSON lists)")
    columns.add_argument("--impression-col", help="impression column")
    columns.add_argument("--report-col", help="whole-report column to split at section headers")
    columns.add_argument("--id-col", help="record id column")
    columns.add_argument("--patient-col", help="patient id column; one patient's reports stay in one split")
    columns.add_argument("--language-col", help="language code column; detected per row when omitted")

    reading = parser.add_argument_group("reading")
    reading.add_argument("--encoding", help="text encoding; default tries UTF-8 (with or without BOM), then GB18030")
    reading.add_argument("--delimiter", help="field delimiter of text tables; default picks from the header line")
    reading.add_argument("--sheet", help="Excel sheet name; default the first sheet")
    reading.add_argument("--max-chars", type=int, default=20_000, help="maximum length of findings or impression, in characters (default 20000)")

    cleaning = parser.add_argument_group("cleaning and splitting")
    cleaning.add_argument("--ratios", type=_ratios, default=(0.8, 0.1, 0.1), help="train,val,test shares (default 0.8,0.1,0.1)")
    cleaning.add_argument("--seed", type=int, default=0, help="split seed (default 0)")
    cleaning.add_argument("--stratify", help="meta column or 'language' to stratify the split by")
    cleaning.add_argument("--no-near-duplicates", action="store_true", help="group exact duplicates only")
    cleaning.add_argument("--drop-duplicates", action="store_true", help="reject later copies of exact duplicate reports")
    cleaning.add_argument("--no-deid", action="store_true", help="skip de-identification (only for data that is already de-identified)")
    cleaning.add_argument("--dates", choices=("mask", "shift", "keep"), default="mask", help="mask dates, shift them per patient, or keep them (default mask)")
    cleaning.add_argument("--max-shift-days", type=int, default=365, help="largest date shift in days with --dates shift (default 365)")
    cleaning.add_argument("--key-env", default="PETF2I_DEID_KEY", help="environment variable with the secret for pseudonyms and date shifts (default PETF2I_DEID_KEY)")
    cleaning.add_argument("--pseudonymize-ids", action="store_true", help="replace record ids (accession or record numbers) by keyed pseudonyms")
    cleaning.add_argument("--keep-col", action="append", default=[], help="extra column to carry into meta (repeatable)")

    parser.set_defaults(handler=run_prepare)


def run_prepare(args: argparse.Namespace) -> int:
    """Run :func:`petf2i_core.data.prepare.prepare` from parsed arguments; print the counts."""
    import os

    from ..data.io import TableReadError
    from ..data.prepare import PrepareConfig, prepare

    key = os.environ.get(args.key_env, "")
    if not key:
        logger.warning("%s is not set: patient pseudonyms and date shifts use an empty key", args.key_env)
    try:
        config = PrepareConfig(
            findings_col=args.findings_col,
            impression_col=args.impression_col,
            report_col=args.report_col,
            id_col=args.id_col,
            patient_col=args.patient_col,
            language_col=args.language_col,
            encoding=args.encoding,
            delimiter=args.delimiter,
            sheet=args.sheet,
            max_chars=args.max_chars,
            ratios=args.ratios,
            seed=args.seed,
            stratify=args.stratify,
            near_duplicates=not args.no_near_duplicates,
            drop_exact_duplicates=args.drop_duplicates,
            deidentify=not args.no_deid,
            dates=args.dates,
            max_shift_days=args.max_shift_days,
            key=key,
            pseudonymize_ids=args.pseudonymize_ids,
            keep_columns=tuple(args.keep_col),
        )
        result = prepare(args.inputs, args.out, config)
    except (TableReadError, ValueError) as error:
        logger.error("%s", error)
        return 2

    counts = result.counts
    print(
        f"{counts['rows_in']} rows in: {counts['accepted']} accepted, {counts['rejected']} rejected; "
        f"train {counts['train']}, val {counts['val']}, test {counts['test']}; card: {result.paths['card']}"
    )
    for reason, count in result.rejected_by_reason.items():
        print(f"  rejected ({reason}): {count}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` command group to the ``petf2i`` parser."""
    parser = subparsers.add_parser("data", help="prepare report data sets")
    data_subparsers = parser.add_subparsers(dest="data_command", required=True)
    _add_prepare(data_subparsers)
    try:
        from .data_synth import register_synth
    except ModuleNotFoundError as error:
        if error.name != "petf2i_core.cli.data_synth":
            raise
    else:
        register_synth(data_subparsers)
