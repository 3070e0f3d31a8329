"""Tables and comparisons for the results pages, built from a run's score files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from petf2i_core.data.records import Report, read_jsonl
from petf2i_core.study.paths import evaluation_rows_path, scores_path

# Metric labels as the tables print them, in the study's order.
METRIC_LABELS = {
    "bleu4": "BLEU-4",
    "rougeL": "ROUGE-L",
    "bertscore": "BERTScore",
    "ecr": "ECR",
    "uer": "UER",
    "fcr": "FCR",
}


def load_scores(run_dir: str | Path, systems: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Load each system's score file, naming the missing ones and how to produce them."""
    scores = {}
    missing = []
    for system in systems:
        path = scores_path(run_dir, system)
        if not path.is_file():
            missing.append(str(path))
            continue
        scores[system] = json.loads(path.read_text(encoding="utf-8"))
    if missing:
        raise FileNotFoundError(
            f"no scores for {len(missing)} system(s): {missing}; run the study's system pages first "
            "(petf2i study run CONFIG --only system)"
        )
    return scores


def long_table(scores: dict[str, dict[str, Any]], metrics: Sequence[str]) -> pd.DataFrame:
    """Return one row per system, language and metric with score and 95% interval."""
    rows = []
    for system, result in scores.items():
        for language, group in result["languages"].items():
            for metric in metrics:
                entry = group["metrics"].get(metric)
                if entry is None:
                    continue
                low, high = entry.get("ci95") or (None, None)
                rows.append({
                    "system": system,
                    "language": language,
                    "metric": metric,
                    "score": entry["score"],
                    "ci_low": low,
                    "ci_high": high,
                    "n": group["n_rows"],
                    "signature": entry["signature"],
                })
    return pd.DataFrame(rows)


def _cell(score: float | None, low: float | None, high: float | None) -> str:
    # An undefined score (no entities to score, written as null) is shown as n/a.
    if score is None or pd.isna(score):
        return "n/a"
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return f"{score:.3f}"
    return f"{score:.3f} [{low:.3f}, {high:.3f}]"


def results_table(table: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Return the main results table: systems as rows, (language, metric) as columns.

    Each cell is ``score [low, high]`` with the 95% bootstrap interval; UER is
    lower-is-better, the other five higher-is-better.
    """
    table = table.assign(cell=[_cell(s, lo, hi) for s, lo, hi in zip(table.score, table.ci_low, table.ci_high)])
    wide = table.pivot_table(index="system", columns=["language", "metric"], values="cell", aggfunc="first")
    systems = list(dict.fromkeys(table.system))
    ordered = [(language, metric) for language in sorted(set(table.language)) for metric in metrics
               if (language, metric) in wide.columns]
    wide = wide.reindex(index=systems, columns=pd.MultiIndex.from_tuples(ordered))
    return wide.rename(columns=METRIC_LABELS, level=1)


def signatures(table: pd.DataFrame) -> pd.DataFrame:
    """Return the distinct metric signatures per language, for the table's footnote."""
    return table[["language", "metric", "signature"]].drop_duplicates().sort_values(["language", "metric"]).reset_index(drop=True)


def join_predictions(reports: Sequence[Report], predictions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join reports with their predictions into rows in the input format of ``petf2i evaluate``.

    Rows follow the order of ``predictions``; a prediction whose id is not among
    ``reports`` raises KeyError naming the id.
    """
    by_id = {report.id: report for report in reports}
    rows = []
    for prediction in predictions:
        report = by_id.get(prediction["id"])
        if report is None:
            raise KeyError(f"prediction for {prediction['id']!r} has no report among the {len(by_id)} given")
        rows.append({
            "id": report.id,
            "findings": report.findings,
            "impression": report.impression,
            "prediction": prediction["prediction"],
            "language": report.language,
        })
    return rows


def paired_comparison(
    run_dir: str | Path,
    system_a: str,
    system_b: str,
    metric_name: str,
    language: str,
    n_trials: int = 1000,
    seed: int = 0,
    metric_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run a paired bootstrap test of ``system_a`` against ``system_b`` on one metric and language."""
    from petf2i_core.metrics.bootstrap import paired_bootstrap_test
    from petf2i_core.metrics.registry import build_metric

    rows_a = [row for row in read_jsonl(evaluation_rows_path(run_dir, system_a)) if row["language"] == language]
    rows_b = [row for row in read_jsonl(evaluation_rows_path(run_dir, system_b)) if row["language"] == language]
    metric = build_metric(metric_name, language=language, **(metric_options or {}))

    def statistics(rows: list[dict[str, Any]]):
        return metric.statistics([r["prediction"] for r in rows], [r["impression"] for r in rows], [r["findings"] for r in rows])

    result = paired_bootstrap_test(metric, statistics(rows_a), statistics(rows_b), n_resamples=n_trials, seed=seed)
    return {"metric": metric_name, "language": language, "a": system_a, "b": system_b, **result.as_dict()}
