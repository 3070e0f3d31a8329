"""The metric interface: sufficient statistics, aggregation and a signature.

Every metric turns each (prediction, reference, findings) triple into a row of
sufficient statistics. The corpus score is one aggregation over all rows, so the
corpus BLEU is a single corpus-level computation and a bootstrap resample is
just a resample of rows. Per-sample scores come from :meth:`Metric.sentence_scores`,
which a metric overrides where the per-sample definition differs (BLEU uses
effective order there).

Scores are on a 0-1 scale.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

import numpy as np

from petf2i_core import __version__

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Signature:
    """Settings a score depends on: the metric name and an ordered set of key-value pairs.

    Printed as ``name|key:value|key:value``, in the spirit of sacrebleu's
    signatures, so that two scores are comparable only when their signatures are
    equal.
    """

    metric: str
    settings: tuple[tuple[str, str], ...]

    @classmethod
    def build(cls, metric: str, **settings: Any) -> "Signature":
        items = tuple((key, str(value)) for key, value in settings.items())
        return cls(metric, items + (("petf2i", __version__),))

    def as_dict(self) -> dict[str, str]:
        return {"metric": self.metric, **dict(self.settings)}

    def __str__(self) -> str:
        return "|".join([self.metric] + [f"{key}:{value}" for key, value in self.settings])


@dataclass
class MetricResult:
    """A corpus score with its per-sample scores, interval and signature."""

    name: str
    score: float
    signature: Signature
    sample_scores: list[float]
    ci_low: float | None = None
    ci_high: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "ci95": [self.ci_low, self.ci_high],
            "signature": str(self.signature),
            "signature_fields": self.signature.as_dict(),
            "details": self.details,
        }

    def __str__(self) -> str:
        interval = ""
        if self.ci_low is not None:
            interval = f" (95% CI {self.ci_low:.4f}-{self.ci_high:.4f})"
        return f"{self.name} = {self.score:.4f}{interval}  [{self.signature}]"


class Metric(ABC):
    """Base class of the six metrics.

    Subclasses set :attr:`name` and implement :meth:`statistics`,
    :meth:`aggregate` and :meth:`signature`. ``findings`` is passed to every hook
    because the factual consistency rate checks predictions against them; other
    metrics ignore it.
    """

    name: ClassVar[str]
    higher_is_better: ClassVar[bool] = True

    @abstractmethod
    def statistics(
        self,
        predictions: Sequence[str],
        references: Sequence[str],
        findings: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Return the sufficient statistics, shape (n_samples, n_stats)."""

    @abstractmethod
    def aggregate(self, stats: np.ndarray) -> float:
        """Return the corpus score from statistics rows, shape (n, n_stats)."""

    @abstractmethod
    def signature(self) -> Signature:
        """Return the signature of this metric's settings."""

    def sentence_scores(
        self,
        predictions: Sequence[str],
        references: Sequence[str],
        findings: Sequence[str] | None = None,
        stats: np.ndarray | None = None,
    ) -> list[float]:
        """Return one score per sample; by default the aggregate of its own row."""
        if stats is None:
            stats = self.statistics(predictions, references, findings)
        return [self.aggregate(stats[i : i + 1]) for i in range(len(stats))]

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Return extra corpus-level figures (precision, recall, counts); none by default."""
        return {}


def check_lengths(predictions: Sequence[str], references: Sequence[str], findings: Sequence[str] | None) -> None:
    """Raise ValueError unless predictions, references and findings align one to one."""
    if len(predictions) != len(references):
        raise ValueError(
            f"got {len(predictions)} predictions but {len(references)} references; "
            "pass one prediction per reference, in the same order"
        )
    if findings is not None and len(findings) != len(references):
        raise ValueError(
            f"got {len(findings)} findings but {len(references)} references; "
            "pass the findings of every reference report"
        )
