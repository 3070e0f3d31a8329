"""The extractive and retrieval baselines."""

from __future__ import annotations

import pytest

from petf2i_core.data.records import Report
from petf2i_core.generation.base import GenerationRequest, get_backend
from petf2i_core.generation.baselines import extract_abnormal_findings, is_abnormal_sentence, split_sentences


@pytest.mark.parametrize(
    ("findings", "language", "expected"),
    [
        ("双肺纹理清晰。右肺上叶见一结节，SUVmax 5.2。肝脏未见异常放射性摄取。纵隔淋巴结肿大，代谢增高。", "zh",
         "右肺上叶见一结节，SUVmax 5.2。纵隔淋巴结肿大，代谢增高。"),
        ("脑实质未见异常。双肺无结节。", "zh", "脑实质未见异常。"),
        ("The brain is unremarkable. A 1.2 cm hypermetabolic nodule in the right upper lobe, SUVmax 5.2. "
         "No abnormal uptake in the liver. Enlarged left axillary node.", "en",
         "A 1.2 cm hypermetabolic nodule in the right upper lobe, SUVmax 5.2. Enlarged left axillary node."),
        ("No evidence of hypermetabolic disease. Normal liver.", "en", "No evidence of hypermetabolic disease."),
    ],
)
def test_extractive_abnormal_sentences(findings, language, expected):
    assert extract_abnormal_findings(findings, language) == expected


def test_negated_clause_not_abnormal():
    assert not is_abnormal_sentence("双肺未见明显结节。", "zh")
    assert not is_abnormal_sentence("No nodule or mass is seen.", "en")
    assert is_abnormal_sentence("右肺结节，代谢增高。", "zh")


def test_split_keeps_decimal_points():
    sentences = split_sentences("Nodule with SUVmax 5.2 in the lung. Liver normal.", "en")

    assert sentences == ["Nodule with SUVmax 5.2 in the lung.", "Liver normal."]


def test_extractive_backend_flags():
    backend = get_backend("extractive")

    output = backend.generate([GenerationRequest("a", "", chat=False, findings="", language="zh")])[0]

    assert output.empty
    assert output.finish_reason == "stop"


TRAIN = [
    Report("t1", "右肺上叶见一结节，SUVmax 5.2。", "右肺上叶结节，考虑恶性。", "zh"),
    Report("t2", "肝脏未见异常放射性摄取。", "未见明显异常。", "zh"),
    Report("t3", "A hypermetabolic liver mass.", "Liver mass.", "en"),
]


def test_retrieval_nearest_impression():
    backend = get_backend("retrieval", train_reports=TRAIN)
    requests = [
        GenerationRequest("q1", "", chat=False, findings="左肺上叶见一结节，SUVmax 3.0。", language="zh"),
        GenerationRequest("q2", "", chat=False, findings="Liver mass with intense uptake.", language="en"),
    ]

    outputs = backend.generate(requests)

    assert outputs[0].text == "右肺上叶结节，考虑恶性。"
    assert outputs[0].extra["source_id"] == "t1"
    assert outputs[1].text == "Liver mass."


def test_retrieval_never_returns_own_report():
    backend = get_backend("retrieval").fit(TRAIN)

    output = backend.generate([GenerationRequest("t1", "", chat=False, findings=TRAIN[0].findings, language="zh")])[0]

    assert output.extra["source_id"] == "t2"


def test_retrieval_needs_fit():
    with pytest.raises(RuntimeError, match="fit"):
        get_backend("retrieval").generate([GenerationRequest("a", "", findings="x", language="zh")])
