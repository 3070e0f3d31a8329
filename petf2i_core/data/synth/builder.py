"""Assemble report text from typed segments and derive the gold entities from them.

A renderer never writes an entity as free text. It appends an anatomy, finding or
diagnosis segment (concept plus a lexicon surface form), a cue segment (negation
or hedge), a value segment (SUVmax or size) and plain text between them. The gold
entities are then computed from the segments with the annotation rules that the
extractor (:mod:`petf2i_core.entities.extractor`) applies to the text:

* clauses end at ``,`` ``;`` ``。`` ``!`` ``?``, a line end or a non-decimal ``.``
  (full-width forms included); sentences end at the same marks except ``,`` and ``;``;
* anatomy is always ``positive``; its laterality comes from a lateral cue segment
  written directly before it, else from an anatomy term it directly follows
  (``右肺门淋巴结``: 淋巴结 is right);
* a finding or diagnosis takes a lateral cue written directly before it, else the
  laterality of its site: the nearest anatomy before it in its clause, else (English)
  the first anatomy after it in its clause, else the nearest anatomy before it in
  its sentence;
* polarity: a negation cue before the term in its clause (English: in its
  sentence), a post-negation cue after it in its clause (``消失``), or a structured
  line ``胸腔积液：无`` makes it negative; else a hedge cue in its clause makes it
  uncertain. Renderers write hedge cues before every finding of their clause;
* the first SUVmax and the first size of a clause go to the findings (type
  ``finding``) of that clause, or of the nearest earlier clause of the same
  sentence that has findings; a later clause overrides an earlier one;
* within a section, entities form a set keyed by ``Entity.key()``; the first
  occurrence keeps its site and values.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from petf2i_core.data.synth.lexicon import Lexicon

# Segment kinds.
PLAIN = "plain"          # free text; the only kind noise may edit
FIXED = "fixed"          # text that must stay as written (codes, units, markers)
LATERAL = "lateral"      # a lateral cue written directly before an anatomy or finding term
ANATOMY = "anatomy"
FINDING = "finding"
DIAGNOSIS = "diagnosis"
NEGATION = "negation"
POST_NEGATION = "post_negation"
HEDGE = "hedge"
SUV = "suv"
SIZE = "size"

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
        """Append free text (never a lexicon form or a cue word)."""
        if text:
            self.segments.append(Segment(PLAIN, text))
        return self

    def fixed(self, text: str) -> "Builder":
        """Append text that noise must not edit."""
        if text:
            self.segments.append(Segment(FIXED, text))
        return self

    def lateral(self, laterality: str | None, cue: str | None = None) -> "Builder":
        """Append the lateral cue of ``laterality`` (nothing when it is None)."""
        if laterality is None:
            return self
        cues = LATERAL_CUES[self.language][laterality]
        cue = cue if cue is not None else cues[0]
        if cue.lower() not in cues:
            raise ValueError(f"{cue!r} is not a {laterality} cue in {self.language}; use one of {cues}")
        separator = " " if self.language == "en" else ""
        self.segments.append(Segment(LATERAL, cue + separator, laterality=laterality))
        return self

    def anatomy(self, concept: str, form: str, laterality: str | None = None, cue: str | None = None) -> "Builder":
        """Append an anatomy term, preceded by the lateral cue when ``laterality`` is set."""
        self.lexicon.check_form(self.language, concept, form)
        self.lateral(laterality, cue)
        self.segments.append(Segment(ANATOMY, form, concept))
        return self

    def finding(self, concept: str, form: str, laterality: str | None = None, cue: str | None = None) -> "Builder":
        """Append a finding or diagnosis term (its type comes from the lexicon)."""
        self.lexicon.check_form(self.language, concept, form)
        self.lateral(laterality, cue)
        kind = FINDING if self.lexicon.types[concept] == "finding" else DIAGNOSIS
        self.segments.append(Segment(kind, form, concept))
        return self

    def negation(self, cue: str) -> "Builder":
        """Append a negation cue that covers the findings after it."""
        self.segments.append(Segment(NEGATION, cue))
        return self

    def post_negation(self, cue: str) -> "Builder":
        """Append a negation cue that covers the findings before it in its clause (消失)."""
        self.segments.append(Segment(POST_NEGATION, cue))
        return self

    def hedge(self, cue: str) -> "Builder":
        """Append a hedge cue; it must come before every finding of its clause."""
        self.segments.append(Segment(HEDGE, cue))
        return self

    def suv(self, text: str, value: float) -> "Builder":
        """Append an SUVmax mention whose number is ``value``."""
        self.segments.append(Segment(SUV, text, value=round(value, 1)))
        return self

    def size(self, text: str, dims_cm: tuple[float, ...]) -> "Builder":
        """Append a size mention; ``dims_cm`` is stored largest first, in cm."""
        dims = tuple(sorted((round(d, 3) for d in dims_cm), reverse=True))
        self.segments.append(Segment(SIZE, text, value=dims))
        return self


# Clause and sentence ends as the extractor finds them after normalisation: the
# full-width forms of , ; ! ? and . become half-width there, and a full stop
# followed by a digit is a decimal point.
_CLAUSE_END = re.compile(r"[,;，；。!?！？\n]|[.．](?![0-9０-９])")
_SENTENCE_END = re.compile(r"[。!?！？\n]|[.．](?![0-9０-９])")
_STRUCTURED = {"zh": re.compile(r"[:：]\s*(?:无|未见|阴性|否|没有)\s*[.。]?\s*$"), "en": re.compile(r"[:：]\s*(?:none|no|negative|absent|not seen)\s*[.。]?\s*$", re.IGNORECASE)}


@dataclass
class _Mention:
    type: str
    concept: str
    start: int
    end: int
    text: str
    clause: int
    sentence: int
    laterality: str | None = None
    polarity: str = "positive"
    site: "_Mention | None" = None
    suvmax: float | None = None
    size_cm: tuple[float, ...] | None = None


def _starts(text: str, pattern: re.Pattern[str]) -> list[int]:
    return [0] + [match.end() for match in pattern.finditer(text)]


def render(segments: list[Segment], language: str) -> tuple[str, list[dict]]:
    """Join ``segments`` into text and return it with the gold entity rows of that text."""
    text = "".join(segment.text for segment in segments)
    clause_starts = _starts(text, _CLAUSE_END)
    sentence_starts = _starts(text, _SENTENCE_END)

    def clause_of(position: int) -> int:
        return bisect.bisect_right(clause_starts, position) - 1

    def sentence_of(position: int) -> int:
        return bisect.bisect_right(sentence_starts, position) - 1

    mentions, cues, values = _collect(segments, clause_of, sentence_of)
    anatomy = [mention for mention in mentions if mention.type == "anatomy"]
    for mention in mentions:
        if mention.type == "anatomy":
            continue
        mention.site = _site(mention, anatomy, language)
        if mention.laterality is None and mention.site is not None:
            mention.laterality = mention.site.laterality
        mention.polarity = _polarity(mention, cues, text, clause_starts, language)
    _attach_values(mentions, values)
    return text, _deduplicate(mentions)


def _collect(segments, clause_of, sentence_of):
    mentions: list[_Mention] = []
    cues: list[tuple[str, int, int, int]] = []
    values: list[tuple[str, object, int, int]] = []
    position = 0
    pending_side: str | None = None
    previous: _Mention | None = None
    gap_is_blank = False

    for segment in segments:
        start, end = position, position + len(segment.text)
        position = end
        kind = segment.kind
        if kind in (ANATOMY, FINDING, DIAGNOSIS):
            mention = _Mention(
                "anatomy" if kind == ANATOMY else "finding" if kind == FINDING else "diagnosis",
                segment.concept, start, end, segment.text, clause_of(start), sentence_of(start), laterality=pending_side,
            )
            if kind == ANATOMY and pending_side is None and previous is not None and previous.type == "anatomy" and gap_is_blank:
                mention.laterality = previous.laterality
            mentions.append(mention)
            previous, gap_is_blank, pending_side = mention, True, None
            continue
        pending_side = segment.laterality if kind == LATERAL else None
        gap_is_blank = gap_is_blank and not segment.text.strip()
        if kind in (NEGATION, HEDGE, POST_NEGATION):
            cues.append((kind, start, clause_of(start), sentence_of(start)))
        elif kind in (SUV, SIZE):
            values.append((kind, segment.value, clause_of(start), sentence_of(start)))
    return mentions, cues, values


def _site(mention: _Mention, anatomy: list[_Mention], language: str) -> _Mention | None:
    before = [a for a in anatomy if a.clause == mention.clause and a.end <= mention.start]
    if before:
        return before[-1]
    if language == "en":
        after = [a for a in anatomy if a.clause == mention.clause and a.start >= mention.end]
        if after:
            return after[0]
    before = [a for a in anatomy if a.sentence == mention.sentence and a.end <= mention.start]
    return before[-1] if before else None


def _polarity(mention: _Mention, cues, text: str, clause_starts: list[int], language: str) -> str:
    hedged = False
    for kind, start, clause, sentence in cues:
        if kind == NEGATION and start < mention.start:
            if clause == mention.clause or (language == "en" and sentence == mention.sentence):
                return "negative"
        elif kind == POST_NEGATION and clause == mention.clause and start >= mention.end:
            return "negative"
        elif kind == HEDGE and clause == mention.clause:
            if start > mention.start:
                raise ValueError(f"hedge cue written after {mention.text!r} in its clause: {text!r}")
            hedged = True

    clause_start = clause_starts[mention.clause]
    clause_end = clause_starts[mention.clause + 1] if mention.clause + 1 < len(clause_starts) else len(text)
    clause_text = text[clause_start:clause_end]
    colon = max(clause_text.find(":"), clause_text.find("："))
    if colon >= 0 and mention.start < clause_start + colon and _STRUCTURED[language].search(clause_text):
        return "negative"
    return "uncertain" if hedged else "positive"


def _attach_values(mentions: list[_Mention], values) -> None:
    findings_by_clause: dict[int, list[_Mention]] = {}
    for mention in mentions:
        if mention.type == "finding":
            findings_by_clause.setdefault(mention.clause, []).append(mention)

    clause_values: dict[int, dict[str, object]] = {}
    sentence_of_clause: dict[int, int] = {}
    for kind, value, clause, sentence in values:
        clause_values.setdefault(clause, {}).setdefault(kind, value)
        sentence_of_clause[clause] = sentence
    clause_sentence = {m.clause: m.sentence for m in mentions}

    for clause in sorted(clause_values):
        target = clause
        while target >= 0 and target not in findings_by_clause:
            target -= 1
        if target < 0 or clause_sentence.get(target) != sentence_of_clause[clause]:
            continue
        for mention in findings_by_clause[target]:
            found = clause_values[clause]
            mention.suvmax = found.get(SUV, mention.suvmax)
            mention.size_cm = found.get(SIZE, mention.size_cm)


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
            "site": mention.site.concept if mention.site is not None else None,
            "suvmax": mention.suvmax,
            "size_cm": list(mention.size_cm) if mention.size_cm else None,
            "text": mention.text,
            "start": mention.start,
            "end": mention.end,
        }
    return list(rows.values())


def entity_spans(segments: list[Segment]) -> list[tuple[int, int, str]]:
    """Return (start, end, concept) of every entity segment, in text order."""
    spans = []
    position = 0
    for segment in segments:
        end = position + len(segment.text)
        if segment.kind in (ANATOMY, FINDING, DIAGNOSIS):
            spans.append((position, end, segment.concept))
        position = end
    return spans
