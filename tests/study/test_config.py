"""Study config loading: defaults, overrides and errors that name the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from petf2i_core.study.config import load_study_config, study_from_dict
from petf2i_core.study.data import cap_per_language
from petf2i_core.data.records import Report

REPO_ROOT = Path(__file__).resolve().parents[2]


def minimal(**extra):
    return {"name": "t", "systems": [{"name": "extractive", "kind": "baseline", "model": "extractive"}], **extra}


def test_default_study_config_loads():
    config = load_study_config(REPO_ROOT / "configs" / "study" / "default.yaml")
    assert config.name == "default"
    assert {system.kind for system in config.systems} >= {"baseline", "zero-shot", "lora"}
    assert config.evaluation.metrics == ["bleu4", "rougeL", "bertscore", "ecr", "uer", "fcr"]


def test_unknown_key_named():
    with pytest.raises(ValueError, match=r"data: unknown key\(s\) \['sorce'\]"):
        study_from_dict(minimal(data={"sorce": "x.jsonl"}))


def test_bad_split_rejected():
    with pytest.raises(ValueError, match="summing to 1"):
        study_from_dict(minimal(data={"split": {"train": 0.8, "val": 0.1, "test": 0.2}}))


def test_duplicate_system_names_rejected():
    raw = minimal()
    raw["systems"] = raw["systems"] * 2
    with pytest.raises(ValueError, match="unique"):
        study_from_dict(raw)


def test_lora_without_train_config_rejected():
    raw = minimal()
    raw["systems"] = [{"name": "ft", "kind": "lora", "model": "tiny"}]
    with pytest.raises(ValueError, match="train_config"):
        study_from_dict(raw)


def test_overrides_merge_into_sections(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(minimal(data={"synthetic_cases": 10})), encoding="utf-8")
    config = load_study_config(path, {"name": "other", "data": {"source": "x.jsonl"}})
    assert config.name == "other"
    assert config.data.source == "x.jsonl"
    assert config.data.synthetic_cases == 10
    assert config.run_path == Path("runs/other")


def test_cap_per_language_keeps_order():
    reports = [Report(f"{lang}{i}", "f", "i", lang) for i in range(5) for lang in ("zh", "en")]
    kept = cap_per_language(reports, 2)
    assert [r.id for r in kept] == ["zh0", "en0", "zh1", "en1"]
    assert cap_per_language(reports, None) == reports


def test_results_cell_shows_undefined_as_na():
    import pandas as pd

    from petf2i_core.study.report import results_table

    table = pd.DataFrame([
        {"system": "a", "language": "zh", "metric": "fcr", "score": float("nan"), "ci_low": float("nan"), "ci_high": float("nan")},
        {"system": "a", "language": "zh", "metric": "bleu4", "score": 0.5, "ci_low": 0.4, "ci_high": 0.6},
    ])
    wide = results_table(table, ["bleu4", "fcr"])
    assert wide.loc["a", ("zh", "FCR")] == "n/a"
    assert wide.loc["a", ("zh", "BLEU-4")] == "0.500 [0.400, 0.600]"


def test_join_predictions_follows_prediction_order():
    import pytest

    from petf2i_core.study.report import join_predictions

    reports = [Report("a", "右肺结节", "考虑肺癌", "zh"), Report("b", "No nodule.", "Normal study.", "en")]
    rows = join_predictions(reports, [{"id": "b", "prediction": "Normal."}, {"id": "a", "prediction": "肺癌"}])
    assert [row["id"] for row in rows] == ["b", "a"]
    assert rows[1] == {"id": "a", "findings": "右肺结节", "impression": "考虑肺癌", "prediction": "肺癌", "language": "zh"}
    with pytest.raises(KeyError, match="'c'"):
        join_predictions(reports, [{"id": "c", "prediction": "x"}])
