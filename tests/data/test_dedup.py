"""Exact and near-duplicate grouping on normalised findings."""

from __future__ import annotations

from petf2i_core.data.dedup import find_duplicates, jaccard, match_key, minhash_signatures, near_duplicate_pairs, shingles
from petf2i_core.data.records import Report

# About 120 characters: one changed character removes 5 of ~115 shingles and adds 5 (Jaccard ~0.92).
LONG_ZH = (
    "右肺上叶尖后段见一软组织结节，大小约1.8×1.5 cm，边缘见分叶及毛刺，放射性摄取增高，SUVmax 6.2；"
    "纵隔4R组淋巴结肿大，SUVmax 3.4。肝脏形态大小正常，实质内未见异常密度影及异常放射性浓聚，脾脏不大。"
)


def _report(index: int, findings: str, impression: str = "考虑肺癌。") -> Report:
    return Report(id=f"r{index}", findings=findings, impression=impression, language="zh")


def test_match_key_normalises():
    assert match_key("ＳＵＶｍａｘ：５．２") == match_key("SUVmax 5.2")
    assert match_key("Clear  lungs.") == match_key("clear lungs.")


def test_exact_duplicates_after_normalisation():
    reports = [_report(0, "右肺结节，SUVmax：5.2"), _report(1, "右肺结节，ＳＵＶｍａｘ　５．２"), _report(2, "肝脏未见异常。")]
    result = find_duplicates(reports)
    assert result.exact_pairs == 1
    assert result.group_of[0] == result.group_of[1]
    assert result.group_of[2] != result.group_of[0]
    assert result.groups == 1


def test_near_duplicate_one_character_changed():
    changed = LONG_ZH.replace("6.2", "6.3")
    assert jaccard(shingles(match_key(LONG_ZH)), shingles(match_key(changed))) >= 0.9
    pairs = near_duplicate_pairs([LONG_ZH, changed, "双肺纹理增多，未见明显结节。"])
    assert [(first, second) for first, second, _ in pairs] == [(0, 1)]


def test_dissimilar_texts_not_grouped():
    reports = [_report(0, LONG_ZH), _report(1, "双肺纹理增多，未见明显结节。纵隔未见肿大淋巴结。心影不大。")]
    result = find_duplicates(reports)
    assert result.group_of == [0, 1]
    assert result.near_pairs == []


def test_below_threshold_pair_rejected():
    half = LONG_ZH[: len(LONG_ZH) // 2] + "胰头区见团块状放射性摄取增高灶，考虑胰腺癌伴肝内多发转移。"
    assert near_duplicate_pairs([LONG_ZH, half]) == []


def test_boilerplate_impressions_counted():
    reports = [_report(index, f"所见{index}不同的文本内容描述", "未见异常。") for index in range(6)]
    reports.append(_report(9, "另一所见", "考虑炎性。"))
    result = find_duplicates(reports, min_boilerplate=5)
    assert result.boilerplate_impressions == [("未见异常。", 6)]


def test_minhash_deterministic():
    texts = [LONG_ZH, LONG_ZH.replace("6.2", "6.3"), LONG_ZH.replace("4R", "7")]
    assert near_duplicate_pairs(texts, seed=5) == near_duplicate_pairs(texts, seed=5)


def test_many_variants_form_one_group():
    # Six variants of one text put several members in one LSH bucket; every pair must be checked.
    variants = [LONG_ZH.replace("6.2", f"6.{digit}") for digit in range(2, 8)]
    reports = [_report(index, text) for index, text in enumerate(variants)]
    result = find_duplicates(reports)
    assert len(set(result.group_of)) == 1
    assert len(result.near_pairs) == 15


def test_minhash_estimates_jaccard():
    changed = LONG_ZH.replace("纵隔4R组", "右肺门").replace("脾脏不大", "脾脏增大")
    first, second = shingles(match_key(LONG_ZH)), shingles(match_key(changed))
    signatures = minhash_signatures([first, second])
    estimate = (signatures[0] == signatures[1]).mean()
    assert abs(estimate - jaccard(first, second)) < 0.15
