"""Benchmark LoRA training throughput against TRL's SFTTrainer, packing against padding, and 7B memory.

Measured (same model, reports, LoRA settings, batch size and epochs for every run):
* training tokens per second of :func:`petf2i_core.training.trainer.train_lora` and of
  ``trl.SFTTrainer`` (prompt-completion data, loss on the completion only). Tokens are the
  non-padding tokens of every example seen, divided by the training-loop wall time
  (``train_runtime`` for TRL, loop time without model loading for petf2i);
* petf2i with padding (random batches), padding with length-grouped batches, and packing.

Estimated, not measured: peak GPU memory of Qwen2.5-7B LoRA per precision from
:mod:`petf2i_core.training.memory` (formula and assumptions in its docstring).

The default model is the tiny random Qwen2 of :mod:`petf2i_core.models.tiny`; pass
``--model DIR`` for another local model. Reports are synthetic with findings from 1 to
30 sentences (exponentially distributed, mean about 5), so lengths vary as in real reports.
Each configuration runs ``--repeats`` times and the fastest run counts, because the
benchmark machine is shared and slower runs measure other processes' load.

Usage: ``.venv/bin/python benchmarks/bench_training.py [--reports 256] [--epochs 2] [--out benchmarks/results/training.json]``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from petf2i_core.data.records import Report  # noqa: E402
from petf2i_core.provenance import package_versions  # noqa: E402
from petf2i_core.training.config import TrainConfig  # noqa: E402
from petf2i_core.training.memory import QWEN25_7B, estimate_lora_memory  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SENTENCES_ZH = ("右肺上叶见一结节，大小约1.2×0.9cm，SUVmax 5.2。", "纵隔见多发肿大淋巴结，代谢增高。",
                "肝脏未见异常放射性摄取。", "左侧颈部淋巴结轻度摄取增高。", "骶骨见骨质破坏伴代谢增高。")
IMPRESSIONS_ZH = ("考虑恶性病变，建议病理活检。", "考虑炎性病变可能，建议随访。", "考虑淋巴结转移。")


def synthetic_reports(count: int, seed: int) -> list[Report]:
    """Return Chinese reports with skewed findings lengths: mostly short, a few up to 30 sentences (seeded)."""
    generator = random.Random(seed)
    reports = []
    for index in range(count):
        sentence_count = min(30, 1 + int(generator.expovariate(1 / 5)))
        sentences = [generator.choice(SENTENCES_ZH) for _ in range(sentence_count)]
        reports.append(Report(id=f"b{index}", findings="".join(sentences),
                              impression=generator.choice(IMPRESSIONS_ZH), language="zh"))
    return reports


def common_settings(model_dir: str, epochs: int, batch_size: int, seed: int) -> dict:
    """Return the TrainConfig fields shared by every petf2i run."""
    return {
        "base_model": model_dir, "lora_rank": 8, "lora_alpha": 16, "lora_dropout": 0.05,
        "target_modules": "all-linear", "learning_rate": 2e-4, "scheduler": "constant", "warmup_ratio": 0.0,
        "epochs": epochs, "max_seq_length": 1024, "per_device_batch_size": batch_size,
        "max_grad_norm": 1.0, "seed": seed, "logging_every": 1000,
    }


def run_petf2i(reports: list[Report], settings: dict, **options) -> dict:
    """Train with petf2i and return tokens, loop seconds and tokens per second."""
    from petf2i_core.training.trainer import train_lora

    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig.from_dict({**settings, **options, "output_dir": out})
        result = train_lora(config, reports)
        seconds = result.history[-1]["elapsed_s"]
    tokens = _example_tokens(reports, settings) * settings["epochs"]
    return {"options": options, "steps": result.global_step, "tokens": tokens,
            "seconds": seconds, "tokens_per_s": tokens / seconds}


def _example_tokens(reports: list[Report], settings: dict) -> int:
    from transformers import AutoTokenizer

    from petf2i_core.training.examples import build_examples

    tokenizer = AutoTokenizer.from_pretrained(settings["base_model"])
    examples, _ = build_examples(reports, tokenizer, "zero-shot", settings["max_seq_length"])
    return sum(len(example.input_ids) for example in examples)


def run_trl(reports: list[Report], settings: dict) -> dict:
    """Train the same LoRA with trl.SFTTrainer on prompt-completion data; return its throughput."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from petf2i_core.generation.prompts import build_messages
    from petf2i_core.training.lora import resolve_target_modules

    tokenizer = AutoTokenizer.from_pretrained(settings["base_model"])
    model = AutoModelForCausalLM.from_pretrained(settings["base_model"], dtype=torch.float32)
    rows = [{"prompt": build_messages("zero-shot", r.findings, r.language),
             "completion": [{"role": "assistant", "content": r.impression}]} for r in reports]
    lora = LoraConfig(r=settings["lora_rank"], lora_alpha=settings["lora_alpha"], lora_dropout=settings["lora_dropout"],
                      target_modules=resolve_target_modules(model, "all-linear"), task_type="CAUSAL_LM")

    with tempfile.TemporaryDirectory() as out:
        args = SFTConfig(
            output_dir=out, per_device_train_batch_size=settings["per_device_batch_size"],
            num_train_epochs=settings["epochs"], learning_rate=settings["learning_rate"],
            lr_scheduler_type="constant", max_grad_norm=settings["max_grad_norm"], seed=settings["seed"],
            max_length=settings["max_seq_length"], packing=False, completion_only_loss=True,
            use_cpu=True, save_strategy="no", report_to="none", logging_steps=1000, dataloader_num_workers=0,
            gradient_checkpointing=False,  # SFTConfig switches it on by default; petf2i runs without it
            bf16=False, fp16=False,  # fp32, as petf2i uses on CPU
        )
        trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                             processing_class=tokenizer, peft_config=lora)
        metrics = trainer.train().metrics
        tokens = sum(len(ids) for ids in trainer.train_dataset["input_ids"]) * settings["epochs"]
    seconds = metrics["train_runtime"]
    return {"steps": trainer.state.global_step, "tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds}


def memory_estimates() -> dict:
    """Return the Qwen2.5-7B LoRA memory ESTIMATES (r=16, 1024 tokens, batch 4) per precision."""
    estimates = {}
    for precision in ("fp32", "bf16", "int4"):
        for checkpointing in (True, False):
            estimate = estimate_lora_memory(QWEN25_7B, precision, rank=16, seq_length=1024, batch_size=4,
                                            gradient_checkpointing=checkpointing, flash_attention=True)
            key = f"{precision}{'' if checkpointing else '_no_checkpointing'}"
            estimates[key] = {name: round(value, 2) if isinstance(value, float) else value
                              for name, value in estimate.to_dict().items()}
    return {"note": "ESTIMATE, not measured; formula in petf2i_core/training/memory.py",
            "model": "Qwen2.5-7B-Instruct", "rank": 16, "seq_length": 1024, "batch_size": 4,
            "flash_attention": True, "by_precision": estimates}


def main() -> None:
    """Run every measurement and write the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="local model folder (default: build the tiny random Qwen2)")
    parser.add_argument("--reports", type=int, default=256, help="synthetic training reports")
    parser.add_argument("--epochs", type=int, default=2, help="passes over the reports per run")
    parser.add_argument("--batch-size", type=int, default=8, help="examples per micro-batch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2, help="runs per configuration; the fastest counts")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads for every run")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "training.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as work:
        model_dir = args.model
        if model_dir is None:
            from petf2i_core.models.tiny import build_tiny_qwen2

            model_dir = str(build_tiny_qwen2(Path(work) / "tiny", seed=args.seed))
        reports = synthetic_reports(args.reports, args.seed)
        settings = common_settings(model_dir, args.epochs, args.batch_size, args.seed)

        runs = {"petf2i_padding": [], "petf2i_padding_grouped": [], "petf2i_packing": [], "trl_sft_padding": []}
        for _ in range(args.repeats):
            runs["petf2i_padding"].append(run_petf2i(reports, settings, group_by_length=False, packing=False))
            runs["petf2i_padding_grouped"].append(run_petf2i(reports, settings, group_by_length=True, packing=False))
            runs["petf2i_packing"].append(run_petf2i(reports, settings, group_by_length=False, packing=True))
            runs["trl_sft_padding"].append(run_trl(reports, settings))
        best = {name: max(items, key=lambda item: item["tokens_per_s"]) for name, items in runs.items()}
        for name, items in runs.items():
            best[name]["all_tokens_per_s"] = [round(item["tokens_per_s"], 1) for item in items]
        padded, grouped, packed, trl_run = (best[name] for name in runs)

    result = {
        "benchmark": "training",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "versions": package_versions(),
        "model": args.model or "tiny random Qwen2 (hidden 64, 2 layers)",
        "reports": args.reports, "epochs": args.epochs, "batch_size": args.batch_size,
        "repeats": args.repeats, "torch_threads": args.threads,
        "throughput": best,
        "ratios": {
            "petf2i_padding_over_trl": padded["tokens_per_s"] / trl_run["tokens_per_s"],
            "packing_over_padding": packed["tokens_per_s"] / padded["tokens_per_s"],
            "grouped_over_padding": grouped["tokens_per_s"] / padded["tokens_per_s"],
        },
        "memory_7b_estimate": memory_estimates(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({"ratios": result["ratios"],
                      "tokens_per_s": {k: round(v["tokens_per_s"]) for k, v in result["throughput"].items()}}, indent=2))


if __name__ == "__main__":
    main()
