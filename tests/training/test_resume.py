"""A training process killed with SIGKILL and resumed ends with the same adapter as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from petf2i_core.data.records import write_jsonl

SCRIPT = """
import json, sys
from petf2i_core.data.records import load_reports
from petf2i_core.training.config import TrainConfig
from petf2i_core.training.trainer import train_lora

config = TrainConfig(**json.loads(sys.argv[1]))
result = train_lora(config, load_reports(sys.argv[2]), resume=sys.argv[3] == "resume")
print(json.dumps({"steps": result.global_step, "last_loss": result.history[-1]["train_loss"]}))
"""


def _run(script, config, data, mode, wait=True):
    command = [sys.executable, str(script), json.dumps(config), str(data), mode]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    if wait:
        completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert completed.returncode == 0, completed.stderr[-3000:]
        return json.loads(completed.stdout.strip().splitlines()[-1])
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_killed_run_resumes_to_same_adapter(tiny_model_dir, make_reports, tmp_path):
    script = tmp_path / "train_script.py"
    script.write_text(SCRIPT)
    data = tmp_path / "train.jsonl"
    write_jsonl(data, make_reports(20))
    base = {
        "base_model": str(tiny_model_dir), "max_steps": 60, "per_device_batch_size": 2,
        "gradient_accumulation_steps": 2, "lora_dropout": 0.1, "learning_rate": 5e-3,
        "checkpoint_every": 5, "keep_checkpoints": 3, "seed": 11,
    }

    reference = _run(script, {**base, "output_dir": str(tmp_path / "straight")}, data, "fresh")

    interrupted_dir = tmp_path / "interrupted"
    process = _run(script, {**base, "output_dir": str(interrupted_dir)}, data, "fresh", wait=False)
    checkpoints = interrupted_dir / "checkpoints"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if checkpoints.is_dir() and any(path.name.startswith("step-") for path in checkpoints.iterdir()):
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()

    assert process.returncode == -signal.SIGKILL
    assert not (interrupted_dir / "adapter").exists()
    killed_at = max(int(path.name.split("-")[1]) for path in checkpoints.iterdir() if path.name.startswith("step-"))
    assert killed_at < 60

    resumed = _run(script, {**base, "output_dir": str(interrupted_dir)}, data, "resume")
    assert resumed["steps"] == reference["steps"] == 60
    assert resumed["last_loss"] == pytest.approx(reference["last_loss"], rel=1e-5)

    expected = load_file(str(tmp_path / "straight" / "adapter" / "adapter_model.safetensors"))
    actual = load_file(str(interrupted_dir / "adapter" / "adapter_model.safetensors"))
    assert expected.keys() == actual.keys()
    for name in expected:
        assert torch.allclose(expected[name], actual[name], atol=1e-6), name
