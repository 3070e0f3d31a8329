"""Mapping the columns of an input table to report fields.

Columns are taken from explicit options first (``--findings-col`` and friends),
then recognised by common names in English and Chinese. A JSON list of lists
(``[findings, impression, label]``) maps positions "0" and "1".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .io import Table, TableReadError

FINDINGS_NAMES = ("findings", "finding", "检查所见", "影像所见", "所见", "影像表现", "影像学表现", "检查描述", "描述")
IMPRESSION_NAMES = (
    "impression", "impressions", "conclusion", "conclusions", "诊断意见", "印象", "结论", "影像诊断",
    "检查结论", "诊断结论", "诊断", "意见",
)
REPORT_NAMES = ("report", "report_text", "full_report", "text", "报告", "报告内容", "报告全文", "报告正文", "全文")
ID_NAMES = ("id", "uid", "report_id", "record_id", "accession", "accession_number", "报告编号", "报告号", "检查号", "检查编号")
PATIENT_NAMES = (
    "patient_id", "patientid", "patient", "mrn", "pid", "subject_id", "患者id", "病人id", "患者编号", "病人编号",
    "病历号", "病案号", "住院号", "门诊号",
)
LANGUAGE_NAMES = ("language", "lang", "语言")


@dataclass
class ColumnMap:
    """Input column of each report field; None where the table has none.

    Attributes:
        findings, impression: section columns; both set, or both None with ``report`` set.
        report: a whole-report column split by section headers.
        id: record id column; without it ids are ``<file stem>-<0-based row index>``.
        patient: patient id column, used for patient-level splits.
        language: language code column; without it the language is detected per row.
    """

    findings: str | None = None
    impression: str | None = None
    report: str | None = None
    id: str | None = None
    patient: str | None = None
    language: str | None = None


def _canonical(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().casefold())


def _find_column(columns: list[str], names: tuple[str, ...]) -> str | None:
    by_canonical = {_canonical(column): column for column in columns}
    for name in names:
        if name in by_canonical:
            return by_canonical[name]
    return None


def _require(column: str | None, table: Table, option: str) -> str | None:
    if column is not None and column not in table.columns:
        raise TableReadError(
            f"no column {column!r} in {table.source}; columns are {table.columns}; pass {option} with one of them"
        )
    return column


def resolve_columns(
    table: Table,
    findings: str | None = None,
    impression: str | None = None,
    report: str | None = None,
    id: str | None = None,
    patient: str | None = None,
    language: str | None = None,
) -> ColumnMap:
    """Map the table's columns to report fields from explicit names, then common names.

    Raises:
        TableReadError: a named column is missing, or neither section columns nor a
            whole-report column can be found; the message lists the columns and the option.
    """
    mapping = ColumnMap(
        findings=_require(findings, table, "--findings-col"),
        impression=_require(impression, table, "--impression-col"),
        report=_require(report, table, "--report-col"),
        id=_require(id, table, "--id-col"),
        patient=_require(patient, table, "--patient-col"),
        language=_require(language, table, "--language-col"),
    )

    if table.format == "json-lists" and not (mapping.findings or mapping.report):
        mapping.findings, mapping.impression = "0", "1"
    if mapping.report is None:
        mapping.findings = mapping.findings or _find_column(table.columns, FINDINGS_NAMES)
        mapping.impression = mapping.impression or _find_column(table.columns, IMPRESSION_NAMES)
        if not (mapping.findings and mapping.impression):
            mapping.report = _find_column(table.columns, REPORT_NAMES)
    if mapping.report is not None and not (findings and impression):
        mapping.findings = mapping.impression = None

    mapping.id = mapping.id or _find_column(table.columns, ID_NAMES)
    mapping.patient = mapping.patient or _find_column(table.columns, PATIENT_NAMES)
    mapping.language = mapping.language or _find_column(table.columns, LANGUAGE_NAMES)
    _check_complete(mapping, table)
    return mapping


def _check_complete(mapping: ColumnMap, table: Table) -> None:
    if mapping.report or (mapping.findings and mapping.impression):
        return
    if mapping.findings is None:
        raise TableReadError(
            f"no findings column in {table.source}; columns are {table.columns}; "
            "pass --findings-col NAME (or --report-col NAME for a whole-report column)"
        )
    raise TableReadError(
        f"no impression column in {table.source}; columns are {table.columns}; "
        "pass --impression-col NAME (or --report-col NAME for a whole-report column)"
    )
