"""The transformers backend: left-padded batches equal single prompts, EOS handling, stop strings, flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from petf2i_core.generation.base import DecodingParams, GenerationRequest, detect_repetition, get_backend
from petf2i_core.generation.prompts import build_messages, build_prompt_text

ZH_LONG = "右肺上叶见一结节，大小约1.2×0.9cm，放射性摄取增高，SUVmax 5.2。纵隔见多发淋巴结，部分肿大，代谢增高，SUVmax：8.7。"
ZH_SHORT = "肝脏未见异常。"


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from petf2i_core.models.tiny import build_tiny_qwen2

    path = tmp_path_factory.getbasetemp() / "petf2i-generation-tiny"
    if not (path / "config.json").is_file():
        build_tiny_qwen2(path)
    return path


@pytest.fixture(scope="module")
def backend(tiny_dir: Path):
    return get_backend("hf", model=str(tiny_dir), decoding=DecodingParams(max_new_tokens=12), batch_size=4)


def _request(request_id: str, findings: str) -> GenerationRequest:
    return GenerationRequest(request_id, build_messages("zero-shot", findings, "zh"), chat=True, language="zh")


def test_left_padded_batch_equals_single(backend):
    requests = [_request("long", ZH_LONG), _request("short", ZH_SHORT)]
    assert backend.count_tokens(requests[0]) > backend.count_tokens(requests[1]) + 10

    batched = backend.generate(requests)
    alone = [backend.generate([request])[0] for request in requests]

    assert [o.id for o in batched] == ["long", "short"]
    assert batched[0].text == alone[0].text
    assert batched[1].text == alone[1].text
    assert batched[1].output_tokens == alone[1].output_tokens


def test_outputs_keep_request_order(backend):
    requests = [_request("a", ZH_SHORT), _request("b", ZH_LONG), _request("c", ZH_SHORT + ZH_SHORT)]

    outputs = backend.generate(requests)

    assert [o.id for o in outputs] == ["a", "b", "c"]


def test_length_finish_and_counts(backend):
    output = backend.generate([_request("a", ZH_SHORT)])[0]

    assert output.finish_reason in {"length", "stop"}
    if output.finish_reason == "length":
        assert output.output_tokens == 12
    assert output.prompt_tokens == backend.count_tokens(_request("a", ZH_SHORT))
    assert output.latency_s > 0


def test_stops_on_generation_config_eos(tiny_dir: Path):
    """Every EOS id of the generation config stops generation, not only the tokenizer's."""
    import torch

    from petf2i_core.generation.prompts import encode_prompt

    probe = get_backend("hf", model=str(tiny_dir), decoding=DecodingParams(max_new_tokens=6))
    request = _request("a", ZH_SHORT)
    prompt = torch.tensor([encode_prompt(probe.tokenizer, request.prompt, chat=True)])
    first = int(probe.model.generate(prompt, max_new_tokens=1, do_sample=False)[0, -1])

    probe.model.generation_config.eos_token_id = [probe.tokenizer.eos_token_id, first]
    stopping = get_backend("hf", model=str(tiny_dir), model_object=probe.model, tokenizer_object=probe.tokenizer,
                           decoding=DecodingParams(max_new_tokens=6))
    output = stopping.generate([request])[0]

    assert first in stopping.eos_ids
    assert output.finish_reason == "stop"
    assert output.output_tokens == 0
    assert output.empty


def test_template_tokens_stripped(backend):
    outputs = backend.generate([_request("a", ZH_LONG), _request("b", ZH_SHORT)])

    for output in outputs:
        assert "<|im_end|>" not in output.text
        assert "<|im_start|>" not in output.text
        assert "<|endoftext|>" not in output.text


def test_stop_string_cuts_base_output(backend):
    text = build_prompt_text("base-zero-shot", ZH_SHORT, "zh")
    free = backend.generate([GenerationRequest("a", text, chat=False)])[0]
    assert len(free.text) >= 3
    marker = free.text[1:3]

    cut = backend.generate([GenerationRequest("a", text, chat=False, stop=(marker,))])[0]

    assert cut.text == free.text[: free.text.find(marker)].strip()
    assert cut.finish_reason == "stop"


def test_no_repeat_ngram_option(tiny_dir: Path):
    import torch

    from petf2i_core.generation.prompts import encode_prompt

    def new_tokens(size: int) -> list[int]:
        backend = get_backend("hf", model=str(tiny_dir),
                              decoding=DecodingParams(max_new_tokens=40, no_repeat_ngram_size=size))
        request = _request("a", "右肺上叶见一结节，大小约1.2×0.9cm")
        prompt = torch.tensor([encode_prompt(backend.tokenizer, request.prompt, chat=True)])
        generated = backend.model.generate(prompt, **backend._generate_kwargs([request]))
        return generated[0, prompt.shape[1]:].tolist()

    free, guarded = new_tokens(0), new_tokens(2)
    free_bigrams = list(zip(free, free[1:]))
    guarded_bigrams = list(zip(guarded, guarded[1:]))

    assert len(set(free_bigrams)) < len(free_bigrams)  # the random model loops without the guard
    assert len(set(guarded_bigrams)) == len(guarded_bigrams)


def test_sampling_seeded(tiny_dir: Path):
    def sample(seed: int) -> str:
        backend = get_backend("hf", model=str(tiny_dir),
                              decoding=DecodingParams(max_new_tokens=16, do_sample=True, seed=seed))
        return backend.generate([_request("a", ZH_SHORT)])[0].text

    first = sample(1)

    assert sample(1) == first
    assert sample(2) != first


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("考虑恶性病变。" * 4, True),
        ("右肺上叶结节，考虑恶性，建议活检。", False),
        ("the the the the the the the the the the the the", True),
        ("Findings suspicious for malignancy; biopsy is recommended.", False),
        ("Liver lesion. Liver lesion. Liver lesion. Liver lesion. Liver lesion.", True),
        ("", False),
    ],
)
def test_detect_repetition(text, expected):
    assert detect_repetition(text) is expected


def test_unknown_backend_lists_names():
    with pytest.raises(KeyError, match="hf"):
        get_backend("nope")


def test_right_padding_changes_short_prompt(backend):
    """Right padding breaks the short prompt's greedy output, so the batch test above can fail."""
    import torch

    from petf2i_core.generation.prompts import encode_prompt

    requests = [_request("long", ZH_LONG), _request("short", ZH_SHORT)]
    encoded = [encode_prompt(backend.tokenizer, request.prompt, chat=True) for request in requests]
    width = max(len(ids) for ids in encoded)
    input_ids = torch.tensor([ids + [backend.pad_id] * (width - len(ids)) for ids in encoded])
    attention_mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids in encoded])

    generated = backend.model.generate(input_ids=input_ids, attention_mask=attention_mask,
                                       **backend._generate_kwargs(requests))
    right_padded = backend._decode(requests[1], generated[1, width:].tolist(), len(encoded[1]), 0.0)

    assert right_padded.text != backend.generate([requests[1]])[0].text
