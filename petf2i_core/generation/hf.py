"""Local generation with transformers: length-sorted, left-padded batches on CPU or GPU."""

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


def eos_token_ids(tokenizer: Any, model: Any) -> list[int]:
    """Return every EOS id the tokenizer and the model's generation config declare, in a stable order."""
    candidates: list[Any] = [tokenizer.eos_token_id]
    generation_config = getattr(model, "generation_config", None)
    if generation_config is not None:
        candidates.append(generation_config.eos_token_id)
    candidates.append(getattr(model.config, "eos_token_id", None))

    ids: list[int] = []
    for candidate in candidates:
        values = candidate if isinstance(candidate, (list, tuple)) else [candidate]
        for value in values:
            if value is not None and int(value) not in ids:
                ids.append(int(value))
    if not ids:
        raise ValueError(f"model {getattr(model, 'name_or_path', '?')} declares no EOS token; generation could not stop")
    return ids


def adapter_fingerprint(adapter_dir: str | Path) -> str:
    """Return the first 16 hex digits of a SHA-256 over a LoRA adapter's config and weights."""
    from petf2i_core.models.loading import weights_fingerprint

    adapter_dir = Path(adapter_dir)
    if not (adapter_dir / "adapter_config.json").is_file():
        raise FileNotFoundError(f"{adapter_dir} has no adapter_config.json; pass the folder a peft adapter was saved to")
    return weights_fingerprint(adapter_dir)


@register_backend("hf")
class HFBackend(Backend):
    """Generation with a transformers causal LM, optionally with an unmerged LoRA adapter.

    Requests are encoded with :func:`encode_prompt` (chat template applied once),
    sorted by prompt length, cut into batches of ``batch_size`` and left-padded
    with an attention mask, so a prompt's greedy output does not depend on the
    batch it lands in. Generation stops at every EOS id the model declares and at
    the request's stop strings.

    ``model_object`` and ``tokenizer_object`` pass an already loaded model (``model``
    then only names it in records). ``trust_remote_code`` is forwarded to
    :func:`petf2i_core.models.loading.load_causal_lm`.
    """

    def __init__(
        self,
        model: str | Path,
        adapter: str | Path | None = None,
        decoding: DecodingParams | None = None,
        batch_size: int = 8,
        dtype: Any = None,
        device: str = "cpu",
        revision: str | None = None,
        model_object: Any = None,
        tokenizer_object: Any = None,
        trust_remote_code: bool = False,
    ) -> None:
        from petf2i_core.models.loading import load_causal_lm, resolve_model, weights_fingerprint

        super().__init__()
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.decoding = decoding or DecodingParams()
        self.batch_size = batch_size
        self.device = device

        if model_object is not None:
            self.model, self.tokenizer = model_object, tokenizer_object
            self.tokenizer.padding_side = "left"
            self.model_id, self.model_revision = str(model), revision or "in-memory"
        else:
            path = resolve_model(model, revision)
            self.model, self.tokenizer = load_causal_lm(path, dtype=dtype, device=device,
                                                        trust_remote_code=trust_remote_code)
            self.model_id, self.model_revision = str(model), revision or weights_fingerprint(path)

        if adapter is not None:
            self._attach_adapter(adapter)
        self.eos_ids = eos_token_ids(self.tokenizer, self.model)
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.eos_ids[0]

    def _attach_adapter(self, adapter: str | Path) -> None:
        from peft import PeftModel

        self.adapter_hash = adapter_fingerprint(adapter)
        self.model = PeftModel.from_pretrained(self.model, str(adapter))
        self.model.eval()
        logger.info("attached LoRA adapter %s (hash %s) unmerged", adapter, self.adapter_hash)

    def count_tokens(self, request: GenerationRequest) -> int:
        """Return the prompt length in tokens after the chat template."""
        return len(encode_prompt(self.tokenizer, request.prompt, request.chat))

    def generate(self, requests: list[GenerationRequest]) -> list[GenerationOutput]:
        """Generate for all requests in length-sorted batches; return outputs in request order."""
        encoded = [encode_prompt(self.tokenizer, request.prompt, request.chat) for request in requests]
        order = sorted(range(len(requests)), key=lambda index: (-len(encoded[index]), index))

        outputs: list[GenerationOutput | None] = [None] * len(requests)
        for start in range(0, len(order), self.batch_size):
            batch = order[start: start + self.batch_size]
            batch_outputs = self._generate_batch([requests[index] for index in batch], [encoded[index] for index in batch])
            for index, output in zip(batch, batch_outputs):
                outputs[index] = output
        return outputs  # type: ignore[return-value]

    def _generate_batch(self, requests: list[GenerationRequest], encoded: list[list[int]]) -> list[GenerationOutput]:
        import torch

        input_ids, attention_mask = self._left_pad(encoded)
        kwargs = self._generate_kwargs(requests)
        if self.decoding.do_sample:
            # NOTE: sampled outputs depend on the batch composition as well as the seed.
            torch.manual_seed(self.decoding.seed)

        started = time.perf_counter()
        with torch.inference_mode():
            generated = self.model.generate(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        latency = time.perf_counter() - started

        new_tokens = generated[:, input_ids.shape[1]:].tolist()
        return [
            self._decode(request, tokens, len(prompt), latency)
            for request, tokens, prompt in zip(requests, new_tokens, encoded)
        ]

    def _left_pad(self, encoded: list[list[int]]) -> tuple[Any, Any]:
        import torch

        width = max(len(ids) for ids in encoded)
        input_ids = torch.full((len(encoded), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(encoded), width), dtype=torch.long)
        for row, ids in enumerate(encoded):
            input_ids[row, width - len(ids):] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, width - len(ids):] = 1
        return input_ids.to(self.device), attention_mask.to(self.device)

    def _generate_kwargs(self, requests: list[GenerationRequest]) -> dict[str, Any]:
        decoding = self.decoding
        kwargs: dict[str, Any] = {
            "max_new_tokens": decoding.max_new_tokens,
            "do_sample": decoding.do_sample,
            "eos_token_id": self.eos_ids,
            "pad_token_id": self.pad_id,
            "repetition_penalty": decoding.repetition_penalty,
            "no_repeat_ngram_size": decoding.no_repeat_ngram_size,
        }
        if decoding.do_sample:
            kwargs.update(temperature=decoding.temperature, top_p=decoding.top_p, top_k=0)
        else:
            # Override sampling defaults that some generation configs ship, so greedy stays greedy.
            kwargs.update(temperature=None, top_p=None, top_k=None)

        stop = sorted({marker for request in requests for marker in request.stop if marker})
        if stop:
            kwargs.update(stop_strings=stop, tokenizer=self.tokenizer)
        return kwargs

    def _decode(self, request: GenerationRequest, tokens: list[int], prompt_tokens: int, latency: float) -> GenerationOutput:
        cut = next((position for position, token in enumerate(tokens) if token in self.eos_ids), None)
        hit_eos = cut is not None
        tokens = tokens[:cut] if hit_eos else [token for token in tokens if token != self.pad_id]

        # skip_special_tokens drops template markers such as <|im_end|> or <end_of_turn>.
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        text, hit_stop = cut_at_stop(text, request.stop)
        finish_reason = FINISH_STOP if hit_eos or hit_stop else FINISH_LENGTH
        return finish_output(request.id, text, finish_reason, prompt_tokens, len(tokens), latency)
