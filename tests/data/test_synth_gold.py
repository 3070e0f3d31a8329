"""Tests of the synthetic corpus's gold entities: rules, surface forms, noise safety, extractor agreement."""

from __future__ import annotations

import random
import re

import pytest

from petf2i_core.data.synth import generate_corpus, sample_case
from petf2i_core.data.synth.builder import Builder, entity_spans, render
from petf2i_core.data.synth.corpus import render_segments
from petf2i_core.data.synth.lexicon import load_lexicon, surface_pattern
from petf2i_core.data.synth.noise import apply_noise
from petf2i_core.data.synth.styles import STYLE_NAMES

LEXICON = load_lexicon()


def _keys(rows):
    return {(row["type"], row["concept"], row["laterality"], row["polarity"]): row for row in rows}


def _zh() -> Builder:
    return Builder("zh", LEXICON)


def test_rule_laterality_from_cue_and_site():
    b = _zh().anatomy("lung.upper_lobe", "肺上叶", "right").text("见").finding("finding.solid_nodule", "实性结节").text("，")
    b.finding("finding.increased_uptake", "代谢增高").text("。")
    text, rows = render(b.segments, "zh")
    keys = _keys(rows)
    assert text == "右肺上叶见实性结节，代谢增高。"
    assert ("anatomy", "lung.upper_lobe", "right", "positive") in keys
    assert ("finding", "finding.solid_nodule", "right", "positive") in keys
    # the uptake clause has no anatomy, so it takes the sentence's nearest anatomy
    assert keys[("finding", "finding.increased_uptake", "right", "positive")]["site"] == "lung.upper_lobe"


def test_rule_anatomy_inherits_adjacent_side():
    b = _zh().anatomy("lymph_node.station_10", "肺门", "right").anatomy("lymph_node", "淋巴结").text("。")
    _, rows = render(b.segments, "zh")
    assert ("anatomy", "lymph_node", "right", "positive") in _keys(rows)


def test_rule_negation_and_hedge():
    b = _zh().anatomy("lung", "肺", "bilateral", "双").negation("未见").finding("finding.nodule", "结节").text("；")
    b.hedge("考虑").finding("diagnosis.metastasis", "转移").text("。")
    _, rows = render(b.segments, "zh")
    keys = _keys(rows)
    assert ("finding", "finding.nodule", "bilateral", "negative") in keys
    assert ("diagnosis", "diagnosis.metastasis", "bilateral", "uncertain") in keys


def test_rule_structured_negative_line():
    b = _zh().finding("finding.pleural_effusion", "胸腔积液").fixed("：无。")
    _, rows = render(b.segments, "zh")
    assert ("finding", "finding.pleural_effusion", None, "negative") in _keys(rows)


def test_rule_english_negation_spans_sentence():
    b = Builder("en", LEXICON).negation("No").text(" ").finding("finding.nodule", "nodules").text(", ")
    b.finding("finding.mass", "mass").text(" or effusion. ").finding("finding.mass", "Mass").text(" seen.")
    _, rows = render(b.segments, "en")
    keys = _keys(rows)
    assert ("finding", "finding.mass", None, "negative") in keys
    assert ("finding", "finding.mass", None, "positive") in keys


def test_rule_english_site_after_term():
    b = Builder("en", LEXICON).text("A ").finding("finding.nodule", "nodule").text(" in the ")
    b.anatomy("lung.lower_lobe", "lower lobe", "left").text(".")
    _, rows = render(b.segments, "en")
    assert ("finding", "finding.nodule", "left", "positive") in _keys(rows)


def test_rule_values_attach_to_clause_findings():
    b = _zh().anatomy("liver.s7", "肝S7段").text("见").size("2.1cm×1.8cm", (1.8, 2.1)).text("的")
    b.finding("finding.hypodense_lesion", "低密度灶").text("，").suv("SUVmax 6.2", 6.2).text("。")
    _, rows = render(b.segments, "zh")
    row = _keys(rows)[("finding", "finding.hypodense_lesion", None, "positive")]
    assert row["size_cm"] == [2.1, 1.8]
    assert row["suvmax"] == 6.2


def test_rule_prior_value_keeps_current():
    b = _zh().anatomy("liver.s7", "肝S7段").finding("finding.increased_uptake", "代谢增高").text("（").suv("SUVmax 7.5", 7.5)
    b.text("），较前大致相仿（前次").suv("SUVmax 8.1", 8.1).text("）。")
    _, rows = render(b.segments, "zh")
    row = _keys(rows)[("finding", "finding.increased_uptake", None, "positive")]
    assert row["suvmax"] == 7.5


