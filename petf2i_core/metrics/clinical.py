r"""Clinical entity metrics: entity coverage (ECR), uncovered entities (UER), factual consistency (FCR).

All three run :func:`petf2i_core.entities.extractor.extract_entities` on the
normalised texts and compare entity SETS per section (one entity per
:meth:`Entity.key`, that is per type, concept, laterality and polarity).

Matching rule used by ECR and UER (``match`` in the signature): a generated
entity *g* matches a reference entity *r* when

* they have the same type;
* their concepts are equal, or one is an ancestor of the other in the lexicon
  (``lung.upper_lobe`` matches ``lung``), unless ``hierarchy=False``;
* their lateralities are equal, or either is None (an unstated side is
  compatible with any side, but left never matches right or bilateral);
* their polarity classes are equal: positive and uncertain form one class,
  negative is the other.

A reference entity is covered when at least one generated entity matches it
(and vice versa for UER); matching is not one-to-one.

.. math::

   \mathrm{ECR} = \frac{\sum_i |\{r \in R_i : \exists g \in G_i,\ g \sim r\}|}{\sum_i |R_i|}
   \qquad
   \mathrm{UER} = \frac{\sum_i |\{g \in G_i : \nexists r \in R_i,\ g \sim r\}|}{\sum_i |G_i|}

   \mathrm{FCR} = \frac{\sum_i |\{a \in A_i : a \text{ consistent with } F_i\}|}{\sum_i |A_i|}

where :math:`R_i` and :math:`G_i` are the entity sets of the reference and the
generated impression of report *i*, :math:`A_i` the finding and diagnosis
entities of the generated impression and :math:`F_i` the entities of the
findings. The corpus score is micro-averaged (pooled counts); the per-report
(macro) mean is in ``details()``. A report whose denominator is empty has an
undefined score (NaN): it is left out of the macro mean and counted in
``details()["undefined_reports"]``. When every report is undefined, the
corpus score is NaN too.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np

from petf2i_core.entities.extractor import entity_set, extract_entities
from petf2i_core.entities.lexicon import Lexicon, default_lexicon
from petf2i_core.entities.types import ENTITY_TYPES, Entity
from petf2i_core.metrics.base import Metric, Signature, check_lengths
from petf2i_core.metrics.registry import register_metric

logger = logging.getLogger(__name__)

ERROR_TYPES = ("negation", "laterality", "value", "unsupported")
_LANGUAGES = ("zh", "en", "auto")


def polarity_class(polarity: str) -> str:
    """Return "negative" for negated entities and "positive" for positive or uncertain ones."""
    return "negative" if polarity == "negative" else "positive"


def laterality_compatible(first: str | None, second: str | None) -> bool:
    """Return True when the sides are equal or either is unstated (None)."""
    return first is None or second is None or first == second


class EntityMatcher:
    """The matching rule shared by ECR and UER (see the module docstring)."""

    def __init__(self, lexicon: Lexicon, hierarchy: bool = True) -> None:
        self.lexicon = lexicon
        self.hierarchy = hierarchy

    def concepts_match(self, first: str, second: str) -> bool:
        """Return True when the concepts are equal, or related by ancestry when ``hierarchy`` is on."""
        if self.hierarchy:
            return self.lexicon.related(first, second)
        return first == second

    def matches(self, generated: Entity, reference: Entity) -> bool:
        """Return True when ``generated`` matches ``reference`` by type, concept, side and polarity class."""
        return (
            generated.type == reference.type
            and self.concepts_match(generated.concept, reference.concept)
            and laterality_compatible(generated.laterality, reference.laterality)
            and polarity_class(generated.polarity) == polarity_class(reference.polarity)
        )

    def rule(self) -> str:
        """Return the matching rule as a compact string for signatures."""
        concept = "concept-or-ancestor" if self.hierarchy else "concept-exact"
        return f"type+{concept}+side-none-matches-any+polarity-positive-uncertain-vs-negative"


class _EntityMetric(Metric):
    """Shared set-up of the three clinical metrics: language, lexicon, entity types, matcher."""

    def __init__(
        self,
        language: str = "auto",
        lexicon: Lexicon | None = None,
        types: Sequence[str] = ENTITY_TYPES,
        hierarchy: bool = True,
    ) -> None:
        if language not in _LANGUAGES:
            raise ValueError(f"unsupported language {language!r} for {self.name}; use one of {_LANGUAGES}")
        unknown = [entity_type for entity_type in types if entity_type not in ENTITY_TYPES]
        if unknown:
            raise ValueError(f"unknown entity types {unknown} for {self.name}; choose from {ENTITY_TYPES}")
        self.language = language
        self.lexicon = lexicon if lexicon is not None else default_lexicon()
        self.types = tuple(types)
        self.matcher = EntityMatcher(self.lexicon, hierarchy=hierarchy)

    def entities(self, text: str) -> list[Entity]:
        """Return the distinct entities of ``text`` (one per key) of the configured types."""
        extracted = extract_entities(text or "", self.language, self.lexicon)
        return [entity for entity in entity_set(extracted).values() if entity.type in self.types]

    def aggregate(self, stats: np.ndarray) -> float:
        """Return the pooled ratio of column 0 over column 1, NaN when column 1 sums to zero."""
        stats = np.asarray(stats, dtype=float)
        total = stats[:, 1].sum() if len(stats) else 0.0
        return float(stats[:, 0].sum() / total) if total > 0 else float("nan")

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Return pooled counts, the macro (per-report) mean and the number of undefined reports."""
        stats = np.asarray(stats, dtype=float)
        defined = stats[stats[:, 1] > 0] if len(stats) else stats
        per_report = defined[:, 0] / defined[:, 1] if len(defined) else np.array([])
        return {
            "micro": self.aggregate(stats),
            "macro": float(per_report.mean()) if len(per_report) else float("nan"),
            "numerator": int(stats[:, 0].sum()) if len(stats) else 0,
            "denominator": int(stats[:, 1].sum()) if len(stats) else 0,
            "reports": int(len(stats)),
            "undefined_reports": int(len(stats) - len(defined)),
        }

    def signature(self) -> Signature:
        """Return the signature: lexicon version, matching rule, entity types and language."""
        return Signature.build(
            self.name,
            lexicon=self.lexicon.version,
            match=self.matcher.rule(),
            types="+".join(self.types),
            language=self.language,
        )

    def _coverage(self, sources: list[Entity], targets: list[Entity]) -> int:
        return sum(1 for source in sources if any(self.matcher.matches(target, source) for target in targets))


