"""Study configuration: which data, which systems, which metrics, which notebooks.

A study config is a YAML file (``configs/study/default.yaml`` is the default
study). Every field below is documented where it is declared; unknown keys are
rejected with the list of valid ones, so a typo never silently falls back to a
default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SYSTEM_KINDS = ("baseline", "zero-shot", "few-shot", "lora")


@dataclass
class DataConfig:
    """Data settings: the report source, its splits and its privacy.

    Attributes:
        source: ``"synthetic"`` for the embedded PET/CT corpus, or a path to a
            JSONL/CSV/TSV/Excel/Parquet file or to a folder prepared by
            ``petf2i data prepare`` (then its splits are used as they are).
        synthetic_cases: number of synthetic cases; with ``language: both`` each
            case gives one Chinese and one English report.
        language: ``"zh"``, ``"en"`` or ``"both"`` for the synthetic corpus; for
            user data, rows of other languages are kept and scored per language.
        noise_rate: rate of realistic typing noise in the synthetic corpus.
        split: train, validation and test ratios (they must sum to 1).
        max_train_reports: cap on training reports per language after the split
            (``None`` keeps all); keeps CPU fine-tunes within the time budget.
        max_test_reports: cap on test reports per language (``None`` keeps all).
        private: mark the data as containing patient information. Remote (API)
            backends are then refused unless ``allow_remote`` is true, and the
            examples page shows no report text.
        allow_remote: permit remote backends on private data.
        prepare_options: extra options for the data preparation of a raw file
            (column names, de-identification settings); see ``PrepareConfig``.
    """

    source: str = "synthetic"
    synthetic_cases: int = 400
    language: str = "both"
    noise_rate: float = 0.05
    split: dict[str, float] = field(default_factory=lambda: {"train": 0.8, "val": 0.1, "test": 0.1})
    max_train_reports: int | None = None
    max_test_reports: int | None = None
    private: bool = False
    allow_remote: bool = False
    prepare_options: dict[str, Any] = field(default_factory=dict)


@dataclass
class SystemConfig:
    """One system of the comparison.

    Attributes:
        name: label used in tables, file names and figures.
        kind: ``baseline`` (``extractive`` or ``retrieval``), ``zero-shot``,
            ``few-shot`` or ``lora`` (fine-tune ``model`` with the training
            config, then generate with the adapter).
        model: registry name, hub id or local folder; for baselines the
            baseline's registered name.
        template: prompt template name (see ``petf2i_core.generation.prompts``);
            few-shot templates fix how many training examples they retrieve.
        train_config: training YAML for ``lora`` systems.
        train_overrides: field overrides applied to the training config, the
            hook for ablations (rank, alpha, target modules, data fraction).
        generation: decoding parameters (``max_new_tokens``, ``batch_size``, ...).
    """

    name: str
    kind: str
    model: str
    template: str = "zero-shot"
    train_config: str | None = None
    train_overrides: dict[str, Any] = field(default_factory=dict)
    generation: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvaluationConfig:
    """Scoring settings of the study.

    Attributes:
        metrics: metric names, in table order.
        n_bootstrap: bootstrap resamples for the 95% confidence intervals.
        metric_options: per-metric options, e.g. ``{"bertscore": {"chunked": true}}``.
    """

    metrics: list[str] = field(default_factory=lambda: ["bleu4", "rougeL", "bertscore", "ecr", "uer", "fcr"])
    n_bootstrap: int = 1000
    metric_options: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class StudyConfig:
    """A whole study: data, systems, evaluation and output places.

    Attributes:
        name: study name; outputs go to ``runs/<name>/``.
        seed: seed for data generation, splits, sampling, training and bootstrap.
        data: see :class:`DataConfig`.
        systems: the systems to compare, in table order.
        evaluation: see :class:`EvaluationConfig`.
        run_dir: folder for splits, predictions, scores and adapters
            (default ``runs/<name>``).
        book_dir: Jupyter Book folder whose ``generated/`` subfolder receives the
            executed notebooks. The default study writes into ``book/``; other
            studies get a copy of the book skeleton under ``<run_dir>/book``.
    """

    name: str
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    systems: list[SystemConfig] = field(default_factory=list)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    run_dir: str | None = None
    book_dir: str | None = None

    @property
    def run_path(self) -> Path:
        return Path(self.run_dir or f"runs/{self.name}")

    @property
    def book_path(self) -> Path:
        return Path(self.book_dir or self.run_path / "book")


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    """Build dataclass ``cls`` from ``values``, rejecting unknown keys by name."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; valid keys are {sorted(names)}")
    return cls(**values)


def study_from_dict(raw: dict[str, Any], where: str = "study config") -> StudyConfig:
    """Build and validate a :class:`StudyConfig` from a parsed YAML mapping."""
    raw = dict(raw)
    data = _build(DataConfig, raw.pop("data", {}) or {}, f"{where}: data")
    evaluation = _build(EvaluationConfig, raw.pop("evaluation", {}) or {}, f"{where}: evaluation")
    systems = [
        _build(SystemConfig, system, f"{where}: systems[{index}]")
        for index, system in enumerate(raw.pop("systems", []) or [])
    ]
    config = _build(StudyConfig, {**raw, "data": data, "evaluation": evaluation, "systems": systems}, where)
    validate(config, where)
    return config


def validate(config: StudyConfig, where: str) -> None:
    """Raise ValueError on settings that cannot run, naming the field and the fix."""
    if not config.systems:
        raise ValueError(f"{where}: 'systems' is empty; list at least one system to compare")
    names = [system.name for system in config.systems]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{where}: system names must be unique; repeated: {duplicates}")
    for system in config.systems:
        if system.kind not in SYSTEM_KINDS:
            raise ValueError(f"{where}: system {system.name!r} has kind {system.kind!r}; use one of {SYSTEM_KINDS}")
        if system.kind == "lora" and not system.train_config:
            raise ValueError(f"{where}: lora system {system.name!r} needs 'train_config' (a training YAML path)")
    total = sum(config.data.split.values())
    if set(config.data.split) != {"train", "val", "test"} or abs(total - 1.0) > 1e-6:
        raise ValueError(f"{where}: data.split must have train, val and test ratios summing to 1; got {config.data.split}")
    if config.data.language not in ("zh", "en", "both"):
        raise ValueError(f"{where}: data.language is {config.data.language!r}; use zh, en or both")


def load_study_config(path: str | Path, overrides: dict[str, Any] | None = None) -> StudyConfig:
    """Load a study YAML, apply top-level ``overrides`` (e.g. ``{"name": ..., "data": {...}}``) and validate."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"study config {path} not found; the default study is configs/study/default.yaml")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return study_from_dict(raw, where=str(path))
