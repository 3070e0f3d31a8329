"""Turning one mapped input row into a de-identified report, or a reasoned rejection."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .columns import ColumnMap
from .deid import DeidConfig, deidentify
from .io import RawRow, Table
from .records import Report
from .sections import split_sections

if TYPE_CHECKING:
    from .prepare import PrepareConfig

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


@dataclass
class RowRejected(Exception):
    """A row that cannot become a report: ``kind`` groups reasons in counts, ``message`` explains it."""

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
    """Raise :class:`RowRejected` for empty, unreadable or over-long text."""
    if not text.strip():
        raise RowRejected(f"empty {name}", f"empty {name}")
    if "\ufffd" in text:
        raise RowRejected(
            "unreadable text",
            f"unreadable text in {name}: {text.count(chr(0xFFFD))} U+FFFD replacement characters "
            "(binary bytes, or the file was saved in another encoding)",
        )
    if _CONTROL.search(text):
        raise RowRejected("unreadable text", f"unreadable text in {name}: control characters (binary bytes)")
    if len(text) > max_chars:
        raise RowRejected(
            "over length limit",
            f"{name} is {len(text):,} characters, over the limit of {max_chars:,} (raise --max-chars to accept it)",
        )


def _text_field(row: RawRow, column: str | int | None, name: str) -> str:
    """Return the text of one report field, or raise :class:`RowRejected` for a nested JSON value."""
    value = row.fields.get(column)
    if isinstance(value, (dict, list)):
        kind = "object" if isinstance(value, dict) else "list"
        raise RowRejected(
            "not text",
            f"{name} column {column!r} contains a JSON {kind}, not text; point --{name}-col at the text field",
        )
    return _as_text(value)


def _sections(row: RawRow, columns: ColumnMap) -> tuple[str, str, dict[str, Any]]:
    """Return findings, impression and section meta of one row."""
    if columns.report is None:
        findings = _text_field(row, columns.findings, "findings")
        return findings, _text_field(row, columns.impression, "impression"), {}

    text = _text_field(row, columns.report, "report")
    if not text.strip():
        raise RowRejected("empty report", "empty report text")
    split = split_sections(text)
    if not split.impression:
        raise RowRejected(
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


class RowConverter:
    """Turns the rows of one table into reports, or raises :class:`RowRejected` per row."""

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
            raise RowRejected("unparsable row", f"unparsable row: {row.error}")
        if not any(_as_text(value).strip() for value in row.fields.values()):
            raise RowRejected("blank row", "blank row (every field empty)")

        findings, impression, meta = _sections(row, self.columns)
        findings, impression = findings.strip(), impression.strip()
        _check_text("findings", findings, self.config.max_chars)
        _check_text("impression", impression, self.config.max_chars)

        record_id = self._record_id(row)
        raw_patient = _as_text(row.fields.get(self.columns.patient)).strip() if self.columns.patient else ""
        patient_key = raw_patient or record_id
        findings = self._deidentify(findings, patient_key)
        impression = self._deidentify(impression, patient_key)
        other_sections = meta.pop("other_sections", None)
        meta = {key: self._deidentify_value(value, patient_key) for key, value in meta.items()}
        if other_sections:
            meta["other_sections"] = self._deidentify_sections(other_sections, patient_key)
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

    def _deidentify_sections(self, sections: dict[str, str], patient_key: str) -> dict[str, str]:
        """De-identify each section body together with its header.

        The header is the label that marks the value as an identifier: the body of
        "报告医生：张伟" is a bare "张伟", which no rule masks on its own.
        """
        result = {}
        for header, body in sections.items():
            prefix = f"{header}: " if header.isascii() else f"{header}："
            masked = self._deidentify(prefix + body, patient_key)
            if masked.startswith(prefix):
                result[header] = masked[len(prefix):]
            else:
                result[header] = self._deidentify(body, patient_key)
        return result

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


def reject_record(row: RawRow, reject: RowRejected, record_id: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"source": row.source, "row": row.row}
    if row.line is not None:
        record["line"] = row.line
    if record_id is not None:
        record["id"] = record_id
    record["reason"] = reject.message
    record["reason_kind"] = reject.kind
    return record
