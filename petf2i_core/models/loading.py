"""Resolve a model reference to a local folder and load it as a causal language model.

A reference is one of:

* a local folder with a ``config.json`` (a converted or fine-tuned model),
* a packaged name from :mod:`petf2i_core.models.packaged` (``"smollm2-135m-instruct"``),
* a Hugging Face hub id (``"Qwen/Qwen2.5-7B-Instruct"``), taken from the local hub
  cache when ``HF_HUB_OFFLINE=1`` and downloaded otherwise.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Any

from petf2i_core.models.packaged import PACKAGED_MODELS, is_prepared, packaged_model_dir

logger = logging.getLogger(__name__)

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
_WEIGHT_SUFFIXES = (".safetensors", ".bin")
_fingerprints: dict[tuple[str, float], str] = {}


class ModelNotAvailableError(FileNotFoundError):
    """A model reference that cannot be resolved to local files."""


def hub_offline() -> bool:
    """Return True if the Hugging Face hub is switched off by ``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE``."""
    return any(os.environ.get(name, "").lower() in {"1", "true", "yes", "on"} for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def resolve_model(ref: str | Path, revision: str | None = None) -> Path:
    """Return the local folder of a model given as a folder, a packaged name or a hub id.

    Raise :class:`ModelNotAvailableError` with the ways to provide the model when it
    cannot be found locally and the hub is offline (within seconds, no retries).
    """
    ref_text = str(ref)
    local = Path(ref_text).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise ModelNotAvailableError(f"{local} is a folder without config.json; point to a saved Hugging Face model folder")
        return local.resolve()

    if ref_text in PACKAGED_MODELS:
        if not is_prepared(ref_text):
            raise ModelNotAvailableError(
                f"packaged model {ref_text!r} is not converted yet (expected at {packaged_model_dir(ref_text)}); "
                "run `petf2i models prepare`"
            )
        return packaged_model_dir(ref_text)

    if _HUB_ID.match(ref_text):
        return _resolve_hub_id(ref_text, revision)

    raise ModelNotAvailableError(
        f"model {ref_text!r} is neither a local folder, a packaged name ({sorted(PACKAGED_MODELS)}) nor a hub id of the form owner/name"
    )


def _resolve_hub_id(repo_id: str, revision: str | None) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, revision=revision, local_files_only=True))
    except LocalEntryNotFoundError:
        if hub_offline():
            raise ModelNotAvailableError(
                f"model {repo_id!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE=1. "
                f"Provide it as a local folder (--model /path/to/folder), use a packaged model "
                f"({', '.join(sorted(PACKAGED_MODELS))}; run `petf2i models prepare`), or pre-download it on a "
                f"machine with hub access: `huggingface-cli download {repo_id}` and copy the cache"
            ) from None

    logger.info("downloading %s (revision %s) from the Hugging Face hub", repo_id, revision or "main")
    return Path(snapshot_download(repo_id, revision=revision))


def weights_fingerprint(model_dir: str | Path) -> str:
    """Return the first 16 hex digits of a SHA-256 over the config and weight files of a folder.

    The digest is cached per folder and modification time, so it is computed once
    per process even for large weights.
    """
    model_dir = Path(model_dir)
    files = sorted(path for path in model_dir.iterdir() if path.name == "config.json" or path.suffix in _WEIGHT_SUFFIXES)
    key = (str(model_dir.resolve()), max((path.stat().st_mtime for path in files), default=0.0))
    if key in _fingerprints:
        return _fingerprints[key]

    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode("utf-8"))
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    _fingerprints[key] = digest.hexdigest()[:16]
    return _fingerprints[key]


def _torch_dtype(dtype: Any) -> Any:
    import torch

    if dtype is None or dtype == "auto":
        return dtype
    if isinstance(dtype, torch.dtype):
        return dtype
    names = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
             "float16": torch.float16, "fp16": torch.float16}
    if dtype not in names:
        raise ValueError(f"unknown dtype {dtype!r}; use one of {sorted(names)} or 'auto'")
    return names[dtype]


def load_tokenizer(ref: str | Path, revision: str | None = None, trust_remote_code: bool = False) -> Any:
    """Load the tokenizer of a model reference, set up for generation (left padding, a pad token)."""
    from transformers import AutoTokenizer

    path = resolve_model(ref, revision)
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_causal_lm(
    ref: str | Path,
    dtype: Any = None,
    device: str = "cpu",
    revision: str | None = None,
    trust_remote_code: bool = False,
) -> tuple[Any, Any]:
    """Load a causal language model and its tokenizer in evaluation mode; return ``(model, tokenizer)``.

    ``dtype`` is a torch dtype, a name such as ``"bfloat16"``, ``"auto"``, or None
    for float32. The tokenizer pads on the left, as batched generation needs.
    ``trust_remote_code`` runs modelling code from the model folder (registry
    entries such as Baichuan2 need it), so enable it only for trusted models.
    """
    from transformers import AutoModelForCausalLM

    path = resolve_model(ref, revision)
    tokenizer = load_tokenizer(path, trust_remote_code=trust_remote_code)
    torch_dtype = _torch_dtype(dtype)

    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if torch_dtype is not None:
        kwargs["dtype"] = torch_dtype
    model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    model.to(device)
    model.eval()
    logger.info("loaded %s from %s on %s", ref, path, device)
    return model, tokenizer
