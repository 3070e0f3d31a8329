"""Tests for the LoRA training loop on the tiny Qwen2 model."""

from __future__ import annotations

import csv

import pytest
import torch
from accelerate import Accelerator
from transformers import AutoModelForCausalLM, AutoTokenizer

from petf2i_core.training.collator import collate_rows, plan_rows
from petf2i_core.training.config import TrainConfig
from petf2i_core.training.examples import IGNORE_INDEX, build_examples
from petf2i_core.training.lora import apply_lora, resolve_target_modules
from petf2i_core.training.trainer import accumulate_gradients, train_lora


def _lora_model(model_dir, dropout=0.0):
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model = apply_lora(model, rank=4, alpha=8, dropout=dropout, target_modules="all-linear")
    # Non-zero B matrices so every LoRA parameter gets a gradient.
    for name, parameter in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(parameter, std=0.02)
    return model


def _examples(model_dir, make_reports, count=6):
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    examples, _ = build_examples(make_reports(count), tokenizer, "zero-shot", 512)
    return tokenizer, examples


def _token_losses(model, batch):
    logits = model(**{k: v for k, v in batch.items() if k != "labels"}, use_cache=False).logits
    labels = batch["labels"][:, 1:]
    losses = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]), labels.reshape(-1),
        ignore_index=IGNORE_INDEX, reduction="none",
    )
    return losses[labels.reshape(-1) != IGNORE_INDEX]


def test_all_linear_covers_every_projection(tiny_model_dir):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    targets = resolve_target_modules(model, "all-linear")
    assert targets == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]
    assert "lm_head" not in targets

    peft_model = apply_lora(model, 4, 8, 0.0, "all-linear")
    wrapped = {name.split(".lora_A")[0].rsplit(".", 1)[-1] for name, _ in peft_model.named_parameters() if "lora_A" in name}
    assert wrapped == set(targets)


