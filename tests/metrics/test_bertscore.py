"""Tests of BERTScore: equality with bert-score, empty and long inputs, chunking, batching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from petf2i_core.metrics.bertscore import BertScore, PUBLISHED_ENCODERS, resolve_encoder
from petf2i_core.metrics.registry import build_metric

ZH_LINES = [
    "右肺上叶结节，代谢增高，考虑恶性可能。",
    "肝脏未见异常代谢增高灶。",
    "双肺多发小结节，建议随访。",
    "纵隔及双肺门淋巴结代谢增高，考虑炎性。",
    "左侧髂骨骨质破坏伴代谢增高，考虑骨转移。",
]
EN_PREDICTIONS = [
    "No acute disease.",
    "Stable lymph nodes in the mediastinum.",
    "Hypermetabolic nodule in the right upper lobe, suspicious for cancer.",
]
EN_REFERENCES = [
    "No acute cardiopulmonary disease.",
    "Stable mediastinal lymph nodes.",
    "Right upper lobe nodule with increased uptake, likely malignant.",
]


@pytest.fixture(scope="module")
def tiny_chinese_bert(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer BERT with a WordPiece vocabulary of CJK characters."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = tmp_path_factory.mktemp("tiny-zh-bert")
    characters = sorted({char for line in ZH_LINES for char in line})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + characters
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(vocab_file=str(folder / "vocab.txt"), model_max_length=16)
    tokenizer.save_pretrained(folder)

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        initializer_range=0.5,  # large random weights keep token vectors distinct
    )
    BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def minilm() -> BertScore:
    return BertScore("en")


@pytest.mark.slow
def test_minilm_equals_bert_score_library(minilm):
    from bert_score import BERTScorer

    stats = minilm.statistics(EN_PREDICTIONS, EN_REFERENCES)
    scorer = BERTScorer(model_type=minilm.spec.path, num_layers=6)
    precision, recall, f1 = scorer.score(EN_PREDICTIONS, EN_REFERENCES)
    np.testing.assert_allclose(stats[:, 0], precision.numpy(), atol=1e-5)
    np.testing.assert_allclose(stats[:, 1], recall.numpy(), atol=1e-5)
    np.testing.assert_allclose(stats[:, 2], f1.numpy(), atol=1e-5)


@pytest.mark.slow
def test_minilm_signature_labels_not_comparable(minilm, caplog):
    signature = str(minilm.signature())
    assert "layer:6" in signature
    assert "comparable:no-not-comparable-with-published" in signature
    assert "rescaled:no" in signature
    assert "bert_score:0.3.13" in signature
    assert minilm.details(np.zeros((1, 7)))["comparable_with_published"] is False


@pytest.mark.slow
def test_not_comparable_warning_logged(caplog):
    with caplog.at_level("WARNING"):
        BertScore("en")
    assert "not comparable" in caplog.text


@pytest.mark.slow
def test_identical_texts_score_one(minilm):
    scores = minilm.sentence_scores(EN_REFERENCES, EN_REFERENCES)
    assert scores == pytest.approx([1.0] * 3, abs=1e-5)


def test_m5_empty_prediction_scores_zero_and_flagged(tiny_chinese_bert):
    metric = BertScore("zh", model=str(tiny_chinese_bert), layer=2)
    stats = metric.statistics(["", "肝脏未见异常"], ["肝脏未见异常代谢增高", "肝脏未见异常"])
    assert stats[0, 2] == 0.0
    assert stats[0, 3] == 1.0
    assert metric.details(stats)["n_empty"] == 1
    assert metric.aggregate(stats) == pytest.approx(stats[1, 2] / 2)


def test_m5_empty_not_rescaled_with_baseline(tiny_chinese_bert):
    # A baseline of 0.5 turns a raw 0 into -1; empty pairs must stay at 0 all the same.
    metric = BertScore("zh", model=str(tiny_chinese_bert), layer=2)
    metric.baseline = np.array([0.5, 0.5, 0.5])
    stats = metric.statistics(["", "肝脏"], ["肝脏未见异常代谢增高", "肝脏"])
    assert stats[0, 2] == 0.0
    assert stats[1, 2] == pytest.approx(1.0, abs=1e-5)
    assert metric.aggregate(stats) >= 0.0


def test_m6_long_pair_flagged_and_truncation_hides_difference(tiny_chinese_bert):
    metric = BertScore("zh", model=str(tiny_chinese_bert), layer=2)
    shared = "右肺上叶结节代谢增高考虑恶性可能双肺"  # 19 characters; the limit leaves 14
    prediction, reference = shared + "多发小结节", shared + "肝脏未见异常"
    stats = metric.statistics([prediction], [reference])
    assert stats[0, 4] == 1.0
    assert metric.details(stats)["n_too_long"] == 1
    assert metric.flagged_rows(stats) == {"empty": [], "too_long": [0]}
    assert stats[0, 2] == pytest.approx(1.0, abs=1e-5)


def test_m6_chunked_scoring_sees_the_difference(tiny_chinese_bert):
    metric = BertScore("zh", model=str(tiny_chinese_bert), layer=2, chunked=True)
    shared = "右肺上叶结节代谢增高考虑恶性可能双肺"
    stats = metric.statistics([shared + "多发小结节"], [shared + "肝脏未见异常"])
    truncated = BertScore("zh", model=str(tiny_chinese_bert), layer=2).statistics(
        [shared + "多发小结节"], [shared + "肝脏未见异常"]
    )
    assert stats[0, 4] == 1.0
    assert truncated[0, 2] == pytest.approx(1.0, abs=1e-5)
    assert stats[0, 2] < 0.999
    assert "long:chunked" in str(metric.signature())


def test_chunked_equals_plain_for_short_texts(tiny_chinese_bert):
    plain = BertScore("zh", model=str(tiny_chinese_bert), layer=2)
    chunked = BertScore("zh", model=str(tiny_chinese_bert), layer=2, chunked=True)
    predictions = ["肝脏未见异常代谢增高", "双肺多发小结节", "考虑炎性"]
    references = ["肝脏代谢增高", "双肺结节，建议随访", "考虑骨转移"]
    np.testing.assert_allclose(
        chunked.statistics(predictions, references)[:, :3], plain.statistics(predictions, references)[:, :3]
    )


def test_batching_gives_same_numbers(tiny_chinese_bert):
    batched = BertScore("zh", model=str(tiny_chinese_bert), layer=2, batch_size=8)
    single = BertScore("zh", model=str(tiny_chinese_bert), layer=2, batch_size=1)
    predictions = ZH_LINES + ["肝脏", "双肺结节"]
    references = ZH_LINES[::-1] + ["肝脏未见异常", "结节"]
    np.testing.assert_allclose(
        batched.statistics(predictions, references), single.statistics(predictions, references), atol=1e-5
    )


def test_encoder_loads_once(tiny_chinese_bert):
    first = BertScore("zh", model=str(tiny_chinese_bert), layer=2)
    second = BertScore("zh", model=str(tiny_chinese_bert), layer=1)
    third = BertScore("zh", model=str(tiny_chinese_bert), layer=2)
    assert first.encoder is third.encoder
    assert first.encoder is not second.encoder


def test_unknown_model_requires_layer(tiny_chinese_bert):
    with pytest.raises(ValueError, match="layer"):
        resolve_encoder("zh", model=str(tiny_chinese_bert))


def test_rescale_requested_without_baseline_raises(tiny_chinese_bert):
    with pytest.raises(ValueError, match="baseline"):
        BertScore("zh", model=str(tiny_chinese_bert), layer=2, rescale_with_baseline=True)


def test_layer_out_of_range_raises(tiny_chinese_bert):
    metric = BertScore("zh", model=str(tiny_chinese_bert), layer=5)
    with pytest.raises(ValueError, match="out of range"):
        metric.statistics(["肝脏"], ["肝脏"])


def test_published_defaults():
    assert PUBLISHED_ENCODERS["en"] == ("roberta-large", 17)
    assert PUBLISHED_ENCODERS["zh"] == ("bert-base-chinese", 8)


def test_registry_builds_bertscore(tiny_chinese_bert):
    metric = build_metric("bertscore", language="zh", model=str(tiny_chinese_bert), layer=1)
    assert isinstance(metric, BertScore)
    assert "layer:1" in str(metric.signature())


@pytest.mark.slow
def test_gemma_chinese_encoder():
    from petf2i_core.models.packaged import packaged_model_dir

    folder = packaged_model_dir("gemma3-270m")
    if not (folder / "config.json").is_file():
        pytest.skip(f"{folder} does not exist; run `petf2i models prepare` to convert Gemma 3 270M")
    metric = BertScore("zh")
    assert metric.spec.layer == 12
    assert metric.max_length == 512
    assert len(metric.encoder.model.layers) == 13  # layers 14-18 cannot change hidden state 12
    stats = metric.statistics(["肝脏未见异常代谢增高", "右肺上叶结节"], ["肝脏未见异常代谢增高", "左侧髂骨骨质破坏"])
    assert stats[0, 2] == pytest.approx(1.0, abs=1e-4)
    assert stats[1, 2] < stats[0, 2]
    assert "comparable:no-not-comparable-with-published" in str(metric.signature())


def test_m5_published_baseline_would_give_minus_1_21():
    # bert-score rescales a raw 0 with bert-base-chinese layer 8 to about -1.21; petf2i reports 0 instead.
    from petf2i_core.metrics.bertscore import EncoderSpec, _baseline

    baseline = _baseline("zh", EncoderSpec("bert-base-chinese", "bert-base-chinese", 8, True))
    assert baseline is not None
    rescaled_f1 = (0.0 - baseline[2]) / (1.0 - baseline[2])
    assert rescaled_f1 == pytest.approx(-1.21, abs=0.01)
    assert _baseline("zh", EncoderSpec("tiny", "tiny", 8, False)) is None


def test_dropped_layers_keep_hidden_state(tiny_chinese_bert):
    import torch
    from transformers import AutoModel

    metric = BertScore("zh", model=str(tiny_chinese_bert), layer=0)
    encoder = metric.encoder
    assert len(encoder.model.encoder.layer) == 1
    ids, _ = encoder.with_specials(encoder.content_ids("肝脏未见异常"))
    full_model = AutoModel.from_pretrained(tiny_chinese_bert).eval()
    with torch.no_grad():
        expected = full_model(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states[0][0]
    expected = expected / expected.norm(dim=-1, keepdim=True)
    torch.testing.assert_close(encoder.embed([ids], batch_size=1)[0], expected)
