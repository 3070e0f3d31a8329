"""The LoRA training loop, driven by accelerate: set up, train, save.

The same code runs on CPU, one GPU, several GPUs with DDP, DeepSpeed or FSDP,
depending only on the ``accelerate launch`` config. The loss of one optimizer
step is the sum of the token losses over all micro-batches of its
gradient-accumulation window, on all processes, divided by the number of
supervised tokens in that window. Every supervised token therefore has the same
weight, however the examples were batched.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from petf2i_core.data.records import Report
from petf2i_core.training.checkpoint import TrainerState, list_checkpoints, load_checkpoint, save_checkpoint
from petf2i_core.training.collator import collate_rows, count_supervised, plan_batches, plan_rows
from petf2i_core.training.config import TrainConfig, resolve_precision
from petf2i_core.training.examples import IGNORE_INDEX, ExampleCounts, TrainExample, build_examples, select_fraction

logger = logging.getLogger(__name__)

METRIC_COLUMNS = ("step", "epoch", "train_loss", "val_loss", "learning_rate", "tokens_per_s", "supervised_tokens", "elapsed_s")


@dataclass
class TrainResult:
    """Outputs of a training run.

    Fields:
        output_dir: run folder.
        adapter_dir: saved LoRA adapter and tokenizer (load with :func:`load_for_inference`).
        metrics_csv: one row per logged step (columns in ``METRIC_COLUMNS``).
        history: the metric rows as dicts (step, epoch, train_loss, val_loss, tokens_per_s, ...).
        counts: example counts for the training set (reports, kept, truncated,
            dropped_too_long, rejected_no_supervised) and, under ``"val"``, for the validation set.
        global_step: optimizer steps done.
        stopped_early: whether early stopping ended the run.
        model_card: the README.md written into ``output_dir``.
        precision: the resolved precision the run used (``"fp32"``, ``"bf16"`` or ``"fp16"``).
    """

    output_dir: Path
    adapter_dir: Path
    metrics_csv: Path
    history: list[dict[str, Any]]
    counts: dict[str, Any]
    global_step: int
    stopped_early: bool = False
    model_card: Path | None = None
    precision: str = "fp32"


@dataclass
class _Run:
    """Everything the loop needs, built by :func:`_setup`."""

    config: TrainConfig
    accelerator: Any
    model: Any
    tokenizer: Any
    optimizer: Any
    scheduler: Any
    train_examples: list[TrainExample]
    val_examples: list[TrainExample]
    rows: list[list[int]]
    windows_per_epoch: int
    total_steps: int
    counts: dict[str, Any]
    precision: str
    state: TrainerState = field(default_factory=TrainerState)


def train_lora(
    config: TrainConfig,
    train_reports: Sequence[Report],
    val_reports: Sequence[Report] | None = None,
    resume: bool = False,
) -> TrainResult:
    """Fine-tune ``config.base_model`` with LoRA on ``train_reports`` and save the adapter.

    With ``resume`` the run continues from the newest checkpoint in
    ``config.output_dir/checkpoints`` and ends with the same adapter as an
    uninterrupted run (same seed, data and number of processes).
    """
    run = _setup(config, train_reports, val_reports or [], resume)
    stopped_early = _train(run)
    return _save(run, stopped_early)


# ---------------------------------------------------------------- setup


def _setup(config: TrainConfig, train_reports: Sequence[Report], val_reports: Sequence[Report], resume: bool) -> _Run:
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from transformers import get_scheduler

    from petf2i_core.training.lora import apply_lora, load_base_model

    output_dir = Path(config.output_dir)
    precision = resolve_precision(config.precision)
    mixed_precision = "no" if precision == "fp32" else precision
    _reset_conflicting_accelerator_state(mixed_precision)
    accelerator = Accelerator(
        mixed_precision=mixed_precision,
        log_with=config.trackers or None,
        project_dir=str(output_dir),
    )
    set_seed(config.seed)

    model, tokenizer = load_base_model(config.base_model, precision)
    model = apply_lora(model, config.lora_rank, config.lora_alpha, config.lora_dropout, config.target_modules)
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()

    if not train_reports:
        raise ValueError("no training reports given; pass at least one Report with findings and impression")
    subset = select_fraction(train_reports, config.train_fraction, config.seed)
    train_examples, train_counts = _examples(subset, tokenizer, config)
    val_examples, val_counts = _examples(val_reports, tokenizer, config)
    if not train_examples:
        raise ValueError(f"no usable training example among {len(subset)} reports: {train_counts.to_dict()}")
    counts = {**train_counts.to_dict(), "val": val_counts.to_dict()}

    lengths = [len(example.input_ids) for example in train_examples]
    # Eager and SDPA attention cost grows with the square of the row length, so packed rows are
    # only as long as the longest example, not max_seq_length.
    rows = plan_rows(lengths, min(config.max_seq_length, max(lengths)), config.packing, config.seed)
    micro_batches = math.ceil(len(rows) / config.per_device_batch_size)
    if accelerator.num_processes > 1:
        micro_batches //= accelerator.num_processes
    if micro_batches == 0:
        raise ValueError(
            f"{len(rows)} training rows are too few for {accelerator.num_processes} processes "
            f"with per_device_batch_size={config.per_device_batch_size}; lower the batch size or add data"
        )
    windows_per_epoch = math.ceil(micro_batches / config.gradient_accumulation_steps)
    total_steps = config.max_steps or math.ceil(config.epochs * windows_per_epoch)

    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = get_scheduler(
        config.scheduler, optimizer,
        num_warmup_steps=int(config.warmup_ratio * total_steps), num_training_steps=total_steps,
    )
    model, optimizer = accelerator.prepare(model, optimizer)

    run = _Run(
        config=config, accelerator=accelerator, model=model, tokenizer=tokenizer,
        optimizer=optimizer, scheduler=scheduler, train_examples=train_examples,
        val_examples=val_examples, rows=rows, windows_per_epoch=windows_per_epoch,
        total_steps=total_steps, counts=counts, precision=precision,
        state=TrainerState(sampler_seed=config.seed),
    )
    _maybe_resume(run, output_dir / "checkpoints", resume)
    if config.trackers:
        accelerator.init_trackers("petf2i-lora", config=_tracker_config(config))
    logger.info(
        "training %d examples in %d rows, %d optimizer steps (%d per epoch), precision %s, %d process(es)",
        len(train_examples), len(rows), total_steps, windows_per_epoch, precision, accelerator.num_processes,
    )
    return run


def _reset_conflicting_accelerator_state(mixed_precision: str) -> None:
    """Drop an earlier in-process Accelerator's settings (a notebook's TRL run, say) that would clash.

    accelerate keeps one process-wide state and raises when a later Accelerator
    requests another mixed precision. Only that state is reset; the process
    group set up by ``accelerate launch`` is kept.
    """
    from accelerate.state import AcceleratorState

    previous = AcceleratorState._shared_state.get("_mixed_precision")
    if previous is not None and previous != mixed_precision:
        logger.info("resetting accelerate state (mixed precision %s, now %s)", previous, mixed_precision)
        AcceleratorState._reset_state(reset_partial_state=False)


def _examples(reports: Sequence[Report], tokenizer: Any, config: TrainConfig) -> tuple[list[TrainExample], ExampleCounts]:
    return build_examples(
        reports, tokenizer, config.prompt_template, config.max_seq_length,
        prompt_language=config.prompt_language, truncation=config.truncation,
    )


def _maybe_resume(run: _Run, checkpoints_dir: Path, resume: bool) -> None:
    checkpoints = list_checkpoints(checkpoints_dir)
    if not resume:
        if checkpoints:
            logger.warning("%s already contains checkpoints; starting from scratch (pass resume to continue)", checkpoints_dir)
        return
    if not checkpoints:
        logger.warning("resume requested but no checkpoint found in %s; starting from scratch", checkpoints_dir)
        return
    run.state = load_checkpoint(checkpoints[-1], run.accelerator, run.model, run.optimizer, run.scheduler)


def _tracker_config(config: TrainConfig) -> dict[str, Any]:
    return {key: value if isinstance(value, (int, float, str, bool)) else str(value) for key, value in config.to_dict().items()}


# ---------------------------------------------------------------- train


def token_loss_sum(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Return the summed cross-entropy over supervised next-token positions of a batch (not averaged)."""
    inputs = {key: value for key, value in batch.items() if key != "labels"}
    logits = model(**inputs, use_cache=False).logits.float()

    # Shifting the labels left (and padding with -100) rather than slicing the logits
    # avoids copying the batch x length x vocab logits tensor.
    shift_labels = torch.nn.functional.pad(batch["labels"][:, 1:], (0, 1), value=IGNORE_INDEX)
    return torch.nn.functional.cross_entropy(
        logits.view(-1, logits.shape[-1]),
        shift_labels.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="sum",
    )


