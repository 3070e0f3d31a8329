"""The report record shared by every stage, and JSONL reading and writing."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator


@dataclass
class Report:
    """One findings-to-impression pair.

    ``findings`` and ``impression`` are stored as written; normalised copies for
    metrics and matching are made on the fly by :mod:`petf2i_core.text.normalize`.
    ``language`` is an ISO 639-1 code (``"zh"`` or ``"en"``). ``patient_id`` drives
    patient-level splits when present. ``meta`` carries anything else (tracer,
    style, ground-truth entities of the synthetic corpus, source file and row).
    """

    id: str
    findings: str
    impression: str
    language: str
    patient_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> "Report":
        known = {"id", "findings", "impression", "language", "patient_id", "meta"}
        meta = dict(row.get("meta") or {})
        meta.update({k: v for k, v in row.items() if k not in known})
        return cls(
            id=str(row["id"]),
            findings=row["findings"],
            impression=row["impression"],
            language=row.get("language") or "",
            patient_id=row.get("patient_id"),
            meta=meta,
        )


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a JSONL file, naming the file and line on a parse error."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(
                    f"{path}:{line_number}: invalid JSON ({error.msg}); "
                    "each line must be one JSON object"
                ) from error


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any] | Report]) -> int:
    """Write rows as UTF-8 JSONL (non-ASCII kept as is) and return the row count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            if isinstance(row, Report):
                row = row.to_dict()
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def load_reports(path: str | Path) -> list[Report]:
    """Load a JSONL file of reports with ``id``, ``findings``, ``impression``, ``language``."""
    return [Report.from_dict(row) for row in read_jsonl(path)]
