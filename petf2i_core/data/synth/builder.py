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
  sentence that has findings; a finding keeps the first value it gets, so a
  prior SUVmax in a later clause (``较前大致相仿（前次SUVmax 8.1）``) does not replace it;
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


def _starts(text: str, pattern: re.Pattern[str]) -> list[int]:
    return [0] + [match.end() for match in pattern.finditer(text)]


# Indexes into a mention row (a list, for speed on 80k-report corpora).
_TYPE, _CONCEPT, _START, _END, _TEXT, _CLAUSE, _SENTENCE, _SIDE, _SITE, _SUV, _SIZE, _POLARITY = range(12)
_TYPE_OF_KIND = {ANATOMY: "anatomy", FINDING: "finding", DIAGNOSIS: "diagnosis"}


def render(segments: list[Segment], language: str) -> tuple[str, list[dict]]:
    """Join ``segments`` into text and return it with the gold entity rows of that text."""
    text = "".join([segment.text for segment in segments])
    clause_starts = _starts(text, _CLAUSE_END)
    sentence_starts = _starts(text, _SENTENCE_END)
    mentions, cues, values = _collect(segments, clause_starts, sentence_starts)
    _resolve_sites(mentions, language)
    _resolve_polarity(mentions, cues, text, clause_starts, language)
    _attach_values(mentions, values)
    return text, _deduplicate(mentions)


def _collect(segments, clause_starts, sentence_starts):
    mentions: list[list] = []
    cues: list[tuple[str, int, int, int]] = []
    values: list[tuple[str, object, int, int]] = []
    position = 0
    pending_side: str | None = None
    previous: list | None = None
    gap_is_blank = False
    bisect_right = bisect.bisect_right

    for segment in segments:
        start = position
        position += len(segment.text)
        kind = segment.kind
        entity_type = _TYPE_OF_KIND.get(kind)
        if entity_type is not None:
            side = pending_side
            if entity_type == "anatomy" and side is None and previous is not None and previous[_TYPE] == "anatomy" and gap_is_blank:
                side = previous[_SIDE]
            mention = [entity_type, segment.concept, start, position, segment.text,
                       bisect_right(clause_starts, start) - 1, bisect_right(sentence_starts, start) - 1,
                       side, None, None, None, "positive"]
            mentions.append(mention)
            previous, gap_is_blank, pending_side = mention, True, None
            continue
        pending_side = segment.laterality if kind == LATERAL else None
        if gap_is_blank and segment.text.strip():
            gap_is_blank = False
        if kind == NEGATION or kind == HEDGE or kind == POST_NEGATION:
            cues.append((kind, start, bisect_right(clause_starts, start) - 1, bisect_right(sentence_starts, start) - 1))
        elif kind == SUV or kind == SIZE:
            values.append((kind, segment.value, bisect_right(clause_starts, start) - 1, bisect_right(sentence_starts, start) - 1))
    return mentions, cues, values


def _resolve_sites(mentions: list[list], language: str) -> None:
    """Give each finding and diagnosis its site and, without its own lateral cue, the site's laterality."""
    next_in_clause: dict[int, list] = {}
    if language == "en":
        following: list | None = None
        for mention in reversed(mentions):
            if following is not None and following[_CLAUSE] != mention[_CLAUSE]:
                following = None
            if mention[_TYPE] == "anatomy":
                following = mention
            else:
                next_in_clause[id(mention)] = following

    clause_anatomy: list | None = None
    sentence_anatomy: list | None = None
    for mention in mentions:
        if clause_anatomy is not None and clause_anatomy[_CLAUSE] != mention[_CLAUSE]:
            clause_anatomy = None
        if sentence_anatomy is not None and sentence_anatomy[_SENTENCE] != mention[_SENTENCE]:
            sentence_anatomy = None
        if mention[_TYPE] == "anatomy":
            clause_anatomy = sentence_anatomy = mention
            continue
        site = clause_anatomy or next_in_clause.get(id(mention)) or sentence_anatomy
        mention[_SITE] = site
        if mention[_SIDE] is None and site is not None:
            mention[_SIDE] = site[_SIDE]


