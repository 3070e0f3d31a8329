"""Exact and near-duplicate detection on normalised findings.

Two reports are duplicates when their findings match after normalisation
(:func:`match_key`: :func:`petf2i_core.text.normalize.normalize`, case folding,
whitespace removed), and near duplicates when the Jaccard similarity of their
character 5-gram sets is at least 0.9. Near duplicates are found with MinHash
(128 permutations) and locality-sensitive hashing (16 bands of 8 rows). Candidate
pairs whose MinHash estimate is at least 0.8 are confirmed with the exact Jaccard
similarity, so no pair below the threshold is grouped. LSH can miss a pair above
the threshold: a pair at Jaccard 0.9 becomes a candidate with probability
1 - (1 - 0.9**8)**16 = 0.9999, and at 0.95 with probability above 0.9999999.

Duplicates are grouped (union-find), and the splitter keeps each group in one split.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..text.normalize import normalize
from .records import Report

logger = logging.getLogger(__name__)

SHINGLE_SIZE = 5
NEAR_THRESHOLD = 0.9
NUM_PERMUTATIONS = 128
BANDS = 16
# Candidate pairs whose MinHash agreement is below threshold - ESTIMATE_MARGIN skip the
# exact Jaccard check. The estimate's standard deviation at Jaccard 0.9 with 128
# permutations is sqrt(0.9 * 0.1 / 128) = 0.027, so the margin is 3.7 deviations.
ESTIMATE_MARGIN = 0.1
_MERSENNE_PRIME = (1 << 31) - 1
_WHITESPACE = re.compile(r"\s+")


def match_key(text: str) -> str:
    """Return the key under which two texts count as the same: normalised, case-folded, no whitespace."""
    return _WHITESPACE.sub("", normalize(text).casefold())


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[str]:
    """Return the set of character ``size``-grams of ``text`` (the whole text when shorter)."""
    if len(text) <= size:
        return {text} if text else set()
    return {text[index : index + size] for index in range(len(text) - size + 1)}


def jaccard(first: set[str], second: set[str]) -> float:
    """Return the Jaccard similarity of two sets (1.0 for two empty sets)."""
    if not first and not second:
        return 1.0
    return len(first & second) / len(first | second)


class UnionFind:
    """Disjoint sets over the integers 0..n-1 with path halving."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        """Return the representative of ``item``'s set."""
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, first: int, second: int) -> None:
        """Merge the sets of ``first`` and ``second``; the smaller representative wins."""
        root_first, root_second = self.find(first), self.find(second)
        if root_first != root_second:
            low, high = sorted((root_first, root_second))
            self.parent[high] = low


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """Mix 64-bit integers with the SplitMix64 finaliser (wrapping uint64 arithmetic)."""
    with np.errstate(over="ignore"):
        mixed = values + np.uint64(0x9E3779B97F4A7C15)
        mixed = (mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return mixed ^ (mixed >> np.uint64(31))


def minhash_signatures(shingle_sets: Sequence[set[str]], seed: int = 0) -> np.ndarray:
    """Return an (n, NUM_PERMUTATIONS) array of MinHash values, deterministic for a seed and input order.

    Each distinct shingle gets an integer id in order of first appearance (sets are
    visited in sorted order). SplitMix64 maps the id to a 31-bit value ``x``, and the
    permutations are ``(a * x + b) mod (2**31 - 1)`` with random ``a`` and ``b``.
    """
    rng = np.random.default_rng(seed)
    prime = np.uint64(_MERSENNE_PRIME)
    multipliers = rng.integers(1, _MERSENNE_PRIME, size=NUM_PERMUTATIONS, dtype=np.uint64)
    increments = rng.integers(0, _MERSENNE_PRIME, size=NUM_PERMUTATIONS, dtype=np.uint64)
    vocabulary: dict[str, int] = {}
    id_arrays = [
        np.fromiter((vocabulary.setdefault(item, len(vocabulary)) for item in sorted(items)), dtype=np.uint64)
        for items in shingle_sets
    ]
    hashed = _splitmix64(np.arange(len(vocabulary), dtype=np.uint64)) % prime

    signatures = np.full((len(shingle_sets), NUM_PERMUTATIONS), np.iinfo(np.uint64).max, dtype=np.uint64)
    for row, ids in enumerate(id_arrays):
        if len(ids):
            # x < 2**31 and a < 2**31, so a * x + b < 2**63 fits in uint64 before the modulus.
            permuted = (hashed[ids][:, None] * multipliers[None, :] + increments[None, :]) % prime
            signatures[row] = permuted.min(axis=0)
    return signatures


def _likely_pairs(candidates: list[tuple[int, int]], signatures: np.ndarray, minimum: float) -> list[tuple[int, int]]:
    """Keep candidate pairs whose share of equal MinHash values is at least ``minimum``."""
    kept: list[tuple[int, int]] = []
    for start in range(0, len(candidates), 100_000):
        chunk = np.array(candidates[start : start + 100_000], dtype=np.int64).reshape(-1, 2)
        agreement = (signatures[chunk[:, 0]] == signatures[chunk[:, 1]]).mean(axis=1)
        kept += [tuple(pair) for pair in chunk[agreement >= minimum].tolist()]
    return kept


def near_duplicate_pairs(texts: Sequence[str], threshold: float = NEAR_THRESHOLD, seed: int = 0) -> list[tuple[int, int, float]]:
    """Return index pairs whose character 5-gram Jaccard similarity is at least ``threshold``.

    Texts are compared by their :func:`match_key`. Exact duplicates are compared once,
    through the index of their first occurrence, and are not reported as pairs.
    Candidate pairs come from MinHash LSH and are confirmed with the exact Jaccard similarity.
    """
    keyed = [match_key(text) for text in texts]
    first_index: dict[str, int] = {}
    for index, key in enumerate(keyed):
        first_index.setdefault(key, index)
    unique_keys = list(first_index)
    sets = [shingles(key) for key in unique_keys]
    signatures = minhash_signatures(sets, seed)
    rows = NUM_PERMUTATIONS // BANDS

    candidates: set[tuple[int, int]] = set()
    for band in range(BANDS):
        buckets: dict[bytes, list[int]] = {}
        block = signatures[:, band * rows : (band + 1) * rows]
        for index, items in enumerate(sets):
            if items:
                buckets.setdefault(block[index].tobytes(), []).append(index)
        for members in buckets.values():
            candidates.update(itertools.combinations(members, 2))

    pairs = []
    for first, second in _likely_pairs(sorted(candidates), signatures, threshold - ESTIMATE_MARGIN):
        similarity = jaccard(sets[first], sets[second])
        if similarity >= threshold:
            pairs.append((first_index[unique_keys[first]], first_index[unique_keys[second]], similarity))
    return sorted(pairs)


@dataclass
class DuplicateReport:
    """Duplicate structure of a list of reports.

    Attributes:
        group_of: index of each report's duplicate group (the smallest member index).
        exact_pairs: number of reports whose findings exactly match an earlier report's.
        near_pairs: confirmed near-duplicate pairs (first index, second index, Jaccard).
        groups: number of groups with more than one report.
        largest_group: size of the largest group.
        boilerplate_impressions: up to ten most frequent impressions (normalised, first
            spelling seen) with their counts, for those occurring at least ``min_boilerplate`` times.
    """

    group_of: list[int]
    exact_pairs: int = 0
    near_pairs: list[tuple[int, int, float]] = field(default_factory=list)
    groups: int = 0
    largest_group: int = 1
    boilerplate_impressions: list[tuple[str, int]] = field(default_factory=list)


def find_duplicates(
    reports: Sequence[Report],
    near: bool = True,
    threshold: float = NEAR_THRESHOLD,
    min_boilerplate: int = 5,
    seed: int = 0,
) -> DuplicateReport:
    """Group reports with the same or nearly the same normalised findings, and count boilerplate impressions."""
    union = UnionFind(len(reports))
    first_with_key: dict[str, int] = {}
    exact = 0
    for index, report in enumerate(reports):
        key = match_key(report.findings)
        if key in first_with_key:
            union.union(first_with_key[key], index)
            exact += 1
        else:
            first_with_key[key] = index

    pairs: list[tuple[int, int, float]] = []
    if near and len(reports) > 1:
        pairs = near_duplicate_pairs([report.findings for report in reports], threshold, seed)
        for first, second, _ in pairs:
            union.union(first, second)

    group_of = [union.find(index) for index in range(len(reports))]
    sizes = Counter(group_of)
    impressions: Counter = Counter()
    shown: dict[str, str] = {}
    for report in reports:
        key = match_key(report.impression)
        impressions[key] += 1
        shown.setdefault(key, normalize(report.impression))
    boilerplate = [(shown[key], count) for key, count in impressions.most_common(10) if count >= min_boilerplate]
    logger.info("duplicates: %d exact, %d near pairs, %d groups", exact, len(pairs), sum(1 for size in sizes.values() if size > 1))
    return DuplicateReport(
        group_of=group_of,
        exact_pairs=exact,
        near_pairs=pairs,
        groups=sum(1 for size in sizes.values() if size > 1),
        largest_group=max(sizes.values(), default=1),
        boilerplate_impressions=boilerplate,
    )
