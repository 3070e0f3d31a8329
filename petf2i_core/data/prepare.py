"""From hospital exports to de-identified, leak-free train/val/test splits.

:func:`prepare` reads every input, maps its columns, splits whole reports into
sections, rejects rows that cannot be used (each with its source, row and reason),
de-identifies the rest, groups duplicates and splits by patient. It writes
train.jsonl, val.jsonl, test.jsonl, rejects.jsonl, summary.json and card.md, and
checks that rows in = rows accepted + rows rejected.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .card import render_card
from .columns import ColumnMap, resolve_columns
from .dedup import find_duplicates, match_key
from .deid import DeidConfig, deidentify
from .io import RawRow, Table, read_table
from .records import Report, load_reports, write_jsonl
from .sections import split_sections
from .splits import DEFAULT_RATIOS, SPLIT_NAMES, check_ratios, split_reports

logger = logging.getLogger(__name__)

# Extra input columns carried into ``meta`` without being asked for: descriptive
# fields that do not identify a patient. Everything else needs ``keep_columns``.
SAFE_META_COLUMNS = ("modality", "tracer", "source", "exam", "exam_type", "style", "label", "split", "hf_split", "meta")
# Language column values that name a language instead of giving its ISO 639-1 code.
LANGUAGE_ALIASES = {
    "chinese": "zh", "中文": "zh", "汉语": "zh", "zh-cn": "zh", "zh_cn": "zh", "zh-hans": "zh", "cn": "zh",
    "english": "en", "英文": "en", "英语": "en", "en-us": "en", "en_us": "en", "en-gb": "en",
}
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
# Control characters other than tab and line ends mark binary bytes in a text field.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
        min_boilerplate: least count for an impression to be listed as boilerplate.
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


@dataclass
class _Reject(Exception):
    kind: str
    message: str


def detect_language(text: str) -> str:
    """Return "zh" when CJK characters are at least 25 % of letters, "en" when there are letters, else "und"."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk + latin == 0:
        return "und"
    return "zh" if cjk / (cjk + latin) >= 0.25 else "en"


def pseudonymize(value: str, key: str, prefix: str = "p") -> str:
    """Return a stable pseudonym ``<prefix>-<16 hex>`` for an id (HMAC-SHA256 with ``key``)."""
    digest = hmac.new(key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:16]}"


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from numeric columns
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_text(name: str, text: str, max_chars: int) -> None:
    """Raise :class:`_Reject` for empty, unreadable or over-long text."""
    if not text.strip():
        raise _Reject(f"empty {name}", f"empty {name}")
    if "\ufffd" in text:
        raise _Reject(
            "unreadable text",
            f"unreadable text in {name}: {text.count(chr(0xFFFD))} U+FFFD replacement characters "
            "(binary bytes, or the file was saved in another encoding)",
        )
    if _CONTROL.search(text):
        raise _Reject("unreadable text", f"unreadable text in {name}: control characters (binary bytes)")
    if len(text) > max_chars:
        raise _Reject(
            "over length limit",
            f"{name} is {len(text):,} characters, over the limit of {max_chars:,} (raise --max-chars to accept it)",
        )


def _sections(row: RawRow, columns: ColumnMap) -> tuple[str, str, dict[str, Any]]:
    """Return findings, impression and section meta of one row."""
    if columns.report is None:
        return _as_text(row.fields.get(columns.findings)), _as_text(row.fields.get(columns.impression)), {}

    text = _as_text(row.fields.get(columns.report))
    if not text.strip():
        raise _Reject("empty report", "empty report text")
    split = split_sections(text)
    if not split.impression:
        raise _Reject(
            "no impression section",
            "no impression section in the report text (headers such as IMPRESSION:, CONCLUSION:, "
            "诊断意见：, 印象：, 结论： not found)",
        )
    meta: dict[str, Any] = {"split_from_report": True, "section_headers": split.headers}
    if split.other:
        meta["other_sections"] = split.other
    if split.preamble:
        meta["preamble"] = split.preamble
    return split.findings, split.impression, meta


