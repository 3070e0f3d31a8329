"""Merging a LoRA adapter into its base model, with a logit check, and loading either for inference."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any, Sequence

import torch

logger = logging.getLogger(__name__)

DEFAULT_PROBE_TEXTS = (
    "所见：右肺上叶见一结节，大小约1.2×0.9cm，SUVmax 5.2。",
    "Findings: multiple enlarged mediastinal lymph nodes with increased FDG uptake.",
)


class MergeCheckError(RuntimeError):
    """The merged model's logits differ from the adapter model's by more than the tolerance."""


def load_for_inference(
    base_ref: str | Path,
    adapter_dir: str | Path | None = None,
    merged_dir: str | Path | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[Any, Any]:
    """Load a model for evaluation: the base with an adapter, merged weights, or the base alone.

    Give at most one of ``adapter_dir`` and ``merged_dir``. The tokenizer comes from
    the adapter or merged folder when it contains one (training saves it there), else
    from the base model. The model is returned in eval mode.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from petf2i_core.training.lora import resolve_model_dir

    if adapter_dir is not None and merged_dir is not None:
        raise ValueError("give adapter_dir or merged_dir, not both")

    if merged_dir is not None:
        merged_dir = Path(merged_dir)
        model = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=dtype)
        tokenizer = AutoTokenizer.from_pretrained(merged_dir)
    else:
        base_dir = resolve_model_dir(base_ref)
        model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=dtype)
        tokenizer_dir = base_dir
        if adapter_dir is not None:
            from peft import PeftModel

            adapter_dir = Path(adapter_dir)
            if not (adapter_dir / "adapter_config.json").exists():
                raise FileNotFoundError(f"{adapter_dir}/adapter_config.json not found; pass the adapter folder of a training run")
            model = PeftModel.from_pretrained(model, adapter_dir)
            if (adapter_dir / "tokenizer_config.json").exists():
                tokenizer_dir = adapter_dir
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)

    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    return model, tokenizer


def merge_and_export(
    base_ref: str | Path,
    adapter_dir: str | Path,
    out_dir: str | Path,
    probe_texts: Sequence[str] = DEFAULT_PROBE_TEXTS,
    atol: float = 1e-4,
) -> dict[str, Any]:
    """Merge an adapter into its base in fp32, export to the fresh folder ``out_dir`` and check logits.

    The merged folder is written beside ``out_dir``, reloaded from disk and its
    logits on ``probe_texts`` compared with the unmerged adapter model. Only when
    the max absolute difference is at most ``atol`` is it renamed to ``out_dir``.
    Otherwise MergeCheckError is raised and nothing is published. Return a dict
    with ``out_dir`` and ``max_abs_diff``.
    """
    from transformers import AutoModelForCausalLM

    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty; merge into a fresh folder")
    staging = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)

    adapter_model, tokenizer = load_for_inference(base_ref, adapter_dir=adapter_dir)
    inputs = tokenizer(list(probe_texts), return_tensors="pt", padding=True)
    with torch.no_grad():
        expected = adapter_model(**inputs).logits

    merged = adapter_model.merge_and_unload()
    merged.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    if (staging / "adapter_config.json").exists():
        raise MergeCheckError(f"{staging} still contains adapter_config.json; the adapter was not merged")

    reloaded = AutoModelForCausalLM.from_pretrained(staging, dtype=torch.float32).eval()
    with torch.no_grad():
        actual = reloaded(**inputs).logits
    mask = inputs["attention_mask"].bool()
    max_abs_diff = float((actual - expected).abs()[mask].max())

    if max_abs_diff > atol:
        shutil.rmtree(staging, ignore_errors=True)
        raise MergeCheckError(
            f"merged model logits differ from the adapter model by {max_abs_diff:.3g} (tolerance {atol:.1g}); "
            f"nothing was written to {out_dir}. Check that the base model of {adapter_dir} is {base_ref}"
        )
    if out_dir.exists():
        out_dir.rmdir()
    staging.rename(out_dir)
    logger.info("merged %s into %s (max abs logit diff %.2e)", adapter_dir, out_dir, max_abs_diff)
    return {"out_dir": out_dir, "max_abs_diff": max_abs_diff}
