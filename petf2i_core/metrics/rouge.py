"""ROUGE-L F1 with a CJK-aware tokenizer and a bit-parallel LCS.

English uses rouge-score's own tokenizer (lowercase, ``[a-z0-9]`` runs,
optional Porter stemming), so the values equal ``rouge_scorer.RougeScorer``'s.
Chinese uses :func:`petf2i_core.metrics.tokenize.cjk_tokens` by default (one
token per CJK character, Latin words and decimal numbers whole) or jieba words.
rouge-score's own tokenizer would score every Chinese pair 0.0.

The default is plain ROUGE-L: one LCS over the whole text. ``summary_level=True``
selects ROUGE-Lsum: texts are split into sentences at line breaks and before
numbered items (``1.``, ``2、``, ``(3)``), and the union LCS of each reference
sentence against all prediction sentences is counted as rouge-score does.

The corpus score is the mean of the per-sample F1 values, as rouge-score's
``BootstrapAggregator`` mid value and Hugging Face ``evaluate`` report it.
"""

from __future__ import annotations

import collections
import logging
import re
from typing import Any, Callable, Sequence

import numpy as np

from petf2i_core.metrics.base import Metric, Signature, check_lengths
from petf2i_core.metrics.bleu import normalization_label, prepare_texts
from petf2i_core.metrics.registry import register_metric
from petf2i_core.metrics.tokenize import cjk_tokens, jieba_tokens
from petf2i_core.provenance import package_version

logger = logging.getLogger(__name__)

TOKENIZERS = ("rouge-score", "cjk", "jieba")
DEFAULT_TOKENIZERS = {"zh": "cjk", "en": "rouge-score"}
STAT_COLUMNS = ("lcs", "pred_len", "ref_len", "precision", "recall", "f1")

# A numbered item starts after a space or a Chinese or Latin clause end: "1." "2、" "(3)" "4）",
# but not a decimal number such as 5.2.
_NUMBERED_ITEM = re.compile(r"(?<=[\s。；;，,])(?=[(（]?\d{1,2}[.、)）](?!\d))")


def lcs_length(reference: Sequence[str], prediction: Sequence[str]) -> int:
    """Return the length of the longest common subsequence of two token sequences.

    Uses the bit-parallel algorithm of Hyyrö (2004). The zero bits of ``row`` mark
    the reference positions where the current row of the LCS table steps up by one,
    so their count is the LCS length. Each prediction token costs a few big-integer
    operations instead of a full row of the O(nm) table.
    """
    if not reference or not prediction:
        return 0

    match_masks: dict[str, int] = {}
    for position, token in enumerate(reference):
        match_masks[token] = match_masks.get(token, 0) | (1 << position)

    all_ones = (1 << len(reference)) - 1
    row = all_ones
    for token in prediction:
        matches = row & match_masks.get(token, 0)
        row = ((row + matches) | (row - matches)) & all_ones
    return len(reference) - row.bit_count()


def split_sentences(text: str) -> list[str]:
    """Split ``text`` at line breaks and before numbered items, dropping empty parts."""
    sentences = []
    for line in text.splitlines():
        sentences.extend(part.strip() for part in _NUMBERED_ITEM.split(line))
    return [sentence for sentence in sentences if sentence]


def _union_lcs_hits(reference_sentences: list[list[str]], prediction_sentences: list[list[str]]) -> int:
    # Summary-level LCS hits exactly as rouge-score 0.1.2 counts them (its
    # _summary_level_lcs): the union of LCS positions per reference sentence,
    # with token counts capped so no token is counted twice.
    from rouge_score.rouge_scorer import lcs_ind

    reference_counts = collections.Counter(token for sentence in reference_sentences for token in sentence)
    prediction_counts = collections.Counter(token for sentence in prediction_sentences for token in sentence)
    hits = 0
    for reference in reference_sentences:
        positions: set[int] = set()
        for prediction in prediction_sentences:
            positions.update(lcs_ind(reference, prediction))
        for token in (reference[i] for i in sorted(positions)):
            if prediction_counts[token] > 0 and reference_counts[token] > 0:
                hits += 1
                prediction_counts[token] -= 1
                reference_counts[token] -= 1
    return hits


def f_measure(precision: float, recall: float) -> float:
    """Return the harmonic mean of precision and recall, 0.0 when both are 0."""
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


