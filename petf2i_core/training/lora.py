"""Loading the base model and tokenizer, and wrapping the model with LoRA adapters."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

TORCH_DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def resolve_model_dir(ref: str | Path) -> Path:
    """Return the local folder of a model reference (folder, packaged name or hub id)."""
    from petf2i_core.models.loading import resolve_model

    return resolve_model(ref)


def load_base_model(ref: str | Path, precision: str = "fp32") -> tuple[Any, Any]:
    """Load a causal LM and its tokenizer from a reference; weights in ``precision``.

    The tokenizer gets a pad token (its EOS) when it has none, because batches are padded.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir = resolve_model_dir(ref)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype = getattr(torch, TORCH_DTYPES[precision])
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
    return model, tokenizer


def resolve_target_modules(model: Any, target_modules: str | list[str]) -> list[str]:
    """Return the LoRA target module names; ``"all-linear"`` becomes every linear layer but the output head.

    peft's own default for Qwen2 is only ``q_proj`` and ``v_proj``, so the full set
    is listed explicitly: for Qwen2 and Llama it is q, k, v, o, gate, up and down.
    """
    import torch

    if target_modules != "all-linear":
        return list(target_modules)

    output_head = model.get_output_embeddings()
    names = set()
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and module is not output_head:
            names.add(name.rsplit(".", 1)[-1])
    if not names:
        raise ValueError(f"no linear layers found in {type(model).__name__}; list target_modules explicitly")
    return sorted(names)


def apply_lora(model: Any, rank: int, alpha: float, dropout: float, target_modules: str | list[str]) -> Any:
    """Wrap ``model`` in a peft LoRA model with trainable adapters on ``target_modules``."""
    from peft import LoraConfig, TaskType, get_peft_model

    targets = resolve_target_modules(model, target_modules)
    lora_config = LoraConfig(
        r=rank,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=targets,
        task_type=TaskType.CAUSAL_LM,
    )
    peft_model = get_peft_model(model, lora_config)
    trainable, total = peft_model.get_nb_trainable_parameters()
    logger.info("LoRA on %s: %d trainable of %d parameters (%.3f%%)", targets, trainable, total, 100 * trainable / total)
    return peft_model
