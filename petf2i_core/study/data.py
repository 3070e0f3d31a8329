"""The study's data step: synthetic corpus, a prepared folder, or a raw user file, into splits."""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from pathlib import Path

from petf2i_core.data.records import Report, load_reports, write_jsonl
from petf2i_core.study.config import StudyConfig

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
# The pseudonym key of data preparation is a secret, so it comes from the environment only.
PSEUDONYM_KEY_VARIABLE = "PETF2I_DEID_KEY"


def materialise_data(config: StudyConfig) -> dict[str, Path]:
    """Write ``train/val/test.jsonl`` under ``<run_dir>/data`` and return their paths.

    The source is the synthetic corpus, a folder written by ``petf2i data
    prepare`` (used as it is), or a raw file (prepared first: de-identified,
    deduplicated and split by patient). Caps per language then apply in split order.
    """
    out_dir = config.run_path / "data"
    out_dir.mkdir(parents=True, exist_ok=True)
    source = config.data.source

    if source == "synthetic":
        splits = _synthetic_splits(config)
    elif Path(source).is_dir() and all((Path(source) / f"{name}.jsonl").is_file() for name in SPLITS):
        splits = {name: load_reports(Path(source) / f"{name}.jsonl") for name in SPLITS}
    elif Path(source).exists():
        splits = _prepare_raw(config, Path(source), out_dir / "prepared")
    else:
        raise FileNotFoundError(
            f"data.source {source!r} is neither 'synthetic' nor an existing file or prepared folder"
        )

    splits["train"] = cap_per_language(splits["train"], config.data.max_train_reports)
    splits["test"] = cap_per_language(splits["test"], config.data.max_test_reports)

    paths = {}
    for name in SPLITS:
        paths[name] = out_dir / f"{name}.jsonl"
        write_jsonl(paths[name], splits[name])
        logger.info("%s split: %d reports", name, len(splits[name]))
    return paths


def _synthetic_splits(config: StudyConfig) -> dict[str, list[Report]]:
    from petf2i_core.data.splits import split_reports
    from petf2i_core.data.synth import generate_corpus

    reports = generate_corpus(
        config.data.synthetic_cases,
        language=config.data.language,
        seed=config.seed,
        noise_rate=config.data.noise_rate,
    )
    return split_reports(reports, ratios=split_ratios(config), seed=config.seed)


def split_ratios(config: StudyConfig) -> tuple[float, float, float]:
    """Return the train, val and test ratios of the study config as a tuple."""
    return tuple(config.data.split[name] for name in SPLITS)


def _prepare_raw(config: StudyConfig, source: Path, out_dir: Path) -> dict[str, list[Report]]:
    from petf2i_core.data.prepare import PrepareConfig, prepare

    if "key" in config.data.prepare_options:
        raise ValueError(
            f"data.prepare_options must not hold 'key': the study config is written into the run manifest; "
            f"set the pseudonym key in the environment variable {PSEUDONYM_KEY_VARIABLE} instead"
        )
    options = {"ratios": split_ratios(config), "seed": config.seed, **config.data.prepare_options}
    options["key"] = os.environ.get(PSEUDONYM_KEY_VARIABLE, "")
    result = prepare([source], out_dir, PrepareConfig(**options))
    return {name: result.splits[name] for name in SPLITS}


def cap_per_language(reports: list[Report], limit: int | None) -> list[Report]:
    """Keep at most ``limit`` reports per language, in their current order."""
    if limit is None:
        return list(reports)
    kept: list[Report] = []
    counts: dict[str, int] = defaultdict(int)
    for report in reports:
        if counts[report.language] < limit:
            kept.append(report)
            counts[report.language] += 1
    return kept
