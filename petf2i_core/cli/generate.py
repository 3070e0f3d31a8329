"""``petf2i generate``: generate impressions for a data split with one registry model."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``generate`` command."""
    parser = subparsers.add_parser("generate", help="generate impressions with a registry model (cached, resumable)")
    parser.add_argument("--model", required=True, help="registry name (see `petf2i models list`) or a local model folder")
    parser.add_argument("--data", required=True, help="prepared folder with train/val/test.jsonl, or one JSONL file of reports")
    parser.add_argument("--split", default="test", help="split to generate for (default: test)")
    parser.add_argument("--out", required=True, help="output JSONL: one row per report with id, prediction and record fields")
    parser.add_argument("--train", help="training reports for few-shot examples and the retrieval baseline (default: DATA/train.jsonl)")
    parser.add_argument("--template", help="prompt template name (default: the model's registry template)")
    parser.add_argument("--adapter", help="folder of a LoRA adapter to apply unmerged")
    parser.add_argument("--backend", help="override the registry backend (for example vllm)")
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint for API models (overrides the registry)")
    parser.add_argument("--cache-dir", help="generation cache folder (default: OUT's folder/.generation-cache)")
    parser.add_argument("--max-new-tokens", type=int, default=256, help="maximum generated tokens per report (default: 256)")
    parser.add_argument("--batch-size", type=int, default=8, help="reports per batch, and per cache write (default: 8)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for sampling (default: 0)")
    parser.add_argument("--sample", action="store_true", help="sample instead of greedy decoding")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (with --sample)")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (with --sample)")
    parser.add_argument("--repetition-penalty", type=float, default=1.0, help="repetition penalty, 1.0 for none (hf backend)")
    parser.add_argument("--no-repeat-ngram-size", type=int, default=0, help="forbid repeated n-grams of this size, 0 for off (hf backend)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight for API models (default: 4)")
    parser.add_argument("--limit", type=int, help="generate for the first N reports only")
    parser.add_argument("--private", action="store_true", help="mark the data as private (remote models are rejected)")
    parser.add_argument("--allow-remote", action="store_true", help="allow remote models on private data")
    parser.set_defaults(handler=generate_command)


def load_split(data: str | Path, split: str, train: str | Path | None = None) -> tuple[list, list | None]:
    """Load the reports of ``split`` and the training reports from a prepared folder or a JSONL file.

    A single JSONL file is filtered by its rows' ``split`` field. Without that
    field, every row belongs to the requested split.
    """
    from petf2i_core.data.records import load_reports

    data = Path(data)
    if data.is_dir():
        split_file = data / f"{split}.jsonl"
        if not split_file.is_file():
            raise FileNotFoundError(f"{split_file} not found; prepare the data with `petf2i data prepare` or pass a JSONL file")
        reports = load_reports(split_file)
        train_file = Path(train) if train else data / "train.jsonl"
        train_reports = load_reports(train_file) if train_file.is_file() else None
        return reports, train_reports

    rows = load_reports(data)
    if any("split" in report.meta for report in rows):
        reports = [report for report in rows if report.meta.get("split") == split]
        train_reports = [report for report in rows if report.meta.get("split") == "train"] or None
    else:
        reports, train_reports = rows, None
    if train:
        train_reports = load_reports(train)
    if not reports:
        raise ValueError(f"{data}: no reports in split {split!r}")
    return reports, train_reports


def generate_command(args: argparse.Namespace) -> int:
    """Run generation and write the rows and a run summary."""
    from petf2i_core.data.records import write_jsonl
    from petf2i_core.generation.runner import generate_predictions, resolve_entry, summarize_run
    from petf2i_core.models.registry import dataset_is_private

    reports, train_reports = load_split(args.data, args.split, args.train)
    if args.limit:
        reports = reports[: args.limit]
    out = Path(args.out)
    entry = resolve_entry(args.model)

    decoding = {"do_sample": args.sample, "repetition_penalty": args.repetition_penalty,
                "no_repeat_ngram_size": args.no_repeat_ngram_size}
    if args.sample:
        decoding.update(temperature=args.temperature, top_p=args.top_p)
    backend_options = {"max_concurrency": args.concurrency} if (args.backend or entry.backend) == "openai" else {}

    rows = generate_predictions(
        entry, reports, template=args.template, cache_dir=args.cache_dir or out.parent / ".generation-cache",
        train_reports=train_reports, adapter=args.adapter, max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size, seed=args.seed, private=args.private or dataset_is_private(args.data),
        allow_remote=args.allow_remote, base_url=args.base_url, backend=args.backend,
        backend_options=backend_options, **decoding,
    )
    write_jsonl(out, rows)

    summary = summarize_run(rows, entry)
    summary_path = out.with_name(out.stem + ".summary.json")
    summary_path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    logger.info("wrote %d predictions to %s (%s output tokens/s; summary %s)", len(rows), out,
                summary["output_tokens_per_second"], summary_path)
    return 1 if summary["errors"] else 0
