"""Precision and recall of the entity extractor against gold entity sets.

Gold comes from ``Report.meta["entities"]`` (the synthetic corpus records it by
construction) or from a hand-annotated fixture. Entities are compared as sets
of :meth:`Entity.key` per section (findings, impression); counts are pooled
over reports (micro average) per language and per entity type. Value accuracy
is measured separately on the findings entities that match a gold finding:
SUVmax must agree to 0.1 and the largest size dimension within 0.05 cm.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Iterable, Mapping

from tqdm import tqdm

from petf2i_core.data.records import Report
from petf2i_core.entities.extractor import entity_set, extract_entities
from petf2i_core.entities.lexicon import Lexicon
from petf2i_core.entities.types import Entity

logger = logging.getLogger(__name__)

SECTIONS = ("findings", "impression")
SUVMAX_TOLERANCE = 0.1 + 1e-9
SIZE_TOLERANCE_CM = 0.05 + 1e-9


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else float("nan")


def prf(true_positives: int, false_positives: int, false_negatives: int) -> dict[str, float]:
    """Return precision, recall and F1 with their counts; a ratio with an empty denominator is NaN."""
    precision = _ratio(true_positives, true_positives + false_positives)
    recall = _ratio(true_positives, true_positives + false_negatives)
    if precision != precision or recall != recall or precision + recall == 0:
        f1 = float("nan") if precision != precision or recall != recall else 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": true_positives,
        "fp": false_positives,
        "fn": false_negatives,
    }


def _gold_entities(rows: Iterable[Mapping[str, Any]], where: str) -> dict[tuple, Entity]:
    entities = {}
    for number, row in enumerate(rows, start=1):
        try:
            entity = Entity.from_dict({key: value for key, value in row.items() if key in _ENTITY_FIELDS})
        except TypeError as error:
            raise ValueError(f"{where}: gold entity #{number} is invalid ({error}); expected Entity.to_dict() rows") from error
        entities[entity.key()] = entity
    return entities


_ENTITY_FIELDS = {"concept", "type", "laterality", "polarity", "site", "suvmax", "size_cm", "text", "start", "end"}


def _values_agree(predicted: Entity, gold: Entity) -> tuple[bool | None, bool | None]:
    suv_ok = None
    if gold.suvmax is not None or predicted.suvmax is not None:
        suv_ok = (
            gold.suvmax is not None
            and predicted.suvmax is not None
            and abs(gold.suvmax - predicted.suvmax) <= SUVMAX_TOLERANCE
        )
    size_ok = None
    if gold.size_cm or predicted.size_cm:
        size_ok = bool(gold.size_cm) and bool(predicted.size_cm) and abs(gold.size_cm[0] - predicted.size_cm[0]) <= SIZE_TOLERANCE_CM
    return suv_ok, size_ok


class _Tally:
    """Pooled true-positive, false-positive and false-negative counts per group."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.values: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.errors: list[dict[str, Any]] = []

    def add(self, groups: list[str], index: int) -> None:
        for group in groups:
            self.counts[group][index] += 1

    def add_value(self, language: str, name: str, agrees: bool | None) -> None:
        if agrees is None:
            return
        slot = self.values[f"{language}/{name}"]
        slot[0] += int(agrees)
        slot[1] += 1


def compare_section(
    predicted: dict[tuple, Entity], gold: dict[tuple, Entity], language: str, tally: _Tally, report_id: str, section: str
) -> None:
    """Add the key-set comparison of one section to ``tally`` and record its differences."""
    for key, entity in predicted.items():
        groups = [language, f"{language}/{entity.type}", f"{language}/{section}"]
        if key in gold:
            tally.add(groups, 0)
            if entity.type == "finding":
                suv_ok, size_ok = _values_agree(entity, gold[key])
                tally.add_value(language, "suvmax", suv_ok)
                tally.add_value(language, "size", size_ok)
        else:
            tally.add(groups, 1)
            tally.errors.append({"id": report_id, "section": section, "error": "false_positive", "key": list(key)})
    for key in gold.keys() - predicted.keys():
        tally.add([language, f"{language}/{key[0]}", f"{language}/{section}"], 2)
        tally.errors.append({"id": report_id, "section": section, "error": "false_negative", "key": list(key)})


def score_extraction(
    reports: Iterable[Report],
    gold_key: str = "entities",
    lexicon: Lexicon | None = None,
    max_errors: int = 50,
) -> dict[str, Any]:
    """Score the extractor on ``reports`` against ``report.meta[gold_key]``.

    Each report's gold is ``{"findings": [rows], "impression": [rows]}`` of
    :meth:`Entity.to_dict` rows. The result has four keys. ``"groups"`` maps a
    group to :func:`prf` figures, where a group is a language ("zh"), a
    language and entity type ("zh/finding") or a language and section
    ("zh/impression"). ``"values"`` contains the share of matched findings whose
    SUVmax and size agree, ``"reports"`` the report count per language, and
    ``"errors"`` up to ``max_errors`` differences (ids and keys, no text).
    """
    tally = _Tally()
    report_counts: dict[str, int] = defaultdict(int)
    for report in tqdm(reports, desc="score extraction", unit="report", disable=None):
        gold = report.meta.get(gold_key)
        if not isinstance(gold, Mapping):
            raise ValueError(
                f"report {report.id}: meta[{gold_key!r}] is missing or not a mapping; "
                "expected {'findings': [...], 'impression': [...]} of Entity.to_dict() rows"
            )
        language = report.language
        report_counts[language] += 1
        for section in SECTIONS:
            text = getattr(report, section)
            predicted = entity_set(extract_entities(text, language, lexicon))
            expected = _gold_entities(gold.get(section) or [], f"report {report.id} {section}")
            compare_section(predicted, expected, language, tally, report.id, section)

    groups = {group: prf(*counts) for group, counts in sorted(tally.counts.items())}
    values = {name: {"agree": agree, "total": total, "rate": _ratio(agree, total)} for name, (agree, total) in sorted(tally.values.items())}
    logger.info("scored %d reports: %s", sum(report_counts.values()), {k: round(v["f1"], 4) for k, v in groups.items() if "/" not in k})
    return {"groups": groups, "values": values, "reports": dict(report_counts), "errors": tally.errors[:max_errors]}
