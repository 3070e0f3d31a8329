"""The README.md model card written next to a trained adapter."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from petf2i_core.training.config import TrainConfig

_CURVE_ROWS = 20


def write_model_card(
    output_dir: str | Path,
    config: TrainConfig,
    counts: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    precision: str,
    evaluation: Mapping[str, float] | None = None,
) -> Path:
    """Write ``output_dir/README.md``: base model, data summary, hyperparameters, curve and evaluation."""
    path = Path(output_dir) / "README.md"
    path.write_text(render_model_card(config, counts, history, precision, evaluation), encoding="utf-8")
    return path


def render_model_card(
    config: TrainConfig,
    counts: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    precision: str,
    evaluation: Mapping[str, float] | None = None,
) -> str:
    """Return the model card as Markdown text."""
    lines = [
        "---",
        f"base_model: {config.base_model}",
        "library_name: peft",
        "tags: [lora, petf2i, pet-ct, impression-generation]",
        "---",
        "",
        f"# LoRA adapter for PET/CT impression generation on {config.base_model}",
        "",
        "Generates the IMPRESSION section of a PET/CT report from its FINDINGS. Trained with petf2i "
        f"(prompt template `{config.prompt_template}`, the same one used at inference).",
        "",
        "## Data",
        "",
        "| set | reports | examples | truncated | dropped (too long) | rejected (no supervised token) |",
        "|---|---|---|---|---|---|",
        _counts_row("train", counts),
    ]
    if isinstance(counts.get("val"), Mapping) and counts["val"].get("reports"):
        lines.append(_counts_row("validation", counts["val"]))

    lines += ["", "## Hyperparameters", "", "| option | value |", "|---|---|"]
    for key, value in config.to_dict().items():
        lines.append(f"| {key} | `{value}` |")
    lines.append(f"| precision (resolved) | `{precision}` |")

    lines += ["", "## Training curve", ""] + _curve_table(history)

    if evaluation:
        lines += ["", "## Evaluation", "", "| metric | value |", "|---|---|"]
        lines += [f"| {name} | {value:.4f} |" for name, value in evaluation.items()]
    return "\n".join(lines) + "\n"


def _counts_row(name: str, counts: Mapping[str, Any]) -> str:
    return (
        f"| {name} | {counts.get('reports', 0)} | {counts.get('kept', 0)} | {counts.get('truncated', 0)} "
        f"| {counts.get('dropped_too_long', 0)} | {counts.get('rejected_no_supervised', 0)} |"
    )


def _curve_table(history: Sequence[Mapping[str, Any]]) -> list[str]:
    if not history:
        return ["No steps were logged."]
    stride = max(1, math.ceil(len(history) / _CURVE_ROWS))
    table_rows = list(history[::stride])
    if table_rows[-1] is not history[-1]:
        table_rows.append(history[-1])
    lines = ["| step | epoch | train loss | validation loss | learning rate |", "|---|---|---|---|---|"]
    for row in table_rows:
        val_loss = row.get("val_loss")
        val_text = f"{val_loss:.4f}" if isinstance(val_loss, float) else "-"
        lines.append(
            f"| {row['step']} | {row['epoch']} | {row['train_loss']:.4f} | {val_text} | {row['learning_rate']:.2e} |"
        )
    return lines
