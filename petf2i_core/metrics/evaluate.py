"""Score generated impressions against reference impressions, per language, with intervals.

:func:`evaluate` takes rows with ``id``, ``findings``, ``impression`` (the
reference) and ``prediction``, splits them by language, computes every
requested metric per language group with a seeded bootstrap 95% interval, and
returns an :class:`EvaluationResult` that writes JSON (with package versions)
and a language x metric table. A corpus mixing Chinese and English is never
scored as one corpus: tokenizers, encoders and scores differ by language.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from petf2i_core.metrics.base import MetricResult
from petf2i_core.metrics.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, bootstrap_interval
from petf2i_core.metrics.registry import METRIC_NAMES, build_metric
from petf2i_core.metrics.tokenize import cjk_fraction
from petf2i_core.provenance import package_versions

logger = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")
REQUIRED_FIELDS = ("id", "findings", "impression", "prediction")
# A row is Chinese when at least this share of its visible characters are CJK; Chinese
# reports mix in Latin abbreviations and numbers (SUVmax 5.2, FDG), hence well below 0.5.
CJK_SHARE_FOR_ZH = 0.2


class InvalidRowError(ValueError):
    """A row of the evaluation input is missing a field or has an empty reference."""


def detect_language(row: Mapping[str, Any]) -> str:
    """Return the row's "language" field if it is zh or en, else "zh" or "en" by CJK share."""
    # "zh-CN", "zh_Hans" and "en-US" count as zh and en.
    declared = re.split(r"[-_]", str(row.get("language") or "").lower())[0]
    if declared in LANGUAGES:
        return declared
    text = f"{row.get('impression', '')} {row.get('findings', '')}"
    return "zh" if cjk_fraction(text) >= CJK_SHARE_FOR_ZH else "en"


def validate_row(row: Any, source: str, line: int) -> None:
    """Raise :class:`InvalidRowError` naming ``source`` and ``line`` unless the row is usable."""
    where = f"{source}:{line}"
    if not isinstance(row, Mapping):
        raise InvalidRowError(f"{where}: expected a JSON object with fields {REQUIRED_FIELDS}, got {type(row).__name__}")
    missing = [name for name in REQUIRED_FIELDS if name not in row or row[name] is None]
    if missing:
        raise InvalidRowError(
            f"{where}: missing field(s) {missing}; every row needs {list(REQUIRED_FIELDS)} "
            "(use an empty string for a prediction the model did not produce)"
        )
    for name in ("findings", "impression", "prediction"):
        if not isinstance(row[name], str):
            raise InvalidRowError(f"{where}: field {name!r} must be a string, got {type(row[name]).__name__}")
    if not row["impression"].strip():
        raise InvalidRowError(f"{where}: the reference impression is empty; remove the row or fill in its reference")


@dataclass
class LanguageResult:
    """The scores of one language group.

    Fields:
        language: "zh" or "en".
        ids: row ids in input order.
        metrics: metric name to its corpus result (score, interval, signature, details).
        empty_prediction_ids: ids of rows whose prediction is empty or whitespace. UER and
            FCR are undefined on them, so their corpus scores leave them out.
    """

    language: str
    ids: list[str]
    metrics: dict[str, MetricResult] = field(default_factory=dict)
    empty_prediction_ids: list[str] = field(default_factory=list)

    def samples(self) -> list[dict[str, Any]]:
        """Return one dict per row: id, language and each metric's per-sample score."""
        rows = []
        for index, row_id in enumerate(self.ids):
            sample: dict[str, Any] = {"id": row_id, "language": self.language}
            for name, result in self.metrics.items():
                sample[name] = result.sample_scores[index]
            rows.append(sample)
        return rows


