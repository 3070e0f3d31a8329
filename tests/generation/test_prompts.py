"""Prompt templates, few-shot retrieval, and prompt encoding that starts with exactly one BOS."""

from __future__ import annotations

from pathlib import Path

import pytest

from petf2i_core.data.records import Report
from petf2i_core.generation.prompts import (
    TEMPLATES,
    ExampleRetriever,
    build_messages,
    build_prompt_text,
    collapse_leading_bos,
    encode_prompt,
    fold_system_message,
    get_template,
)

TRAIN = [
    Report("t1", "右肺上叶见一结节，SUVmax 5.2。", "右肺上叶结节，考虑恶性。", "zh"),
    Report("t2", "肝脏未见异常放射性摄取。", "未见明显异常。", "zh"),
    Report("t3", "纵隔见多发肿大淋巴结，代谢增高，SUVmax 8.7。", "纵隔淋巴结转移。", "zh"),
    Report("t4", "A 2 cm hypermetabolic mass in the liver, SUVmax 9.1.", "Liver mass, suspicious for malignancy.", "en"),
    Report("t5", "No abnormal FDG uptake in the neck.", "No evidence of disease.", "en"),
]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from petf2i_core.models.tiny import build_tiny_qwen2

    path = tmp_path_factory.getbasetemp() / "petf2i-generation-tiny"
    if not (path / "config.json").is_file():
        build_tiny_qwen2(path)
    return path


@pytest.fixture(scope="module")
def tokenizer(tiny_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_dir)


@pytest.fixture(scope="module")
def bos_tokenizer(tiny_dir: Path):
    """The tiny tokenizer with a BOS token that both the tokenizer and the chat template add."""
    from tokenizers import processors
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_dir)
    tok.add_special_tokens({"bos_token": "<s>"})
    bos_id = tok.bos_token_id
    tok._tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", bos_id)]
    )
    tok.chat_template = "{{ bos_token }}" + tok.chat_template
    return tok


def test_templates_hash_stable_and_distinct():
    hashes = {name: template.hash for name, template in TEMPLATES.items()}

    assert get_template("zero-shot").hash == hashes["zero-shot"]
    assert len(set(hashes.values())) == len(hashes)
    assert all(len(value) == 16 for value in hashes.values())


def test_template_hash_changes_with_text():
    from dataclasses import replace

    template = get_template("zero-shot")
    changed = replace(template, instruction={**template.instruction, "en": template.instruction["en"] + " "})

    assert changed.hash != template.hash


def test_unknown_template_lists_names():
    with pytest.raises(KeyError, match="zero-shot"):
        get_template("nope")


def test_messages_zero_shot_chinese():
    messages = build_messages("zero-shot", "右肺上叶结节。", "zh")

    assert [m["role"] for m in messages] == ["system", "user"]
    assert "右肺上叶结节。" in messages[-1]["content"]
    assert "检查所见" in messages[-1]["content"]


def test_messages_few_shot_turns_in_order():
    messages = build_messages("few-shot", "A lung nodule.", "en", TRAIN[3:5])

    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[2]["content"] == TRAIN[3].impression
    assert messages[4]["content"] == TRAIN[4].impression
    assert "A lung nodule." in messages[-1]["content"]


def test_messages_reject_base_template_and_language():
    with pytest.raises(ValueError, match="build_prompt_text"):
        build_messages("base-few-shot", "x", "en")
    with pytest.raises(ValueError, match="language"):
        build_messages("zero-shot", "x", "fr")


def test_base_text_ends_with_label():
    text = build_prompt_text("base-few-shot", "肝脏\n未见异常。", "zh", TRAIN[:2])

    assert text.endswith("检查所见：肝脏 未见异常。\n诊断意见：")
    assert text.count("\n\n") == 2
    assert text.startswith("检查所见：右肺上叶见一结节")


def test_fold_system_message():
    folded = fold_system_message(build_messages("zero-shot", "x", "en"))

    assert folded[0]["role"] == "user"
    assert folded[0]["content"].startswith("You are an experienced")


def test_encode_chat_matches_template_once(tokenizer):
    messages = build_messages("zero-shot", "右肺上叶结节，SUVmax 5.2。", "zh")
    ids = encode_prompt(tokenizer, messages, chat=True)
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    assert ids == tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids).endswith("<|im_start|>assistant\n")


def test_bos_template_gives_one_bos(bos_tokenizer):
    messages = build_messages("zero-shot", "右肺上叶结节。", "zh")
    bos_id = bos_tokenizer.bos_token_id
    text = bos_tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    naive = bos_tokenizer(text)["input_ids"]  # the trap: template BOS plus tokenizer BOS

    ids = encode_prompt(bos_tokenizer, messages, chat=True)

    assert naive[:2] == [bos_id, bos_id]
    assert ids[0] == bos_id
    assert ids[1] != bos_id
    assert ids.count(bos_id) == 1


def test_plain_text_gets_one_bos(bos_tokenizer):
    bos_id = bos_tokenizer.bos_token_id
    text = build_prompt_text("base-zero-shot", "No abnormal uptake.", "en")

    ids = encode_prompt(bos_tokenizer, text, chat=False)
    already = encode_prompt(bos_tokenizer, "<s>" + text, chat=False)

    assert ids[0] == bos_id
    assert ids.count(bos_id) == 1
    assert already.count(bos_id) == 1


def test_plain_text_without_bos_tokenizer(tokenizer):
    ids = encode_prompt(tokenizer, "Findings: x\nImpression:", chat=False)

    assert ids == tokenizer("Findings: x\nImpression:", add_special_tokens=False)["input_ids"]


def test_collapse_leading_bos():
    assert collapse_leading_bos([1, 1, 1, 5, 1], 1) == [1, 5, 1]
    assert collapse_leading_bos([5, 6], 1) == [5, 6]
    assert collapse_leading_bos([1, 1], None) == [1, 1]


def test_retriever_nearest_same_language():
    retriever = ExampleRetriever(TRAIN)

    zh = retriever.retrieve("左肺上叶见一结节，SUVmax 3.1。", "zh", k=2)
    en = retriever.retrieve("A hypermetabolic liver mass, SUVmax 7.", "en", k=1)

    assert zh[0].id == "t1"
    assert all(report.language == "zh" for report in zh)
    assert en[0].id == "t4"


def test_retriever_excludes_query_id():
    retriever = ExampleRetriever(TRAIN)

    examples = retriever.retrieve(TRAIN[0].findings, "zh", k=3, exclude_ids=["t1"])

    assert "t1" not in [report.id for report in examples]
    assert len(examples) == 2


def test_retriever_unknown_language():
    with pytest.raises(ValueError, match="no training reports"):
        ExampleRetriever(TRAIN).retrieve("x", "fr", k=1)


def test_base_one_shot_retrieves_one_example():
    from petf2i_core.generation.runner import build_requests

    query = Report("q1", "右肺下叶见一结节，SUVmax 6.1。", "右肺下叶结节。", "zh")
    (request,) = build_requests([query], "base-one-shot", TRAIN)
    assert get_template("base-one-shot").k_shot == 1
    # One example and the query each open with the findings label.
    assert request.prompt.count("检查所见：") == 2
    assert "右肺上叶见一结节" in request.prompt
