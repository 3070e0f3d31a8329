"""Exact and near-duplicate detection on normalised findings.

Two reports are duplicates when their findings match after normalisation
(:func:`match_key`: :func:`petf2i_core.text.normalize.normalize`, case folding,
whitespace removed), and near duplicates when the Jaccard similarity of their
character 5-gram sets is at least 0.9. Near duplicates are found with MinHash
(128 permutations) and locality-sensitive hashing (32 bands of 4 rows), and every
candidate pair is confirmed with the exact Jaccard similarity, so no pair below
the threshold is grouped. LSH can miss a pair above the threshold: with these
bands a pair at Jaccard 0.9 is found with probability 1 - (1 - 0.9**4)**32 > 0.9999.

Duplicates are grouped (union-find), and the splitter keeps each group in one split.
"""

from __future__ import annotations

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
BANDS = 32
_MERSENNE_PRIME = (1 << 61) - 1
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


def minhash_signatures(shingle_sets: Sequence[set[str]], seed: int = 0) -> np.ndarray:
    """Return an (n, NUM_PERMUTATIONS) array of MinHash values, deterministic for a seed and input order.

    Each distinct shingle gets an integer id in order of first appearance (sets are
    visited in sorted order), and the permutations are ``(a * id + b) mod (2**61 - 1)``.
    """
    rng = np.random.default_rng(seed)
    multipliers = rng.integers(1, 1 << 31, size=NUM_PERMUTATIONS, dtype=np.uint64)
    increments = rng.integers(0, 1 << 31, size=NUM_PERMUTATIONS, dtype=np.uint64)
    vocabulary: dict[str, int] = {}
    signatures = np.full((len(shingle_sets), NUM_PERMUTATIONS), np.iinfo(np.uint64).max, dtype=np.uint64)
    for row, items in enumerate(shingle_sets):
        if not items:
            continue
        ids = np.fromiter((vocabulary.setdefault(item, len(vocabulary)) for item in sorted(items)), dtype=np.uint64)
        # ids < 2**30 and multipliers < 2**31, so the product fits in uint64 before the modulus.
        permuted = (ids[:, None] * multipliers[None, :] + increments[None, :]) % np.uint64(_MERSENNE_PRIME)
        signatures[row] = permuted.min(axis=0)
    return signatures


def near_duplicate_pairs(texts: Sequence[str], threshold: float = NEAR_THRESHOLD, seed: int = 0) -> list[tuple[int, int, float]]:
    """Return index pairs whose character 5-gram Jaccard similarity is at least ``threshold``.

    Texts are compared by their :func:`match_key`. Candidate pairs come from MinHash LSH
    and are confirmed with the exact Jaccard similarity.
    """
    keyed = [match_key(text) for text in texts]
    sets = [shingles(key) for key in keyed]
    signatures = minhash_signatures(sets, seed)
    rows = NUM_PERMUTATIONS // BANDS

    candidates: set[tuple[int, int]] = set()
    for band in range(BANDS):
        buckets: dict[bytes, list[int]] = {}
        block = signatures[:, band * rows : (band + 1) * rows]
        for index in range(len(texts)):
            if sets[index]:
                buckets.setdefault(block[index].tobytes(), []).append(index)
        for members in buckets.values():
            if len(members) > 1:
                candidates.update((members[0], other) for other in members[1:])
                candidates.update((first, second) for first, second in zip(members, members[1:]))

    pairs = []
    for first, second in sorted(candidates):
        if keyed[first] == keyed[second]:
            continue  # exact duplicates are grouped separately
        similarity = jaccard(sets[first], sets[second])
        if similarity >= threshold:
            pairs.append((first, second, similarity))
    return pairs


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
