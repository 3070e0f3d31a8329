"""Tests for the tiny random Qwen2 model used by fast tests."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from petf2i_core.models.tiny import build_tiny_qwen2, default_report_lines

ZH_TEXT = "所见：右肺上叶见一结节（1.2×0.9cm），SUVmax：5.2。\n印象：考虑恶性病变，建议活检。"


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return build_tiny_qwen2(tmp_path_factory.mktemp("tiny"))


def test_default_lines_cover_both_languages():
    lines = default_report_lines()
    assert len(lines) >= 200
    assert any("所见" in line for line in lines)
    assert any(line.startswith("Findings:") for line in lines)


def test_tiny_loads_with_auto_classes(tiny_dir):
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    assert model.config.model_type == "qwen2"
    assert model.config.hidden_size == 64
    assert model.config.num_hidden_layers == 2
    assert model.config.num_key_value_heads == 2
    assert model.config.vocab_size == len(tokenizer)
    ids = tokenizer("肝脏未见异常", return_tensors="pt")["input_ids"]
    logits = model(ids).logits
    assert logits.shape == (1, ids.shape[1], len(tokenizer))


def test_tiny_round_trips_chinese_exactly(tiny_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    ids = tokenizer(ZH_TEXT, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == ZH_TEXT
    assert "，" in tokenizer.decode(ids)


def test_loaded_tokenizer_matches_trained_one(tiny_dir):
    from tokenizers import Tokenizer

    raw = Tokenizer.from_file(str(tiny_dir / "tokenizer.json"))
    loaded = AutoTokenizer.from_pretrained(tiny_dir)
    assert raw.encode(ZH_TEXT).ids == loaded(ZH_TEXT, add_special_tokens=False)["input_ids"]


def test_tiny_chat_template_is_chatml(tiny_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    messages = [{"role": "user", "content": "所见：双肺无结节。"}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == "<|im_start|>user\n所见：双肺无结节。<|im_end|>\n<|im_start|>assistant\n"
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.pad_token == "<|endoftext|>"
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    assert tokenizer.bos_token is None


def test_tiny_pad_is_eos_variant(tmp_path):
    out = build_tiny_qwen2(tmp_path / "pad_eos", pad_is_eos=True)
    tokenizer = AutoTokenizer.from_pretrained(out)
    config = json.loads((out / "config.json").read_text())
    assert tokenizer.pad_token_id == tokenizer.eos_token_id
    assert config["pad_token_id"] == config["eos_token_id"] == tokenizer.eos_token_id


def test_tiny_is_deterministic_for_seed(tmp_path):
    first = build_tiny_qwen2(tmp_path / "a", seed=3)
    second = build_tiny_qwen2(tmp_path / "b", seed=3)
    other = build_tiny_qwen2(tmp_path / "c", seed=4)
    assert (first / "tokenizer.json").read_text() == (second / "tokenizer.json").read_text()
    weights = [AutoModelForCausalLM.from_pretrained(path).state_dict() for path in (first, second, other)]
    name = "model.layers.0.self_attn.q_proj.weight"
    assert torch.equal(weights[0][name], weights[1][name])
    assert not torch.equal(weights[0][name], weights[2][name])
