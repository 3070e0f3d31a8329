"""The generation backend interface, its request and output records, and the backend registry.

A backend turns a list of :class:`GenerationRequest` into one
:class:`GenerationOutput` per request, in the same order. Backends register
under a name with :func:`register_backend` and are built by :func:`get_backend`,
in the style of lm-evaluation-harness model registries::

    @register_backend("echo")
    class EchoBackend(Backend):
        def generate(self, requests):
            ...

    backend = get_backend("echo", model="...")
"""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

logger = logging.getLogger(__name__)

FINISH_STOP = "stop"
FINISH_LENGTH = "length"
FINISH_ERROR = "error"


@dataclass(frozen=True)
class DecodingParams:
    """Decoding settings shared by every backend; all of them are part of the cache key.

    Fields:
        max_new_tokens: maximum number of generated tokens per output.
        do_sample: sample instead of greedy decoding.
        temperature: sampling temperature (ignored when greedy).
        top_p: nucleus sampling mass (ignored when greedy).
        seed: random seed for sampling; sampled outputs are cached per seed.
        repetition_penalty: transformers' repetition penalty (1.0 means none).
        no_repeat_ngram_size: forbid repeating any n-gram of this size (0 means off).
    """

    max_new_tokens: int = 256
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int = 0
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.do_sample and self.temperature <= 0:
            raise ValueError(f"temperature must be positive when sampling, got {self.temperature}")

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a plain dict (greedy runs drop the sampling-only fields)."""
        values = asdict(self)
        if not self.do_sample:
            values.pop("temperature")
            values.pop("top_p")
        return values


@dataclass
class GenerationRequest:
    """One prompt to complete.

    Fields:
        id: report id, carried to the output.
        prompt: chat messages (a list of role/content dicts) or plain text.
        chat: whether ``prompt`` is a list of chat messages.
        stop: strings at which the completion is cut (base-style prompts).
        findings: the report findings, used by the baselines that skip the model.
        language: report language (``"zh"`` or ``"en"``).
    """

    id: str
    prompt: list[dict[str, str]] | str
    chat: bool = True
    stop: tuple[str, ...] = ()
    findings: str = ""
    language: str = ""


@dataclass
class GenerationOutput:
    """The completion of one request and what it cost.

    Fields:
        id: id of the request.
        text: the completion, with template tokens removed and cut at a stop string.
        finish_reason: ``"stop"`` (EOS or stop string), ``"length"`` (max_new_tokens
            reached), ``"error"``, or the provider's own value for API models.
        prompt_tokens: number of prompt tokens (0 where the backend has no tokenizer).
        output_tokens: number of generated tokens, up to the stop.
        latency_s: wall-clock seconds of the call that produced this output; outputs
            generated as one batch share the batch's time.
        empty: the completion is empty after stripping.
        repetition: :func:`detect_repetition` found a degenerate loop.
        error: the error message when the request failed after all retries.
    """

    id: str
    text: str
    finish_reason: str
    prompt_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    empty: bool = False
    repetition: bool = False
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the output as a plain dict."""
        return asdict(self)


class Backend:
    """Base class of generation backends.

    Subclasses implement :meth:`generate` and set :attr:`model_id`,
    :attr:`model_revision` and :attr:`adapter_hash`, which go into each cache
    key. ``remote`` marks backends that send prompts off the machine.
    """

    remote: bool = False

    def __init__(self) -> None:
        self.model_id = ""
        self.model_revision = ""
        self.adapter_hash = ""

    def generate(self, requests: list[GenerationRequest]) -> list[GenerationOutput]:
        """Complete every request; return one output per request, in request order."""
        raise NotImplementedError

    def count_tokens(self, request: GenerationRequest) -> int:
        """Return the prompt length in tokens, or the character count where there is no tokenizer."""
        prompt = request.prompt if isinstance(request.prompt, str) else "".join(m["content"] for m in request.prompt)
        return len(prompt)


_BACKENDS: dict[str, Callable[..., Backend]] = {}
# Backends that register themselves on import; imported only when requested, so
# optional dependencies (vllm, openai) load only for the backend that needs them.
_BACKEND_MODULES = {
    "hf": "petf2i_core.generation.hf",
    "openai": "petf2i_core.generation.openai_backend",
    "vllm": "petf2i_core.generation.vllm_backend",
    "extractive": "petf2i_core.generation.baselines",
    "retrieval": "petf2i_core.generation.baselines",
}


def register_backend(name: str) -> Callable[[type[Backend]], type[Backend]]:
    """Register a Backend subclass under ``name``; raise ValueError on a duplicate name."""

    def decorator(cls: type[Backend]) -> type[Backend]:
        if name in _BACKENDS and _BACKENDS[name] is not cls:
            raise ValueError(f"backend {name!r} is already registered by {_BACKENDS[name].__qualname__}")
        _BACKENDS[name] = cls
        cls.backend_name = name
        return cls

    return decorator


def get_backend(name: str, **config: Any) -> Backend:
    """Build the backend registered as ``name`` with ``config`` as keyword arguments."""
    if name not in _BACKENDS and name in _BACKEND_MODULES:
        importlib.import_module(_BACKEND_MODULES[name])
    if name not in _BACKENDS:
        raise KeyError(f"unknown generation backend {name!r}; known backends: {sorted(set(_BACKENDS) | set(_BACKEND_MODULES))}")
    return _BACKENDS[name](**config)


def available_backends() -> list[str]:
    """Return the names of all known backends, registered or importable."""
    return sorted(set(_BACKENDS) | set(_BACKEND_MODULES))


_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"\w+|[^\w\s]")


def _repetition_units(text: str) -> list[str]:
    # Chinese repeats show up per character; English per word.
    if _CJK.search(text):
        return [char for char in text if not char.isspace()]
    return _WORD.findall(text.lower())


def detect_repetition(text: str, min_repeats: int = 3, min_span: int = 12, max_period: int = 40) -> bool:
    """Return True if ``text`` ends in a loop: one unit sequence repeated back to back.

    Units are characters for text with CJK characters and words otherwise. A loop
    is at least ``min_repeats`` consecutive copies of a sequence of 1 to
    ``max_period`` units, covering at least ``min_span`` units at the end of the
    text (generation that hits ``max_new_tokens`` inside a loop ends this way).
    """
    units = _repetition_units(text)
    for period in range(1, max_period + 1):
        tail = units[-period:]
        if len(tail) < period:
            break
        copies = 1
        while units[len(units) - (copies + 1) * period: len(units) - copies * period] == tail:
            copies += 1
        if copies >= min_repeats and copies * period >= min_span:
            return True
    return False


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """Cut ``text`` at the first stop string; return the text and whether one was found."""
    positions = [text.find(marker) for marker in stop if marker and marker in text]
    if not positions:
        return text, False
    return text[: min(positions)], True


def finish_output(
    request_id: str,
    text: str,
    finish_reason: str,
    prompt_tokens: int = 0,
    output_tokens: int = 0,
    latency_s: float = 0.0,
    error: str | None = None,
    **extra: Any,
) -> GenerationOutput:
    """Build a GenerationOutput with the empty and repetition flags computed from ``text``."""
    text = text.strip()
    return GenerationOutput(
        id=request_id,
        text=text,
        finish_reason=finish_reason,
        prompt_tokens=prompt_tokens,
        output_tokens=output_tokens,
        latency_s=latency_s,
        empty=not text,
        repetition=detect_repetition(text),
        error=error,
        extra=dict(extra),
    )