class _RowConverter:
    """Turns the rows of one table into reports, or raises :class:`_Reject` per row."""

    def __init__(self, table: Table, columns: ColumnMap, config: PrepareConfig, deid_counts: Counter) -> None:
        self.table = table
        self.columns = columns
        self.config = config
        self.deid_counts = deid_counts
        self.deid_config = DeidConfig(dates=config.dates, max_shift_days=config.max_shift_days, key=config.key)
        self.stem = Path(table.source).stem
        extra = set(SAFE_META_COLUMNS) | set(config.keep_columns)
        if config.stratify and config.stratify != "language":
            extra.add(config.stratify)
        used = {columns.findings, columns.impression, columns.report, columns.id, columns.patient, columns.language}
        self.meta_columns = [name for name in table.columns if name in extra and name not in used]

    def convert(self, row: RawRow) -> Report:
        """Return the de-identified report of one row."""
        if row.error:
            raise _Reject("unparsable row", f"unparsable row: {row.error}")
        if not any(_as_text(value).strip() for value in row.fields.values()):
            raise _Reject("blank row", "blank row (every field empty)")

        findings, impression, meta = _sections(row, self.columns)
        findings, impression = findings.strip(), impression.strip()
        _check_text("findings", findings, self.config.max_chars)
        _check_text("impression", impression, self.config.max_chars)

        record_id = self._record_id(row)
        raw_patient = _as_text(row.fields.get(self.columns.patient)).strip() if self.columns.patient else ""
        patient_key = raw_patient or record_id
        findings = self._deidentify(findings, patient_key)
        impression = self._deidentify(impression, patient_key)
        meta = {key: self._deidentify_value(value, patient_key) for key, value in meta.items()}
        meta.update(self._extra_meta(row, patient_key))

        patient_id = None
        if raw_patient:
            patient_id = pseudonymize(raw_patient, self.config.key) if self.config.pseudonymize_patients else raw_patient
        language = _as_text(row.fields.get(self.columns.language)).strip() if self.columns.language else ""
        language = unicodedata.normalize("NFKC", language).lower()
        language = LANGUAGE_ALIASES.get(language, language) or detect_language(findings + impression)
        return Report(id=record_id, findings=findings, impression=impression, language=language, patient_id=patient_id, meta=meta)

    def _record_id(self, row: RawRow) -> str:
        if self.columns.id:
            value = _as_text(row.fields.get(self.columns.id)).strip()
            if value and self.config.pseudonymize_ids:
                return pseudonymize(value, self.config.key, prefix="r")
            if value:
                return value
        return f"{self.stem}-{row.row - 1}"

    def _deidentify(self, text: str, patient_key: str) -> str:
        if not self.config.deidentify:
            return text
        result = deidentify(text, patient_key, self.deid_config)
        self.deid_counts.update(result.counts)
        return result.text

    def _deidentify_value(self, value: Any, patient_key: str) -> Any:
        if isinstance(value, str):
            return self._deidentify(value, patient_key)
        if isinstance(value, dict):
            return {key: self._deidentify_value(item, patient_key) for key, item in value.items()}
        if isinstance(value, list):
            return [self._deidentify_value(item, patient_key) for item in value]
        return value

    def _extra_meta(self, row: RawRow, patient_key: str) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        for name in self.meta_columns:
            if name not in row.fields:
                continue
            value = self._deidentify_value(row.fields[name], patient_key)
            if name == "meta" and isinstance(value, dict):
                meta.update(value)
            else:
                meta[name] = value
        meta["source_file"] = Path(self.table.source).name
        meta["source_row"] = row.row
        if row.line is not None:
            meta["source_line"] = row.line
        return meta


