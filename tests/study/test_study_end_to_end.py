"""Whole studies through the runner: real report slices and a LoRA system, into a book."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from petf2i_core.data.records import read_jsonl, write_jsonl
from petf2i_core.models.tiny import build_tiny_qwen2
from petf2i_core.study.config import study_from_dict
from petf2i_core.study.paths import predictions_path, scores_path
from petf2i_core.study.runner import run_study

SIX_METRICS = ["bleu4", "rougeL", "bertscore", "ecr", "uer", "fcr"]
REAL_SETS = {"iu-xray": ("iu-xray/iu-xray.jsonl", "en"), "crrsum": ("crrsum/crrsum.jsonl", "zh")}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_qwen2(tmp_path_factory.mktemp("tiny"))


def executed_outputs(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.extend(str(value) for value in output.get("data", {}).values())
    return "\n".join(texts)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REAL_SETS))
def test_study_runs_on_real_slice(tmp_path, real_data_dir, tiny_model, name):
    relative, language = REAL_SETS[name]
    # A slice in tmp_path only: the real sets' licences forbid copying them into the project.
    rows = list(read_jsonl(real_data_dir / relative))[:90]
    source = tmp_path / f"{name}-slice.jsonl"
    write_jsonl(source, rows)

    config = study_from_dict({
        "name": name,
        "seed": 7,
        "run_dir": str(tmp_path / "run"),
        "data": {"source": str(source), "max_test_reports": 6},
        "systems": [
            {"name": "extractive", "kind": "baseline", "model": "extractive"},
            {"name": "retrieval", "kind": "baseline", "model": "retrieval"},
            {"name": "tiny", "kind": "zero-shot", "model": str(tiny_model), "template": "zero-shot",
             "generation": {"max_new_tokens": 12, "batch_size": 3}},
        ],
        "evaluation": {"n_bootstrap": 50},
    })
    run = run_study(config)
    run_dir = tmp_path / "run"

    prepared = json.loads((run_dir / "data" / "prepared" / "summary.json").read_text(encoding="utf-8"))
    assert prepared["counts"]["rows_in"] == 90
    assert prepared["counts"]["accepted"] + prepared["counts"]["rejected"] == 90

    for system in ("extractive", "retrieval", "tiny"):
        scores = json.loads(scores_path(run_dir, system).read_text(encoding="utf-8"))
        assert list(scores["languages"]) == [language]
        group = scores["languages"][language]
        assert list(group["metrics"]) == SIX_METRICS
        assert group["n_rows"] == len(list(read_jsonl(predictions_path(run_dir, system))))
        assert "versions" in scores
        assert scores["versions"]["torch"]

    # The saved evaluation rows follow the `petf2i evaluate` contract and rescore to the same BLEU-4.
    from petf2i_core.cli.main import main
    from petf2i_core.study.paths import evaluation_rows_path

    rescored = tmp_path / "rescored.json"
    assert main(["evaluate", str(evaluation_rows_path(run_dir, "retrieval")), "--metrics", "bleu4",
                 "--bootstrap", "0", "--out", str(rescored)]) == 0
    original = json.loads(scores_path(run_dir, "retrieval").read_text(encoding="utf-8"))
    again = json.loads(rescored.read_text(encoding="utf-8"))
    assert again["languages"][language]["metrics"]["bleu4"]["score"] == original["languages"][language]["metrics"]["bleu4"]["score"]

    results = run.config.book_path / "generated" / "results.ipynb"
    assert "BLEU-4" in executed_outputs(results)
    assert json.loads(run.manifest.read_text(encoding="utf-8"))["versions"]["transformers"]


@pytest.mark.slow
def test_study_with_lora_builds_a_book(tmp_path, tiny_model):
    config = study_from_dict({
        "name": "tiny-lora",
        "seed": 3,
        "run_dir": str(tmp_path / "run"),
        "data": {"source": "synthetic", "synthetic_cases": 40, "max_test_reports": 3},
        "systems": [
            {"name": "retrieval", "kind": "baseline", "model": "retrieval"},
            {"name": "tiny-lora", "kind": "lora", "model": str(tiny_model), "template": "zero-shot",
             "train_config": "configs/train/cpu-default.yaml",
             "train_overrides": {"max_steps": 4, "per_device_batch_size": 2, "max_seq_length": 256, "eval_every": 2},
             "generation": {"max_new_tokens": 8, "batch_size": 3}},
        ],
        "evaluation": {"metrics": ["bleu4", "rougeL", "ecr", "uer", "fcr"], "n_bootstrap": 20},
    })
    run = run_study(config)
    book = run.config.book_path
    assert (book / "generated" / "training" / "tiny-lora.ipynb").is_file()
    assert "System: tiny-lora" in nbformat.read(book / "generated" / "systems" / "tiny-lora.ipynb", as_version=4).cells[0].source

    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(jupyter_book), "build", str(book)], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = book / "_build" / "html"
    for page in ("index.html", "generated/results.html", "generated/dataset.html", "metrics_definitions.html",
                 "generated/training/tiny-lora.html", "generated/examples.html", "generated/efficiency.html"):
        assert (html / page).is_file(), page
