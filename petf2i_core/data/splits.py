"""Leak-free, deterministic train/validation/test splits of reports.

Reports are first joined into units that must stay together. A unit contains all
reports of one patient (by ``patient_id``, or the record id when there is none) and
all members of a duplicate group, which share the same or nearly the same normalised
findings (see :mod:`petf2i_core.data.dedup`). Units are ordered by a SHA-256 hash of
``seed`` and the unit key, and each unit goes to the split that is furthest below
its target size at that point, so the split sizes follow the ratios closely and
the assignment depends only on the data and the seed. With ``stratify`` the same
is done within each value of a metadata field.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from typing import Sequence

from .dedup import UnionFind, find_duplicates, match_key
from .records import Report

logger = logging.getLogger(__name__)

SPLIT_NAMES = ("train", "val", "test")
DEFAULT_RATIOS = (0.8, 0.1, 0.1)


class SplitLeakError(AssertionError):
    """A patient or a findings text appears in more than one split."""


def check_ratios(ratios: Sequence[float]) -> tuple[float, float, float]:
    """Validate three non-negative split ratios that sum to 1 (within 1e-6)."""
    if len(ratios) != 3 or any(ratio < 0 for ratio in ratios):
        raise ValueError(f"ratios must be three non-negative numbers (train, val, test), got {list(ratios)}")
    if abs(sum(ratios) - 1.0) > 1e-6:
        raise ValueError(f"ratios must sum to 1, got {list(ratios)} (sum {sum(ratios):.6f})")
    return tuple(float(ratio) for ratio in ratios)  # type: ignore[return-value]


def _unit_hash(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}\x00{key}".encode("utf-8")).hexdigest()


def split_units(
    reports: Sequence[Report],
    near_duplicates: bool = True,
    seed: int = 0,
    duplicate_groups: Sequence[int] | None = None,
) -> list[int]:
    """Return, for each report, the index of the first report of its unit (patient or duplicate group).

    ``duplicate_groups`` is :attr:`DuplicateReport.group_of` when already computed.
    """
    union = UnionFind(len(reports))
    first_of_patient: dict[str, int] = {}
    for index, report in enumerate(reports):
        key = report.patient_id if report.patient_id else f"record:{report.id}"
        if key in first_of_patient:
            union.union(first_of_patient[key], index)
        else:
            first_of_patient[key] = index

    if duplicate_groups is None:
        duplicate_groups = find_duplicates(reports, near=near_duplicates, seed=seed).group_of
    for index, group in enumerate(duplicate_groups):
        union.union(group, index)
    return [union.find(index) for index in range(len(reports))]


def _assign(units: list[tuple[str, int]], ratios: tuple[float, float, float]) -> dict[str, int]:
    """Assign units (key, size) in order to the split most below its target; return key to split index."""
    total = sum(size for _, size in units)
    filled = [0, 0, 0]
    assignment = {}
    for key, size in units:
        deficits = [ratios[index] * total - filled[index] for index in range(3)]
        # Among splits with a positive ratio, the one with the largest deficit wins;
        # ties go to the earlier split (train before val before test).
        choice = max((index for index in range(3) if ratios[index] > 0), key=lambda index: (deficits[index], -index))
        assignment[key] = choice
        filled[choice] += size
    return assignment


def split_reports(
    reports: Sequence[Report],
    ratios: Sequence[float] = DEFAULT_RATIOS,
    seed: int = 0,
    stratify: str | None = None,
    near_duplicates: bool = True,
    duplicate_groups: Sequence[int] | None = None,
) -> dict[str, list[Report]]:
    """Split reports into train, val and test without patient or duplicate leakage.

    Args:
        reports: clean reports; ids must be unique.
        ratios: target shares of reports for train, val and test (sum 1).
        seed: changes the unit order and so the assignment; same seed, same split.
        stratify: a ``meta`` field (or "language") whose values are split separately;
            a unit takes the most common value among its reports.
        near_duplicates: also group near-duplicate findings (5-gram Jaccard >= 0.9).
        duplicate_groups: precomputed ``find_duplicates(reports).group_of``, to skip recomputing it.

    Returns:
        ``{"train": [...], "val": [...], "test": [...]}``, each in input order.

    Raises:
        ValueError: invalid ratios or duplicate ids.
        SplitLeakError: a patient or a normalised findings text ends up in two splits.
    """
    ratios = check_ratios(ratios)
    ids = Counter(report.id for report in reports)
    repeated = [report_id for report_id, count in ids.items() if count > 1]
    if repeated:
        raise ValueError(f"report ids must be unique; repeated: {repeated[:5]}")

    unit_of = split_units(reports, near_duplicates, seed, duplicate_groups)
    members: dict[int, list[int]] = defaultdict(list)
    for index, unit in enumerate(unit_of):
        members[unit].append(index)

    strata: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for unit, indices in members.items():
        stratum = ""
        if stratify:
            values = Counter(_stratum_value(reports[index], stratify) for index in indices)
            stratum = values.most_common(1)[0][0]
        # The smallest member key names the unit, so the split does not depend on input order.
        unit_key = min(reports[index].patient_id or reports[index].id for index in indices)
        strata[stratum].append((_unit_hash(seed, unit_key), unit))

    split_of_unit: dict[int, int] = {}
    for stratum in sorted(strata):
        ordered = sorted(strata[stratum])
        units = [(str(unit), len(members[unit])) for _, unit in ordered]
        for key, split_index in _assign(units, ratios).items():
            split_of_unit[int(key)] = split_index

    splits: dict[str, list[Report]] = {name: [] for name in SPLIT_NAMES}
    for index, report in enumerate(reports):
        splits[SPLIT_NAMES[split_of_unit[unit_of[index]]]].append(report)
    check_no_leakage(splits)
    logger.info("split sizes: %s", {name: len(items) for name, items in splits.items()})
    return splits


def _stratum_value(report: Report, field_name: str) -> str:
    if field_name == "language":
        return report.language
    return str(report.meta.get(field_name, ""))


def check_no_leakage(splits: dict[str, list[Report]]) -> None:
    """Raise :class:`SplitLeakError` when a patient or a normalised findings text is in two splits."""
    owner_patient: dict[str, str] = {}
    owner_findings: dict[str, str] = {}
    for name, reports in splits.items():
        for report in reports:
            if report.patient_id:
                previous = owner_patient.setdefault(report.patient_id, name)
                if previous != name:
                    raise SplitLeakError(f"patient {report.patient_id} is in {previous} and {name}")
            key = match_key(report.findings)
            previous = owner_findings.setdefault(key, name)
            if previous != name:
                raise SplitLeakError(f"findings of report {report.id} are in {previous} and {name}")