@dataclass
class EvaluationResult:
    """Scores per language and metric, with bootstrap settings and package versions.

    Fields:
        languages: language code to its :class:`LanguageResult`.
        n_bootstrap: bootstrap resamples per interval (0 when intervals were skipped).
        seed: seed of the bootstrap.
        versions: Python and package versions, from :func:`package_versions`.
        created: UTC time of the evaluation, ISO 8601.
    """

    languages: dict[str, LanguageResult]
    n_bootstrap: int
    seed: int
    versions: dict[str, str] = field(default_factory=package_versions)
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def score(self, language: str, metric: str) -> float:
        """Return the corpus score of ``metric`` for ``language``."""
        return self.languages[language].metrics[metric].score

    def samples(self) -> list[dict[str, Any]]:
        """Return the per-sample scores of every language group."""
        return [sample for result in self.languages.values() for sample in result.samples()]

    def as_dict(self) -> dict[str, Any]:
        """Return everything as a JSON-ready dict."""
        return {
            "created": self.created,
            "versions": self.versions,
            "bootstrap": {"n_resamples": self.n_bootstrap, "seed": self.seed, "level": 0.95},
            "languages": {
                language: {
                    "n_rows": len(result.ids),
                    "n_empty_predictions": len(result.empty_prediction_ids),
                    "empty_prediction_ids": result.empty_prediction_ids,
                    "metrics": {name: metric.as_dict() for name, metric in result.metrics.items()},
                }
                for language, result in self.languages.items()
            },
            "samples": self.samples(),
        }

    def to_json(self, path: str | Path) -> Path:
        """Write :meth:`as_dict` to ``path`` as UTF-8 JSON and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(_replace_nan(self.as_dict()), ensure_ascii=False, indent=2, allow_nan=False)
        path.write_text(text + "\n", encoding="utf-8")
        return path

    def table(self, with_interval: bool = False):
        """Return a pandas DataFrame with one row per language and one column per metric.

        With ``with_interval`` each cell is a string ``score [low, high]`` instead of a float.
        """
        import pandas as pd

        records = {}
        for language, result in self.languages.items():
            cells = {}
            for name, metric in result.metrics.items():
                if with_interval and metric.ci_low is not None:
                    cells[name] = f"{metric.score:.4f} [{metric.ci_low:.4f}, {metric.ci_high:.4f}]"
                else:
                    cells[name] = metric.score
            records[language] = cells
        frame = pd.DataFrame.from_dict(records, orient="index")
        frame.index.name = "language"
        return frame


def _replace_nan(value: Any) -> Any:
    # JSON has no NaN; a metric undefined on a group (no entities at all) is written as null.
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _replace_nan(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replace_nan(item) for item in value]
    return value


def _options_for(metric_options: Mapping[str, Any] | None, name: str, language: str) -> dict[str, Any]:
    # Options of one metric apply to every language; a nested dict under "zh" or "en"
    # overrides them for that language, e.g. {"bertscore": {"zh": {"model": "...", "layer": 12}}}.
    options = dict((metric_options or {}).get(name) or {})
    per_language = {code: options.pop(code) for code in LANGUAGES if isinstance(options.get(code), Mapping)}
    options.update(per_language.get(language, {}))
    return options


def _build_metrics(names: Sequence[str], language: str, metric_options: Mapping[str, Any] | None):
    metrics = []
    for name in names:
        try:
            metrics.append(build_metric(name, language=language, **_options_for(metric_options, name, language)))
        except KeyError as error:
            raise ValueError(f"metric {name!r} was requested but is not available: {error.args[0]}") from error
    return metrics


def _score_group(language: str, rows: list[Mapping[str, Any]], names, n_bootstrap, seed, metric_options) -> LanguageResult:
    predictions = [row["prediction"] for row in rows]
    references = [row["impression"] for row in rows]
    findings = [row["findings"] for row in rows]
    result = LanguageResult(language, [str(row["id"]) for row in rows])
    result.empty_prediction_ids = [row_id for row_id, text in zip(result.ids, predictions) if not text.strip()]
    if result.empty_prediction_ids:
        logger.warning("%d of %d %s predictions are empty; they score 0 on BLEU-4, ROUGE-L, BERTScore "
                       "and ECR, and are left out of UER and FCR", len(result.empty_prediction_ids), len(rows), language)

    for metric in _build_metrics(names, language, metric_options):
        logger.info("scoring %s on %d %s rows", metric.name, len(rows), language)
        stats = metric.statistics(predictions, references, findings)
        metric_result = MetricResult(
            name=metric.name,
            score=metric.aggregate(stats),
            signature=metric.signature(),
            sample_scores=metric.sentence_scores(predictions, references, findings, stats=stats),
            details=metric.details(stats),
        )
        # Metrics that flag rows (BERTScore: empty, too long) report them by row id.
        if hasattr(metric, "flagged_rows"):
            for flag, indices in metric.flagged_rows(stats).items():
                metric_result.details[f"{flag}_ids"] = [result.ids[i] for i in indices]
        if n_bootstrap > 0:
            interval = bootstrap_interval(metric, stats, n_resamples=n_bootstrap, seed=seed)
            metric_result.ci_low, metric_result.ci_high = interval.low, interval.high
        result.metrics[metric.name] = metric_result
    return result


def evaluate(
    rows: Iterable[Mapping[str, Any]],
    language: str = "auto",
    metrics: Sequence[str] = METRIC_NAMES,
    n_bootstrap: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    metric_options: Mapping[str, Any] | None = None,
    source: str = "<rows>",
) -> EvaluationResult:
    """Score ``rows`` with ``metrics`` per language and return an :class:`EvaluationResult`.

    Args:
        rows: dicts with ``id``, ``findings``, ``impression`` (reference) and
            ``prediction``; an optional ``language`` field is used by "auto".
        language: "zh", "en", or "auto" to group rows by their language.
        metrics: registered metric names, in table order.
        n_bootstrap: bootstrap resamples per 95% interval; 0 skips intervals.
        seed: bootstrap seed.
        metric_options: metric name to keyword options of its constructor.
        source: the rows' file name, used in error messages.
    """
    rows = list(rows)
    if language not in (*LANGUAGES, "auto"):
        raise ValueError(f"unsupported language {language!r}; use 'zh', 'en' or 'auto'")
    if not rows:
        raise ValueError(f"{source}: no rows to evaluate")
    first_line: dict[str, int] = {}
    for line, row in enumerate(rows, start=1):
        validate_row(row, source, line)
        row_id = str(row["id"])
        if row_id in first_line:
            raise ValueError(
                f"{source}:{line}: duplicate id {row_id!r} (first on row {first_line[row_id]}); "
                "per-sample scores and paired tests match rows by id, so give every row its own id"
            )
        first_line[row_id] = line

    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(detect_language(row) if language == "auto" else language, []).append(row)

    results = {
        code: _score_group(code, groups[code], list(metrics), n_bootstrap, seed, metric_options)
        for code in LANGUAGES
        if code in groups
    }
    return EvaluationResult(results, n_bootstrap, seed)
