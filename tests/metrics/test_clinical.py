"""ECR, UER and FCR on small hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from petf2i_core.entities.lexicon import default_lexicon
from petf2i_core.metrics.clinical import EntityCoverageRate, FactualConsistencyRate, UncoveredEntityRate
from petf2i_core.metrics.registry import build_metric


def score(metric, predictions, references, findings=None):
    stats = metric.statistics(predictions, references, findings)
    return metric.aggregate(stats), stats


def test_ecr_counts_parent_concept_match():
    # Reference {right upper lobe, right nodule, lung cancer (uncertain)}; prediction covers the first two.
    value, stats = score(EntityCoverageRate("zh"), ["右肺结节"], ["右肺上叶结节，考虑肺癌"])
    assert stats.tolist() == [[2.0, 3.0]]
    assert value == pytest.approx(2 / 3)


def test_uer_counts_unmatched_predictions():
    value, stats = score(UncoveredEntityRate("zh"), ["右肺结节，考虑转移"], ["右肺上叶结节"])
    # Prediction {right lung, right nodule, metastasis}: only metastasis is absent from the reference.
    assert stats.tolist() == [[1.0, 3.0]]
    assert value == pytest.approx(1 / 3)


def test_opposite_side_never_matches():
    ecr, _ = score(EntityCoverageRate("zh"), ["左肺结节"], ["右肺结节"])
    uer, _ = score(UncoveredEntityRate("zh"), ["左肺结节"], ["右肺结节"])
    assert ecr == 0.0
    assert uer == 1.0


def test_unstated_side_matches_any_side():
    value, _ = score(EntityCoverageRate("zh"), ["肺结节"], ["右肺结节"])
    assert value == 1.0


def test_negated_entity_does_not_cover_positive():
    value, stats = score(EntityCoverageRate("zh"), ["双肺结节"], ["双肺无结节"])
    assert stats.tolist() == [[1.0, 2.0]]
    assert value == 0.5


def test_uncertain_covers_positive():
    value, _ = score(EntityCoverageRate("zh"), ["肺癌"], ["考虑肺癌"])
    assert value == 1.0


def test_exact_concept_option_rejects_parent():
    value, _ = score(EntityCoverageRate("zh", hierarchy=False), ["右肺结节"], ["右肺上叶结节"])
    assert value == 0.5  # the nodule matches, the upper lobe does not match "lung"


def test_micro_and_macro_differ():
    metric = EntityCoverageRate("zh")
    stats = metric.statistics(["右肺结节", "左肺结节"], ["右肺上叶结节，考虑肺癌", "右肺结节"])
    assert stats.tolist() == [[2.0, 3.0], [0.0, 2.0]]
    details = metric.details(stats)
    assert details["micro"] == pytest.approx(2 / 5)
    assert details["macro"] == pytest.approx((2 / 3 + 0) / 2)


def test_reference_without_entities_is_undefined():
    metric = EntityCoverageRate("zh")
    stats = metric.statistics(["右肺结节", "右肺结节"], ["未见异常", "右肺结节"])
    assert stats.tolist() == [[0.0, 0.0], [2.0, 2.0]]
    sample_scores = metric.sentence_scores([], [], stats=stats)
    assert math.isnan(sample_scores[0])
    assert sample_scores[1] == 1.0
    details = metric.details(stats)
    assert details["undefined_reports"] == 1
    assert details["macro"] == 1.0


def test_all_undefined_gives_nan():
    metric = UncoveredEntityRate("zh")
    value, _ = score(metric, [""], ["右肺结节"])
    assert math.isnan(value)
    assert metric.details(np.zeros((0, 2)))["reports"] == 0


FINDINGS = "右肺上叶结节，SUVmax 5.2。肝脏未见异常代谢增高。左侧胸腔积液。"
PREDICTION = "右肺上叶结节，SUVmax 9.0。肝脏代谢增高。右侧胸腔积液。右肺上叶转移可能。骨转移。"


def test_fcr_counts_each_error_type():
    metric = FactualConsistencyRate("zh")
    value, stats = score(metric, [PREDICTION], ["unused"], [FINDINGS])
    # Five assertions. The nodule's SUVmax differs (value). The findings negate the liver
    # uptake (negation). The effusion is on the other side (laterality). The right upper
    # lobe metastasis has its site in the findings (consistent). The bone metastasis has
    # neither its concept nor its site there (unsupported).
    assert stats.tolist() == [[1.0, 5.0, 1.0, 1.0, 1.0, 1.0]]
    assert value == pytest.approx(0.2)
    assert metric.details(stats)["errors"] == {"negation": 1, "laterality": 1, "value": 1, "unsupported": 1}


def test_fcr_value_within_tolerance_is_consistent():
    value, _ = score(FactualConsistencyRate("zh"), ["右肺上叶结节，SUVmax 5.3"], ["x"], ["右肺上叶结节，SUVmax 5.2"])
    assert value == 1.0
    value, _ = score(FactualConsistencyRate("zh", suvmax_tolerance=0.0), ["右肺上叶结节，SUVmax 5.3"], ["x"], ["右肺上叶结节，SUVmax 5.2"])
    assert value == 0.0


def test_fcr_m7_pairs():
    metric = FactualConsistencyRate("zh")
    stats = metric.statistics(["肝脏可见异常代谢增高", "双肺无结节"], ["x", "y"], ["肝脏未见异常代谢增高", "双肺无结节"])
    assert stats[0].tolist() == [0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    assert stats[1].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]


def test_fcr_negation_inside_uptake_phrase():
    stats = FactualConsistencyRate("zh").statistics(["肝脏代谢增高"], ["x"], ["肝脏代谢未见明显增高"])
    assert stats.tolist() == [[0.0, 1.0, 1.0, 0.0, 0.0, 0.0]]


def test_fcr_english_abnormal_fdg_uptake_negated():
    stats = FactualConsistencyRate("en").statistics(
        ["Increased FDG uptake in the liver."], ["x"], ["No abnormal FDG uptake in the liver."]
    )
    assert stats.tolist() == [[0.0, 1.0, 1.0, 0.0, 0.0, 0.0]]


def test_fcr_negative_assertion_unmentioned_is_consistent():
    value, _ = score(FactualConsistencyRate("zh"), ["未见骨转移"], ["x"], ["右肺上叶结节"])
    assert value == 1.0


def test_fcr_english():
    metric = FactualConsistencyRate("en")
    stats = metric.statistics(
        ["Right pleural effusion. No pneumothorax."], ["x"], ["Small right pleural effusion. There is no pneumothorax."]
    )
    assert stats.tolist() == [[2.0, 2.0, 0.0, 0.0, 0.0, 0.0]]


def test_fcr_requires_findings():
    with pytest.raises(ValueError, match="needs the findings"):
        FactualConsistencyRate("zh").statistics(["右肺结节"], ["右肺结节"])


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="predictions"):
        EntityCoverageRate("zh").statistics(["a", "b"], ["a"])


@pytest.mark.parametrize("name, cls, higher", [("ecr", EntityCoverageRate, True), ("uer", UncoveredEntityRate, False), ("fcr", FactualConsistencyRate, True)])
def test_registry_builds_metric(name, cls, higher):
    metric = build_metric(name, language="zh")
    assert isinstance(metric, cls)
    assert metric.name == name
    assert metric.higher_is_better is higher


@pytest.mark.parametrize("name", ["ecr", "uer", "fcr"])
def test_signature_names_lexicon_and_rule(name):
    signature = build_metric(name, language="en").signature().as_dict()
    assert signature["lexicon"] == default_lexicon().version
    assert signature["match"].startswith("type+concept-or-ancestor+side-none-matches-any")
    assert signature["language"] == "en"
    assert "petf2i" in signature


def test_rejects_unknown_language_and_type():
    with pytest.raises(ValueError, match="unsupported language"):
        EntityCoverageRate("de")
    with pytest.raises(ValueError, match="unknown entity types"):
        EntityCoverageRate("zh", types=("drug",))


def test_types_option_drops_anatomy():
    value, stats = score(EntityCoverageRate("zh", types=("finding", "diagnosis")), ["右肺结节"], ["右肺上叶结节，考虑肺癌"])
    assert stats.tolist() == [[1.0, 2.0]]


def test_fcr_checks_values_against_every_mention():
    findings = "右肺上叶结节，SUVmax 3.0。右肺上叶另见结节，SUVmax 8.0。"
    value, _ = score(FactualConsistencyRate("zh"), ["右肺上叶结节，SUVmax 8.0"], ["x"], [findings])
    assert value == 1.0


def test_fcr_prior_suvmax_is_not_the_reference_value():
    findings = "A nodule in the left thyroid lobe shows increased uptake, SUVmax 3.7, smaller (previously SUVmax 8.7)."
    metric = FactualConsistencyRate("en")
    current, _ = score(metric, ["Left thyroid nodule, SUVmax 3.7."], ["x"], [findings])
    prior, _ = score(metric, ["Left thyroid nodule, SUVmax 8.7."], ["x"], [findings])
    assert current == 1.0
    assert prior == 0.0
