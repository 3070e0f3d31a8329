"""Hand-annotated entity gold for real public report sets, joined with their text by id.

The annotations in ``data/annotations/<set>.jsonl`` store only report ids and
entity keys, because the licences of the real sets forbid copying their text;
the text is read by id from the real set at run time. See
``data/annotations/README.md`` for the selection and the annotation policy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from petf2i_core.data.records import Report, read_jsonl
from petf2i_core.entities.validation import score_extraction

ANNOTATIONS_DIR = Path(__file__).resolve().parents[2] / "data" / "annotations"
# Annotated set name to (path of its normalised JSONL inside the real-data folder, language).
ANNOTATED_SETS = {"iu-xray": ("iu-xray/iu-xray.jsonl", "en"), "crrsum": ("crrsum/crrsum.jsonl", "zh")}
GOLD_KEY = "gold"


def load_annotated(name: str, real_data_dir: str | Path, annotations_dir: str | Path | None = None) -> list[Report]:
    """Return the annotated reports of set ``name`` with their gold in ``meta["gold"]``.

    Raises KeyError for an unknown set and FileNotFoundError, naming the missing
    file, when the annotations or the real set cannot be found.
    """
    if name not in ANNOTATED_SETS:
        raise KeyError(f"no annotations for {name!r}; annotated sets: {sorted(ANNOTATED_SETS)}")
    relative, _ = ANNOTATED_SETS[name]
    source = Path(real_data_dir) / relative
    gold_path = Path(annotations_dir or ANNOTATIONS_DIR) / f"{name}.jsonl"
    for path in (source, gold_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found; annotated reports need both the real set and its annotations")

    texts = {str(record["id"]): record for record in read_jsonl(source)}
    reports = []
    for gold in read_jsonl(gold_path):
        record = texts.get(gold["id"])
        if record is None:
            raise KeyError(f"{gold_path}: report {gold['id']} is not in {source}; the real set changed")
        meta = {GOLD_KEY: {"findings": gold["findings"], "impression": gold["impression"]}, "split": gold["split"]}
        reports.append(Report(record["id"], record["findings"], record["impression"], record["language"], meta=meta))
    return reports


def score_annotated_sets(real_data_dir: str | Path, annotations_dir: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Return extractor precision, recall and F1 per annotated set, overall and per annotation split."""
    table: dict[str, dict[str, Any]] = {}
    for name, (_, language) in ANNOTATED_SETS.items():
        reports = load_annotated(name, real_data_dir, annotations_dir)
        for split in ("all", "development", "held_out"):
            selected = [r for r in reports if split == "all" or r.meta["split"] == split]
            overall = score_extraction(selected, gold_key=GOLD_KEY)["groups"][language]
            table[f"{name} ({split}, {len(selected)} reports)"] = {
                key: overall[key] for key in ("precision", "recall", "f1", "tp", "fp", "fn") if key in overall
            }
    return table
