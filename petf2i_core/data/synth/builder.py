"""Assemble report text from typed segments and derive the gold entities from them.

A renderer never writes an entity as free text. It appends an anatomy, finding or
diagnosis segment (concept plus a lexicon surface form), a cue segment (negation
or hedge), a value segment (SUVmax or size) or punctuation, and plain text only
between them. The gold entities are then computed from the segment stream with
the annotation rules that the extractor implements on the text:

* anatomy is always ``positive``; its laterality comes from a lateral cue segment
  written directly before it;
* a finding or diagnosis takes the polarity of the cue in its clause (cues are
  always written before the first finding or diagnosis of the clause, so the rule
  holds whatever scope an extractor gives a cue), and laterality and site from the
  nearest preceding anatomy of its clause, else of its sentence;
* the first SUVmax and the first size of a clause attach to every finding of that
  clause (type ``finding`` only, not diagnoses);
* within a section, entities form a set keyed by ``Entity.key()``; the first
  occurrence keeps its values.

Clauses end at ``，,；;`` and at sentence ends; sentences end at ``。``, ``. ``,
a newline and a numbered-list marker. ``；`` also ends the sentence here, and the
renderers never rely on an anatomy carried across it.
"""

from __future__ import annotations

from dataclasses import dataclass

from petf2i_core.data.synth.lexicon import Lexicon

# Segment kinds.
PLAIN = "plain"          # free text; the only kind noise may edit
FIXED = "fixed"          # text that must stay as written (lateral cues, units)
ANATOMY = "anatomy"
FINDING = "finding"
DIAGNOSIS = "diagnosis"
NEGATION = "negation"
HEDGE = "hedge"
SUV = "suv"
SIZE = "size"
CLAUSE_END = "clause_end"
SENTENCE_END = "sentence_end"
STRUCTURED_NEGATIVE = "structured_negative"  # "胸腔积液：无": the finding before it is negative

LATERAL_CUES = {
    "zh": {"left": ("左", "左侧"), "right": ("右", "右侧"), "bilateral": ("双", "双侧", "两侧", "两")},
    "en": {"left": ("left",), "right": ("right",), "bilateral": ("bilateral", "both")},
}


@dataclass
class Segment:
    """One piece of report text with its meaning: kind, text and payload."""

    kind: str
    text: str
    concept: str | None = None
    laterality: str | None = None
    value: object = None


class Builder:
    """Append typed segments for one report section in one language."""

    def __init__(self, language: str, lexicon: Lexicon):
        self.language = language
        self.lexicon = lexicon
        self.segments: list[Segment] = []

    def text(self, text: str) -> "Builder":
        """Append free text (never a lexicon form, a cue word or clause punctuation)."""
        if text:
            self.segments.append(Segment(PLAIN, text))
        return self

    def fixed(self, text: str) -> "Builder":
        """Append text that noise must not touch."""
        if text:
            self.segments.append(Segment(FIXED, text))
        return self

    def anatomy(self, concept: str, form: str, laterality: str | None = None, cue: str | None = None) -> "Builder":
        """Append an anatomy term, preceded by the lateral ``cue`` text when ``laterality`` is set."""
        self.lexicon.check_form(self.language, concept, form)
        if laterality is not None:
            if cue is None:
                cue = LATERAL_CUES[self.language][laterality][0]
            if cue not in LATERAL_CUES[self.language][laterality]:
                raise ValueError(f"{cue!r} is not a {laterality} cue in {self.language}")
            self.segments.append(Segment(FIXED, cue + (" " if self.language == "en" else "")))
        self.segments.append(Segment(ANATOMY, form, concept, laterality))
        return self

    def finding(self, concept: str, form: str) -> "Builder":
        """Append a finding or diagnosis term (the type comes from the lexicon)."""
        self.lexicon.check_form(self.language, concept, form)
        kind = FINDING if self.lexicon.types[concept] == "finding" else DIAGNOSIS
        self.segments.append(Segment(kind, form, concept))
        return self

    def negation(self, cue: str) -> "Builder":
        """Append a negation cue; it must come before every finding of its clause."""
        self.segments.append(Segment(NEGATION, cue))
        return self

    def hedge(self, cue: str) -> "Builder":
        """Append a hedge cue; it must come before every finding of its clause."""
        self.segments.append(Segment(HEDGE, cue))
        return self

    def structured_negative(self, text: str) -> "Builder":
        """Append the value part of a structured line such as ``：无`` after its finding."""
        self.segments.append(Segment(STRUCTURED_NEGATIVE, text))
        return self

    def suv(self, text: str, value: float) -> "Builder":
        """Append an SUVmax mention whose number is ``value``."""
        self.segments.append(Segment(SUV, text, value=round(value, 1)))
        return self

    def size(self, text: str, dims_cm: tuple[float, ...]) -> "Builder":
        """Append a size mention; ``dims_cm`` is stored largest first, in cm."""
        dims = tuple(sorted((round(d, 2) for d in dims_cm), reverse=True))
        self.segments.append(Segment(SIZE, text, value=dims))
        return self

    def clause(self, mark: str) -> "Builder":
        """End the clause with ``mark`` (``，`` ``,`` ``；`` ``;`` or ``、``-free separators)."""
        self.segments.append(Segment(CLAUSE_END, mark))
        return self

    def sentence(self, mark: str) -> "Builder":
        """End the sentence with ``mark`` (``。``, ``. ``, a newline or a numbered marker)."""
        self.segments.append(Segment(SENTENCE_END, mark))
        return self

    def extend(self, other: "Builder") -> "Builder":
        """Append the segments of another builder."""
        self.segments.extend(other.segments)
        return self


