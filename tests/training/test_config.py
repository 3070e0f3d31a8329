"""Tests for the training recipe: YAML loading, overrides and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from petf2i_core.training.config import TrainConfig, parse_override, resolve_precision

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "train"


def test_shipped_recipes_load():
    seven_b = TrainConfig.from_yaml(CONFIGS / "pet-f2i-7b.yaml")
    cpu = TrainConfig.from_yaml(CONFIGS / "cpu-default.yaml")
    assert seven_b.base_model == "Qwen/Qwen2.5-7B-Instruct"
    assert seven_b.target_modules == "all-linear"
    assert seven_b.precision == "bf16"
    assert cpu.base_model == "smollm2-135m-instruct"
    assert cpu.precision == "auto"


def test_overrides_replace_ablation_fields():
    config = TrainConfig.from_yaml(
        CONFIGS / "cpu-default.yaml",
        overrides={"lora_rank": 32, "lora_alpha": 64, "target_modules": ["q_proj", "v_proj"],
                   "train_fraction": 0.25, "epochs": 2, "prompt_language": "en"},
    )
    assert config.lora_rank == 32
    assert config.lora_alpha == 64
    assert config.target_modules == ["q_proj", "v_proj"]
    assert config.train_fraction == 0.25
    assert config.epochs == 2
    assert config.prompt_language == "en"
    assert config.with_overrides({"lora_rank": 4}).lora_rank == 4


def test_unknown_key_names_key_and_fix(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("lora_rnak: 8\n")
    with pytest.raises(ValueError, match=r"bad.yaml: unknown training option\(s\) \['lora_rnak'\]") as error:
        TrainConfig.from_yaml(path)
    assert "lora_rank" in str(error.value)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("lora_rank", 0, "invalid lora_rank=0; set it to an integer > 0"),
        ("lora_rank", -4, "invalid lora_rank=-4"),
        ("lora_dropout", 1.0, "invalid lora_dropout=1.0"),
        ("precision", "fp8", "invalid precision='fp8'"),
        ("truncation", "left", "invalid truncation='left'"),
        ("target_modules", "all", "invalid target_modules='all'"),
        ("train_fraction", 0, "invalid train_fraction=0"),
        ("trackers", ["comet"], "invalid trackers"),
    ],
)
def test_invalid_values_name_field(key, value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        TrainConfig.from_dict({key: value})


def test_wrong_type_is_value_error():
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig.from_dict({"learning_rate": "fast"})


def test_parse_override_reads_yaml_values():
    assert parse_override("lora_rank=16") == ("lora_rank", 16)
    assert parse_override("target_modules=[q_proj, v_proj]") == ("target_modules", ["q_proj", "v_proj"])
    assert parse_override("max_steps=null") == ("max_steps", None)
    with pytest.raises(ValueError, match="key=value"):
        parse_override("lora_rank")


def test_auto_precision_on_cpu_is_fp32():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present; auto resolves to bf16 or fp32 by GPU support")
    assert resolve_precision("auto") == "fp32"
    assert resolve_precision("bf16") == "fp32"
