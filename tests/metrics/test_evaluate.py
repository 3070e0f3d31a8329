"""Tests of evaluate(), its result object and the ``petf2i evaluate`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sacrebleu

from petf2i_core.cli.main import main
from petf2i_core.metrics import registry
from petf2i_core.metrics.evaluate import EvaluationResult, InvalidRowError, detect_language, evaluate
from petf2i_core.provenance import package_versions

ROWS = [
    {"id": "zh-1", "findings": "右肺上叶结节。", "impression": "右肺上叶结节，代谢增高", "prediction": "右肺上叶结节代谢增高"},
    {"id": "zh-2", "findings": "肝脏。", "impression": "肝脏未见异常代谢增高", "prediction": "肝脏可见异常代谢增高"},
    {"id": "zh-3", "findings": "双肺。", "impression": "双肺多发小结节SUVmax 2.1", "prediction": "双肺多发结节SUVmax 2.1"},
    {"id": "en-1", "findings": "Lungs clear.", "impression": "No acute disease.", "prediction": "No acute cardiopulmonary disease."},
    {"id": "en-2", "findings": "Nodes.", "impression": "Stable mediastinal lymph nodes.", "prediction": "Stable lymph nodes."},
]
LEXICAL = ("bleu4", "rougeL")


def test_auto_groups_rows_by_language():
    result = evaluate(ROWS, metrics=LEXICAL, n_bootstrap=50)
    assert set(result.languages) == {"zh", "en"}
    assert result.languages["zh"].ids == ["zh-1", "zh-2", "zh-3"]
    assert result.languages["en"].ids == ["en-1", "en-2"]


def test_group_scores_equal_sacrebleu_per_language():
    result = evaluate(ROWS, metrics=LEXICAL, n_bootstrap=0)
    zh_rows = ROWS[:3]
    expected = sacrebleu.corpus_bleu(
        [row["prediction"] for row in zh_rows], [[row["impression"] for row in zh_rows]], tokenize="zh"
    ).score / 100
    assert result.score("zh", "bleu4") == pytest.approx(expected, abs=1e-6)
    assert result.languages["zh"].metrics["bleu4"].ci_low is None


def test_interval_and_signature_present():
    result = evaluate(ROWS, metrics=LEXICAL, n_bootstrap=100, seed=1)
    rouge = result.languages["en"].metrics["rougeL"]
    assert rouge.ci_low <= rouge.score <= rouge.ci_high
    assert "tok:rouge-score" in str(rouge.signature)
    assert "tok:cjk" in str(result.languages["zh"].metrics["rougeL"].signature)


def test_same_seed_same_result():
    first = evaluate(ROWS, metrics=LEXICAL, n_bootstrap=100, seed=9)
    second = evaluate(ROWS, metrics=LEXICAL, n_bootstrap=100, seed=9)
    assert first.table(with_interval=True).equals(second.table(with_interval=True))


def test_table_is_language_by_metric():
    table = evaluate(ROWS, metrics=LEXICAL, n_bootstrap=0).table()
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == list(LEXICAL)
    assert list(table.index) == ["zh", "en"]
    # Per-row F1: punctuation only differs (1.0), one character differs (0.9), 8 of 9 tokens (16/17).
    assert table.loc["zh", "rougeL"] == pytest.approx((1.0 + 0.9 + 16 / 17) / 3)


def test_forced_language_scores_all_rows_together():
    result = evaluate(ROWS[:3], language="zh", metrics=("rougeL",), n_bootstrap=0)
    assert list(result.languages) == ["zh"]
    samples = result.samples()
    assert [sample["id"] for sample in samples] == ["zh-1", "zh-2", "zh-3"]
    assert samples[1]["rougeL"] == pytest.approx(0.9)


def test_to_json_has_versions_and_samples(tmp_path: Path):
    path = evaluate(ROWS, metrics=LEXICAL, n_bootstrap=20).to_json(tmp_path / "scores.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["versions"]["sacrebleu"] == package_versions()["sacrebleu"]
    assert "bert-score" in data["versions"]
    assert data["bootstrap"] == {"n_resamples": 20, "seed": 12345, "level": 0.95}
    assert len(data["samples"]) == len(ROWS)
    assert data["languages"]["zh"]["metrics"]["bleu4"]["signature"].startswith("bleu4|")
    assert len(data["languages"]["en"]["metrics"]["rougeL"]["ci95"]) == 2


def test_metric_options_per_language():
    options = {"rougeL": {"zh": {"tokenizer": "jieba"}}}
    result = evaluate(ROWS, metrics=("rougeL",), n_bootstrap=0, metric_options=options)
    assert "tok:jieba" in str(result.languages["zh"].metrics["rougeL"].signature)
    assert "tok:rouge-score" in str(result.languages["en"].metrics["rougeL"].signature)


def test_unavailable_metric_fails_only_when_requested(monkeypatch):
    registry._import_builtin_metrics()
    monkeypatch.delitem(registry._REGISTRY, "ecr")
    result = evaluate(ROWS, metrics=LEXICAL, n_bootstrap=0)
    assert isinstance(result, EvaluationResult)
    with pytest.raises(ValueError, match="'ecr' was requested but is not available"):
        evaluate(ROWS, metrics=("bleu4", "ecr"), n_bootstrap=0)


def test_missing_field_names_row():
    rows = [dict(ROWS[0]), {"id": "x", "findings": "f", "impression": "肝脏"}]
    with pytest.raises(InvalidRowError, match=r"<rows>:2: missing field\(s\) \['prediction'\]"):
        evaluate(rows, metrics=LEXICAL)


def test_empty_reference_rejected():
    rows = [dict(ROWS[0], impression="  ")]
    with pytest.raises(InvalidRowError, match="reference impression is empty"):
        evaluate(rows, metrics=LEXICAL)


def test_duplicate_id_rejected():
    rows = [dict(ROWS[0]), dict(ROWS[1], id=ROWS[0]["id"])]
    with pytest.raises(ValueError, match=rf"<rows>:2: duplicate id '{ROWS[0]['id']}' \(first on row 1\)"):
        evaluate(rows, metrics=LEXICAL)


def test_empty_predictions_counted_per_language():
    rows = [dict(ROWS[0], language="zh", prediction=" "), dict(ROWS[1], language="zh")]
    data = evaluate(rows, metrics=["fcr"], n_bootstrap=0).as_dict()["languages"]["zh"]
    assert data["n_empty_predictions"] == 1
    assert data["empty_prediction_ids"] == [ROWS[0]["id"]]
    assert data["n_rows"] == 2


def test_detect_language():
    assert detect_language({"impression": "右肺上叶结节SUVmax 5.2, 1.2cm"}) == "zh"
    assert detect_language({"impression": "No acute disease, SUVmax 5.2."}) == "en"
    assert detect_language({"impression": "右肺", "language": "en"}) == "en"
    assert detect_language({"impression": "No disease.", "language": "zh-CN"}) == "zh"
    assert detect_language({"impression": "No disease.", "language": "fr"}) == "en"


def _write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def test_cli_writes_scores(tmp_path: Path, capsys):
    source = _write_jsonl(tmp_path / "pred.jsonl", ROWS)
    out = tmp_path / "scores.json"
    code = main(["evaluate", str(source), "--lang", "auto", "--metrics", "bleu4", "rougeL",
                 "--bootstrap", "30", "--seed", "3", "--option", "rougeL.use_stemmer=false", "--out", str(out)])
    assert code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data["languages"]) == {"zh", "en"}
    assert data["bootstrap"]["seed"] == 3
    assert "bleu4" in capsys.readouterr().out


def test_cli_bad_row_names_file_and_line(tmp_path: Path, capsys):
    rows = [ROWS[0], ROWS[1], {"id": "z", "findings": "f", "impression": "", "prediction": "p"}]
    source = _write_jsonl(tmp_path / "pred.jsonl", rows)
    code = main(["evaluate", str(source), "--metrics", "bleu4", "--out", str(tmp_path / "s.json")])
    assert code == 2
    assert "pred.jsonl:3: the reference impression is empty" in capsys.readouterr().err
    assert not (tmp_path / "s.json").exists()


def test_cli_invalid_option_syntax(tmp_path: Path, capsys):
    source = _write_jsonl(tmp_path / "pred.jsonl", ROWS)
    code = main(["evaluate", str(source), "--metrics", "bleu4", "--option", "chunked", "--out", str(tmp_path / "s.json")])
    assert code == 2
    assert "METRIC.KEY=VALUE" in capsys.readouterr().err


def test_cli_duplicate_id_names_line(tmp_path: Path, capsys):
    source = _write_jsonl(tmp_path / "pred.jsonl", [ROWS[0], ROWS[1], dict(ROWS[2], id=ROWS[0]["id"])])
    code = main(["evaluate", str(source), "--metrics", "bleu4", "--out", str(tmp_path / "s.json")])
    assert code == 2
    assert "pred.jsonl:3: duplicate id 'zh-1' (first on row 1)" in capsys.readouterr().err


@pytest.mark.slow
def test_bertscore_flags_reach_json(tmp_path: Path):
    rows = [dict(ROWS[3]), dict(ROWS[4], prediction="")]
    result = evaluate(rows, metrics=("bertscore",), n_bootstrap=20)
    bertscore = result.languages["en"].metrics["bertscore"]
    assert bertscore.details["n_empty"] == 1
    assert bertscore.sample_scores[1] == 0.0
    assert bertscore.details["empty_ids"] == ["en-2"]
    assert bertscore.details["too_long_ids"] == []
    data = json.loads(result.to_json(tmp_path / "scores.json").read_text(encoding="utf-8"))
    assert data["languages"]["en"]["metrics"]["bertscore"]["details"]["comparable_with_published"] is False
