"""Clauses, sentences, and the negation, hedge and laterality cues with their scopes.

Scope rules (the cue lists are in ``lexicon/cues.yaml``):

* A clause ends at ``,`` ``;`` ``。`` ``?`` ``!``, a line end, or a ``.`` that
  is not a decimal point (so a numbered-list marker such as ``2.`` ends one).
  Text is normalised first, so the full-width ``，`` and ``；`` are already
  ``,`` and ``;``. A sentence ends at ``。``, ``!``, a line end or a
  non-decimal ``.``; ``?`` ends only a clause (see ``_SENTENCE_END``).
* A negation cue before a term ("未见", "no evidence of") covers the rest of
  its clause. In English it covers the rest of its sentence up to a scope
  terminator ("but", "however", "there is"), because English lists negated
  items across commas ("without consolidation, pneumothorax, or effusion").
* A negation cue after a term ("is not seen", "阴性") covers the clause up to
  the cue. A structured line "胸腔积液:无" or "Effusion: none" negates its clause.
* A hedge cue ("考虑", "可能", "?", "likely") covers its whole clause,
  before and after the cue. A forward hedge ("suspicious for", "may represent")
  covers only the rest of its clause.
* Negation wins over a hedge when both cover a term.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from petf2i_core.entities.lexicon import Lexicon, surface_pattern

_CLAUSE_END = re.compile(r"[,;。!?\n]|\.(?!\d)")
# "?" ends a clause but not a sentence, because Chinese reports hedge inline
# ("结石?钙化?") and the second term still takes its site from the sentence.
_SENTENCE_END = re.compile(r"[。!\n]|\.(?!\d)")
_NEVER = re.compile(r"(?!x)x")
_ZH_AMOUNT = "(?:少量|少许|大量|中量|多发|部分|局部)"
_EN_POSITION = (
    r"(?:upper|lower|middle|mid|anterior|posterior|lateral|medial|inferior|superior|distal|proximal"
    r"|\d+(?:st|nd|rd|th))"
)


@dataclass(frozen=True)
class CuePatterns:
    """Compiled cue patterns of one language, longest cue first at each position."""

    cue: re.Pattern[str]
    kinds: dict[str, str]
    structured: re.Pattern[str]
    terminator: re.Pattern[str]
    lateral: re.Pattern[str]
    lateral_kinds: dict[str, str]


def _compile(forms: list[str], language: str) -> re.Pattern[str]:
    return surface_pattern(forms, language) if forms else _NEVER


def _check_cue_lists(cues: dict) -> None:
    """Raise ValueError when a cue list contains a non-text value, such as YAML reading ``no`` as False."""
    for kind, lists in cues.items():
        if not isinstance(lists, dict):
            continue
        for language, forms in lists.items():
            entries = forms.values() if isinstance(forms, dict) else [forms]
            for values in entries:
                for value in values or []:
                    if isinstance(value, bool):
                        raise ValueError(
                            f"cues.yaml: {kind}.{language} has the boolean {value!r}; "
                            'quote words that YAML reads as booleans, such as "no"'
                        )


def compile_cues(lexicon: Lexicon, language: str) -> CuePatterns:
    """Compile the cue lists of ``lexicon`` for ``language`` ("zh" or "en").

    A cue listed under two kinds keeps the first of negation_pre, negation_post,
    hedge, hedge_pre.
    """
    cues = lexicon.cues
    _check_cue_lists(cues)
    kinds: dict[str, str] = {}
    for kind in ("negation_pre", "negation_post", "hedge", "hedge_pre"):
        for form in (cues.get(kind) or {}).get(language) or []:
            key = str(form).lower() if language == "en" else str(form)
            kinds.setdefault(key, kind)

    values = [re.escape(str(v)) for v in (cues.get("structured_negative") or {}).get(language) or []]
    structured = re.compile(rf":\s*(?:{'|'.join(values)})\s*[.。]?\s*$", re.IGNORECASE) if values else _NEVER

    terminators = (cues.get("scope_terminators") or {}).get(language) or []
    lateral_kinds: dict[str, str] = {}
    for side, forms in (cues.get("laterality") or {}).items():
        for form in forms.get(language) or []:
            lateral_kinds[str(form).lower() if language == "en" else str(form)] = side
    ordered = sorted(lateral_kinds, key=lambda form: (-len(form), form))
    alternation = "|".join(re.escape(form) for form in ordered) or "(?!x)x"
    if language == "en":
        # "left lower lobe", "both lungs", and up to two position words between
        # the side and the term: "right posterior 5th rib", "right lower lung".
        lateral = re.compile(rf"(?<![A-Za-z])({alternation})\s+(?:{_EN_POSITION}\s+){{0,2}}$", re.IGNORECASE)
    else:
        # "左侧第7前肋", "右侧7-9肋", "左足第1楔骨", "右侧少量气胸", "右下肺": a hand or
        # foot, an ordinal, an amount or one position character may sit between.
        lateral = re.compile(rf"({alternation})[足手]?(?:第?\d+(?:[\-~、]\d+)*)?{_ZH_AMOUNT}?[上中下前后]?\s*$")

    return CuePatterns(
        cue=_compile(list(kinds), language),
        kinds=kinds,
        structured=structured,
        terminator=_compile([str(t) for t in terminators], language),
        lateral=lateral,
        lateral_kinds=lateral_kinds,
    )


def _span_starts(text: str, pattern: re.Pattern[str]) -> list[int]:
    starts = [0]
    for match in pattern.finditer(text):
        starts.append(match.end())
    return starts


class ScopeMap:
    """Clause and sentence spans of one text, with the cues found in it.

    :meth:`polarity` returns the polarity of a finding or diagnosis at a span.
    """

    def __init__(self, text: str, language: str, patterns: CuePatterns) -> None:
        self.text = text
        self.language = language
        self.patterns = patterns
        self.clause_starts = _span_starts(text, _CLAUSE_END)
        self.sentence_starts = _span_starts(text, _SENTENCE_END)
        self.cues = [
            (match.start(), match.end(), patterns.kinds[match.group(0).lower() if language == "en" else match.group(0)])
            for match in patterns.cue.finditer(text)
        ]
        self.terminators = [match.start() for match in patterns.terminator.finditer(text)]

    def clause_of(self, position: int) -> int:
        """Return the index of the clause that contains ``position``."""
        return bisect.bisect_right(self.clause_starts, position) - 1

    def sentence_of(self, position: int) -> int:
        """Return the index of the sentence that contains ``position``."""
        return bisect.bisect_right(self.sentence_starts, position) - 1

    def clause_span(self, index: int) -> tuple[int, int]:
        """Return the (start, end) offsets of clause ``index``, its end delimiter included."""
        end = self.clause_starts[index + 1] if index + 1 < len(self.clause_starts) else len(self.text)
        return self.clause_starts[index], end

    def sentence_span(self, index: int) -> tuple[int, int]:
        """Return the (start, end) offsets of sentence ``index``, its end delimiter included."""
        end = self.sentence_starts[index + 1] if index + 1 < len(self.sentence_starts) else len(self.text)
        return self.sentence_starts[index], end

    def _negation_end(self, cue_end: int) -> int:
        if self.language != "en":
            return self.clause_span(self.clause_of(cue_end - 1))[1]
        end = self.sentence_span(self.sentence_of(cue_end - 1))[1]
        index = bisect.bisect_left(self.terminators, cue_end)
        if index < len(self.terminators):
            end = min(end, self.terminators[index])
        return end

    def polarity(self, start: int, end: int) -> str:
        """Return "negative", "uncertain" or "positive" for the term at [start, end)."""
        clause_start, clause_end = self.clause_span(self.clause_of(start))
        hedged = False
        for cue_start, cue_end, kind in self.cues:
            # A pre-cue may overlap the start of the term ("未见异常" before "异常放射性浓聚").
            if kind == "negation_pre" and cue_start < start and end <= self._negation_end(cue_end):
                if self.language == "en" or cue_start >= clause_start:
                    return "negative"
            elif kind == "negation_post" and clause_start <= start and end <= cue_start < clause_end:
                return "negative"
            elif kind == "hedge" and clause_start <= cue_start < clause_end:
                hedged = True
            elif kind == "hedge_pre" and clause_start <= cue_start < start and end <= clause_end:
                hedged = True

        clause_text = self.text[clause_start:clause_end]
        colon = clause_text.find(":")
        if colon >= 0 and start < clause_start + colon and self.patterns.structured.search(clause_text):
            return "negative"
        return "uncertain" if hedged else "positive"

    def laterality_before(self, start: int) -> str | None:
        """Return the side named by a lateral cue that ends right before ``start``, else None."""
        window = self.text[max(0, start - 40) : start]
        match = self.patterns.lateral.search(window)
        if match is None:
            return None
        cue = match.group(1).lower() if self.language == "en" else match.group(1)
        return self.patterns.lateral_kinds.get(cue)