def _resolve_polarity(mentions: list[list], cues, text: str, clause_starts: list[int], language: str) -> None:
    """Set the polarity of each finding and diagnosis from the cues of its clause or sentence."""
    first_negation: dict[tuple[str, int], int] = {}
    last_post_negation: dict[int, int] = {}
    last_hedge: dict[int, int] = {}
    for kind, start, clause, sentence in cues:
        if kind == NEGATION:
            for key in (("clause", clause), ("sentence", sentence)):
                first_negation[key] = min(first_negation.get(key, start), start)
        elif kind == POST_NEGATION:
            last_post_negation[clause] = max(last_post_negation.get(clause, start), start)
        else:
            last_hedge[clause] = max(last_hedge.get(clause, start), start)

    structured: dict[int, int | None] = {}
    for mention in mentions:
        if mention[_TYPE] == "anatomy":
            continue
        start, clause = mention[_START], mention[_CLAUSE]
        scope = ("sentence", mention[_SENTENCE]) if language == "en" else ("clause", clause)
        if first_negation.get(scope, start) < start or last_post_negation.get(clause, -1) >= mention[_END]:
            mention[_POLARITY] = "negative"
            continue
        if clause not in structured:
            structured[clause] = _structured_colon(text, clause_starts, clause, language)
        colon = structured[clause]
        if colon is not None and start < colon:
            mention[_POLARITY] = "negative"
        elif clause in last_hedge:
            if last_hedge[clause] > start:
                raise ValueError(f"hedge cue written after {mention[_TEXT]!r} in its clause: {text!r}")
            mention[_POLARITY] = "uncertain"


def _structured_colon(text: str, clause_starts: list[int], clause: int, language: str) -> int | None:
    """Return the offset of the colon of a structured negative line (``胸腔积液：无``), else None."""
    clause_start = clause_starts[clause]
    clause_end = clause_starts[clause + 1] if clause + 1 < len(clause_starts) else len(text)
    clause_text = text[clause_start:clause_end]
    colon = max(clause_text.find(":"), clause_text.find("："))
    if colon < 0 or not _STRUCTURED[language].search(clause_text):
        return None
    return clause_start + colon


def _attach_values(mentions: list[list], values) -> None:
    findings_by_clause: dict[int, list[list]] = {}
    clause_sentence: dict[int, int] = {}
    for mention in mentions:
        if mention[_TYPE] == "finding":
            findings_by_clause.setdefault(mention[_CLAUSE], []).append(mention)
            clause_sentence[mention[_CLAUSE]] = mention[_SENTENCE]

    clause_values: dict[int, dict[str, object]] = {}
    sentence_of_clause: dict[int, int] = {}
    for kind, value, clause, sentence in values:
        clause_values.setdefault(clause, {}).setdefault(kind, value)
        sentence_of_clause[clause] = sentence

    for clause in sorted(clause_values):
        target = clause
        while target >= 0 and target not in findings_by_clause:
            target -= 1
        if target < 0 or clause_sentence[target] != sentence_of_clause[clause]:
            continue
        found = clause_values[clause]
        for mention in findings_by_clause[target]:
            if SUV in found and mention[_SUV] is None:
                mention[_SUV] = found[SUV]
            if SIZE in found and mention[_SIZE] is None:
                mention[_SIZE] = found[SIZE]


def _deduplicate(mentions: list[list]) -> list[dict]:
    rows: dict[tuple, dict] = {}
    for mention in mentions:
        key = (mention[_TYPE], mention[_CONCEPT], mention[_SIDE], mention[_POLARITY])
        if key in rows:
            continue
        site = mention[_SITE]
        size = mention[_SIZE]
        rows[key] = {
            "concept": mention[_CONCEPT],
            "type": mention[_TYPE],
            "laterality": mention[_SIDE],
            "polarity": mention[_POLARITY],
            "site": site[_CONCEPT] if site is not None else None,
            "suvmax": mention[_SUV],
            "size_cm": list(size) if size else None,
            "text": mention[_TEXT],
            "start": mention[_START],
            "end": mention[_END],
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
