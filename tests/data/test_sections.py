"""Splitting whole reports into findings and impression at section headers."""

from __future__ import annotations

import pytest

from petf2i_core.data.sections import split_sections

CASES = [
    ("检查所见：右肺上叶结节。\n诊断意见：考虑炎性。", "右肺上叶结节。", "考虑炎性。"),
    ("影像所见:右肺结节\n印象:肺癌可能", "右肺结节", "肺癌可能"),
    ("【检查所见】\n肝脏未见异常。\n【诊断意见】\n1.肝脏未见异常。", "肝脏未见异常。", "1.肝脏未见异常。"),
    ("检 查 所 见 ： 肝脏未见异常。 印 象 ： 正常。", "肝脏未见异常。", "正常。"),
    ("所见：双肺纹理增多。意见：支气管炎。", "双肺纹理增多。", "支气管炎。"),
    ("影像所见：右肺结节。\n结论：考虑炎性。", "右肺结节。", "考虑炎性。"),
    ("FINDINGS: Clear lungs. IMPRESSION: Normal chest.", "Clear lungs.", "Normal chest."),
    ("Findings:\nLungs clear.\n\nImpression:\nNo acute disease.", "Lungs clear.", "No acute disease."),
    ("FINDINGS : Clear lungs.\nCONCLUSION : Normal.", "Clear lungs.", "Normal."),
    ("Lungs are clear.\nIMPRESSION\nNormal chest.", "Lungs are clear.", "Normal chest."),
    ("【检查所见】右肺结节。【诊断意见】考虑肺癌。", "右肺结节。", "考虑肺癌。"),
    ("[FINDINGS] Nodule. [IMPRESSION] Cancer.", "Nodule.", "Cancer."),
    ("检查所见：肝脏未见异常。诊断意见：未见异常。 报告医生：张伟", "肝脏未见异常。", "未见异常。"),
]


@pytest.mark.parametrize(("text", "findings", "impression"), CASES)
def test_sections_split(text, findings, impression):
    result = split_sections(text)
    assert result.findings == findings
    assert result.impression == impression


def test_other_sections_and_preamble_kept():
    text = "姓名：[NAME]\nEXAM: PET/CT\nFINDINGS: Nodule.\nIMPRESSION: Cancer."
    result = split_sections(text)
    assert result.findings == "Nodule."
    assert result.other == {"EXAM": "PET/CT"}
    assert result.preamble == "姓名：[NAME]"
    assert result.headers == ["EXAM", "FINDINGS", "IMPRESSION"]


def test_multiple_impression_sections_joined():
    result = split_sections("FINDINGS: a.\nIMPRESSION: b.\nCONCLUSION: c.")
    assert result.impression == "b.\n\nc."


def test_no_impression_header():
    result = split_sections("Lungs clear, no impression of pneumonia.")
    assert result.impression == ""
    assert result.findings == "Lungs clear, no impression of pneumonia."


def test_header_word_inside_sentence_ignored():
    result = split_sections("右肺结节，临床诊断：肺癌。")
    assert result.impression == ""
    assert result.headers == []


def test_clinical_diagnosis_is_not_impression():
    result = split_sections("右肺结节。临床诊断：肺癌。")
    assert result.impression == ""
    assert result.other == {"临床诊断": "肺癌。"}
