"""Corpus statistics for the dataset chapter: lengths, diversity, vocabulary, negation.

The same numbers are computed for the synthetic corpus and for real report
sets, so the book can put them side by side. Lengths are in characters for
Chinese and in words for English. Diversity and vocabulary count CJK characters
for Chinese and lower-cased words for English, as the tokenizer of
:mod:`petf2i_core.metrics.tokenize` splits them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

from petf2i_core.data.records import Report
from petf2i_core.text.normalize import normalize

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])|(?<=\.)\s+(?=[A-Z0-9])")
_NEGATION_KINDS = ("negation_pre", "negation_post")


def tokens(text: str, language: str) -> list[str]:
    """Return the diversity tokens of ``text``: CJK characters and words for zh, lower-cased words for en."""
    from petf2i_core.metrics.tokenize import cjk_tokens

    return cjk_tokens(normalize(text), lowercase=language == "en")


def length(text: str, language: str) -> int:
    """Return the length of ``text``: characters without spaces for zh, words for en."""
    if language == "zh":
        return len(re.sub(r"\s+", "", text))
    return len(text.split())


def distinct_n(texts: Iterable[str], language: str, n: int) -> float:
    """Return distinct-n: distinct n-grams divided by all n-grams, pooled over ``texts``."""
    total = 0
    seen: set[tuple[str, ...]] = set()
    for text in texts:
        items = tokens(text, language)
        grams = [tuple(items[i : i + n]) for i in range(len(items) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def split_sentences(text: str) -> list[str]:
    """Split a report section into sentences on Chinese and English sentence ends."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


@lru_cache(maxsize=2)
def _negation_pattern(language: str) -> re.Pattern[str]:
    from petf2i_core.entities.lexicon import default_lexicon

    cues = default_lexicon().cues
    forms = [str(form) for kind in _NEGATION_KINDS for form in (cues.get(kind) or {}).get(language) or []]
    forms += [str(form) for form in (cues.get("structured_negative") or {}).get(language) or []]
    ordered = sorted(set(forms), key=len, reverse=True)
    if language == "en":
        return re.compile(r"\b(?:" + "|".join(re.escape(form) for form in ordered) + r")\b", re.IGNORECASE)
    return re.compile("|".join(re.escape(form) for form in ordered))


def negated_share(texts: Iterable[str], language: str) -> float:
    """Return the share of sentences that carry a negation cue of the entity lexicon."""
    pattern = _negation_pattern(language)
    sentences = [sentence for text in texts for sentence in split_sentences(normalize(text))]
    if not sentences:
        return 0.0
    return sum(1 for sentence in sentences if pattern.search(sentence)) / len(sentences)


def corpus_statistics(
    reports: Sequence[Report], language: str, sample_size: int | None = 500, seed: int = 0
) -> dict[str, float]:
    """Return the side-by-side statistics of the reports in ``language``.

    Distinct-n and vocabulary size grow with corpus size, so they are computed
    on a seeded sample of ``sample_size`` reports. All reports are used when
    there are fewer or when ``sample_size`` is None. The ``reports`` entry
    counts every report.
    """
    selected = [report for report in reports if report.language == language]
    if not selected:
        raise ValueError(f"no reports in language {language!r}; languages present: {sorted({r.language for r in reports})}")
    total = len(selected)
    if sample_size is not None and total > sample_size:
        rng = np.random.default_rng(seed)
        selected = [selected[i] for i in sorted(rng.choice(total, size=sample_size, replace=False))]
    findings = [report.findings for report in selected]
    impressions = [report.impression for report in selected]
    unit = "chars" if language == "zh" else "words"

    vocabulary = {token for text in findings + impressions for token in tokens(text, language)}
    return {
        "reports": float(total),
        "reports sampled": float(len(selected)),
        f"findings length ({unit}, mean)": float(np.mean([length(t, language) for t in findings])),
        f"findings length ({unit}, median)": float(np.median([length(t, language) for t in findings])),
        f"impression length ({unit}, mean)": float(np.mean([length(t, language) for t in impressions])),
        f"impression length ({unit}, median)": float(np.median([length(t, language) for t in impressions])),
        "findings distinct-1": distinct_n(findings, language, 1),
        "findings distinct-2": distinct_n(findings, language, 2),
        "impression distinct-2": distinct_n(impressions, language, 2),
        "vocabulary size": float(len(vocabulary)),
        "negated sentences (findings)": negated_share(findings, language),
        "negated sentences (impression)": negated_share(impressions, language),
    }
