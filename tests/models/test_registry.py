"""The model registry in configs/models.yaml and the private-data rule for remote models."""

from __future__ import annotations

import pytest

from petf2i_core.models.registry import (
    ModelEntry,
    PrivateDataError,
    check_remote_allowed,
    dataset_is_private,
    load_registry,
    select_models,
)


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def test_registry_size_and_families(registry):
    families = {entry.family for entry in registry.values()}

    assert len(registry) >= 27 + 4
    assert families == {"frontier", "open", "medical", "packaged", "baseline"}
    assert len(select_models(families=["frontier"], registry=registry)) >= 10
    assert len(select_models(families=["medical"], registry=registry)) >= 7


@pytest.mark.parametrize("name", ["gpt-4o", "claude-3.7-sonnet", "deepseek-r1", "qwen2.5-7b-instruct",
                                  "llama-3.1-70b-instruct", "huatuogpt-ii-7b", "medgemma-4b-it", "meditron-7b"])
def test_study_models_present(registry, name):
    assert name in registry


def test_api_entries_complete(registry):
    for entry in select_models(families=["frontier"], registry=registry):
        assert entry.backend == "openai"
        assert entry.remote
        assert entry.api_key_env and entry.api_key_env.endswith("_API_KEY")
        assert entry.base_url.startswith("https://")
        assert entry.licence


def test_prices_null_or_dated(registry):
    """A price is either unfilled (null) or comes with the date it was taken."""
    for entry in registry.values():
        if entry.price_input_per_1m is not None or entry.price_output_per_1m is not None:
            assert entry.price_date, entry.name


def test_local_entries_have_hub_ids(registry):
    for entry in select_models(families=["open", "medical", "packaged"], registry=registry):
        assert entry.backend == "hf"
        assert not entry.remote
        assert entry.hub_id


def test_packaged_and_baselines(registry):
    assert registry["smollm2-135m-instruct"].chat
    assert not registry["gemma3-270m"].chat
    assert registry["gemma3-270m"].template == "base-few-shot"
    assert registry["extractive"].is_baseline
    assert registry["retrieval"].backend == "retrieval"


def test_select_unknown_name(registry):
    with pytest.raises(KeyError, match="nope"):
        select_models(["nope"], registry=registry)


def test_select_by_name_keeps_registry_order(registry):
    chosen = select_models(["retrieval", "gpt-4o"], registry=registry)

    assert [entry.name for entry in chosen] == ["gpt-4o", "retrieval"]


def test_unknown_field_rejected(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text("models:\n  - {name: x, family: open, backend: hf, colour: red}\n", encoding="utf-8")

    with pytest.raises(ValueError, match="colour"):
        load_registry(path)


def test_duplicate_name_rejected(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text("models:\n  - {name: x, family: open, backend: hf}\n  - {name: x, family: open, backend: hf}\n",
                    encoding="utf-8")

    with pytest.raises(ValueError, match="twice"):
        load_registry(path)


def test_private_rejects_remote_unless_allowed(registry):
    remote, local = registry["gpt-4o"], registry["qwen2.5-7b-instruct"]

    with pytest.raises(PrivateDataError, match="allow_remote"):
        check_remote_allowed(remote, dataset_private=True)
    check_remote_allowed(remote, dataset_private=True, allow_remote=True)
    check_remote_allowed(remote, dataset_private=False)
    check_remote_allowed(local, dataset_private=True)


def test_dataset_card_private_flag(tmp_path):
    (tmp_path / "test.jsonl").write_text("", encoding="utf-8")
    assert not dataset_is_private(tmp_path)

    (tmp_path / "card.yaml").write_text("name: hospital\nprivate: true\n", encoding="utf-8")

    assert dataset_is_private(tmp_path)
    assert dataset_is_private(tmp_path / "test.jsonl")


def test_cost_from_prices():
    entry = ModelEntry(name="m", family="frontier", backend="openai", price_input_per_1m=2.5, price_output_per_1m=10.0)

    assert entry.cost_usd(1_000_000, 500_000) == pytest.approx(7.5)
    assert ModelEntry(name="m", family="frontier", backend="openai").cost_usd(10, 10) is None


def test_models_list_command(capsys, registry):
    from petf2i_core.cli.main import main

    code = main(["models", "list"])
    lines = capsys.readouterr().out.strip().splitlines()

    assert code == 0
    assert lines[0].split("\t") == ["name", "family", "backend", "hub_id", "available"]
    assert len(lines) == len(registry) + 1
    assert any(line.startswith("gpt-4o\tfrontier\topenai") for line in lines)