def _train(run: _Run) -> bool:
    from tqdm.auto import tqdm

    config, accelerator, state = run.config, run.accelerator, run.state
    progress = tqdm(
        total=run.total_steps, initial=state.global_step, desc="LoRA steps",
        disable=not accelerator.is_local_main_process,
    )
    started = time.perf_counter()
    interval_tokens, interval_start = 0, time.perf_counter()
    run.model.train()

    while state.global_step < run.total_steps:
        windows = _epoch_windows(run, state.epoch)
        for window in windows[state.step_in_epoch:]:
            loss, supervised, tokens = _optimizer_step(run, window)
            state.global_step += 1
            state.step_in_epoch += 1
            interval_tokens += tokens
            progress.update(1)

            row = None
            if state.global_step % config.logging_every == 0 or state.global_step == run.total_steps:
                elapsed = time.perf_counter() - interval_start
                row = _metric_row(run, loss, supervised, interval_tokens / max(elapsed, 1e-9), time.perf_counter() - started)
                progress.set_postfix(loss=f"{loss:.4f}", tok_s=f"{row['tokens_per_s']:.0f}")
                interval_tokens, interval_start = 0, time.perf_counter()

            if run.val_examples and ((config.eval_every and state.global_step % config.eval_every == 0)
                                     or state.global_step == run.total_steps):
                row = row or _metric_row(run, loss, supervised, float("nan"), time.perf_counter() - started)
                if _evaluate_and_check_patience(run, row):
                    _record(run, row)
                    progress.close()
                    return True
            if row is not None:
                _record(run, row)

            if config.checkpoint_every and state.global_step % config.checkpoint_every == 0:
                save_checkpoint(Path(config.output_dir) / "checkpoints", accelerator, run.model,
                                run.optimizer, run.scheduler, state, config.keep_checkpoints)
            if state.global_step >= run.total_steps:
                break
        else:
            state.epoch += 1
            state.step_in_epoch = 0
    progress.close()
    return False


