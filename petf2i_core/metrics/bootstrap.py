"""Seeded bootstrap confidence intervals and paired significance tests on statistics rows.

Every metric reduces a corpus to rows of sufficient statistics and a corpus
score to ``metric.aggregate(rows)``. A bootstrap resample is therefore a
resample of rows, and corpus BLEU in each resample is a corpus-level BLEU of
the resampled rows, not a mean of sentence scores.

Paired tests compare two systems scored on the same references, row i of both
statistics arrays belonging to the same report:

* :func:`paired_bootstrap_test` resamples rows jointly and tests the observed
  difference against the resampled differences shifted to a zero mean
  (two-sided, as in Koehn 2004 with the shift of Berg-Kirkpatrick et al. 2012).
* :func:`paired_approximate_randomization` swaps the two systems' rows of each
  report with probability 1/2 (two-sided, Riezler and Maxwell 2005).

Both p-values use the add-one estimate ``(1 + hits) / (1 + trials)``, so they
are never 0.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from petf2i_core.metrics.base import Metric

logger = logging.getLogger(__name__)

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 12345


@dataclass(frozen=True)
class ConfidenceInterval:
    """A percentile bootstrap interval of a corpus score.

    Fields:
        score: the corpus score of all rows.
        low: lower bound (the (1 - level) / 2 quantile of the resampled scores).
        high: upper bound (the (1 + level) / 2 quantile).
        level: coverage, 0.95 for a 95% interval.
        n_resamples: number of bootstrap resamples.
        seed: seed of the numpy generator that drew the resamples.
    """

    score: float
    low: float
    high: float
    level: float
    n_resamples: int
    seed: int

    def as_dict(self) -> dict[str, Any]:
        """Return the interval as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class PairedTestResult:
    """The result of a paired significance test between systems A and B.

    Fields:
        test: "paired-bootstrap" or "approximate-randomization".
        score_a: corpus score of system A.
        score_b: corpus score of system B.
        delta: score_a - score_b.
        p_value: two-sided p-value of "A and B score the same".
        n_trials: number of resamples or permutations.
        seed: seed of the numpy generator.
    """

    test: str
    score_a: float
    score_b: float
    delta: float
    p_value: float
    n_trials: int
    seed: int

    def as_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-ready dict."""
        return asdict(self)


def _check_rows(stats: np.ndarray) -> np.ndarray:
    stats = np.asarray(stats)
    if stats.ndim != 2 or len(stats) == 0:
        raise ValueError(f"expected a non-empty 2-D array of statistics rows, got shape {stats.shape}")
    return stats


def _check_pair(stats_a: np.ndarray, stats_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    stats_a, stats_b = _check_rows(stats_a), _check_rows(stats_b)
    if stats_a.shape != stats_b.shape:
        raise ValueError(
            f"systems A and B have statistics of shapes {stats_a.shape} and {stats_b.shape}; "
            "score both systems on the same references in the same order"
        )
    return stats_a, stats_b


def bootstrap_interval(
    metric: Metric,
    stats: np.ndarray,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
    progress: bool = False,
) -> ConfidenceInterval:
    """Return the percentile bootstrap interval of ``metric.aggregate`` over resampled rows."""
    stats = _check_rows(stats)
    rng = np.random.default_rng(seed)
    n = len(stats)

    values = np.empty(n_resamples)
    for trial in tqdm(range(n_resamples), desc=f"bootstrap {metric.name}", disable=not progress):
        values[trial] = metric.aggregate(stats[rng.integers(0, n, size=n)])

    # A resample may contain only rows on which the metric is undefined, such as an ECR
    # resample of reports without reference entities. It carries no information, so it is skipped.
    defined = values[~np.isnan(values)]
    if len(defined) < n_resamples:
        logger.warning("%s: %d of %d bootstrap resamples were undefined and skipped",
                       metric.name, n_resamples - len(defined), n_resamples)
    if len(defined) == 0:
        return ConfidenceInterval(metric.aggregate(stats), float("nan"), float("nan"), level, n_resamples, seed)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(defined, [tail, 1.0 - tail])
    return ConfidenceInterval(metric.aggregate(stats), float(low), float(high), level, n_resamples, seed)


def paired_bootstrap_test(
    metric: Metric,
    stats_a: np.ndarray,
    stats_b: np.ndarray,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
) -> PairedTestResult:
    """Test whether systems A and B differ, resampling the same rows of both per trial."""
    stats_a, stats_b = _check_pair(stats_a, stats_b)
    rng = np.random.default_rng(seed)
    n = len(stats_a)
    score_a, score_b = metric.aggregate(stats_a), metric.aggregate(stats_b)
    observed = score_a - score_b

    deltas = np.empty(n_resamples)
    for trial in tqdm(range(n_resamples), desc=f"paired bootstrap {metric.name}", disable=not progress):
        rows = rng.integers(0, n, size=n)
        deltas[trial] = metric.aggregate(stats_a[rows]) - metric.aggregate(stats_b[rows])

    # Under the null hypothesis the differences centre on 0, so shift them by the observed delta.
    hits = int(np.sum(np.abs(deltas - observed) >= abs(observed) - 1e-12))
    p_value = (1 + hits) / (1 + n_resamples)
    return PairedTestResult("paired-bootstrap", score_a, score_b, observed, p_value, n_resamples, seed)


def paired_approximate_randomization(
    metric: Metric,
    stats_a: np.ndarray,
    stats_b: np.ndarray,
    n_trials: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
) -> PairedTestResult:
    """Test whether systems A and B differ by randomly swapping their rows per report."""
    stats_a, stats_b = _check_pair(stats_a, stats_b)
    rng = np.random.default_rng(seed)
    score_a, score_b = metric.aggregate(stats_a), metric.aggregate(stats_b)
    observed = score_a - score_b

    hits = 0
    for _ in tqdm(range(n_trials), desc=f"randomization {metric.name}", disable=not progress):
        swap = rng.random(len(stats_a)) < 0.5
        shuffled_a = np.where(swap[:, None], stats_b, stats_a)
        shuffled_b = np.where(swap[:, None], stats_a, stats_b)
        delta = metric.aggregate(shuffled_a) - metric.aggregate(shuffled_b)
        if abs(delta) >= abs(observed) - 1e-12:
            hits += 1

    p_value = (1 + hits) / (1 + n_trials)
    return PairedTestResult("approximate-randomization", score_a, score_b, observed, p_value, n_trials, seed)
