"""Baselines without a language model: extract the abnormal findings, or copy the nearest training impression."""

from __future__ import annotations

import logging
import re
import time
from typing import Sequence

from petf2i_core.data.records import Report
from petf2i_core.generation.base import (
    FINISH_STOP,
    Backend,
    GenerationOutput,
    GenerationRequest,
    finish_output,
    register_backend,
)

logger = logging.getLogger(__name__)

# Cues of a positive (abnormal) finding; English cues are matched lower-cased.
POSITIVE_CUES_ZH = (
    "SUVmax", "增高", "增多", "浓聚", "结节", "肿块", "团块", "占位", "肿大", "增大", "转移",
    "病灶", "高代谢", "异常", "软组织影", "软组织密度影", "破坏", "积液", "增厚",
)
POSITIVE_CUES_EN = (
    "suvmax", "hypermetabolic", "increased uptake", "increased fdg", "increased metabolism", "avid",
    "nodule", "mass", "lesion", "enlarged", "metasta", "focal uptake", "intense", "thickening",
    "effusion", "destruction", "opacity", "consolidation",
)
# Negation cues; a clause with one of them is treated as a negative finding.
NEGATION_CUES_ZH = ("未见", "未发现", "无", "否", "排除", "未见明显", "正常", "未")
NEGATION_CUES_EN = ("no ", "not ", "without", "no evidence", "negative for", "unremarkable", "normal", "absent")

_SENTENCE_ZH = re.compile(r"[^。；;！!？?\n]+[。；;！!？?]?")
# An English sentence ends at . ; ! ? followed by whitespace, so decimals such as 5.2 stay whole.
_SENTENCE_EN_BOUNDARY = re.compile(r"(?<=[.;!?])\s+|\n+")
_CLAUSE = re.compile(r"[，,、：:]")


def split_sentences(text: str, language: str) -> list[str]:
    """Split report text into sentences, keeping each sentence's end punctuation."""
    if language == "zh":
        parts = [match.group(0) for match in _SENTENCE_ZH.finditer(text)]
    else:
        parts = _SENTENCE_EN_BOUNDARY.split(text)
    return [part.strip() for part in parts if part.strip(" .;\n")]


def is_abnormal_sentence(sentence: str, language: str) -> bool:
    """Return True if some clause of ``sentence`` has a positive finding cue and no negation cue."""
    positive = POSITIVE_CUES_ZH if language == "zh" else POSITIVE_CUES_EN
    negation = NEGATION_CUES_ZH if language == "zh" else NEGATION_CUES_EN
    for clause in _CLAUSE.split(sentence):
        lowered = " " + clause.lower() + " " if language != "zh" else clause
        if any(cue.lower() in lowered for cue in positive) and not any(cue in lowered for cue in negation):
            return True
    return False


def extract_abnormal_findings(findings: str, language: str) -> str:
    """Return the abnormal sentences of ``findings`` in report order, or its first sentence if none is abnormal."""
    sentences = split_sentences(findings, language)
    if not sentences:
        return findings.strip()
    abnormal = [sentence for sentence in sentences if is_abnormal_sentence(sentence, language)]
    chosen = abnormal or sentences[:1]
    separator = "" if language == "zh" else " "
    return separator.join(chosen)


@register_backend("extractive")
class ExtractiveBaseline(Backend):
    """The impression is the abnormal findings sentences (positive cue, not negated), in report order."""

    def __init__(self, **_: object) -> None:
        super().__init__()
        self.model_id, self.model_revision = "extractive", "1"

    def fit(self, train_reports: Sequence[Report]) -> "ExtractiveBaseline":
        """Do nothing (the baseline has no parameters); present for a uniform interface."""
        return self

    def generate(self, requests: list[GenerationRequest]) -> list[GenerationOutput]:
        """Extract the abnormal sentences of each request's findings."""
        outputs = []
        for request in requests:
            started = time.perf_counter()
            text = extract_abnormal_findings(request.findings, request.language)
            outputs.append(finish_output(request.id, text, FINISH_STOP, latency_s=time.perf_counter() - started))
        return outputs


@register_backend("retrieval")
class RetrievalBaseline(Backend):
    """The impression of the most similar training findings (TF-IDF; character 1-3-grams for Chinese)."""

    def __init__(self, train_reports: Sequence[Report] | None = None, **_: object) -> None:
        super().__init__()
        self.model_id, self.model_revision = "retrieval", "1"
        self.retriever = None
        if train_reports is not None:
            self.fit(train_reports)

    def fit(self, train_reports: Sequence[Report]) -> "RetrievalBaseline":
        """Index the training findings; the model revision becomes a hash of the training ids."""
        import hashlib

        from petf2i_core.generation.prompts import ExampleRetriever

        self.retriever = ExampleRetriever(train_reports)
        digest = hashlib.sha256("\n".join(sorted(report.id for report in train_reports)).encode("utf-8"))
        self.model_revision = "train-" + digest.hexdigest()[:16]
        return self

    def generate(self, requests: list[GenerationRequest]) -> list[GenerationOutput]:
        """Return the nearest training impression for each request (never the request's own report)."""
        if self.retriever is None:
            raise RuntimeError("the retrieval baseline needs training reports: call fit(train_reports) first")
        outputs = []
        for request in requests:
            started = time.perf_counter()
            nearest = self.retriever.retrieve(request.findings, request.language, k=1, exclude_ids=[request.id])
            text = nearest[0].impression if nearest else ""
            outputs.append(finish_output(request.id, text, FINISH_STOP, latency_s=time.perf_counter() - started,
                                         source_id=nearest[0].id if nearest else None))
        return outputs
