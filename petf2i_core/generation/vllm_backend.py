"""Offline batch generation with vLLM on GPUs, LoRA adapters served unmerged.

vLLM is an optional dependency (``pip install petf2i[vllm]``) and is imported only
when this backend is built.

NOTE: this backend has not been run in this project's CI, which has no GPU. Its
calls follow the vLLM 0.8 offline API (``LLM.generate`` with ``SamplingParams``
and ``LoRARequest``); check it on a GPU machine before a study relies on it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from petf2i_core.generation.base import (
    FINISH_LENGTH,
    FINISH_STOP,
    Backend,
    DecodingParams,
    GenerationOutput,
    GenerationRequest,
    cut_at_stop,
    finish_output,
    register_backend,
)
from petf2i_core.generation.prompts import encode_prompt

logger = logging.getLogger(__name__)


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as error:
        raise ImportError(
            "the vllm backend needs the optional vllm package on a machine with a supported GPU: "
            "`pip install 'petf2i[vllm]'`; on CPU use the hf backend"
        ) from error
    return vllm


@register_backend("vllm")
class VLLMBackend(Backend):
    """Generation with vLLM; one engine per backend, the LoRA adapter attached per request.

    Args:
        model: a model reference accepted by :func:`petf2i_core.models.loading.resolve_model`.
        adapter: folder of a peft LoRA adapter, served unmerged through ``LoRARequest``.
        decoding: decoding settings.
        max_lora_rank: maximum LoRA rank the engine reserves memory for.
        engine_options: extra keyword arguments for ``vllm.LLM`` (tensor_parallel_size, gpu_memory_utilization).
    """

    def __init__(
        self,
        model: str | Path,
        adapter: str | Path | None = None,
        decoding: DecodingParams | None = None,
        max_lora_rank: int = 64,
        revision: str | None = None,
        engine_options: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        from petf2i_core.generation.hf import adapter_fingerprint
        from petf2i_core.models.loading import load_tokenizer, resolve_model, weights_fingerprint

        super().__init__()
        vllm = _import_vllm()
        path = resolve_model(model, revision)
        self.model_id, self.model_revision = str(model), revision or weights_fingerprint(path)
        self.decoding = decoding or DecodingParams()
        self.tokenizer = load_tokenizer(path)

        options = dict(engine_options or {})
        if adapter is not None:
            options.update(enable_lora=True, max_lora_rank=max_lora_rank)
        self.engine = vllm.LLM(model=str(path), seed=self.decoding.seed, **options)

        self.lora_request = None
        if adapter is not None:
            from vllm.lora.request import LoRARequest

            self.adapter_hash = adapter_fingerprint(adapter)
            self.lora_request = LoRARequest("petf2i-adapter", 1, str(adapter))

    def count_tokens(self, request: GenerationRequest) -> int:
        """Return the prompt length in tokens after the chat template."""
        return len(encode_prompt(self.tokenizer, request.prompt, request.chat))

    def generate(self, requests: list[GenerationRequest]) -> list[GenerationOutput]:
        """Generate all requests in one vLLM call; return outputs in request order."""
        vllm = _import_vllm()
        decoding = self.decoding
        stop = sorted({marker for request in requests for marker in request.stop if marker})
        sampling = vllm.SamplingParams(
            max_tokens=decoding.max_new_tokens,
            temperature=decoding.temperature if decoding.do_sample else 0.0,
            top_p=decoding.top_p if decoding.do_sample else 1.0,
            seed=decoding.seed,
            repetition_penalty=decoding.repetition_penalty,
            stop=stop or None,
        )
        # Token ids, not text, so the chat template is applied exactly once (by encode_prompt).
        prompts = [{"prompt_token_ids": encode_prompt(self.tokenizer, r.prompt, r.chat)} for r in requests]

        started = time.perf_counter()
        results = self.engine.generate(prompts, sampling, lora_request=self.lora_request, use_tqdm=True)
        latency = time.perf_counter() - started

        outputs = []
        for request, prompt, result in zip(requests, prompts, results):
            completion = result.outputs[0]
            text, _ = cut_at_stop(completion.text, request.stop)
            finish_reason = FINISH_LENGTH if completion.finish_reason == "length" else FINISH_STOP
            outputs.append(finish_output(request.id, text, finish_reason, len(prompt["prompt_token_ids"]),
                                         len(completion.token_ids), latency))
        return outputs
