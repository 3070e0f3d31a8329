"""The append-only generation cache: keys, torn last lines, no duplicates."""

from __future__ import annotations

import json

import pytest

from petf2i_core.generation.cache import CACHE_FILE, GenerationCache, request_key

BASE = dict(model_id="m", model_revision="r", adapter_hash="", template_hash="t",
            prompt_text="p", decoding={"max_new_tokens": 8}, seed=0)


def _record(key: str, text: str = "x") -> dict:
    return {"key": key, "id": key[:4], "prediction": text}


@pytest.mark.parametrize(
    "change",
    [
        {"model_id": "m2"},
        {"model_revision": "r2"},
        {"adapter_hash": "a"},
        {"template_hash": "t2"},
        {"prompt_text": "p2"},
        {"decoding": {"max_new_tokens": 9}},
        {"seed": 1},
    ],
)
def test_key_depends_on_each_part(change):
    assert request_key(**{**BASE, **change}) != request_key(**BASE)


def test_key_is_deterministic():
    assert request_key(**BASE) == request_key(**dict(BASE))
    assert len(request_key(**BASE)) == 64


def test_append_skips_known_keys(tmp_path):
    cache = GenerationCache(tmp_path)

    first = cache.append([_record("k1"), _record("k2"), _record("k1")])
    second = cache.append([_record("k2", "other"), _record("k3")])
    lines = (tmp_path / CACHE_FILE).read_text(encoding="utf-8").splitlines()

    assert first == 2
    assert second == 1
    assert [json.loads(line)["key"] for line in lines] == ["k1", "k2", "k3"]
    assert cache.get("k2")["prediction"] == "x"


def test_reload_reads_records(tmp_path):
    GenerationCache(tmp_path).append([_record("k1", "右肺结节"), _record("k2")])

    cache = GenerationCache(tmp_path)

    assert len(cache) == 2
    assert cache.get("k1")["prediction"] == "右肺结节"
    assert "k2" in cache


def test_torn_last_line_truncated(tmp_path):
    GenerationCache(tmp_path).append([_record("k1"), _record("k2")])
    path = tmp_path / CACHE_FILE
    complete = path.read_bytes()
    torn = json.dumps(_record("k3", "考虑恶性"), ensure_ascii=False).encode("utf-8")[:-7]
    path.write_bytes(complete + torn)

    cache = GenerationCache(tmp_path)

    assert len(cache) == 2
    assert "k3" not in cache
    assert path.read_bytes() == complete
    cache.append([_record("k3")])
    assert len(GenerationCache(tmp_path)) == 3


def test_torn_multibyte_character(tmp_path):
    path = tmp_path / CACHE_FILE
    line = json.dumps(_record("k1", "肺"), ensure_ascii=False).encode("utf-8")
    path.write_bytes(line + b"\n" + line[:-4])  # cut inside the UTF-8 bytes of a character

    cache = GenerationCache(tmp_path)

    assert len(cache) == 1
    assert path.read_bytes() == line + b"\n"


def test_damaged_middle_line_raises(tmp_path):
    path = tmp_path / CACHE_FILE
    path.write_text('{"key": "k1"}\nnot json\n{"key": "k2"}\n', encoding="utf-8")

    with pytest.raises(ValueError, match=r"generations.jsonl:2"):
        GenerationCache(tmp_path)
