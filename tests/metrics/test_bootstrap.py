"""Tests of the bootstrap intervals and the paired significance tests."""

from __future__ import annotations

import random

import numpy as np
import pytest

from petf2i_core.metrics.bleu import Bleu4
from petf2i_core.metrics.bootstrap import (
    bootstrap_interval,
    paired_approximate_randomization,
    paired_bootstrap_test,
)
from petf2i_core.metrics.rouge import RougeL

REFERENCES = [
    "右肺上叶结节，代谢增高，考虑恶性可能。",
    "肝脏未见异常代谢增高灶。",
    "双肺多发小结节，建议随访。",
    "纵隔及双肺门淋巴结代谢增高，考虑炎性。",
    "左侧髂骨骨质破坏伴代谢增高，考虑骨转移。",
] * 12


def _damage(text: str, rng: random.Random, n_edits: int) -> str:
    chars = list(text)
    for _ in range(n_edits):
        if len(chars) > 1:
            del chars[rng.randrange(len(chars))]
    return "".join(chars)


@pytest.fixture(scope="module")
def systems():
    rng = random.Random(1)
    good = [_damage(text, rng, 1) for text in REFERENCES]
    bad = [_damage(text, rng, 8) for text in REFERENCES]
    return good, bad


@pytest.mark.parametrize("metric", [Bleu4("zh"), RougeL("zh")], ids=["bleu4", "rougeL"])
def test_interval_same_seed_same_interval(metric, systems):
    stats = metric.statistics(systems[0], REFERENCES)
    first = bootstrap_interval(metric, stats, n_resamples=200, seed=3)
    second = bootstrap_interval(metric, stats, n_resamples=200, seed=3)
    other = bootstrap_interval(metric, stats, n_resamples=200, seed=4)
    assert first == second
    assert (first.low, first.high) != (other.low, other.high)


@pytest.mark.parametrize("metric", [Bleu4("zh"), RougeL("zh")], ids=["bleu4", "rougeL"])
def test_interval_contains_point_estimate(metric, systems):
    stats = metric.statistics(systems[1], REFERENCES)
    interval = bootstrap_interval(metric, stats, n_resamples=300)
    assert interval.low <= interval.score <= interval.high
    assert interval.low < interval.high
    assert interval.score == pytest.approx(metric.aggregate(stats))


def test_bleu_interval_uses_corpus_aggregation(systems):
    # Each resample is a corpus BLEU of resampled rows, so the interval brackets the corpus score,
    # which differs from the mean sentence BLEU.
    metric = Bleu4("zh")
    stats = metric.statistics(systems[1], REFERENCES)
    interval = bootstrap_interval(metric, stats, n_resamples=300)
    assert interval.score != pytest.approx(np.mean(metric.sentence_scores([], [], stats=stats)), abs=1e-3)
    assert interval.low <= interval.score <= interval.high


@pytest.mark.parametrize("test", [paired_bootstrap_test, paired_approximate_randomization])
def test_better_system_is_significant(test, systems):
    metric = RougeL("zh")
    stats_good = metric.statistics(systems[0], REFERENCES)
    stats_bad = metric.statistics(systems[1], REFERENCES)
    result = test(metric, stats_good, stats_bad, 500, 7)
    assert result.delta > 0
    assert result.p_value < 0.05


@pytest.mark.parametrize("test", [paired_bootstrap_test, paired_approximate_randomization])
def test_identical_systems_p_near_one(test, systems):
    metric = Bleu4("zh")
    stats = metric.statistics(systems[0], REFERENCES)
    result = test(metric, stats, stats.copy(), 300, 7)
    assert result.delta == 0.0
    assert result.p_value > 0.95


@pytest.mark.parametrize("test", [paired_bootstrap_test, paired_approximate_randomization])
def test_paired_tests_are_seeded(test, systems):
    metric = Bleu4("zh")
    stats_a = metric.statistics(systems[0], REFERENCES)
    stats_b = metric.statistics(systems[1], REFERENCES)
    assert test(metric, stats_a, stats_b, 200, 11) == test(metric, stats_a, stats_b, 200, 11)


def test_mismatched_systems_raise(systems):
    metric = Bleu4("zh")
    stats = metric.statistics(systems[0], REFERENCES)
    with pytest.raises(ValueError, match="same references"):
        paired_bootstrap_test(metric, stats, stats[:-1])


def test_empty_rows_raise():
    with pytest.raises(ValueError, match="non-empty"):
        bootstrap_interval(Bleu4("zh"), np.zeros((0, 10)))


def test_interval_skips_undefined_resamples():
    from petf2i_core.metrics.registry import build_metric

    ecr = build_metric("ecr", language="zh")
    # Row 0 has no reference entities (undefined ECR), rows 1-2 are defined.
    stats = ecr.statistics(["右肺结节", "右肺结节", "肝脏转移"], ["无殊", "右肺结节", "肝脏转移"], ["", "", ""])
    interval = bootstrap_interval(ecr, stats, n_resamples=200, seed=1)
    assert not np.isnan(interval.low)
    assert not np.isnan(interval.high)
    assert interval.low <= interval.score <= interval.high
