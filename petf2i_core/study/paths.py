"""Where a study run keeps its files, in one place so notebooks and tests agree.

A run folder ``runs/<study>/`` contains ``data/{train,val,test}.jsonl``,
``predictions/<system>.jsonl``, ``evaluation/<system>.jsonl`` (rows in the
input format of ``petf2i evaluate``), ``scores/<system>.json``,
``adapters/<system>/`` and the generation ``cache/``.
"""

from __future__ import annotations

from pathlib import Path


def split_path(run_dir: str | Path, split: str) -> Path:
    """Return the JSONL file of one split (train, val or test)."""
    return Path(run_dir) / "data" / f"{split}.jsonl"


def predictions_path(run_dir: str | Path, system: str) -> Path:
    """Return the JSONL file of one system's test-set predictions."""
    return Path(run_dir) / "predictions" / f"{system}.jsonl"


def evaluation_rows_path(run_dir: str | Path, system: str) -> Path:
    """Return the JSONL file of one system's rows in the input format of ``petf2i evaluate``."""
    return Path(run_dir) / "evaluation" / f"{system}.jsonl"


def scores_path(run_dir: str | Path, system: str) -> Path:
    """Return the JSON file of one system's scores."""
    return Path(run_dir) / "scores" / f"{system}.json"


def adapter_dir(run_dir: str | Path, system: str) -> Path:
    """Return the training output folder of a LoRA system (its adapter lives in ``adapter/``)."""
    return Path(run_dir) / "adapters" / system


def cache_dir(run_dir: str | Path) -> Path:
    """Return the generation cache folder shared by all systems of a run."""
    return Path(run_dir) / "cache"