def _epoch_windows(run: _Run, epoch: int) -> list[list[list[int]]]:
    """Return this process's gradient-accumulation windows of ``epoch``, each a list of micro-batches of rows."""
    config, accelerator = run.config, run.accelerator
    row_lengths = [sum(len(run.train_examples[i].input_ids) for i in row) for row in run.rows]
    batches = plan_batches(row_lengths, config.per_device_batch_size, run.state.sampler_seed, epoch, config.group_by_length)
    if accelerator.num_processes > 1:
        # NOTE: the last (num_batches % num_processes) micro-batches of an epoch are dropped so every
        # process runs the same number of steps.
        usable = len(batches) - len(batches) % accelerator.num_processes
        batches = batches[accelerator.process_index:usable:accelerator.num_processes]
    accumulation = config.gradient_accumulation_steps
    return [batches[start:start + accumulation] for start in range(0, len(batches), accumulation)]


def _optimizer_step(run: _Run, window: list[list[int]]) -> tuple[float, int, int]:
    """Run one gradient-accumulation window; return (mean token loss, supervised tokens, input tokens)."""
    accelerator, config = run.accelerator, run.config
    micro_batches = [
        collate_rows([[run.train_examples[i] for i in run.rows[r]] for r in batch],
                     run.tokenizer.pad_token_id, config.packing)
        for batch in window
    ]
    input_tokens = sum(len(run.train_examples[i].input_ids) for batch in window for r in batch for i in run.rows[r])

    loss_sum, window_supervised = accumulate_gradients(run.model, micro_batches, accelerator)
    if config.max_grad_norm:
        accelerator.clip_grad_norm_(run.model.parameters(), config.max_grad_norm)
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)

    global_loss = accelerator.reduce(loss_sum.to(accelerator.device), "sum")
    global_tokens = int(accelerator.reduce(torch.tensor(input_tokens, device=accelerator.device), "sum"))
    return float(global_loss) / max(window_supervised, 1), window_supervised, global_tokens


def accumulate_gradients(model: Any, micro_batches: Sequence[dict[str, torch.Tensor]], accelerator: Any) -> tuple[torch.Tensor, int]:
    """Backpropagate a window of micro-batches as one loss: summed token losses / supervised tokens of the window.

    The supervised-token count is summed over all processes first, so each token
    has the same weight whatever micro-batch or process it landed in. Return this
    process's summed (not averaged) token loss and the window's supervised tokens.
    """
    local_supervised = sum(count_supervised(batch) for batch in micro_batches)
    window_supervised = int(accelerator.reduce(torch.tensor(local_supervised, device=accelerator.device), "sum"))

    # DDP averages gradients over processes, so the per-process sum is scaled by the process count.
    scale = accelerator.num_processes / max(window_supervised, 1)
    loss_total = torch.zeros((), dtype=torch.float32)
    for index, batch in enumerate(micro_batches):
        batch = {key: value.to(accelerator.device) for key, value in batch.items()}
        last = index == len(micro_batches) - 1
        # accelerate's DeepSpeed backward steps the engine whenever sync_gradients is set, so the
        # flag is cleared until the window's last micro-batch (as accelerator.accumulate does).
        accelerator.gradient_state._set_sync_gradients(last)
        context = accelerator.no_sync(model) if not last else contextlib.nullcontext()
        with context:
            with accelerator.autocast():
                loss_sum = token_loss_sum(model, batch)
            accelerator.backward(loss_sum * scale)
        loss_total += loss_sum.detach().float().cpu()
    accelerator.gradient_state._set_sync_gradients(True)
    return loss_total, window_supervised


