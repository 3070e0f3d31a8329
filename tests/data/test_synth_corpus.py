"""Tests of the synthetic PET/CT corpus: determinism, parallelism, coverage, card, formats."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from petf2i_core.data.records import load_reports
from petf2i_core.data.synth import (
    CANCERS,
    INDICATIONS,
    STYLE_NAMES,
    TRACERS,
    card_path,
    generate_corpus,
    render_card,
    write_corpus,
)
from petf2i_core.text.normalize import normalize


@pytest.fixture(scope="module")
def corpus_2000():
    return generate_corpus(2000, "both", seed=11, noise_rate=0.05)


def _dump(reports) -> str:
    return "\n".join(json.dumps(report.to_dict(), ensure_ascii=False, sort_keys=True) for report in reports)


def test_same_seed_same_reports():
    assert _dump(generate_corpus(40, seed=7)) == _dump(generate_corpus(40, seed=7))


def test_same_seed_byte_identical_files(tmp_path):
    first = write_corpus(generate_corpus(25, seed=3), tmp_path / "a.jsonl")
    second = write_corpus(generate_corpus(25, seed=3), tmp_path / "b.jsonl")
    assert first.read_bytes() == second.read_bytes()
    assert card_path(first).read_bytes() == card_path(second).read_bytes()


def test_different_seed_different_reports():
    assert _dump(generate_corpus(10, seed=1)) != _dump(generate_corpus(10, seed=2))


def test_parallel_languages_share_case_ids():
    reports = generate_corpus(30, "both", seed=4)
    by_case: dict[int, dict[str, object]] = {}
    for report in reports:
        by_case.setdefault(report.meta["case_id"], {})[report.language] = report
    assert len(by_case) == 30
    for case_id, pair in by_case.items():
        assert set(pair) == {"zh", "en"}
        zh, en = pair["zh"], pair["en"]
        assert zh.id == f"synth-{case_id:06d}-zh"
        assert en.id == f"synth-{case_id:06d}-en"
        assert zh.patient_id == en.patient_id
        for field in ("tracer", "cancer", "indication", "sex", "age"):
            assert zh.meta[field] == en.meta[field]


def test_single_language_only():
    reports = generate_corpus(12, "zh", seed=5)
    assert {report.language for report in reports} == {"zh"}
    assert len(reports) == 12


def test_meta_fields_present():
    report = generate_corpus(1, "en", seed=0)[0]
    for field in ("case_id", "tracer", "cancer", "indication", "style", "sex", "age", "entities"):
        assert field in report.meta
    assert set(report.meta["entities"]) == {"findings", "impression"}


@pytest.mark.parametrize(
    "kwargs",
    [{"n": -1}, {"n": 2, "language": "fr"}, {"n": 2, "noise_rate": 1.5}],
)
def test_invalid_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        generate_corpus(**kwargs)


def test_every_category_appears(corpus_2000):
    seen = {field: Counter(report.meta[field] for report in corpus_2000) for field in ("cancer", "tracer", "indication", "style")}
    for cancer in CANCERS + ("none", "unknown_primary"):
        assert seen["cancer"][cancer] > 0, cancer
    for tracer in TRACERS:
        assert seen["tracer"][tracer] > 0, tracer
    for indication in INDICATIONS:
        assert seen["indication"][indication] > 0, indication
    for style in STYLE_NAMES["zh"] + STYLE_NAMES["en"]:
        assert seen["style"][style] > 0, style


def test_styles_per_language(corpus_2000):
    for language in ("zh", "en"):
        styles = {report.meta["style"] for report in corpus_2000 if report.language == language}
        assert len(styles) >= 4
        assert all(style.startswith(language) for style in styles)


def test_no_duplicate_reports(corpus_2000):
    for language in ("zh", "en"):
        findings = [report.findings for report in corpus_2000 if report.language == language]
        assert len(findings) == 2000
        assert len(set(findings)) == len(findings)


def test_tracer_matches_cancer(corpus_2000):
    for report in corpus_2000:
        if report.meta["tracer"] == "PSMA":
            assert report.meta["cancer"] == "prostate"
        if report.meta["tracer"] == "DOTATATE":
            assert report.meta["cancer"] == "neuroendocrine"


def test_sex_specific_cancers(corpus_2000):
    for report in corpus_2000:
        if report.meta["cancer"] in ("breast", "cervical", "ovarian"):
            assert report.meta["sex"] == "F"
        if report.meta["cancer"] == "prostate":
            assert report.meta["sex"] == "M"


def test_response_categories(corpus_2000):
    response = [report for report in corpus_2000 if report.meta["indication"] == "treatment_response"]
    assert {report.meta["response"] for report in response} == {"CMR", "PMR", "SMD", "PMD"}
    lymphoma = [report for report in response if report.meta["cancer"].startswith("lymphoma")]
    assert lymphoma
    assert all(1 <= report.meta["deauville"] <= 5 for report in lymphoma)
    assert any("Deauville" in report.impression for report in lymphoma)
    assert any("PERCIST" in report.impression for report in response)


@pytest.mark.parametrize(
    "language,pattern",
    [
        ("zh", r"SUVmax \d+\.\d"),
        ("zh", r"SUVmax：\d+\.\d"),
        ("zh", r"约\d+\.\dcm×\d+\.\dcm"),
        ("zh", r"\d+mm×\d+mm"),
        ("en", r"\d+\.\d x \d+\.\d cm"),
        ("en", r"SUVmax \d+\.\d"),
        ("en", r"SUV max \d+\.\d"),
        ("zh", r"\d+(\.\d)?mCi"),
        ("zh", r"\d+MBq"),
        ("zh", r"血糖\d+\.\dmmol/L"),
        ("en", r"\d+ minutes"),
    ],
)
def test_measurement_formats_appear(corpus_2000, language, pattern):
    texts = [report.findings for report in corpus_2000 if report.language == language]
    assert any(re.search(pattern, text) for text in texts), pattern


def test_suvmax_fullwidth_colon_normalises(corpus_2000):
    text = next(report.findings for report in corpus_2000 if "SUVmax：" in report.findings)
    value = re.search(r"SUVmax：(\d+\.\d)", text).group(1)
    assert f"SUVmax {value}" in normalize(text)


def test_tracer_physiology(corpus_2000):
    def first(tracer: str) -> str:
        return next(r.findings for r in corpus_2000 if r.language == "zh" and r.meta["tracer"] == tracer)

    assert "泪腺" in first("PSMA")
    assert "垂体" in first("DOTATATE")
    assert "本底" in first("FAPI")
    assert "脑皮质" in first("FDG")


def test_realistic_chinese_lung_report():
    reports = generate_corpus(400, "zh", seed=21, noise_rate=0.0)
    report = next(
        r for r in reports
        if r.meta["cancer"] == "lung" and r.meta["indication"] == "initial_staging" and r.meta["style"] == "zh-a"
    )
    findings, impression = report.findings, report.impression
    assert findings.startswith("检查目的：")
    assert "检查方法：" in findings
    assert "18F-FDG" in findings
    assert "mmol/L" in findings
    for header in ("头颈部：", "胸部：", "骨骼"):
        assert header in findings
    assert "腹盆部：" in findings or "腹部及盆部：" in findings
    assert re.search(r"[左右]肺[上中下]叶", findings)
    assert "SUVmax" in findings
    lines = impression.split("\n")
    for number, line in enumerate(lines, start=1):
        assert line.startswith(f"{number}. ")
    assert "肺癌" in lines[0]
    assert any(cue in lines[0] for cue in ("考虑", "考虑为"))
    assert impression.endswith("。")


def test_realistic_english_report_structure():
    reports = generate_corpus(50, "en", seed=8, noise_rate=0.0)
    report = next(r for r in reports if r.meta["style"] == "en-a")
    assert report.findings.startswith("Indication: ")
    for header in ("HEAD AND NECK:", "CHEST:", "ABDOMEN AND PELVIS:", "MUSCULOSKELETAL:"):
        assert header in report.findings
    assert report.impression.startswith("1. ")


def test_normal_study_has_normal_impression(corpus_2000):
    normal = [
        r for r in corpus_2000
        if r.language == "zh" and r.meta["indication"] == "non_oncologic" and "感染" in r.impression and "未见明确" in r.impression
    ]
    assert normal


def test_incidental_recommendations(corpus_2000):
    impressions = [r.impression for r in corpus_2000 if r.language == "zh"]
    assert any("结肠镜" in text for text in impressions)
    assert any("甲状腺超声" in text for text in impressions)


def test_card_counts_add_up(corpus_2000):
    card = render_card(corpus_2000)
    sections = card.split("## Reports by ")[1:]
    assert len(sections) == 5
    for section in sections:
        rows = re.findall(r"^\| (\S+) \| (\d+) \|$", section, flags=re.MULTILINE)
        counts = {key: int(value) for key, value in rows}
        total = counts.pop("total")
        assert total == len(corpus_2000)
        assert sum(counts.values()) == total
    assert "| zh | findings |" in card
    assert "p90" in card


def test_write_corpus_roundtrip(tmp_path):
    reports = generate_corpus(6, seed=9)
    path = write_corpus(reports, tmp_path / "out" / "synth.jsonl")
    loaded = load_reports(path)
    assert [r.id for r in loaded] == [r.id for r in reports]
    assert loaded[0].meta["entities"] == reports[0].meta["entities"]
    assert card_path(path).name == "synth.jsonl.card.md"
    assert "Reports: 12." in card_path(path).read_text(encoding="utf-8")


def test_clean_text_has_tidy_punctuation():
    for report in generate_corpus(200, "both", seed=31, noise_rate=0.0):
        text = report.findings + "\n" + report.impression
        assert not re.search(r"[，,；;。]{2}", text), report.id
        assert not re.search(r"[ \t]\n|[ \t]$", text), report.id
        assert "  " not in text, report.id
        assert not re.search(r"\n\n", text), report.id
