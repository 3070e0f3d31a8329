"""Corpus statistics used by the dataset chapter."""

from __future__ import annotations

import pytest

from petf2i_core.data.records import Report, load_reports
from petf2i_core.data.stats import corpus_statistics, distinct_n, length, negated_share, split_sentences


def test_length_units():
    assert length("右肺 上叶结节。", "zh") == 7  # punctuation counts, spaces do not
    assert length("No acute disease.", "en") == 3


def test_distinct_n_counts_pooled_ngrams():
    # tokens: 右 肺 结 节 | 右 肺 结 节 -> bigrams 6, distinct 3
    assert distinct_n(["右肺结节", "右肺结节"], "zh", 2) == pytest.approx(0.5)
    assert distinct_n(["no acute disease", "no acute change"], "en", 1) == pytest.approx(4 / 6)


def test_split_sentences_both_languages():
    assert split_sentences("肝脏未见异常。双肺无结节。") == ["肝脏未见异常。", "双肺无结节。"]
    assert split_sentences("Lungs are clear. No effusion.") == ["Lungs are clear.", "No effusion."]


def test_negated_share():
    assert negated_share(["肝脏未见异常代谢增高。右肺上叶结节。"], "zh") == pytest.approx(0.5)
    assert negated_share(["No pleural effusion. Nodule in the right upper lobe."], "en") == pytest.approx(0.5)


def test_statistics_reject_missing_language():
    with pytest.raises(ValueError, match="no reports in language 'en'"):
        corpus_statistics([Report("a", "右肺结节", "考虑肺癌", "zh")], "en")


def test_statistics_on_real_sets(real_data_dir):
    crrsum = load_reports(real_data_dir / "crrsum" / "crrsum.jsonl")
    stats = corpus_statistics(crrsum, "zh", sample_size=None)
    assert stats["reports"] == 1544
    # PROVENANCE.md states a mean findings length of about 97 characters.
    assert 90 < stats["findings length (chars, mean)"] < 104
    assert 0 < stats["negated sentences (findings)"] < 1
    sampled = corpus_statistics(crrsum, "zh", sample_size=200, seed=1)
    assert sampled["reports sampled"] == 200
    assert sampled == corpus_statistics(crrsum, "zh", sample_size=200, seed=1)