def _reject_record(row: RawRow, reject: _Reject, record_id: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"source": row.source, "row": row.row}
    if row.line is not None:
        record["line"] = row.line
    if record_id is not None:
        record["id"] = record_id
    record["reason"] = reject.message
    record["reason_kind"] = reject.kind
    return record


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
        converter = _RowConverter(table, columns, config, deid_counts)
        info = SourceInfo(table.source, table.format, table.encoding, asdict(columns), len(table.rows))
        for row in tqdm(table.rows, desc=Path(table.source).name, unit="row", disable=len(table.rows) < 5000):
            try:
                report = converter.convert(row)
            except _Reject as reject:
                rejects.append(_reject_record(row, reject))
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
    summary = _summary(config, sources, counts, by_reason, deid_counts, duplicates, splits)
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


def _length_stats(values: list[int]) -> dict[str, float]:
    if not values:
        return {"min": 0, "median": 0, "mean": 0, "max": 0}
    ordered = sorted(values)
    return {
        "min": ordered[0],
        "median": ordered[len(ordered) // 2],
        "mean": round(sum(ordered) / len(ordered), 1),
        "max": ordered[-1],
    }


def _summary(config, sources, counts, by_reason, deid_counts, duplicates, splits) -> dict[str, Any]:
    from ..text.normalize import STEPS

    reports = [report for name in SPLIT_NAMES for report in splits[name]]
    return {
        "sources": [asdict(source) for source in sources],
        "counts": counts,
        "rejected_by_reason": by_reason,
        "languages": dict(Counter(report.language for report in reports).most_common()),
        "split_languages": {name: dict(Counter(r.language for r in splits[name]).most_common()) for name in SPLIT_NAMES},
        "lengths": {
            "findings": _length_stats([len(report.findings) for report in reports]),
            "impression": _length_stats([len(report.impression) for report in reports]),
        },
        "patients": len({report.patient_id for report in reports if report.patient_id}),
        "split_from_report_column": sum(1 for report in reports if report.meta.get("split_from_report")),
        "deidentification": {
            "enabled": config.deidentify,
            "dates": config.dates,
            "counts": dict(sorted(deid_counts.items())),
            "patient_ids": "pseudonymised (HMAC-SHA256)" if config.pseudonymize_patients else "kept",
            "record_ids": "pseudonymised (HMAC-SHA256)" if config.pseudonymize_ids else "kept",
        },
        "duplicates": {
            "exact": duplicates.exact_pairs,
            "near_pairs": len(duplicates.near_pairs),
            "groups": duplicates.groups,
            "largest_group": duplicates.largest_group,
            "near_rule": "character 5-gram Jaccard >= 0.9 on normalised findings (MinHash LSH, confirmed exactly)",
            "boilerplate_impressions": duplicates.boilerplate_impressions,
            "dropped_exact": config.drop_exact_duplicates,
        },
        "split": {"ratios": list(config.ratios), "seed": config.seed, "stratify": config.stratify},
        "stored_text_changes": _stored_text_changes(config, reports),
        "normalisation_steps": [{"name": name, "description": text} for name, text in STEPS],
    }


def _stored_text_changes(config: PrepareConfig, reports: list[Report]) -> list[str]:
    changes = ["leading and trailing whitespace removed from findings and impression"]
    if config.deidentify:
        changes.append(f"identifiers replaced by typed placeholders (dates: {config.dates})")
    split_count = sum(1 for report in reports if report.meta.get("split_from_report"))
    if split_count:
        changes.append(f"{split_count} whole reports split into findings and impression at section headers")
    return changes


def load_prepared(directory: str | Path) -> dict[str, list[Report]]:
    """Load train.jsonl, val.jsonl and test.jsonl written by :func:`prepare`."""
    directory = Path(directory)
    missing = [name for name in SPLIT_NAMES if not (directory / f"{name}.jsonl").is_file()]
    if missing:
        raise FileNotFoundError(f"{directory} has no {', '.join(f'{name}.jsonl' for name in missing)}; run `petf2i data prepare` first")
    return {name: load_reports(directory / f"{name}.jsonl") for name in SPLIT_NAMES}
