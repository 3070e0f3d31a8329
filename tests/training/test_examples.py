"""Tests for training-example tokenization and labels (prompt masked, response and EOS supervised)."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from petf2i_core.data.records import Report
from petf2i_core.training.collator import collate_rows
from petf2i_core.training.examples import (
    IGNORE_INDEX,
    TrainExample,
    build_examples,
    encode_example,
    end_of_turn_ids,
    label_example,
    select_fraction,
)


def test_pad_equal_eos_keeps_eos_label():
    # pad id = eos id = 2: masking by token == pad would drop the real EOS.
    first = label_example([11, 12, 13], [21, 22], [2])
    second = label_example([11, 12, 13], [21, 22, 23, 24], [2])
    batch = collate_rows([[first], [second]], pad_id=2, packing=False)

    assert batch["input_ids"].tolist() == [[11, 12, 13, 21, 22, 2, 2, 2], [11, 12, 13, 21, 22, 23, 24, 2]]
    assert batch["labels"].tolist()[0] == [-100, -100, -100, 21, 22, 2, -100, -100]
    assert batch["labels"].tolist()[1] == [-100, -100, -100, 21, 22, 23, 24, 2]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 1, 1, 0, 0], [1] * 8]
    for row in batch["labels"].tolist():
        assert row.count(2) == 1


def test_plain_prompt_labels_response_and_eos(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    prompt = "所见：右肺上叶结节。\n印象："
    response = "考虑炎性结节。"
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"]

    example = label_example(prompt_ids, response_ids, end_of_turn_ids(tokenizer, chat=False))

    assert example.labels[: len(prompt_ids)] == [IGNORE_INDEX] * len(prompt_ids)
    assert example.num_supervised == len(response_ids) + 1
    assert example.labels[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(example.input_ids[len(prompt_ids):-1]) == response


@pytest.mark.parametrize("fixture_name", ["tiny_model_dir", "tiny_pad_eos_dir"])
def test_chat_example_masks_template_tokens(fixture_name, request):
    tokenizer = AutoTokenizer.from_pretrained(request.getfixturevalue(fixture_name))
    response = "考虑炎性结节。"
    example, status = encode_example(tokenizer, "zero-shot", "右肺上叶结节。", response, "zh", max_length=512)
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")

    assert status == "kept"
    assert example.num_supervised == len(response_ids) + 1
    supervised = [label for label in example.labels if label != IGNORE_INDEX]
    assert supervised == response_ids + [im_end]
    prompt_length = len(example.input_ids) - len(response_ids) - 1
    prompt_text = tokenizer.decode(example.input_ids[:prompt_length])
    assert prompt_text.startswith("<|im_start|>system\n")
    assert prompt_text.endswith("<|im_start|>assistant\n")
    assert prompt_text.count("<|im_start|>assistant") == 1


def test_padded_batch_supervises_eos_when_pad_is_eos(tiny_pad_eos_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_pad_eos_dir)
    short, _ = encode_example(tokenizer, "zero-shot", "双肺无结节。", "未见异常。", "zh", 512)
    long, _ = encode_example(tokenizer, "zero-shot", "双肺无结节。", "未见明显异常，建议随访复查。", "zh", 512)
    batch = collate_rows([[short], [long]], pad_id=tokenizer.pad_token_id, packing=False)

    eos = tokenizer.eos_token_id
    for row_labels, example in zip(batch["labels"].tolist(), (short, long)):
        assert row_labels[len(example.input_ids) - 1] == eos
        assert row_labels[len(example.input_ids):] == [IGNORE_INDEX] * (len(row_labels) - len(example.input_ids))


def test_end_of_turn_ids_for_chatml(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert end_of_turn_ids(tokenizer, chat=True) == [tokenizer.convert_tokens_to_ids("<|im_end|>")]
    assert end_of_turn_ids(tokenizer, chat=False) == [tokenizer.eos_token_id]


def test_empty_impression_is_rejected_and_counted(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    reports = [
        Report(id="a", findings="右肺结节。", impression="考虑炎性。", language="zh"),
        Report(id="b", findings="右肺结节。", impression="  ", language="zh"),
    ]
    examples, counts = build_examples(reports, tokenizer, "zero-shot", 512)

    assert [example.report_id for example in examples] == ["a"]
    assert counts.rejected_no_supervised == 1
    assert counts.kept == 1


def test_long_findings_truncated_keep_impression(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    findings = "右肺上叶见一结节，边界欠清，代谢增高。" * 40
    impression = "考虑恶性病变，建议病理活检。"
    no_findings, _ = encode_example(tokenizer, "zero-shot", "", impression, "zh", 4096)
    limit = len(no_findings.input_ids) + 40
    full, _ = encode_example(tokenizer, "zero-shot", findings, impression, "zh", 4096)
    example, status = encode_example(tokenizer, "zero-shot", findings, impression, "zh", limit)

    assert len(full.input_ids) > limit
    assert status == "truncated"
    assert example.truncated
    assert limit - 5 <= len(example.input_ids) <= limit
    supervised = [label for label in example.labels if label != IGNORE_INDEX]
    assert tokenizer.decode(supervised[:-1]) == impression
    assert "\ufffd" not in tokenizer.decode(example.input_ids)


def test_drop_policy_counts_long_examples(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    reports = [
        Report(id="long", findings="右肺上叶见一结节。" * 60, impression="考虑恶性。", language="zh"),
        Report(id="short", findings="右肺上叶见一结节。", impression="考虑恶性。", language="zh"),
    ]
    dropped, drop_counts = build_examples(reports, tokenizer, "zero-shot", 250, truncation="drop")
    kept, truncate_counts = build_examples(reports, tokenizer, "zero-shot", 250, truncation="truncate_findings")

    assert [example.report_id for example in dropped] == ["short"]
    assert drop_counts.dropped_too_long == 1
    assert truncate_counts.truncated == 1
    assert truncate_counts.kept == 2


def test_impression_longer_than_limit_is_dropped(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    example, status = encode_example(tokenizer, "zero-shot", "右肺结节。", "考虑恶性病变。" * 80, "zh", 128)
    assert example is None
    assert status == "dropped_too_long"


def test_base_template_uses_plain_text(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    example, _ = encode_example(tokenizer, "base-zero-shot", "右肺结节。", "考虑炎性。", "zh", 512)
    text = tokenizer.decode(example.input_ids)
    assert text == "检查所见：右肺结节。\n诊断意见：考虑炎性。<|im_end|>"
    assert "<|im_start|>" not in text


def test_select_fraction_is_seeded(small_reports):
    first = select_fraction(small_reports, 0.5, seed=1)
    second = select_fraction(small_reports, 0.5, seed=1)
    other = select_fraction(small_reports, 0.5, seed=2)
    assert len(first) == 8
    assert [r.id for r in first] == [r.id for r in second]
    assert [r.id for r in first] != [r.id for r in other]
    assert select_fraction(small_reports, 1.0, seed=1) == small_reports


def test_train_example_counts_supervised():
    example = TrainExample(input_ids=[1, 2, 3], labels=[-100, 2, 3])
    assert example.num_supervised == 2


def test_bos_emitting_template_gives_one_bos(tiny_model_dir):
    from petf2i_core.models.tiny import CHAT_TEMPLATE

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.bos_token = "<|endoftext|>"
    tokenizer.chat_template = "{{- bos_token }}" + CHAT_TEMPLATE
    example, _ = encode_example(tokenizer, "zero-shot", "右肺结节。", "考虑炎性。", "zh", 512)

    bos = tokenizer.bos_token_id
    assert example.input_ids[0] == bos
    assert example.input_ids[1] != bos
    assert example.input_ids.count(bos) == 1
