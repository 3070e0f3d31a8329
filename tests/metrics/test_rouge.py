"""Tests of ROUGE-L: equality with rouge-score, Chinese pitfalls, bit-parallel LCS, ROUGE-Lsum."""

from __future__ import annotations

import random

import pytest
from rouge_score import rouge_scorer
from rouge_score.rouge_scorer import _lcs_table

from petf2i_core.metrics.registry import build_metric
from petf2i_core.metrics.rouge import RougeL, lcs_length, split_sentences


def test_m1_identical_chinese_scores_one():
    metric = RougeL("zh")
    assert metric.sentence_scores(["右肺上叶结节，代谢增高"], ["右肺上叶结节，代谢增高"]) == [1.0]


def test_m1_character_lcs_five_of_six():
    metric = RougeL("zh")
    assert metric.sentence_scores(["右肺上叶结节"], ["右肺下叶结节"]) == [pytest.approx(0.8333, abs=1e-4)]


def test_m1_rouge_score_tokenizer_fails_on_chinese():
    # The reason for the CJK tokenizer: rouge-score's own tokenizer drops every CJK character.
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    assert scorer.score("右肺上叶结节", "右肺上叶结节")["rougeL"].fmeasure == 0.0


def test_m7_negation_pair_character_rouge():
    metric = RougeL("zh")
    assert metric.sentence_scores(["肝脏可见异常代谢增高"], ["肝脏未见异常代谢增高"]) == [pytest.approx(0.9)]


def test_mixed_text_keeps_numbers_whole():
    metric = RougeL("zh")
    stats = metric.statistics(["右肺上叶结节SUVmax 5.2, 1.2cm"], ["右肺上叶结节SUVmax 5.3, 1.2cm"])
    # 10 tokens each; only 5.2 vs 5.3 differs.
    assert stats[0, 0] == 9
    assert stats[0, 1] == 10


def test_lcs_matches_dynamic_programming():
    rng = random.Random(3)
    for _ in range(500):
        a = [rng.choice("abcdef") for _ in range(rng.randint(0, 90))]
        b = [rng.choice("abcdef") for _ in range(rng.randint(0, 90))]
        assert lcs_length(a, b) == _lcs_table(a, b)[-1][-1]


EN_LINES = [
    "No acute cardiopulmonary abnormality.",
    "Hypermetabolic right upper lobe nodule, SUVmax 5.2, suspicious for malignancy.",
    "Stable mediastinal lymph nodes. No evidence of metastatic disease.",
    "Mild degenerative changes of the thoracic spine, unchanged from prior studies.",
    "Small left pleural effusion with adjacent atelectasis and lungs are clear.",
]


@pytest.mark.parametrize("use_stemmer", [False, True])
def test_english_equals_rouge_score(use_stemmer):
    rng = random.Random(11)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=use_stemmer)
    metric = RougeL("en", use_stemmer=use_stemmer, normalize=False)
    references = [rng.choice(EN_LINES) for _ in range(100)]
    predictions = [" ".join(rng.sample(ref.split(), k=max(1, len(ref.split()) - 2))) for ref in references]
    stats = metric.statistics(predictions, references)
    for row, prediction, reference in zip(stats, predictions, references):
        expected = scorer.score(reference, prediction)["rougeL"]
        assert row[5] == pytest.approx(expected.fmeasure, abs=1e-9)
        assert row[3] == pytest.approx(expected.precision, abs=1e-9)
        assert row[4] == pytest.approx(expected.recall, abs=1e-9)
    assert "stem:porter" in str(metric.signature()) or not use_stemmer


def test_rouge_lsum_equals_rouge_score():
    scorer = rouge_scorer.RougeScorer(["rougeLsum"])
    metric = RougeL("en", summary_level=True, normalize=False)
    prediction = "no evidence of disease\nstable nodes in the mediastinum"
    reference = "stable mediastinal nodes\nno evidence of metastatic disease"
    expected = scorer.score(reference, prediction)["rougeLsum"].fmeasure
    assert metric.sentence_scores([prediction], [reference]) == [pytest.approx(expected, abs=1e-9)]
    assert "variant:rougeLsum" in str(metric.signature())


def test_rouge_lsum_reorder_beats_plain():
    reference = "1.右肺上叶结节，考虑恶性。2.肝脏未见异常。"
    prediction = "1.肝脏未见异常。2.右肺上叶结节，考虑恶性。"
    plain = RougeL("zh").sentence_scores([prediction], [reference])[0]
    summary = RougeL("zh", summary_level=True).sentence_scores([prediction], [reference])[0]
    assert summary > plain
    assert summary == pytest.approx(1.0)


def test_split_sentences_numbered_items():
    parts = split_sentences("1.右肺结节，SUVmax 5.2。2、肝脏未见异常。(3)骨骼正常\nNo effusion.")
    assert parts == ["1.右肺结节，SUVmax 5.2。", "2、肝脏未见异常。", "(3)骨骼正常", "No effusion."]


def test_identical_texts_always_score_one():
    rng = random.Random(5)
    alphabet = "右肺上叶结节代谢增高，。 SUVmaxcm5.2-()!?\n abcXYZ0123"
    metrics = [RougeL("zh"), RougeL("en"), RougeL("zh", tokenizer="jieba"), RougeL("zh", summary_level=True)]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        if not text.strip():
            continue
        for metric in metrics:
            assert metric.sentence_scores([text], [text]) == [1.0], (metric.signature(), text)


def test_empty_prediction_scores_zero():
    assert RougeL("zh").sentence_scores([""], ["右肺结节"]) == [0.0]


def test_jieba_tokenizer_option():
    metric = RougeL("zh", tokenizer="jieba")
    assert "tok:jieba" in str(metric.signature())
    assert metric.tokens("右肺结节") == ["右肺", "结节"]


def test_stemmer_rejected_for_cjk_tokenizer():
    with pytest.raises(ValueError, match="use_stemmer"):
        RougeL("zh", use_stemmer=True)


def test_aggregate_is_mean_f1_with_details():
    metric = build_metric("rougeL", language="zh")
    stats = metric.statistics(["右肺上叶结节", "肝脏"], ["右肺下叶结节", "肝脏"])
    assert metric.aggregate(stats) == pytest.approx((5 / 6 + 1.0) / 2)
    details = metric.details(stats)
    assert details["precision"] == pytest.approx((5 / 6 + 1.0) / 2)
    assert details["recall"] == pytest.approx((5 / 6 + 1.0) / 2)


def test_d2_normalisation_makes_perfect_match():
    assert RougeL("zh").sentence_scores(["SUVmax：5.2"], ["SUVmax:5.2"]) == [1.0]
    assert RougeL("zh").sentence_scores(["ＳＵＶｍａｘ：５．２"], ["SUVmax 5.2"]) == [1.0]
    assert "norm:none" in str(RougeL("zh", normalize=False).signature())
