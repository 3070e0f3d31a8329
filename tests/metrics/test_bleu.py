"""Tests of BLEU-4: equality with sacrebleu, corpus versus sentence semantics, normalisation."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sacrebleu

from petf2i_core.metrics.bleu import STAT_COLUMNS, Bleu4
from petf2i_core.metrics.registry import build_metric


def test_m2_corpus_bleu_zh_identical():
    metric = Bleu4("zh")
    stats = metric.statistics(["右肺上叶结节，代谢增高"], ["右肺上叶结节，代谢增高"])
    assert metric.aggregate(stats) == pytest.approx(1.0, abs=1e-9)


def test_m2_corpus_bleu_zh_one_substitution():
    metric = Bleu4("zh")
    stats = metric.statistics(["右肺上叶结节代谢增高"], ["右肺下叶结节代谢增高"])
    assert metric.aggregate(stats) == pytest.approx(0.7071, abs=1e-4)
    assert metric.details(stats)["precisions"] == pytest.approx([9 / 10, 7 / 9, 5 / 8, 4 / 7], abs=1e-6)
    assert metric.details(stats)["brevity_penalty"] == 1.0


def test_m2_13a_tokenizer_scores_zero():
    metric = Bleu4("zh", tokenize="13a")
    stats = metric.statistics(["右肺上叶结节代谢增高"], ["右肺下叶结节代谢增高"])
    assert metric.aggregate(stats) == 0.0
    assert "tok:13a" in str(metric.signature())


def test_m3_short_pair_sentence_vs_corpus():
    metric = Bleu4("zh")
    stats = metric.statistics(["肺结节"], ["肺结节"])
    assert metric.sentence_scores(["肺结节"], ["肺结节"], stats=stats) == [pytest.approx(1.0)]
    assert metric.aggregate(stats) == 0.0


def test_corpus_is_not_mean_of_sentences():
    metric = Bleu4("zh")
    predictions = ["肺结节", "右肺上叶结节代谢增高"]
    references = ["肺结节", "右肺下叶结节代谢增高"]
    stats = metric.statistics(predictions, references)
    corpus = sacrebleu.corpus_bleu(predictions, [references], tokenize="zh").score / 100
    assert metric.aggregate(stats) == pytest.approx(corpus, abs=1e-6)
    assert metric.aggregate(stats) != pytest.approx(np.mean(metric.sentence_scores(predictions, references)))


def test_m4_sentence_bleu_exp_smoothing():
    metric = Bleu4("zh")
    assert metric.sentence_scores(["左肺结节"], ["右肺结节"]) == [pytest.approx(0.5946, abs=1e-4)]


def test_d2_normalisation_makes_perfect_match():
    normalised = Bleu4("zh")
    raw = Bleu4("zh", normalize=False)
    assert normalised.sentence_scores(["SUVmax：5.2"], ["SUVmax:5.2"]) == [pytest.approx(1.0)]
    assert raw.sentence_scores(["SUVmax：5.2"], ["SUVmax:5.2"]) == [pytest.approx(0.3467, abs=1e-4)]
    assert "norm:none" in str(raw.signature())
    assert "fullwidth-ascii" in str(normalised.signature())


def _perturb(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(0, 4)):
        if not chars:
            break
        position = rng.randrange(len(chars))
        action = rng.random()
        if action < 0.4:
            del chars[position]
        elif action < 0.8:
            chars[position] = rng.choice(chars)
        else:
            chars.insert(position, rng.choice("肺结节影增高未见 ,."))
    return "".join(chars)


ZH_LINES = [
    "右肺上叶结节，代谢增高，考虑恶性可能。",
    "肝脏未见异常代谢增高灶。",
    "双肺多发小结节，SUVmax 2.1，建议随访。",
    "纵隔及双肺门淋巴结代谢增高，考虑炎性。",
    "左侧髂骨骨质破坏伴代谢增高，考虑骨转移。",
]
EN_LINES = [
    "No acute cardiopulmonary abnormality.",
    "Hypermetabolic right upper lobe nodule, SUVmax 5.2, suspicious for malignancy.",
    "Stable mediastinal lymph nodes. No evidence of metastatic disease.",
    "Mild degenerative changes of the thoracic spine.",
    "Small left pleural effusion with adjacent atelectasis.",
]


@pytest.mark.parametrize(("language", "lines", "tokenize"), [("zh", ZH_LINES, "zh"), ("en", EN_LINES, "13a")])
def test_equals_sacrebleu_random_corpus(language, lines, tokenize):
    rng = random.Random(7)
    references = [rng.choice(lines) for _ in range(200)]
    predictions = [_perturb(reference, rng) for reference in references]
    metric = Bleu4(language, normalize=False)
    stats = metric.statistics(predictions, references)

    expected_corpus = sacrebleu.corpus_bleu(predictions, [references], tokenize=tokenize).score / 100
    assert metric.aggregate(stats) == pytest.approx(expected_corpus, abs=1e-6)

    sentences = metric.sentence_scores(predictions, references, stats=stats)
    for prediction, reference, score in zip(predictions, references, sentences):
        expected = sacrebleu.sentence_bleu(prediction, [reference], tokenize=tokenize).score / 100
        assert score == pytest.approx(expected, abs=1e-6)


def test_statistics_shape_and_summing():
    metric = Bleu4("en")
    stats = metric.statistics(EN_LINES, EN_LINES[::-1])
    assert stats.shape == (5, len(STAT_COLUMNS))
    assert metric.aggregate(np.concatenate([stats[:2], stats[2:]])) == metric.aggregate(stats)


def test_registry_builds_bleu4():
    metric = build_metric("bleu4", language="en")
    assert isinstance(metric, Bleu4)
    assert "tok:13a" in str(metric.signature())
    assert "sacrebleu:" in str(metric.signature())


def test_misaligned_inputs_raise():
    with pytest.raises(ValueError, match="predictions"):
        Bleu4("en").statistics(["a"], ["a", "b"])


def test_unknown_language_raises():
    with pytest.raises(ValueError, match="language"):
        Bleu4("fr")
