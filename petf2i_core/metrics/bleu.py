"""BLEU-4 from sacrebleu's sufficient statistics, corpus-level and per sample.

Each row of :meth:`Bleu4.statistics` holds sacrebleu's segment statistics:
hypothesis length, closest reference length, matched n-grams of orders 1-4 and
hypothesis n-grams of orders 1-4. The corpus score sums the rows and runs one
corpus-level BLEU computation (sacrebleu's ``corpus_bleu``), never a mean of
per-sample scores. Per-sample scores use sacrebleu's ``sentence_bleu``
semantics: effective order and exponential smoothing, so ``肺结节`` against
itself scores 1.0 although it has no 4-gram.

The tokenizer defaults to sacrebleu's ``zh`` for Chinese (each CJK character a
token) and ``13a`` for English. ``13a`` would turn a Chinese sentence into one
token, so Chinese pairs would score near 0. Texts pass through :func:`petf2i_core.text.normalize.normalize`
first unless ``normalize=False``.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
from sacrebleu.metrics.bleu import BLEU

from petf2i_core.metrics.base import Metric, Signature, check_lengths
from petf2i_core.metrics.registry import register_metric
from petf2i_core.provenance import package_version
from petf2i_core.text.normalize import STEPS, normalize

logger = logging.getLogger(__name__)

MAX_ORDER = 4
DEFAULT_TOKENIZERS = {"zh": "zh", "en": "13a"}
# Column layout of a statistics row, as sacrebleu orders its segment statistics.
STAT_COLUMNS = (
    ("hyp_len", "ref_len")
    + tuple(f"correct_{n}" for n in range(1, MAX_ORDER + 1))
    + tuple(f"total_{n}" for n in range(1, MAX_ORDER + 1))
)


def normalization_label(enabled: bool) -> str:
    """Return the signature value naming the normalisation steps, or "none"."""
    if not enabled:
        return "none"
    return "+".join(name for name, _ in STEPS)


def prepare_texts(texts: Sequence[str], enabled: bool) -> list[str]:
    """Return normalised copies of ``texts`` (or plain copies when ``enabled`` is False)."""
    if not enabled:
        return [str(text) for text in texts]
    return [normalize(str(text)) for text in texts]


@register_metric("bleu4")
class Bleu4(Metric):
    """BLEU-4 on a 0-1 scale, equal to sacrebleu's score divided by 100.

    Args:
        language: "zh" or "en"; selects the default tokenizer.
        tokenize: a sacrebleu tokenizer name ("zh", "13a", "intl", "char", "none");
            None picks "zh" for Chinese and "13a" for English.
        lowercase: lowercase both texts before tokenizing.
        smooth_method: sacrebleu smoothing ("exp", "floor", "add-k", "none"), used
            for the corpus and the per-sample scores alike.
        smooth_value: the value for "floor" and "add-k"; None takes sacrebleu's default.
        normalize: pass both texts through the petf2i normaliser first.
    """

    name = "bleu4"

    def __init__(
        self,
        language: str,
        tokenize: str | None = None,
        lowercase: bool = False,
        smooth_method: str = "exp",
        smooth_value: float | None = None,
        normalize: bool = True,
    ) -> None:
        if tokenize is None:
            if language not in DEFAULT_TOKENIZERS:
                raise ValueError(f"unsupported language {language!r} for bleu4; use 'zh' or 'en', or pass tokenize=")
            tokenize = DEFAULT_TOKENIZERS[language]
        self.language = language
        self.tokenize = tokenize
        self.lowercase = lowercase
        self.smooth_method = smooth_method
        self.smooth_value = smooth_value
        self.normalize = normalize
        self._bleu = BLEU(
            lowercase=lowercase,
            tokenize=tokenize,
            smooth_method=smooth_method,
            smooth_value=smooth_value,
            max_ngram_order=MAX_ORDER,
            force=True,
        )

    def statistics(
        self,
        predictions: Sequence[str],
        references: Sequence[str],
        findings: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Return sacrebleu's segment statistics, shape (n, 10); see :data:`STAT_COLUMNS`."""
        check_lengths(predictions, references, findings)
        if len(predictions) == 0:
            return np.zeros((0, len(STAT_COLUMNS)), dtype=np.int64)

        hypotheses = prepare_texts(predictions, self.normalize)
        targets = prepare_texts(references, self.normalize)
        # sacrebleu's own segment statistics (a private method, present from 2.0 to 2.6.0),
        # so tokenization, n-gram clipping and reference length equal its corpus_bleu.
        rows = self._bleu._extract_corpus_statistics(hypotheses, [targets])
        return np.asarray(rows, dtype=np.int64).reshape(len(rows), len(STAT_COLUMNS))

    def _score(self, summed: np.ndarray, effective_order: bool):
        correct = [int(value) for value in summed[2 : 2 + MAX_ORDER]]
        total = [int(value) for value in summed[2 + MAX_ORDER :]]
        return BLEU.compute_bleu(
            correct=correct,
            total=total,
            sys_len=int(summed[0]),
            ref_len=int(summed[1]),
            smooth_method=self.smooth_method,
            smooth_value=self.smooth_value,
            effective_order=effective_order,
            max_ngram_order=MAX_ORDER,
        )

    def aggregate(self, stats: np.ndarray) -> float:
        """Return corpus BLEU-4 (0-1) of the summed statistics rows."""
        stats = np.asarray(stats)
        if len(stats) == 0:
            return 0.0
        return self._score(stats.sum(axis=0), effective_order=False).score / 100.0

    def sentence_scores(
        self,
        predictions: Sequence[str],
        references: Sequence[str],
        findings: Sequence[str] | None = None,
        stats: np.ndarray | None = None,
    ) -> list[float]:
        """Return sentence BLEU-4 (0-1) per sample, with effective order as sacrebleu's ``sentence_bleu``."""
        if stats is None:
            stats = self.statistics(predictions, references, findings)
        return [self._score(row, effective_order=True).score / 100.0 for row in stats]

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Return the n-gram precisions (0-1), brevity penalty and lengths of the corpus score."""
        stats = np.asarray(stats)
        if len(stats) == 0:
            return {"n_samples": 0}
        result = self._score(stats.sum(axis=0), effective_order=False)
        return {
            "precisions": [round(p / 100.0, 6) for p in result.precisions],
            "brevity_penalty": result.bp,
            "hyp_len": int(result.sys_len),
            "ref_len": int(result.ref_len),
            "n_samples": int(len(stats)),
        }

    def signature(self) -> Signature:
        """Return the settings a BLEU-4 score depends on, in sacrebleu's signature terms."""
        smoothing = self.smooth_method
        if self.smooth_value is not None:
            smoothing += f"[{self.smooth_value:.2f}]"
        return Signature.build(
            self.name,
            lang=self.language,
            nrefs=1,
            case="lc" if self.lowercase else "mixed",
            eff="no-corpus,yes-sample",
            tok=self.tokenize,
            smooth=smoothing,
            norm=normalization_label(self.normalize),
            sacrebleu=package_version("sacrebleu"),
        )
