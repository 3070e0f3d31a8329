"""Clinical wording of the synthetic reports: sites, articles, hedges and uptake words.

Each test scans 400 clean cases of seed 3, where a review found every defect
checked here before the generator fixed it.
"""

from __future__ import annotations

import random
import re

import pytest

from petf2i_core.data.synth import sample_case
from petf2i_core.data.synth.cases import uptake_grade
from petf2i_core.data.synth.corpus import generate_corpus

SUV = r"SUV ?max(?:值)?[ :：=]*约?(\d+\.\d)"


@pytest.fixture(scope="module")
def reports():
    return generate_corpus(400, "both", seed=3, noise_rate=0.0)


def _texts(reports, language):
    return [(report, report.findings + "\n" + report.impression) for report in reports if report.language == language]


def test_uptake_grade_limits():
    assert uptake_grade(1.0) == "mild"
    assert uptake_grade(2.4) == "mild"
    assert uptake_grade(2.5) == "moderate"
    assert uptake_grade(4.9) == "moderate"
    assert uptake_grade(5.0) == "intense"
    assert uptake_grade(30.0) == "intense"


def test_case_sites_drawn_once():
    rng = random.Random(3)
    for case_id in range(400):
        case = sample_case(rng, case_id)
        seen = {}
        for lesion in case.lesions:
            position = tuple(sorted((k, v) for k, v in lesion.detail.items() if k != "code"))
            key = (lesion.site, position)
            for side in seen.get(key, ()):
                assert {side, lesion.laterality} == {"left", "right"}, (case_id, key)
            seen.setdefault(key, []).append(lesion.laterality)


def test_impression_names_site_once(reports):
    for report, _ in _texts(reports, "en"):
        for line in report.impression.split("\n"):
            sites = re.findall(r"\b((?:left|right|bilateral) [^,()]+?|[TL]\d+ vertebra)(?= \(|,| and | lymph| show)", line, re.I)
            lowered = [site.lower() for site in sites]
            assert len(lowered) == len(set(lowered)), line


def test_zh_impression_names_site_once(reports):
    for report, _ in _texts(reports, "zh"):
        for line in report.impression.split("\n"):
            hila = re.findall(r"(左|右|双侧)肺门", line)
            vertebrae = re.findall(r"([TL胸腰]\d+)椎体", line)
            assert len(hila) == len(set(hila)), line
            assert len(vertebrae) == len(set(vertebrae)), line


def test_no_wall_wall(reports):
    for report, text in _texts(reports, "en"):
        assert "wall wall" not in text, report.id


def test_bilateral_site_not_single(reports):
    for report, text in _texts(reports, "en"):
        assert not re.search(r"bilateral [^.,]*, there is an? ", text), report.id
        assert not re.search(r"bilateral [^.,]* lymph node, ", report.impression), report.id
    for report, text in _texts(reports, "zh"):
        assert not re.search(r"(双侧|两侧)[^，。；]{0,10}?(?<!未)见(大小约[^，。；]*的)?(肿大)?淋巴结", text), report.id


def test_non_fdg_reports_avoid_fdg_words(reports):
    for language, pattern in (("en", r"hypermetabol|FDG|PERCIST"), ("zh", r"代谢|FDG|PERCIST")):
        for report, text in _texts(reports, language):
            if report.meta["tracer"] != "FDG":
                assert not re.search(pattern, text), (report.id, re.search(pattern, text).group(0))


def test_non_fdg_normal_nodes_tracer_neutral():
    checked = 0
    for report in generate_corpus(300, "en", seed=3, noise_rate=0.0):
        if report.meta["tracer"] != "FDG" and "lymph nodes" in report.findings:
            checked += 1
            assert "No hypermetabolic" not in report.findings, report.id
    assert checked > 10


def test_indefinite_article_agrees(reports):
    for report, text in _texts(reports, "en"):
        wrong = re.search(r"\b(an [b-df-hj-np-tv-z]\w*|a [aeiou]\w*)", text, re.I)
        assert wrong is None, (report.id, wrong and wrong.group(0))


def test_benign_items_use_benign_hedges(reports):
    benign = r"reactive|degenerative|granulomatous|scarring|cyst"
    for report, _ in _texts(reports, "en"):
        for line in report.impression.split("\n"):
            assert not re.search(rf"(concerning|suspicious|worrisome) for [a-z-]* ?({benign})", line, re.I), line
    for report, _ in _texts(reports, "zh"):
        for line in report.impression.split("\n"):
            assert not re.search(r"(不除外|疑为|可能为)[^，。；]{0,4}(反应性增生|退行性变|肉芽肿性病变|陈旧性病变|囊肿)", line), line


def test_uptake_words_follow_suvmax(reports):
    words = {
        "mild": r"\bmild(ly)?\b|轻度",
        "moderate": r"\bmoderate(ly)?\b",
        "intense": r"\bintense\b|明显增高|异常增高",
    }
    checked = 0
    for language in ("en", "zh"):
        for report, text in _texts(reports, language):
            for name, pattern in words.items():
                for word in re.finditer(pattern, text):
                    after = re.match(r"[^.。;；\n]{0,30}?" + SUV, text[word.end():])
                    if after is None:
                        continue
                    checked += 1
                    assert uptake_grade(float(after.group(1))) == name, (report.id, text[word.start():word.end() + 40])
    assert checked > 300