@register_metric("ecr")
class EntityCoverageRate(_EntityMetric):
    r"""Entity coverage rate: the share of reference-impression entities the generated impression covers.

    .. math:: \mathrm{ECR} = \frac{\sum_i \#\{r \in R_i \text{ matched by some } g \in G_i\}}{\sum_i |R_i|}

    Higher is better. Statistics rows are ``[matched reference entities,
    reference entities]``. A report whose reference impression has no entity
    has an undefined ECR and is left out of the macro mean.
    """

    name = "ecr"
    higher_is_better = True

    def statistics(self, predictions, references, findings=None) -> np.ndarray:
        """Return rows ``[matched reference entities, reference entities]``, one per report."""
        check_lengths(predictions, references, findings)
        rows = []
        for prediction, reference in zip(predictions, references):
            generated, expected = self.entities(prediction), self.entities(reference)
            rows.append([self._coverage(expected, generated), len(expected)])
        return np.array(rows, dtype=float).reshape(-1, 2)


@register_metric("uer")
class UncoveredEntityRate(_EntityMetric):
    r"""Uncovered entity rate: the share of generated-impression entities the reference does not contain.

    .. math:: \mathrm{UER} = \frac{\sum_i \#\{g \in G_i \text{ matching no } r \in R_i\}}{\sum_i |G_i|}

    Lower is better. Statistics rows are ``[unmatched generated entities,
    generated entities]``. A report whose generated impression has no entity has
    an undefined UER and is left out of the macro mean.
    """

    name = "uer"
    higher_is_better = False

    def statistics(self, predictions, references, findings=None) -> np.ndarray:
        """Return rows ``[unmatched generated entities, generated entities]``, one per report."""
        check_lengths(predictions, references, findings)
        rows = []
        for prediction, reference in zip(predictions, references):
            generated, expected = self.entities(prediction), self.entities(reference)
            matched = sum(1 for entity in generated if any(self.matcher.matches(entity, ref) for ref in expected))
            rows.append([len(generated) - matched, len(generated)])
        return np.array(rows, dtype=float).reshape(-1, 2)


