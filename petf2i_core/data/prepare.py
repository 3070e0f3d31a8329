"""From hospital exports to de-identified, leak-free train/val/test splits.

:func:`prepare` reads every input, maps its columns, splits whole reports into
sections, rejects rows that cannot be used (each with its source, row and reason),
de-identifies the rest, groups duplicates and splits by patient. It writes
train.jsonl, val.jsonl, test.jsonl, rejects.jsonl, summary.json and card.md, and
checks that rows in = rows accepted + rows rejected.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .card import build_summary, render_card
from .columns import ColumnMap, resolve_columns
from .dedup import find_duplicates, match_key
from .deid import DeidConfig
from .io import Table, read_table
from .records import Report, load_reports, write_jsonl
from .rows import RowConverter, RowRejected, detect_language, pseudonymize, reject_record
from .splits import DEFAULT_RATIOS, SPLIT_NAMES, check_ratios, split_reports

logger = logging.getLogger(__name__)

# detect_language and pseudonymize live in rows.py and are re-exported for callers.
__all__ = [
    "PrepareConfig", "PrepareResult", "RowCountError", "SourceInfo",
    "detect_language", "load_prepared", "prepare", "pseudonymize",
]


class RowCountError(AssertionError):
    """Rows in differ from rows accepted plus rows rejected."""


@dataclass
class PrepareConfig:
    """Options of :func:`prepare`.

    Attributes:
        findings_col: input column with the findings; recognised by name when None.
        impression_col: input column with the impression; recognised by name when None.
        report_col: a whole-report column to split by section headers; recognised by
            name (report, 报告, ...) when None and no section columns are found.
        id_col: record id column; without one, ids are ``<file stem>-<0-based row index>``.
        patient_col: patient id column; reports of one patient stay in one split.
        language_col: language code column; without one, rows with at least 25 % CJK
            characters among letters are "zh", other rows with letters "en".
        encoding: text encoding of CSV/TSV/JSON inputs; None tries UTF-8 (BOM allowed),
            then GB18030, strictly.
        delimiter: field delimiter of text tables; None picks from the header line.
        sheet: Excel sheet name; None reads the first sheet.
        max_chars: maximum length of findings or impression, in characters.
        ratios: target shares of train, val and test.
        seed: seed of the split order.
        stratify: meta field or "language" to stratify the split by.
        near_duplicates: group near-duplicate findings (character 5-gram Jaccard >= 0.9).
        drop_exact_duplicates: reject later copies of an exact duplicate (same normalised
            findings and impression) instead of keeping them in the same split.
        deidentify: replace identifiers in findings, impression and kept text columns.
        dates: "mask", "shift" (per-patient offset) or "keep".
        max_shift_days: largest date shift in days with dates="shift".
        key: secret for patient pseudonyms and date offsets; with the default "" anyone
            who can guess a patient id can recompute its pseudonym.
        pseudonymize_patients: replace patient ids by a keyed SHA-256 pseudonym.
        pseudonymize_ids: replace record ids from an id column by a keyed pseudonym
            ``r-<16 hex>``; use it when the ids are accession or record numbers.
        keep_columns: extra input columns to carry into ``meta`` (text is de-identified).
        min_boilerplate: minimum count for an impression to be listed as boilerplate.
    """

    findings_col: str | None = None
    impression_col: str | None = None
    report_col: str | None = None
    id_col: str | None = None
    patient_col: str | None = None
    language_col: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    max_chars: int = 20_000
    ratios: tuple[float, float, float] = DEFAULT_RATIOS
    seed: int = 0
    stratify: str | None = None
    near_duplicates: bool = True
    drop_exact_duplicates: bool = False
    deidentify: bool = True
    dates: str = "mask"
    max_shift_days: int = 365
    key: str = ""
    pseudonymize_patients: bool = True
    pseudonymize_ids: bool = False
    keep_columns: tuple[str, ...] = ()
    min_boilerplate: int = 5

    def __post_init__(self) -> None:
        self.ratios = check_ratios(self.ratios)
        if self.max_chars < 1:
            raise ValueError(f"max_chars must be positive, got {self.max_chars}")
        DeidConfig(dates=self.dates, max_shift_days=self.max_shift_days)


@dataclass
class SourceInfo:
    """Reading details of one input: format, encoding, columns used, and row counts."""

    path: str
    format: str
    encoding: str | None
    columns: dict[str, str | None]
    rows: int
    accepted: int = 0
    rejected: int = 0


@dataclass
class PrepareResult:
    """Outcome of :func:`prepare`.

    Attributes:
        out_dir: the output folder.
        paths: output name (train, val, test, rejects, card, summary) to file path.
        counts: rows_in, accepted, rejected, and per split sizes.
        rejected_by_reason: reason kind to count.
        splits: the written reports, by split name.
        rejects: the rejected rows as written to rejects.jsonl.
        sources: per-input reading details.
        summary: everything in summary.json (also the data of card.md).
    """

    out_dir: Path
    paths: dict[str, Path]
    counts: dict[str, int]
    rejected_by_reason: dict[str, int]
    splits: dict[str, list[Report]]
    rejects: list[dict[str, Any]]
    sources: list[SourceInfo]
    summary: dict[str, Any] = field(default_factory=dict)


def _read_inputs(inputs: list[str | Path], config: PrepareConfig) -> list[tuple[Table, ColumnMap]]:
    """Read and map every input before any row is processed, so a bad file stops the run early."""
    tables = []
    for path in inputs:
        table = read_table(path, encoding=config.encoding, delimiter=config.delimiter, sheet=config.sheet)
        columns = resolve_columns(
            table,
            findings=config.findings_col,
            impression=config.impression_col,
            report=config.report_col,
            id=config.id_col,
            patient=config.patient_col,
            language=config.language_col,
        )
        logger.info("%s: %s, %s, %d rows, columns %s", path, table.format, table.encoding, len(table.rows), asdict(columns))
        tables.append((table, columns))
    return tables


def _unique_id(report: Report, seen: set[str]) -> None:
    """Make ``report.id`` unique among ``seen`` (``<id>~2``, ``<id>~3``, ...), keeping the original in meta."""
    if report.id not in seen:
        seen.add(report.id)
        return
    suffix = 2
    while f"{report.id}~{suffix}" in seen:
        suffix += 1
    report.meta["original_id"] = report.id
    report.id = f"{report.id}~{suffix}"
    seen.add(report.id)


def _convert_all(
    tables: list[tuple[Table, ColumnMap]], config: PrepareConfig, deid_counts: Counter
) -> tuple[list[Report], list[dict[str, Any]], list[SourceInfo]]:
    accepted: list[Report] = []
    rejects: list[dict[str, Any]] = []
    sources: list[SourceInfo] = []
    seen_ids: set[str] = set()
    for table, columns in tables:
        converter = RowConverter(table, columns, config, deid_counts)
        info = SourceInfo(table.source, table.format, table.encoding, asdict(columns), len(table.rows))
        for row in tqdm(table.rows, desc=Path(table.source).name, unit="row", disable=len(table.rows) < 5000):
            try:
                report = converter.convert(row)
            except RowRejected as reject:
                rejects.append(reject_record(row, reject))
                info.rejected += 1
                continue
            _unique_id(report, seen_ids)
            accepted.append(report)
            info.accepted += 1
        sources.append(info)
    return accepted, rejects, sources


def _drop_exact_duplicates(reports: list[Report], rejects: list[dict[str, Any]]) -> list[Report]:
    first_of: dict[tuple[str, str], str] = {}
    kept = []
    for report in reports:
        key = (match_key(report.findings), match_key(report.impression))
        if key in first_of:
            rejects.append({
                "source": report.meta.get("source_file"),
                "row": report.meta.get("source_row"),
                "id": report.id,
                "reason": f"exact duplicate of {first_of[key]} (same normalised findings and impression)",
                "reason_kind": "exact duplicate",
            })
            continue
        first_of[key] = report.id
        kept.append(report)
    return kept


def prepare(inputs: list[str | Path], out_dir: str | Path, config: PrepareConfig | None = None) -> PrepareResult:
    """Read, clean, de-identify and split report tables; write the splits, rejects and a card.

    Raises:
        TableReadError: an input cannot be read or mapped (the message names the file and the fix).
        RowCountError: rows in differ from rows accepted plus rows rejected.
    """
    config = config or PrepareConfig()
    if not inputs:
        raise ValueError("no inputs; pass at least one file or saved datasets folder")
    out_dir = Path(out_dir)
    tables = _read_inputs(list(inputs), config)
    rows_in = sum(len(table.rows) for table, _ in tables)

    deid_counts: Counter = Counter()
    accepted, rejects, sources = _convert_all(tables, config, deid_counts)
    if config.drop_exact_duplicates:
        accepted = _drop_exact_duplicates(accepted, rejects)
    if rows_in != len(accepted) + len(rejects):
        raise RowCountError(f"{rows_in} rows in, but {len(accepted)} accepted + {len(rejects)} rejected")

    duplicates = find_duplicates(accepted, near=config.near_duplicates, min_boilerplate=config.min_boilerplate, seed=config.seed)
    splits = split_reports(
        accepted, config.ratios, config.seed, config.stratify, config.near_duplicates, duplicates.group_of
    )

    paths = _write_outputs(out_dir, splits, rejects)
    counts = {"rows_in": rows_in, "accepted": len(accepted), "rejected": len(rejects)}
    counts.update({name: len(splits[name]) for name in SPLIT_NAMES})
    by_reason = dict(Counter(reject["reason_kind"] for reject in rejects).most_common())
    summary = build_summary(config, sources, counts, by_reason, deid_counts, duplicates, splits)
    paths["summary"] = out_dir / "summary.json"
    paths["summary"].write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths["card"] = out_dir / "card.md"
    paths["card"].write_text(render_card(summary), encoding="utf-8")
    logger.info("prepared %d of %d rows into %s (%d rejected)", len(accepted), rows_in, out_dir, len(rejects))
    return PrepareResult(out_dir, paths, counts, by_reason, splits, rejects, sources, summary)


def _write_outputs(out_dir: Path, splits: dict[str, list[Report]], rejects: list[dict[str, Any]]) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in SPLIT_NAMES:
        paths[name] = out_dir / f"{name}.jsonl"
        write_jsonl(paths[name], splits[name])
    paths["rejects"] = out_dir / "rejects.jsonl"
    write_jsonl(paths["rejects"], rejects)
    return paths


def load_prepared(directory: str | Path) -> dict[str, list[Report]]:
    """Load train.jsonl, val.jsonl and test.jsonl written by :func:`prepare`."""
    directory = Path(directory)
    missing = [name for name in SPLIT_NAMES if not (directory / f"{name}.jsonl").is_file()]
    if missing:
        raise FileNotFoundError(f"{directory} has no {', '.join(f'{name}.jsonl' for name in missing)}; run `petf2i data prepare` first")
    return {name: load_reports(directory / f"{name}.jsonl") for name in SPLIT_NAMES}
