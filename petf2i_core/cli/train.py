"""``petf2i train``: LoRA fine-tuning from a YAML recipe, and ``petf2i train merge``-style export."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` and ``merge`` commands."""
    parser = subparsers.add_parser(
        "train",
        help="fine-tune a model with LoRA from a YAML recipe",
        description=(
            "Fine-tune with LoRA. Runs the same on CPU and under "
            "`accelerate launch --config_file configs/accelerate/<x>.yaml -m petf2i_core.cli.main train ...`."
        ),
    )
    parser.add_argument("config", help="training recipe YAML, for example configs/train/cpu-default.yaml")
    parser.add_argument("--data", required=True,
                        help="prepared folder with train.jsonl (and val.jsonl), or one JSONL file of training reports")
    parser.add_argument("--val", help="validation JSONL (default: DATA/val.jsonl when DATA is a folder)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a recipe option, value read as YAML (repeatable), e.g. --set lora_rank=16")
    parser.add_argument("--output-dir", help="run folder (overrides output_dir of the recipe)")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in the run folder")
    parser.set_defaults(handler=run_train)

    merge = subparsers.add_parser(
        "merge",
        help="merge a LoRA adapter into its base model and export it, checking logits",
    )
    merge.add_argument("adapter", help="adapter folder written by `petf2i train` (RUN/adapter)")
    merge.add_argument("out", help="fresh folder for the merged model")
    merge.add_argument("--base", help="base model reference (default: base_model_name_or_path of the adapter)")
    merge.add_argument("--atol", type=float, default=1e-4, help="max allowed absolute logit difference (default 1e-4)")
    merge.set_defaults(handler=run_merge)


def _data_files(data: Path, val: str | None) -> tuple[Path, Path | None]:
    if data.is_dir():
        train_file = data / "train.jsonl"
        if not train_file.exists():
            raise FileNotFoundError(f"{train_file} not found; pass a folder made by `petf2i data prepare` or a JSONL file")
        if val:
            return train_file, Path(val)
        default_val = data / "val.jsonl"
        return train_file, default_val if default_val.exists() else None
    if not data.exists():
        raise FileNotFoundError(f"{data} not found; pass a JSONL file of reports or a prepared data folder")
    return data, Path(val) if val else None


def run_train(args: argparse.Namespace) -> int:
    """Load the recipe and reports, train, and print where the adapter went."""
    from petf2i_core.data.records import load_reports
    from petf2i_core.training.config import TrainConfig, parse_override
    from petf2i_core.training.trainer import train_lora

    overrides = dict(parse_override(item) for item in args.overrides)
    if args.output_dir:
        overrides["output_dir"] = args.output_dir
    config = TrainConfig.from_yaml(args.config, overrides=overrides)

    train_file, val_file = _data_files(Path(args.data), args.val)
    train_reports = load_reports(train_file)
    val_reports = load_reports(val_file) if val_file else None
    logger.info("training on %d reports from %s (validation: %s)", len(train_reports), train_file, val_file or "none")

    result = train_lora(config, train_reports, val_reports, resume=args.resume)
    print(f"adapter: {result.adapter_dir}")
    print(f"metrics: {result.metrics_csv}")
    print(f"steps: {result.global_step}{' (stopped early)' if result.stopped_early else ''}")
    return 0


def run_merge(args: argparse.Namespace) -> int:
    """Merge an adapter into its base model and export it to a fresh folder."""
    import json

    from petf2i_core.training.merge import merge_and_export

    adapter = Path(args.adapter)
    base = args.base
    if base is None:
        config_file = adapter / "adapter_config.json"
        if not config_file.exists():
            raise FileNotFoundError(f"{config_file} not found; pass the adapter folder of a training run")
        base = json.loads(config_file.read_text(encoding="utf-8"))["base_model_name_or_path"]
    result = merge_and_export(base, adapter, args.out, atol=args.atol)
    print(f"merged model: {result['out_dir']} (max abs logit diff {result['max_abs_diff']:.2e})")
    return 0
