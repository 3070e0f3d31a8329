"""The LoRA fine-tuning recipe as one dataclass, loaded from YAML with overrides.

Every ablation knob (rank, alpha, target modules, training-set fraction, epochs,
prompt language) is a field, so an ablation is a set of overrides passed to
:meth:`TrainConfig.from_yaml`, not a code change.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

logger = logging.getLogger(__name__)

PRECISIONS = ("auto", "bf16", "fp16", "fp32")
TRUNCATION_POLICIES = ("truncate_findings", "drop")
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts", "polynomial")
TRACKERS = ("tensorboard", "wandb", "mlflow")
PROMPT_LANGUAGES = ("report", "zh", "en")


@dataclass
class TrainConfig:
    """LoRA fine-tuning recipe. Each field below is a YAML key of ``configs/train/*.yaml``.

    Model and adapter:
        base_model: base model reference: a local folder, a packaged name such as
            ``"smollm2-135m-instruct"`` or a hub id such as ``"Qwen/Qwen2.5-7B-Instruct"``.
        lora_rank: LoRA rank r (> 0). Adapter size grows linearly with it.
        lora_alpha: LoRA scaling numerator; the update is scaled by ``alpha / rank``.
        lora_dropout: dropout probability on the LoRA input, in [0, 1).
        target_modules: ``"all-linear"`` (every ``nn.Linear`` except the output head
            ``lm_head``) or a list of module-name suffixes such as ``["q_proj", "v_proj"]``.

    Optimisation:
        learning_rate: peak AdamW learning rate.
        weight_decay: AdamW weight decay on the LoRA parameters.
        scheduler: learning-rate schedule name from ``transformers.get_scheduler``
            (linear, cosine, constant, constant_with_warmup, cosine_with_restarts, polynomial).
        warmup_ratio: fraction of the optimizer steps spent in linear warm-up, in [0, 1).
        epochs: passes over the training set; ignored when ``max_steps`` is set.
        max_steps: optimizer steps to run; None to run ``epochs`` full passes.
        max_grad_norm: gradient-norm clip; 0 or None switches clipping off.

    Batching:
        max_seq_length: maximum tokens per example (prompt, response and end tokens).
        per_device_batch_size: examples per micro-batch on each device.
        gradient_accumulation_steps: micro-batches per optimizer step. The loss of a
            step is the sum of token losses over all its micro-batches divided by the
            number of supervised tokens in them.
        group_by_length: build micro-batches of similar length (less padding).
        packing: concatenate examples into rows as long as the longest example
            (at most ``max_seq_length``), with position ids restarting at each
            example, so attention never crosses an example boundary.
        gradient_checkpointing: recompute activations in the backward pass (less
            memory, about a third more compute); input gradients are enabled for it.
        precision: ``"auto"`` (bf16 on GPUs that support it, fp32 otherwise), ``"bf16"``,
            ``"fp16"`` (GPU only) or ``"fp32"``.

    Data and prompt:
        prompt_template: name from :mod:`petf2i_core.generation.prompts` (the same
            template inference uses), for example ``"zero-shot"``.
        prompt_language: ``"report"`` (each report's own language) or a fixed
            ``"zh"``/``"en"`` for the instruction text.
        train_fraction: fraction of the training reports used, in (0, 1]; a seeded
            random subset (for data-size ablations).
        truncation: for an example longer than ``max_seq_length``:
            ``"truncate_findings"`` cuts the end of the findings (the impression is
            never cut) and ``"drop"`` skips the example. Both are counted.

    Run control:
        seed: seed for Python, NumPy, torch, the data subset and the batch order.
        output_dir: folder for the adapter, checkpoints, metrics and model card.
        checkpoint_every: optimizer steps between resumable checkpoints; 0 for none.
        keep_checkpoints: newest checkpoints kept on disk.
        eval_every: optimizer steps between validation-loss evaluations; 0 for only
            the end of training.
        early_stopping_patience: stop after this many evaluations without a lower
            validation loss; 0 switches early stopping off.
        logging_every: optimizer steps between rows of the metrics CSV.
        trackers: extra experiment trackers through accelerate: any of
            ``"tensorboard"``, ``"wandb"``, ``"mlflow"``. The CSV is always written.
    """

    base_model: str = "smollm2-135m-instruct"
    lora_rank: int = 8
    lora_alpha: float = 16.0
    lora_dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"

    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    scheduler: str = "cosine"
    warmup_ratio: float = 0.03
    epochs: float = 1.0
    max_steps: int | None = None
    max_grad_norm: float | None = 1.0

    max_seq_length: int = 512
    per_device_batch_size: int = 4
    gradient_accumulation_steps: int = 1
    group_by_length: bool = True
    packing: bool = False
    gradient_checkpointing: bool = False
    precision: str = "auto"

    prompt_template: str = "zero-shot"
    prompt_language: str = "report"
    train_fraction: float = 1.0
    truncation: str = "truncate_findings"

    seed: int = 42
    output_dir: str = "runs/lora"
    checkpoint_every: int = 0
    keep_checkpoints: int = 2
    eval_every: int = 0
    early_stopping_patience: int = 0
    logging_every: int = 1
    trackers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], source: str = "config") -> "TrainConfig":
        """Build a config from a mapping, rejecting unknown keys with the list of known ones."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"{source}: unknown training option(s) {unknown}; "
                f"remove them or use one of: {', '.join(sorted(known))}"
            )
        try:
            return cls(**dict(values))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{source}: {error}") from None

    @classmethod
    def from_yaml(cls, path: str | Path, overrides: Mapping[str, Any] | None = None) -> "TrainConfig":
        """Load a config from YAML, then apply ``overrides`` (for ablations) on top."""
        import yaml

        path = Path(path)
        with path.open(encoding="utf-8") as handle:
            values = yaml.safe_load(handle) or {}
        if not isinstance(values, dict):
            raise ValueError(f"{path}: expected a mapping of training options, got {type(values).__name__}")
        values.update(overrides or {})
        return cls.from_dict(values, source=str(path))

    def with_overrides(self, overrides: Mapping[str, Any]) -> "TrainConfig":
        """Return a copy with ``overrides`` applied and validated."""
        return TrainConfig.from_dict({**self.to_dict(), **overrides}, source="overrides")

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict (YAML- and JSON-serialisable)."""
        return dataclasses.asdict(self)

    def validate(self) -> None:
        """Raise ValueError naming the first invalid field, its value and the accepted range."""
        checks = [
            ("lora_rank", lambda: isinstance(self.lora_rank, int) and self.lora_rank > 0, "an integer > 0, for example 8"),
            ("lora_alpha", lambda: self.lora_alpha > 0, "a number > 0, often 2 x lora_rank"),
            ("lora_dropout", lambda: 0 <= self.lora_dropout < 1, "a probability in [0, 1)"),
            ("learning_rate", lambda: self.learning_rate > 0, "a number > 0, for example 2e-4"),
            ("weight_decay", lambda: self.weight_decay >= 0, "a number >= 0"),
            ("scheduler", lambda: self.scheduler in SCHEDULERS, f"one of {SCHEDULERS}"),
            ("warmup_ratio", lambda: 0 <= self.warmup_ratio < 1, "a fraction in [0, 1)"),
            ("epochs", lambda: self.epochs > 0, "a number > 0"),
            ("max_steps", lambda: self.max_steps is None or self.max_steps > 0, "null or an integer > 0"),
            ("max_seq_length", lambda: self.max_seq_length >= 8, "an integer >= 8"),
            ("per_device_batch_size", lambda: self.per_device_batch_size > 0, "an integer > 0"),
            ("gradient_accumulation_steps", lambda: self.gradient_accumulation_steps > 0, "an integer > 0"),
            ("precision", lambda: self.precision in PRECISIONS, f"one of {PRECISIONS}"),
            ("prompt_language", lambda: self.prompt_language in PROMPT_LANGUAGES, f"one of {PROMPT_LANGUAGES}"),
            ("train_fraction", lambda: 0 < self.train_fraction <= 1, "a fraction in (0, 1]"),
            ("truncation", lambda: self.truncation in TRUNCATION_POLICIES, f"one of {TRUNCATION_POLICIES}"),
            ("checkpoint_every", lambda: self.checkpoint_every >= 0, "an integer >= 0 (0 for no checkpoints)"),
            ("keep_checkpoints", lambda: self.keep_checkpoints >= 1, "an integer >= 1"),
            ("eval_every", lambda: self.eval_every >= 0, "an integer >= 0 (0 for only the end)"),
            ("early_stopping_patience", lambda: self.early_stopping_patience >= 0, "an integer >= 0 (0 for off)"),
            ("logging_every", lambda: self.logging_every >= 1, "an integer >= 1"),
            ("trackers", lambda: all(t in TRACKERS for t in self.trackers), f"a list of {TRACKERS}"),
        ]
        for name, predicate, accepted in checks:
            try:
                valid = bool(predicate())
            except TypeError:
                valid = False  # a value of the wrong type, such as a string for a number
            if not valid:
                raise ValueError(f"invalid {name}={getattr(self, name)!r}; set it to {accepted}")
        if isinstance(self.target_modules, str) and self.target_modules != "all-linear":
            raise ValueError(
                f"invalid target_modules={self.target_modules!r}; "
                "set it to 'all-linear' or a list of module names such as ['q_proj', 'v_proj']"
            )
        if isinstance(self.target_modules, list) and not self.target_modules:
            raise ValueError("invalid target_modules=[]; list at least one module name or use 'all-linear'")


def parse_override(assignment: str) -> tuple[str, Any]:
    """Parse one ``key=value`` command-line override; the value is read as YAML (``8``, ``[q_proj]``)."""
    import yaml

    if "=" not in assignment:
        raise ValueError(f"invalid override {assignment!r}; write it as key=value, for example lora_rank=16")
    key, raw = assignment.split("=", 1)
    return key.strip(), yaml.safe_load(raw)


def resolve_precision(precision: str) -> str:
    """Map ``"auto"`` to ``"bf16"`` on a CUDA GPU with bf16 support and ``"fp32"`` otherwise."""
    import torch

    if precision != "auto":
        if precision in ("bf16", "fp16") and not torch.cuda.is_available():
            # NOTE: half precision on CPU is slow and loses accuracy, so fp32 is used there.
            logger.warning("precision %s requested without a CUDA GPU; using fp32", precision)
            return "fp32"
        return precision
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bf16"
    return "fp32"