def test_rule_hedge_after_finding_rejected():
    b = _zh().finding("finding.nodule", "结节").hedge("考虑").text("。")
    with pytest.raises(ValueError, match="hedge cue written after"):
        render(b.segments, "zh")


def test_form_not_in_lexicon_rejected():
    with pytest.raises(KeyError, match="not listed"):
        _zh().finding("finding.nodule", "肺结节灶")


def test_gold_text_matches_offsets():
    for report in generate_corpus(60, "both", seed=13, noise_rate=0.2):
        for section in ("findings", "impression"):
            text = getattr(report, section)
            for row in report.meta["entities"][section]:
                assert text[row["start"] : row["end"]] == row["text"]
                assert LEXICON.check_form(report.language, row["concept"], row["text"])


def test_gold_keys_unique_per_section():
    for report in generate_corpus(40, "both", seed=14):
        for section in ("findings", "impression"):
            keys = [(r["type"], r["concept"], r["laterality"], r["polarity"]) for r in report.meta["entities"][section]]
            assert len(keys) == len(set(keys))


def _scan(text: str, language: str) -> set[tuple[int, int, str]]:
    index = LEXICON.form_index(language)
    found = set()
    for match in surface_pattern(language).finditer(text):
        form = match.group(0).lower() if language == "en" else match.group(0)
        found.add((match.start(), match.end(), index[form]))
    return found


@pytest.mark.parametrize("noise_rate", [0.0, 0.3])
def test_every_lexicon_match_is_gold(noise_rate):
    """No accidental lexicon term in free text, and none lost to noise, in every style."""
    rng = random.Random(17)
    for case_id in range(60):
        case = sample_case(rng, case_id)
        for language in ("zh", "en"):
            for style in STYLE_NAMES[language]:
                findings, impression, _ = render_segments(case, language, style, 0, noise_rate)
                for segments in (findings, impression):
                    text = "".join(segment.text for segment in segments)
                    assert _scan(text, language) == set(entity_spans(segments)), text


def test_noise_rate_zero_gives_clean_text():
    reports = generate_corpus(80, "both", seed=15, noise_rate=0.0)
    assert all(report.meta["noise_edits"] == 0 for report in reports)
    for report in reports:
        text = report.findings + report.impression
        assert not re.search(r"[０-９．]", text)
        assert "SUV max" not in text or report.meta["style"] == "en-c"
        assert "mci" not in text and "Mbq" not in text


def test_noise_rate_positive_edits_text():
    clean = generate_corpus(40, "both", seed=16, noise_rate=0.0)
    noisy = generate_corpus(40, "both", seed=16, noise_rate=0.2)
    assert sum(report.meta["noise_edits"] for report in noisy) > 40
    changed = sum(a.findings != b.findings for a, b in zip(clean, noisy))
    assert changed > 30


def test_noise_keeps_gold_keys():
    clean = generate_corpus(40, "both", seed=18, noise_rate=0.0)
    noisy = generate_corpus(40, "both", seed=18, noise_rate=0.3)
    for a, b in zip(clean, noisy):
        for section in ("findings", "impression"):
            assert _keys(a.meta["entities"][section]).keys() == _keys(b.meta["entities"][section]).keys()


def test_noise_leaves_entity_segments():
    case = sample_case(random.Random(2), 0)
    findings, _, _ = render_segments(case, "zh", "zh-a", 0, 0.0)
    noisy, edits = apply_noise(findings, "zh", 1.0, random.Random(0))
    assert edits > 0
    for before, after in zip(findings, noisy):
        if before.kind in ("anatomy", "finding", "diagnosis", "lateral", "negation", "hedge"):
            assert before.text == after.text


def test_extractor_agrees_with_gold():
    """The rule-based extractor recovers the gold key sets (precision and recall >= 0.95 per language)."""
    extractor = pytest.importorskip("petf2i_core.entities.extractor")
    reports = generate_corpus(150, "both", seed=19, noise_rate=0.05)
    for language in ("zh", "en"):
        true_positive = predicted = expected = 0
        for report in (r for r in reports if r.language == language):
            for section in ("findings", "impression"):
                gold = set(_keys(report.meta["entities"][section]))
                found = {entity.key() for entity in extractor.extract_entities(getattr(report, section), language)}
                true_positive += len(gold & found)
                predicted += len(found)
                expected += len(gold)
        assert true_positive / predicted >= 0.95, language
        assert true_positive / expected >= 0.95, language