@register_metric("fcr")
class FactualConsistencyRate(_EntityMetric):
    r"""Factual consistency rate: the share of generated assertions that the findings support.

    .. math:: \mathrm{FCR} = \frac{\sum_i \#\{a \in A_i \text{ consistent with } F_i\}}{\sum_i |A_i|}

    An assertion is a distinct finding or diagnosis entity of the generated
    impression. It is checked against the findings entities :math:`F_i` whose
    concept equals it or is its ancestor or descendant (the candidates), in this order:

    1. Candidates exist with a compatible side (equal, or either unstated).
       The assertion is consistent when one of them has the same polarity
       class and, for a positive assertion with a SUVmax or size, a value
       within tolerance. The tolerances are ``suvmax_tolerance`` (default 0.1)
       and ``size_tolerance_cm`` on the largest dimension (default 0.1 cm).
       A candidate without a value does not contradict. Otherwise the error is
       ``negation`` when no candidate of the same polarity class exists, else
       ``value``.
    2. Candidates exist, all on another side: ``laterality`` error for a
       positive or uncertain assertion. A negative assertion is consistent,
       because the findings say nothing about that side.
    3. No candidate: a negative assertion is consistent (what the findings do
       not mention is taken as absent). A positive diagnosis with a site is
       consistent when the findings mention that site (as anatomy or as the
       site of a finding) on a compatible side, a ``laterality`` error when
       they mention it only on another side; anything else is ``unsupported``.

    Higher is better. Statistics rows are ``[consistent, assertions,
    negation errors, laterality errors, value errors, unsupported]``. A report
    whose generated impression has no assertion has an undefined FCR and is
    left out of the macro mean.
    """

    name = "fcr"
    higher_is_better = True

    def __init__(
        self,
        language: str = "auto",
        lexicon: Lexicon | None = None,
        hierarchy: bool = True,
        suvmax_tolerance: float = 0.1,
        size_tolerance_cm: float = 0.1,
    ) -> None:
        super().__init__(language=language, lexicon=lexicon, types=ENTITY_TYPES, hierarchy=hierarchy)
        if suvmax_tolerance < 0 or size_tolerance_cm < 0:
            raise ValueError(
                f"tolerances must be >= 0, got suvmax_tolerance={suvmax_tolerance}, "
                f"size_tolerance_cm={size_tolerance_cm}"
            )
        self.suvmax_tolerance = suvmax_tolerance
        self.size_tolerance_cm = size_tolerance_cm

    def statistics(self, predictions, references, findings=None) -> np.ndarray:
        """Return rows ``[consistent, assertions, negation, laterality, value, unsupported]``."""
        check_lengths(predictions, references, findings)
        if findings is None:
            raise ValueError("fcr needs the findings of every report; pass findings=[...] aligned with references")
        rows = []
        for prediction, source in zip(predictions, findings):
            # Every mention counts as evidence, so two right lung nodules with
            # different SUVmax values both support a matching assertion.
            evidence = extract_entities(source or "", self.language, self.lexicon)
            assertions = [entity for entity in self.entities(prediction) if entity.type != "anatomy"]
            verdicts = [self.check(assertion, evidence) for assertion in assertions]
            row = [verdicts.count("consistent"), len(assertions)]
            row += [verdicts.count(error) for error in ERROR_TYPES]
            rows.append(row)
        return np.array(rows, dtype=float).reshape(-1, 2 + len(ERROR_TYPES))

    def _values_agree(self, assertion: Entity, candidate: Entity) -> bool:
        if assertion.suvmax is not None and candidate.suvmax is not None:
            if abs(assertion.suvmax - candidate.suvmax) > self.suvmax_tolerance + 1e-9:
                return False
        if assertion.size_cm and candidate.size_cm:
            if abs(assertion.size_cm[0] - candidate.size_cm[0]) > self.size_tolerance_cm + 1e-9:
                return False
        return True

    def _check_site(self, assertion: Entity, evidence: list[Entity]) -> str:
        mentions = [
            entity
            for entity in evidence
            if (entity.type == "anatomy" and self.matcher.concepts_match(entity.concept, assertion.site))
            or (entity.site is not None and self.matcher.concepts_match(entity.site, assertion.site))
        ]
        if any(laterality_compatible(assertion.laterality, entity.laterality) for entity in mentions):
            return "consistent"
        return "laterality" if mentions else "unsupported"

    def check(self, assertion: Entity, evidence: list[Entity]) -> str:
        """Return "consistent" or the error type of one generated assertion against the findings entities."""
        negative = polarity_class(assertion.polarity) == "negative"
        candidates = [
            entity
            for entity in evidence
            if entity.type != "anatomy" and self.matcher.concepts_match(entity.concept, assertion.concept)
        ]
        if not candidates:
            if negative:
                return "consistent"
            if assertion.type == "diagnosis" and assertion.site is not None:
                return self._check_site(assertion, evidence)
            return "unsupported"

        same_side = [entity for entity in candidates if laterality_compatible(entity.laterality, assertion.laterality)]
        if not same_side:
            return "consistent" if negative else "laterality"
        same_polarity = [
            entity for entity in same_side if polarity_class(entity.polarity) == polarity_class(assertion.polarity)
        ]
        if not same_polarity:
            return "negation"
        if negative or any(self._values_agree(assertion, entity) for entity in same_polarity):
            return "consistent"
        return "value"

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Return the shared details plus the count of each error type (negation, laterality, value, unsupported)."""
        stats = np.asarray(stats, dtype=float)
        result = super().details(stats)
        errors = stats[:, 2:].sum(axis=0) if len(stats) else np.zeros(len(ERROR_TYPES))
        result["errors"] = {error: int(count) for error, count in zip(ERROR_TYPES, errors)}
        return result

    def signature(self) -> Signature:
        """Return the signature: lexicon version, matching rule, tolerances and language."""
        return Signature.build(
            self.name,
            lexicon=self.lexicon.version,
            match=self.matcher.rule() + "+negative-unmentioned-consistent+diagnosis-site-support",
            tolerance=f"suvmax{self.suvmax_tolerance}-size{self.size_tolerance_cm}cm",
            language=self.language,
        )