def test_loss_normalised_over_window(tiny_model_dir, make_reports):
    tokenizer, examples = _examples(tiny_model_dir, make_reports)
    micro_batches = [
        collate_rows([[examples[0]]], tokenizer.pad_token_id, False),
        collate_rows([[examples[1]], [examples[2]], [examples[3]]], tokenizer.pad_token_id, False),
    ]
    counts = [int((b["labels"][:, 1:] != IGNORE_INDEX).sum()) for b in micro_batches]
    assert counts[0] != counts[1]

    model = _lora_model(tiny_model_dir)
    loss_sum, supervised = accumulate_gradients(model, micro_batches, Accelerator(cpu=True))
    window_grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}

    # Hand computation: every supervised token of the window, summed, divided by their number.
    model.zero_grad()
    token_losses = torch.cat([_token_losses(model, batch) for batch in micro_batches])
    assert supervised == sum(counts) == token_losses.numel()
    assert float(loss_sum) == pytest.approx(float(token_losses.detach().sum()), rel=1e-5)
    (token_losses.sum() / token_losses.numel()).backward()
    for name, gradient in window_grads.items():
        torch.testing.assert_close(gradient, model.get_parameter(name).grad, rtol=1e-4, atol=1e-7)

    # The mean of per-micro-batch means weighs tokens differently and gives other gradients.
    model.zero_grad()
    sum(_token_losses(model, batch).mean() for batch in micro_batches).div(2).backward()
    name = next(iter(window_grads))
    assert not torch.allclose(window_grads[name], model.get_parameter(name).grad, rtol=1e-3)


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_packed_batch_matches_unpacked(tiny_model_dir, make_reports, attention):
    tokenizer, examples = _examples(tiny_model_dir, make_reports, count=5)
    model = _lora_model(tiny_model_dir).eval()
    model.base_model.model.config._attn_implementation = attention

    unpacked = collate_rows([[example] for example in examples], tokenizer.pad_token_id, packing=False)
    rows = plan_rows([len(e.input_ids) for e in examples], max_length=2048, packing=True, seed=0)
    assert len(rows) == 1
    packed = collate_rows([[examples[i] for i in row] for row in rows], tokenizer.pad_token_id, packing=True)
    assert "attention_mask" not in packed
    assert packed["input_ids"].shape[0] == 1

    with torch.no_grad():
        per_example_unpacked = [_token_losses(model, collate_rows([[e]], tokenizer.pad_token_id, False)) for e in examples]
        packed_losses = _token_losses(model, packed)
        batched = _token_losses(model, unpacked)
    expected = torch.cat([per_example_unpacked[i] for i in rows[0]])
    torch.testing.assert_close(packed_losses, expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(batched, torch.cat(per_example_unpacked), rtol=1e-4, atol=1e-5)


def test_packing_without_position_reset_differs(tiny_model_dir, make_reports):
    # Guards the test above: with positions running on, examples attend across boundaries.
    tokenizer, examples = _examples(tiny_model_dir, make_reports, count=3)
    model = _lora_model(tiny_model_dir).eval()
    packed = collate_rows([examples], tokenizer.pad_token_id, packing=True)
    leaky = dict(packed, position_ids=torch.arange(packed["input_ids"].shape[1]).unsqueeze(0))
    with torch.no_grad():
        assert not torch.allclose(_token_losses(model, packed), _token_losses(model, leaky), atol=1e-3)


def test_training_reduces_loss_and_writes_outputs(tiny_model_dir, make_reports, tmp_path):
    reports = make_reports(8) * 2
    config = TrainConfig(
        base_model=str(tiny_model_dir), output_dir=str(tmp_path / "run"), max_steps=48,
        per_device_batch_size=4, learning_rate=1e-2, lora_dropout=0.0, warmup_ratio=0.0,
        scheduler="constant", eval_every=16, seed=3,
    )
    result = train_lora(config, reports, make_reports(4, prefix="v"))

    losses = [row["train_loss"] for row in result.history]
    assert len(losses) == 48
    assert sum(losses[:4]) / 4 - sum(losses[-4:]) / 4 > 0.5  # nats per token
    val_losses = [row["val_loss"] for row in result.history if row["val_loss"] is not None]
    assert len(val_losses) == 3
    assert val_losses[-1] < val_losses[0]

    assert (result.adapter_dir / "adapter_config.json").exists()
    assert (result.adapter_dir / "tokenizer_config.json").exists()
    with result.metrics_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["step"]) for row in rows] == list(range(1, 49))
    card = result.model_card.read_text(encoding="utf-8")
    assert str(tiny_model_dir) in card
    assert "| lora_rank | `8` |" in card
    assert "## Training curve" in card
    assert result.counts["kept"] == 16
    assert result.counts["val"]["kept"] == 4


def test_early_stopping_ends_run(tiny_model_dir, make_reports, tmp_path):
    # A learning rate of 0 never lowers the validation loss, so patience 2 stops after 3 evaluations.
    config = TrainConfig(
        base_model=str(tiny_model_dir), output_dir=str(tmp_path / "run"), max_steps=20,
        per_device_batch_size=4, learning_rate=1e-12, lora_dropout=0.0, eval_every=2,
        early_stopping_patience=2,
    )
    result = train_lora(config, make_reports(8), make_reports(4, prefix="v"))
    assert result.stopped_early
    assert result.global_step == 6


def test_packing_and_accumulation_train(tiny_model_dir, make_reports, tmp_path):
    config = TrainConfig(
        base_model=str(tiny_model_dir), output_dir=str(tmp_path / "run"), max_steps=4,
        per_device_batch_size=2, gradient_accumulation_steps=2, packing=True,
        max_seq_length=600, gradient_checkpointing=True, lora_dropout=0.0,
    )
    result = train_lora(config, make_reports(12))
    assert result.global_step == 4
    assert all(row["supervised_tokens"] > 0 for row in result.history)
    assert all(torch.isfinite(torch.tensor(row["train_loss"])) for row in result.history)
