"""The model registry (configs/models.yaml): which models the study can name, and how to reach them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Sequence

logger = logging.getLogger(__name__)

DEFAULT_REGISTRY = Path(__file__).resolve().parents[2] / "configs" / "models.yaml"
FAMILIES = ("frontier", "open", "medical", "packaged", "baseline")
REMOTE_BACKENDS = frozenset({"openai"})


@dataclass(frozen=True)
class ModelEntry:
    """One model of the registry.

    Fields:
        name: the registry name used by the CLI and notebooks.
        family: frontier, open, medical, packaged or baseline.
        backend: generation backend name (hf, openai, vllm, extractive, retrieval).
        hub_id: Hugging Face hub id, packaged model name, or the provider's model id for API models.
        revision: hub revision (commit or tag); None for the default branch.
        context_length: maximum context in tokens; None where not confirmed.
        chat: instruction-tuned with a chat template (False for base models).
        template: default prompt template name (``none`` for baselines).
        licence: licence or terms of use of the model.
        provider: API provider (API models only).
        base_url: OpenAI-compatible endpoint (API models only).
        api_key_env: environment variable that contains the API key (API models only).
        price_input_per_1m: USD per 1M input tokens, or None when not filled in.
        price_output_per_1m: USD per 1M output tokens, or None when not filled in.
        price_date: date the prices were taken from the provider's page.
        reasoning: a reasoning model whose output tokens include hidden reasoning.
        trust_remote_code: the model needs custom modelling code from its repository.
    """

    name: str
    family: str
    backend: str
    hub_id: str | None = None
    revision: str | None = None
    context_length: int | None = None
    chat: bool = True
    template: str = "zero-shot"
    licence: str = ""
    provider: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    price_input_per_1m: float | None = None
    price_output_per_1m: float | None = None
    price_date: str | None = None
    reasoning: bool = False
    trust_remote_code: bool = False

    @property
    def remote(self) -> bool:
        """Whether this model sends prompts to a remote service."""
        return self.backend in REMOTE_BACKENDS

    @property
    def is_baseline(self) -> bool:
        """Whether this entry is a baseline without a language model."""
        return self.family == "baseline"

    def cost_usd(self, prompt_tokens: int, output_tokens: int) -> float | None:
        """Return the cost of a run from the registry prices, or None when a price is missing."""
        if self.price_input_per_1m is None or self.price_output_per_1m is None:
            return None
        return (prompt_tokens * self.price_input_per_1m + output_tokens * self.price_output_per_1m) / 1_000_000


def load_registry(path: str | Path | None = None) -> dict[str, ModelEntry]:
    """Load the registry YAML and return its entries by name, family defaults applied.

    Raise ValueError naming the file and entry for an unknown field, a missing
    name or backend, an unknown family, or a duplicate name.
    """
    import yaml

    path = Path(path) if path is not None else DEFAULT_REGISTRY
    with path.open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle) or {}
    defaults = document.get("defaults") or {}
    known = {field.name for field in fields(ModelEntry)}

    entries: dict[str, ModelEntry] = {}
    for index, raw in enumerate(document.get("models") or [], start=1):
        values = {**(defaults.get(raw.get("family"), {}) or {}), **raw}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{path}: model entry {index} ({raw.get('name')!r}) has unknown fields {unknown}; known: {sorted(known)}")
        if not values.get("name") or not values.get("backend"):
            raise ValueError(f"{path}: model entry {index} needs a name and a backend (given {raw})")
        if values.get("family") not in FAMILIES:
            raise ValueError(f"{path}: model {values['name']!r} has family {values.get('family')!r}; use one of {FAMILIES}")
        if values["name"] in entries:
            raise ValueError(f"{path}: model name {values['name']!r} appears twice")
        entries[values["name"]] = ModelEntry(**values)
    return entries


def select_models(
    names: Sequence[str] | None = None,
    families: Sequence[str] | None = None,
    registry: dict[str, ModelEntry] | None = None,
) -> list[ModelEntry]:
    """Return the entries with the given names and/or families, in registry order.

    With neither filter, return every entry. Raise KeyError for an unknown name.
    """
    registry = registry if registry is not None else load_registry()
    if names:
        missing = [name for name in names if name not in registry]
        if missing:
            raise KeyError(f"unknown models {missing}; known: {sorted(registry)}")
    selected = []
    for entry in registry.values():
        if names and entry.name not in names:
            continue
        if families and entry.family not in families:
            continue
        selected.append(entry)
    return selected


def get_model(name: str, registry: dict[str, ModelEntry] | None = None) -> ModelEntry:
    """Return the registry entry called ``name``; raise KeyError listing the known names."""
    registry = registry if registry is not None else load_registry()
    if name not in registry:
        raise KeyError(f"unknown model {name!r}; known models: {sorted(registry)}")
    return registry[name]


class PrivateDataError(PermissionError):
    """A private dataset was about to be sent to a remote model."""


def check_remote_allowed(entry: ModelEntry, dataset_private: bool, allow_remote: bool = False) -> None:
    """Raise PrivateDataError if a private dataset would go to a remote backend without ``allow_remote``."""
    if entry.remote and dataset_private and not allow_remote:
        raise PrivateDataError(
            f"dataset is marked private: true, so its reports may not be sent to the remote model {entry.name!r} "
            f"({entry.provider or entry.backend}); use a local model, or set allow_remote: true in the run config "
            "once data-protection approval covers this provider"
        )


def dataset_is_private(data_path: str | Path) -> bool:
    """Read ``private`` from the dataset card next to a prepared dataset (card.yaml, dataset.yaml or dataset_card.json).

    A missing card means not private; a card without the key means not private.
    """
    import json

    import yaml

    data_path = Path(data_path)
    folder = data_path if data_path.is_dir() else data_path.parent
    for card_name in ("card.yaml", "dataset.yaml", "dataset_card.yaml", "dataset_card.json", "card.json"):
        card = folder / card_name
        if card.is_file():
            text = card.read_text(encoding="utf-8")
            content: Any = json.loads(text) if card.suffix == ".json" else yaml.safe_load(text)
            return bool((content or {}).get("private", False))
    return False
