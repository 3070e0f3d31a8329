"""Resumable checkpoints: adapter, optimizer, scheduler, RNG states and data position.

A checkpoint is written into a temporary folder and renamed when complete, so a
process killed while saving leaves no half-written checkpoint behind.

NOTE: the optimizer state is saved from the main process only. That is the whole
state on CPU, one GPU and DDP; under FSDP or DeepSpeed ZeRO it is one shard, so
resuming those runs is not exact.
"""

from __future__ import annotations

import json
import logging
import random
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

logger = logging.getLogger(__name__)

_STEP_DIR = re.compile(r"^step-(\d+)$")
STATE_FILE = "trainer_state.json"


@dataclass
class TrainerState:
    """Progress of a run, saved with every checkpoint.

    Fields:
        global_step: optimizer steps done.
        epoch: epoch in progress (0-based).
        step_in_epoch: optimizer steps done within ``epoch``; resuming skips their micro-batches.
        sampler_seed: seed of the batch order (the order of epoch e is fixed by seed and e).
        best_val_loss: lowest validation loss so far, or None.
        evals_without_improvement: evaluations since ``best_val_loss`` last dropped.
        history: metric rows logged so far.
    """

    global_step: int = 0
    epoch: int = 0
    step_in_epoch: int = 0
    sampler_seed: int = 0
    best_val_loss: float | None = None
    evals_without_improvement: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


def capture_rng_state() -> dict[str, Any]:
    """Return the Python, NumPy, torch CPU and (when present) CUDA RNG states."""
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Restore RNG states captured by :func:`capture_rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    checkpoints_dir: Path,
    accelerator: Any,
    model: Any,
    optimizer: Any,
    scheduler: Any,
    state: TrainerState,
    keep: int,
) -> Path:
    """Write ``checkpoints_dir/step-NNNNNN`` atomically and delete all but the newest ``keep``."""
    target = checkpoints_dir / f"step-{state.global_step:06d}"
    partial = checkpoints_dir / f".partial-step-{state.global_step:06d}"
    accelerator.wait_for_everyone()

    if accelerator.is_main_process:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        accelerator.unwrap_model(model).save_pretrained(partial / "adapter")
        torch.save(optimizer.state_dict(), partial / "optimizer.pt")
        torch.save(scheduler.state_dict(), partial / "scheduler.pt")
        (partial / STATE_FILE).write_text(json.dumps(asdict(state), indent=1), encoding="utf-8")
    accelerator.wait_for_everyone()

    torch.save(capture_rng_state(), partial / f"rng-{accelerator.process_index}.pt")
    accelerator.wait_for_everyone()

    if accelerator.is_main_process:
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        for old in list_checkpoints(checkpoints_dir)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
        logger.info("saved checkpoint %s", target)
    accelerator.wait_for_everyone()
    return target


def list_checkpoints(checkpoints_dir: Path) -> list[Path]:
    """Return the complete checkpoints under ``checkpoints_dir``, oldest first."""
    if not checkpoints_dir.is_dir():
        return []
    found = [(int(match.group(1)), path) for path in checkpoints_dir.iterdir()
             if path.is_dir() and (match := _STEP_DIR.match(path.name))]
    return [path for _, path in sorted(found)]


def load_checkpoint(checkpoint: Path, accelerator: Any, model: Any, optimizer: Any, scheduler: Any) -> TrainerState:
    """Load adapter weights, optimizer, scheduler and this process's RNG state; return the trainer state."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    adapter_weights = load_file(str(checkpoint / "adapter" / "adapter_model.safetensors"))
    set_peft_model_state_dict(accelerator.unwrap_model(model), adapter_weights)
    optimizer.load_state_dict(torch.load(checkpoint / "optimizer.pt", weights_only=False))
    scheduler.load_state_dict(torch.load(checkpoint / "scheduler.pt", weights_only=False))

    rng_file = checkpoint / f"rng-{accelerator.process_index}.pt"
    if not rng_file.exists():
        raise FileNotFoundError(
            f"{rng_file} not found; resume with the same number of processes that wrote {checkpoint}"
        )
    restore_rng_state(torch.load(rng_file, weights_only=False))

    state = TrainerState(**json.loads((checkpoint / STATE_FILE).read_text(encoding="utf-8")))
    logger.info("resumed from %s at step %d (epoch %d)", checkpoint, state.global_step, state.epoch)
    return state