def _metric_row(run: _Run, loss: float, supervised: int, tokens_per_s: float, elapsed: float) -> dict[str, Any]:
    return {
        "step": run.state.global_step,
        "epoch": round(run.state.epoch + run.state.step_in_epoch / max(run.windows_per_epoch, 1), 4),
        "train_loss": loss,
        "val_loss": None,
        "learning_rate": run.scheduler.get_last_lr()[0],
        "tokens_per_s": tokens_per_s,
        "supervised_tokens": supervised,
        "elapsed_s": round(elapsed, 3),
    }


def evaluate_loss(run_or_model: Any, examples: Sequence[TrainExample], pad_id: int, batch_size: int, accelerator: Any) -> float:
    """Return the token-level mean cross-entropy of ``examples`` (no dropout, no gradients)."""
    model = run_or_model
    was_training = model.training
    model.eval()
    loss_sum, tokens = 0.0, 0
    shard = list(range(accelerator.process_index, len(examples), accelerator.num_processes))
    with torch.no_grad():
        for start in range(0, len(shard), batch_size):
            rows = [[examples[i]] for i in shard[start:start + batch_size]]
            batch = {key: value.to(accelerator.device) for key, value in collate_rows(rows, pad_id, False).items()}
            with accelerator.autocast():
                loss_sum += float(token_loss_sum(model, batch))
            tokens += count_supervised(batch)
    if was_training:
        model.train()
    totals = accelerator.reduce(torch.tensor([loss_sum, float(tokens)], device=accelerator.device), "sum")
    return float(totals[0]) / max(float(totals[1]), 1.0)


def _evaluate_and_check_patience(run: _Run, row: dict[str, Any]) -> bool:
    """Add the validation loss to ``row``; return True when early stopping should end the run."""
    state, config = run.state, run.config
    val_loss = evaluate_loss(run.model, run.val_examples, run.tokenizer.pad_token_id,
                             config.per_device_batch_size, run.accelerator)
    row["val_loss"] = val_loss
    if state.best_val_loss is None or val_loss < state.best_val_loss:
        state.best_val_loss = val_loss
        state.evals_without_improvement = 0
        return False
    state.evals_without_improvement += 1
    patience = config.early_stopping_patience
    if patience and state.evals_without_improvement >= patience:
        logger.info("early stopping at step %d: no lower validation loss in %d evaluations", state.global_step, patience)
        return True
    return False


def _record(run: _Run, row: dict[str, Any]) -> None:
    run.state.history.append(row)
    if run.config.trackers:
        run.accelerator.log({key: value for key, value in row.items() if value is not None}, step=row["step"])
    if run.accelerator.is_main_process:
        write_metrics_csv(Path(run.config.output_dir) / "metrics.csv", run.state.history)


def write_metrics_csv(path: Path, history: Sequence[dict[str, Any]]) -> Path:
    """Write the metric rows to ``path`` as CSV with the columns of ``METRIC_COLUMNS``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=METRIC_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(history)
    return path


# ---------------------------------------------------------------- save


def _save(run: _Run, stopped_early: bool) -> TrainResult:
    import yaml

    from petf2i_core.training.model_card import write_model_card

    config, accelerator = run.config, run.accelerator
    output_dir = Path(config.output_dir)
    adapter_dir = output_dir / "adapter"
    metrics_csv = output_dir / "metrics.csv"
    accelerator.wait_for_everyone()

    card = None
    if accelerator.is_main_process:
        if adapter_dir.exists():
            shutil.rmtree(adapter_dir)
        accelerator.unwrap_model(run.model).save_pretrained(adapter_dir)
        run.tokenizer.save_pretrained(adapter_dir)
        write_metrics_csv(metrics_csv, run.state.history)
        (output_dir / "train_config.yaml").write_text(
            yaml.safe_dump(config.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        card = write_model_card(output_dir, config, run.counts, run.state.history, precision=run.precision)
    if config.trackers:
        accelerator.end_training()
    accelerator.wait_for_everyone()
    logger.info("saved adapter to %s after %d steps", adapter_dir, run.state.global_step)

    return TrainResult(
        output_dir=output_dir, adapter_dir=adapter_dir, metrics_csv=metrics_csv,
        history=list(run.state.history), counts=run.counts, global_step=run.state.global_step,
        stopped_early=stopped_early, model_card=card, precision=run.precision,
    )
