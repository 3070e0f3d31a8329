"""Model resolution (folder, packaged name, hub id) and loading for generation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from petf2i_core.models.loading import ModelNotAvailableError, load_causal_lm, resolve_model, weights_fingerprint
from petf2i_core.models.packaged import MODELS_DIR_ENV, packaged_encoder_dir, packaged_model_dir


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from petf2i_core.models.tiny import build_tiny_qwen2

    path = tmp_path_factory.getbasetemp() / "petf2i-generation-tiny"
    if not (path / "config.json").is_file():
        build_tiny_qwen2(path)
    return path


def test_resolve_local_folder(tiny_dir):
    assert resolve_model(str(tiny_dir)) == tiny_dir.resolve()


def test_folder_without_config(tmp_path):
    with pytest.raises(ModelNotAvailableError, match="config.json"):
        resolve_model(tmp_path)


def test_offline_hub_id_fails_fast(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()

    with pytest.raises(ModelNotAvailableError) as error:
        resolve_model("petf2i-test/not-a-cached-model")

    assert time.perf_counter() - started < 10
    message = str(error.value)
    assert "local folder" in message
    assert "petf2i models prepare" in message
    assert "huggingface-cli download petf2i-test/not-a-cached-model" in message


def test_unprepared_packaged_name(monkeypatch, tmp_path):
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path))

    with pytest.raises(ModelNotAvailableError, match="petf2i models prepare"):
        resolve_model("smollm2-135m-instruct")


def test_models_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path))

    assert packaged_model_dir("gemma3-270m") == tmp_path / "gemma3-270m"
    with pytest.raises(KeyError, match="smollm2-135m-instruct"):
        packaged_model_dir("gpt-2")


def test_default_models_dir_is_repo_models(monkeypatch):
    monkeypatch.delenv(MODELS_DIR_ENV, raising=False)
    repo = Path(__file__).resolve().parents[2]

    assert packaged_model_dir("gemma3-270m") == repo / "models" / "gemma3-270m"


def test_minilm_encoder_dir():
    path = packaged_encoder_dir("minilm")

    assert (path / "config.json").is_file()
    assert (path / "model.safetensors").is_file()


def test_unknown_reference():
    with pytest.raises(ModelNotAvailableError, match="owner/name"):
        resolve_model("no such model")


def test_load_for_generation(tiny_dir):
    model, tokenizer = load_causal_lm(tiny_dir)

    assert not model.training
    assert tokenizer.padding_side == "left"
    assert tokenizer.pad_token_id is not None


def test_fingerprint_tracks_weights(tiny_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_dir, copy)
    same = weights_fingerprint(copy)
    with (copy / "model.safetensors").open("ab") as handle:
        handle.write(b"\0")

    assert same == weights_fingerprint(tiny_dir)
    assert weights_fingerprint(copy) != same
