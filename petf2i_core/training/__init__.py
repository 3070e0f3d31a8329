"""LoRA fine-tuning with peft and accelerate: recipe, examples, loop, checkpoints, merge.

The names below are imported lazily, so ``import petf2i_core.training`` does not load torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainConfig": "petf2i_core.training.config",
    "train_lora": "petf2i_core.training.trainer",
    "TrainResult": "petf2i_core.training.trainer",
    "load_for_inference": "petf2i_core.training.merge",
    "merge_and_export": "petf2i_core.training.merge",
    "write_model_card": "petf2i_core.training.model_card",
    "estimate_lora_memory": "petf2i_core.training.memory",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'petf2i_core.training' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