@register_metric("rougeL")
class RougeL(Metric):
    """ROUGE-L F1 on a 0-1 scale, with precision and recall in the details.

    Args:
        language: "zh" or "en"; selects the default tokenizer.
        tokenizer: "rouge-score" (rouge-score's default tokenizer), "cjk" (CJK
            characters, Latin words and numbers) or "jieba" (jieba words); None
            picks "cjk" for Chinese and "rouge-score" for English.
        use_stemmer: Porter stemming of English words longer than 3 characters,
            as rouge-score's ``use_stemmer``; only with tokenizer "rouge-score".
        summary_level: ROUGE-Lsum (union LCS over sentences) instead of one LCS.
        lowercase: lowercase Latin words for the "cjk" and "jieba" tokenizers
            ("rouge-score" always lowercases).
        normalize: pass both texts through the petf2i normaliser first.
    """

    name = "rougeL"

    def __init__(
        self,
        language: str,
        tokenizer: str | None = None,
        use_stemmer: bool = False,
        summary_level: bool = False,
        lowercase: bool = True,
        normalize: bool = True,
    ) -> None:
        if tokenizer is None:
            if language not in DEFAULT_TOKENIZERS:
                raise ValueError(f"unsupported language {language!r} for rougeL; use 'zh' or 'en', or pass tokenizer=")
            tokenizer = DEFAULT_TOKENIZERS[language]
        if tokenizer not in TOKENIZERS:
            raise ValueError(f"unknown ROUGE tokenizer {tokenizer!r}; choose from {TOKENIZERS}")
        if use_stemmer and tokenizer != "rouge-score":
            raise ValueError("use_stemmer applies to English words only; set tokenizer='rouge-score' or use_stemmer=False")
        self.language = language
        self.tokenizer = tokenizer
        self.use_stemmer = use_stemmer
        self.summary_level = summary_level
        self.lowercase = lowercase
        self.normalize = normalize
        self._tokenize = self._build_tokenizer()

    def _build_tokenizer(self) -> Callable[[str], list[str]]:
        if self.tokenizer == "rouge-score":
            from rouge_score.tokenizers import DefaultTokenizer

            return DefaultTokenizer(use_stemmer=self.use_stemmer).tokenize
        if self.tokenizer == "jieba":
            return lambda text: jieba_tokens(text, lowercase=self.lowercase)
        return lambda text: cjk_tokens(text, lowercase=self.lowercase)

    def tokens(self, text: str) -> list[str]:
        """Return the tokens of ``text`` as this metric compares them (after normalisation)."""
        return self._tokenize(prepare_texts([text], self.normalize)[0])

    def _pair_statistics(self, prediction: str, reference: str) -> tuple[float, ...]:
        if self.summary_level:
            prediction_sentences = [self._tokenize(s) for s in split_sentences(prediction)]
            reference_sentences = [self._tokenize(s) for s in split_sentences(reference)]
            pred_len = sum(map(len, prediction_sentences))
            ref_len = sum(map(len, reference_sentences))
            hits = _union_lcs_hits(reference_sentences, prediction_sentences) if pred_len and ref_len else 0
        else:
            prediction_tokens = self._tokenize(prediction)
            reference_tokens = self._tokenize(reference)
            pred_len, ref_len = len(prediction_tokens), len(reference_tokens)
            hits = lcs_length(reference_tokens, prediction_tokens)

        if pred_len == 0 and ref_len == 0:
            # NOTE: rouge-score returns 0.0 here; petf2i scores identical texts 1.0
            # even when no token survives (a text of punctuation only).
            identical = 1.0 if prediction == reference and prediction.strip() else 0.0
            return (0, 0, 0, identical, identical, identical)
        precision = hits / pred_len if pred_len else 0.0
        recall = hits / ref_len if ref_len else 0.0
        return (hits, pred_len, ref_len, precision, recall, f_measure(precision, recall))

    def statistics(
        self,
        predictions: Sequence[str],
        references: Sequence[str],
        findings: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Return per-sample LCS, lengths, precision, recall and F1, shape (n, 6)."""
        check_lengths(predictions, references, findings)
        hypotheses = prepare_texts(predictions, self.normalize)
        targets = prepare_texts(references, self.normalize)
        rows = [self._pair_statistics(p, r) for p, r in zip(hypotheses, targets)]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(STAT_COLUMNS))

    def aggregate(self, stats: np.ndarray) -> float:
        """Return the mean per-sample ROUGE-L F1 of the rows."""
        stats = np.asarray(stats)
        if len(stats) == 0:
            return 0.0
        return float(stats[:, 5].mean())

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Return mean precision and recall and the mean token lengths."""
        stats = np.asarray(stats)
        if len(stats) == 0:
            return {"n_samples": 0}
        return {
            "precision": float(stats[:, 3].mean()),
            "recall": float(stats[:, 4].mean()),
            "mean_pred_tokens": float(stats[:, 1].mean()),
            "mean_ref_tokens": float(stats[:, 2].mean()),
            "n_samples": int(len(stats)),
        }

    def signature(self) -> Signature:
        """Return the settings a ROUGE-L score depends on."""
        return Signature.build(
            self.name,
            lang=self.language,
            variant="rougeLsum" if self.summary_level else "rougeL",
            split="newline+numbered-items" if self.summary_level else "none",
            tok=self.tokenizer,
            stem="porter" if self.use_stemmer else "no",
            case="lc" if (self.lowercase or self.tokenizer == "rouge-score") else "mixed",
            agg="mean-f1",
            norm=normalization_label(self.normalize),
            rouge_score=package_version("rouge-score"),
        )
