"""End-to-end tests of `petf2i train` under accelerate launch and on the packaged SmolLM2 model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from petf2i_core.data.records import write_jsonl

REPO_ROOT = Path(__file__).resolve().parents[2]
SMOLLM2_DIR = REPO_ROOT / "models" / "smollm2-135m-instruct"


@pytest.mark.slow
def test_accelerate_launch_cpu_config(tiny_model_dir, make_reports, tmp_path):
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", make_reports(8))
    write_jsonl(data / "val.jsonl", make_reports(2, prefix="v"))
    command = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--config_file", str(REPO_ROOT / "configs" / "accelerate" / "cpu.yaml"),
        "-m", "petf2i_core.cli.main", "train", str(REPO_ROOT / "configs" / "train" / "cpu-default.yaml"),
        "--data", str(data), "--output-dir", str(tmp_path / "run"),
        "--set", f"base_model={tiny_model_dir}", "--set", "max_steps=3", "--set", "lora_rank=4",
    ]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "steps: 3" in completed.stdout
    adapter_config = json.loads((tmp_path / "run" / "adapter" / "adapter_config.json").read_text())
    assert adapter_config["r"] == 4
    assert (tmp_path / "run" / "README.md").exists()


@pytest.mark.slow
def test_lora_steps_on_packaged_smollm2(make_reports, tmp_path):
    if not (SMOLLM2_DIR / "config.json").exists():
        pytest.skip("run `petf2i models prepare`")
    from petf2i_core.training.config import TrainConfig
    from petf2i_core.training.trainer import train_lora

    config = TrainConfig.from_yaml(
        REPO_ROOT / "configs" / "train" / "cpu-default.yaml",
        overrides={"base_model": str(SMOLLM2_DIR), "output_dir": str(tmp_path / "run"), "max_steps": 3,
                   "per_device_batch_size": 2, "max_seq_length": 192, "checkpoint_every": 0, "eval_every": 0},
    )
    result = train_lora(config, make_reports(6))

    assert result.global_step == 3
    assert all(row["train_loss"] > 0 for row in result.history)
    adapter_config = json.loads((result.adapter_dir / "adapter_config.json").read_text())
    assert set(adapter_config["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
