"""Tests for merging an adapter into its base model and loading models for inference."""

from __future__ import annotations

import pytest
import torch

from petf2i_core.training.config import TrainConfig
from petf2i_core.training.merge import MergeCheckError, load_for_inference, merge_and_export
from petf2i_core.training.trainer import train_lora


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir, tmp_path_factory):
    from petf2i_core.data.records import Report

    reports = [
        Report(id=str(i), findings=f"右肺上叶结节{i}。", impression="考虑炎性病变。", language="zh")
        for i in range(8)
    ]
    config = TrainConfig(
        base_model=str(tiny_model_dir), output_dir=str(tmp_path_factory.mktemp("merge_run")),
        max_steps=6, per_device_batch_size=4, learning_rate=5e-2, lora_dropout=0.0,
    )
    return train_lora(config, reports).adapter_dir


def test_merged_export_matches_adapter_logits(tiny_model_dir, adapter_dir, tmp_path):
    out = tmp_path / "merged"
    result = merge_and_export(tiny_model_dir, adapter_dir, out)

    assert result["max_abs_diff"] <= 1e-4
    assert (out / "config.json").exists()
    assert not (out / "adapter_config.json").exists()
    assert not out.with_name("merged.partial").exists()

    adapter_model, tokenizer = load_for_inference(tiny_model_dir, adapter_dir=adapter_dir)
    merged_model, _ = load_for_inference(tiny_model_dir, merged_dir=out)
    base_model, _ = load_for_inference(tiny_model_dir)
    inputs = tokenizer(["所见：纵隔淋巴结肿大，SUVmax 8.7。"], return_tensors="pt")
    with torch.no_grad():
        adapter_logits = adapter_model(**inputs).logits
        merged_logits = merged_model(**inputs).logits
        base_logits = base_model(**inputs).logits
    assert (adapter_logits - merged_logits).abs().max() < 1e-4
    # The adapter must have changed the model, or the comparison above proves nothing.
    assert (adapter_logits - base_logits).abs().max() > 1e-3


def test_merge_check_fails_loudly(tiny_model_dir, adapter_dir, tmp_path, monkeypatch):
    from peft.tuners.lora import LoraModel

    # A merge that silently drops the adapter must be caught by the logit comparison.
    monkeypatch.setattr(LoraModel, "merge_and_unload", lambda self, **kwargs: self.unload(), raising=False)
    with pytest.raises(MergeCheckError, match="differ"):
        merge_and_export(tiny_model_dir, adapter_dir, tmp_path / "merged", atol=1e-4)
    assert not (tmp_path / "merged").exists()
    assert not (tmp_path / "merged.partial").exists()


def test_merge_rejects_non_empty_folder(tiny_model_dir, adapter_dir, tmp_path):
    out = tmp_path / "merged"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="fresh folder"):
        merge_and_export(tiny_model_dir, adapter_dir, out)


def test_load_for_inference_rejects_both_sources(tiny_model_dir, adapter_dir, tmp_path):
    with pytest.raises(ValueError, match="not both"):
        load_for_inference(tiny_model_dir, adapter_dir=adapter_dir, merged_dir=tmp_path)


def test_merge_command_reads_base_from_adapter(adapter_dir, tmp_path, capsys):
    from petf2i_core.cli.main import main

    out = tmp_path / "merged_cli"
    assert main(["merge", str(adapter_dir), str(out)]) == 0
    assert "max abs logit diff" in capsys.readouterr().out
    assert (out / "config.json").exists()
    assert not (out / "adapter_config.json").exists()


def test_model_card_lists_evaluation(adapter_dir, tmp_path):
    from petf2i_core.training.model_card import render_model_card

    config = TrainConfig(base_model="some/base", output_dir=str(tmp_path))
    history = [{"step": 1, "epoch": 0.5, "train_loss": 2.5, "val_loss": 2.25, "learning_rate": 1e-4}]
    card = render_model_card(config, {"reports": 3, "kept": 2, "truncated": 1}, history, "fp32", {"bleu4": 0.4321})

    assert "base_model: some/base" in card
    assert "| train | 3 | 2 | 1 | 0 | 0 |" in card
    assert "| 1 | 0.5 | 2.5000 | 2.2500 | 1.00e-04 |" in card
    assert "| bleu4 | 0.4321 |" in card