@dataclass
class _Mention:
    type: str
    concept: str
    laterality: str | None
    polarity: str
    site: str | None
    start: int
    end: int
    text: str
    suvmax: float | None = None
    size_cm: tuple[float, ...] | None = None


def render(segments: list[Segment]) -> tuple[str, list[dict]]:
    """Join ``segments`` into text and return it with the gold entity rows of that text."""
    pieces: list[str] = []
    mentions: list[_Mention] = []
    position = 0

    clause_polarity = "positive"
    clause_mentions: list[_Mention] = []
    clause_anatomy: _Mention | None = None
    sentence_anatomy: _Mention | None = None
    clause_suv: float | None = None
    clause_size: tuple[float, ...] | None = None

    def close_clause() -> None:
        for mention in clause_mentions:
            if mention.type == "finding":
                mention.suvmax = clause_suv
                mention.size_cm = clause_size

    for segment in segments:
        start = position
        pieces.append(segment.text)
        position += len(segment.text)
        kind = segment.kind

        if kind == ANATOMY:
            mention = _Mention("anatomy", segment.concept, segment.laterality, "positive", None, start, position, segment.text)
            mentions.append(mention)
            clause_anatomy = sentence_anatomy = mention
        elif kind in (FINDING, DIAGNOSIS):
            anchor = clause_anatomy or sentence_anatomy
            mention = _Mention(
                "finding" if kind == FINDING else "diagnosis",
                segment.concept,
                anchor.laterality if anchor else None,
                clause_polarity,
                anchor.concept if anchor else None,
                start,
                position,
                segment.text,
            )
            mentions.append(mention)
            clause_mentions.append(mention)
        elif kind in (NEGATION, HEDGE):
            if clause_mentions:
                raise ValueError(f"cue {segment.text!r} written after a finding in its clause: {''.join(pieces)!r}")
            if clause_polarity != "positive":
                raise ValueError(f"two cues in one clause: {''.join(pieces)!r}")
            clause_polarity = "negative" if kind == NEGATION else "uncertain"
        elif kind == STRUCTURED_NEGATIVE:
            for mention in clause_mentions:
                mention.polarity = "negative"
        elif kind == SUV:
            clause_suv = segment.value if clause_suv is None else clause_suv
        elif kind == SIZE:
            clause_size = segment.value if clause_size is None else clause_size
        elif kind in (CLAUSE_END, SENTENCE_END):
            close_clause()
            clause_polarity, clause_mentions, clause_anatomy = "positive", [], None
            clause_suv = clause_size = None
            if kind == SENTENCE_END:
                sentence_anatomy = None

    close_clause()
    return "".join(pieces), _deduplicate(mentions)


def _deduplicate(mentions: list[_Mention]) -> list[dict]:
    rows: dict[tuple, dict] = {}
    for mention in mentions:
        key = (mention.type, mention.concept, mention.laterality, mention.polarity)
        if key in rows:
            continue
        rows[key] = {
            "concept": mention.concept,
            "type": mention.type,
            "laterality": mention.laterality,
            "polarity": mention.polarity,
            "site": mention.site,
            "suvmax": mention.suvmax,
            "size_cm": list(mention.size_cm) if mention.size_cm else None,
            "text": mention.text,
            "start": mention.start,
            "end": mention.end,
        }
    return list(rows.values())
