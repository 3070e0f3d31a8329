"""Tests for the LoRA peak-memory estimate arithmetic."""

from __future__ import annotations

import pytest

from petf2i_core.training.memory import GIB, QWEN25_7B, ModelShape, estimate_lora_memory


def test_lora_params_of_qwen25_7b_rank16():
    # Per layer: q 3584+3584, k 3584+512, v 3584+512, o 3584+3584, gate/up 3584+18944, down 18944+3584.
    per_layer = 7168 + 4096 + 4096 + 7168 + 22528 * 3
    assert QWEN25_7B.lora_params(16) == 28 * 16 * per_layer == 40_370_176


def test_estimate_components_by_hand():
    shape = ModelShape(params=1000, hidden=8, layers=2, heads=2, kv_heads=1, intermediate=16, vocab=10)
    estimate = estimate_lora_memory(shape, "bf16", rank=1, seq_length=4, batch_size=1,
                                    gradient_checkpointing=False, flash_attention=False)
    lora = shape.lora_params(1)
    assert lora == 2 * (16 + 12 + 12 + 16 + 24 + 24 + 24)
    assert estimate.weights_gib * GIB == pytest.approx(2000)
    assert estimate.lora_state_gib * GIB == pytest.approx(16 * lora)
    assert estimate.activations_gib * GIB == pytest.approx(2 * 4 * 1 * 8 * (34 + 5 * 2 * 4 / 8))
    assert estimate.logits_gib * GIB == pytest.approx(4 * 10 * 8)
    parts = estimate.weights_gib + estimate.lora_state_gib + estimate.activations_gib + estimate.logits_gib
    assert estimate.total_gib == pytest.approx(parts)


def test_checkpointing_and_precision_ordering():
    kwargs = dict(rank=16, seq_length=1024, batch_size=4)
    fp32 = estimate_lora_memory(QWEN25_7B, "fp32", **kwargs)
    bf16 = estimate_lora_memory(QWEN25_7B, "bf16", **kwargs)
    int4 = estimate_lora_memory(QWEN25_7B, "int4", **kwargs)
    no_checkpointing = estimate_lora_memory(QWEN25_7B, "bf16", gradient_checkpointing=False, **kwargs)
    assert fp32.weights_gib == pytest.approx(2 * bf16.weights_gib)
    assert bf16.weights_gib == pytest.approx(14.18, abs=0.01)
    assert int4.total_gib < bf16.total_gib < fp32.total_gib
    assert no_checkpointing.activations_gib > 5 * bf16.activations_gib


def test_estimate_rejects_unknown_precision():
    with pytest.raises(ValueError, match="invalid precision 'fp8'"):
        estimate_lora_memory(QWEN25_7B, "fp8", rank=8, seq_length=16, batch_size=1)
