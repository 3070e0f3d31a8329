"""Patient-level, duplicate-aware, deterministic splits."""

from __future__ import annotations

import random

import pytest

from petf2i_core.data.dedup import match_key
from petf2i_core.data.records import Report
from petf2i_core.data.splits import SplitLeakError, check_no_leakage, split_reports

ORGANS = ("右肺上叶", "左肺下叶", "肝右叶", "胰头", "左侧肾上腺", "T12椎体", "纵隔4R组淋巴结", "右侧颈部")


def _corpus(n: int = 400, seed: int = 0) -> list[Report]:
    rng = random.Random(seed)
    reports = []
    for index in range(n):
        organ = rng.choice(ORGANS)
        findings = f"{organ}见结节，大小约{rng.randint(5, 40)}mm×{rng.randint(5, 40)}mm，SUVmax {rng.uniform(1, 20):.1f}，病例{index}。"
        reports.append(Report(
            id=f"r{index:04d}",
            findings=findings,
            impression=f"{organ}病变。",
            language="zh" if index % 3 else "en",
            patient_id=f"p{rng.randrange(n // 3)}",
            meta={"tracer": rng.choice(["FDG", "PSMA"])},
        ))
    # Exact duplicates of earlier exams filed under other patients.
    for index in range(10):
        source = reports[index]
        reports.append(Report(id=f"d{index}", findings=source.findings, impression=source.impression, language="zh", patient_id=f"other{index}"))
    return reports


def test_no_patient_straddles_splits():
    splits = split_reports(_corpus())
    owner = {}
    for name, reports in splits.items():
        for report in reports:
            assert owner.setdefault(report.patient_id, name) == name


def test_no_test_findings_in_train():
    splits = split_reports(_corpus())
    train = {match_key(report.findings) for report in splits["train"]}
    assert not any(match_key(report.findings) in train for report in splits["test"])
    assert not any(match_key(report.findings) in train for report in splits["val"])


def test_every_report_in_one_split():
    corpus = _corpus()
    splits = split_reports(corpus)
    ids = [report.id for reports in splits.values() for report in reports]
    assert sorted(ids) == sorted(report.id for report in corpus)


def test_split_deterministic():
    first = split_reports(_corpus(), seed=3)
    second = split_reports(list(reversed(_corpus())), seed=3)
    for name in first:
        assert sorted(r.id for r in first[name]) == sorted(r.id for r in second[name])


def test_seed_changes_split():
    first = split_reports(_corpus(), seed=1)
    second = split_reports(_corpus(), seed=2)
    assert {r.id for r in first["test"]} != {r.id for r in second["test"]}


def test_ratios_followed():
    splits = split_reports(_corpus(1000), ratios=(0.7, 0.2, 0.1))
    total = sum(len(reports) for reports in splits.values())
    assert abs(len(splits["train"]) / total - 0.7) < 0.02
    assert abs(len(splits["val"]) / total - 0.2) < 0.02
    assert abs(len(splits["test"]) / total - 0.1) < 0.02


def test_stratified_by_meta():
    splits = split_reports(_corpus(1200), stratify="tracer")
    for tracer in ("FDG", "PSMA"):
        counts = {name: sum(1 for r in reports if r.meta.get("tracer") == tracer) for name, reports in splits.items()}
        total = sum(counts.values())
        assert abs(counts["test"] / total - 0.1) < 0.03


def test_records_without_patient_split_by_id():
    reports = [Report(id=f"x{i}", findings=f"所见{i}号病灶位于不同部位描述", impression="印象", language="zh") for i in range(50)]
    splits = split_reports(reports)
    assert sum(len(items) for items in splits.values()) == 50
    assert len(splits["train"]) == 40


def test_invalid_ratios_and_ids():
    with pytest.raises(ValueError, match="sum to 1"):
        split_reports(_corpus(10), ratios=(0.5, 0.2, 0.1))
    duplicate = [Report(id="same", findings="a", impression="b", language="en")] * 2
    with pytest.raises(ValueError, match="unique"):
        split_reports(duplicate)


def test_leak_check_raises():
    report = Report(id="a", findings="Clear lungs.", impression="Normal.", language="en", patient_id="p1")
    other = Report(id="b", findings="clear  lungs.", impression="Normal.", language="en", patient_id="p2")
    with pytest.raises(SplitLeakError, match="findings"):
        check_no_leakage({"train": [report], "val": [], "test": [other]})
