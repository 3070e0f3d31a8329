"""Bilingual rule-based clinical entity extraction over normalised report text.

:func:`extract_entities` normalises the text with
:func:`petf2i_core.text.normalize.normalize`, finds every lexicon surface form
(longest match first, one precompiled pattern per language) and attaches:

* laterality: anatomy takes it from a lateral cue right before the term
  ("右肺", "left lower lobe"), or from the anatomy term it directly follows
  ("右肺上叶" = 右 + 肺 + 上叶). A finding or diagnosis takes a lateral cue right
  before it ("左侧胸腔积液"), else the laterality of its site;
* site: the nearest anatomy entity before the term in the same clause. In
  English, where the site often comes last ("opacity in the right lower
  lobe"), the first anatomy after the term in the same clause comes next.
  Otherwise the site is the nearest anatomy before the term in its sentence;
* polarity: see :mod:`petf2i_core.entities.polarity` (anatomy is always positive);
* values: the SUVmax values and sizes of a clause go to its finding entities;
  a clause with values but no finding gives them to the findings of the
  nearest earlier clause of the same sentence ("右肺结节, 大小约1.2cm, SUVmax 5.2").
  When a clause has several values, the first SUVmax and the first size win,
  as in the synthetic corpus's gold.

Offsets (``start``, ``end``) index the normalised text, which
:func:`analysed_text` returns.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from functools import lru_cache

from petf2i_core.entities.lexicon import Lexicon, default_lexicon
from petf2i_core.entities.polarity import CuePatterns, ScopeMap, compile_cues
from petf2i_core.entities.types import Entity
from petf2i_core.entities.values import parse_sizes, parse_suvmax
from petf2i_core.text.normalize import normalize

logger = logging.getLogger(__name__)

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
# Share of CJK characters among CJK and Latin letters above which "auto" picks Chinese.
CJK_SHARE_FOR_ZH = 0.3


def detect_language(text: str) -> str:
    """Return "zh" when CJK characters make up at least 30% of the letters of ``text``, else "en"."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk + latin == 0:
        return "en"
    return "zh" if cjk / (cjk + latin) >= CJK_SHARE_FOR_ZH else "en"


def analysed_text(text: str) -> str:
    """Return the normalised text that entity offsets refer to."""
    return normalize(text)


@lru_cache(maxsize=8)
def _cue_patterns(lexicon_id: int, language: str) -> CuePatterns:
    return compile_cues(_LEXICONS[lexicon_id], language)


# Lexicons by id(). Holding a reference keeps each id unique for as long as the
# extraction cache may return results computed with that lexicon.
_LEXICONS: dict[int, Lexicon] = {}


def _patterns_for(lexicon: Lexicon, language: str) -> CuePatterns:
    _LEXICONS[id(lexicon)] = lexicon
    return _cue_patterns(id(lexicon), language)


def _resolve_language(text: str, language: str) -> str:
    if language == "auto":
        return detect_language(text)
    if language not in ("zh", "en"):
        raise ValueError(f"unsupported language {language!r}; use 'zh', 'en' or 'auto'")
    return language


def _find_terms(text: str, language: str, lexicon: Lexicon) -> list[tuple[str, str, int, int]]:
    """Return (concept id, type, start, end) for every surface form in ``text``.

    Matches are longest-leftmost and do not overlap, except that a finding or
    diagnosis may start inside an anatomy term and end after it: "肋骨折" is
    肋骨 (rib) and 骨折 (fracture).
    """
    index = lexicon.surface_index[language]
    pattern = lexicon.pattern[language]
    terms = []
    position = 0
    while True:
        match = pattern.search(text, position)
        if match is None:
            return terms
        position = match.end()
        concept_id = index[_form_key(match.group(0), language)]
        if not concept_id:
            continue
        concept = lexicon.concepts[concept_id]
        terms.append((concept.id, concept.type, match.start(), match.end()))
        if concept.type == "anatomy" and language == "zh":
            tail = _overlapping_finding(text, match.start() + 1, match.end(), lexicon)
            if tail is not None:
                terms.append(tail)
                position = tail[3]


def _find_split_terms(text: str, language: str, lexicon: Lexicon, terms) -> list[tuple[str, str, int, int, int]]:
    """Return (concept id, type, tail start, tail end, head start) for split forms whose tail overlaps no term.

    The head may overlap an anatomy term (盆腔 in "腹、盆腔未见积液").
    """
    found = []
    for concept_id, pattern in lexicon.split_patterns.get(language, []):
        for match in pattern.finditer(text):
            start, end = match.span(2)
            if any(term_start < end and start < term_end for _, _, term_start, term_end in terms):
                continue
            concept = lexicon.concepts[concept_id]
            found.append((concept.id, concept.type, match.start(2), match.end(2), match.start(1)))
    return found


def _form_key(form: str, language: str) -> str:
    return form.lower() if language == "en" else form


def _overlapping_finding(text: str, start: int, end: int, lexicon: Lexicon) -> tuple[str, str, int, int] | None:
    """Return a finding or diagnosis that starts in [start, end) and ends after ``end``, else None."""
    index = lexicon.surface_index["zh"]
    for offset in range(start, end):
        match = lexicon.pattern["zh"].match(text, offset)
        if match is None or match.end() <= end or not index[match.group(0)]:
            continue
        concept = lexicon.concepts[index[match.group(0)]]
        if concept.type != "anatomy":
            return (concept.id, concept.type, match.start(), match.end())
    return None


def _anatomy_laterality(text: str, terms, scope: ScopeMap) -> dict[int, str | None]:
    """Return the laterality of each anatomy term, keyed by its position in ``terms``.

    NOTE: a side reaches only the term right after its cue and terms joined to it
    without a gap. Coordinated terms ("右侧胫骨、腓骨及距骨", "right middle and
    lower lobe") and a side written after the term ("lungs clear bilaterally")
    give None.
    """
    sides: dict[int, str | None] = {}
    previous_end, previous_side = -1, None
    for position, (_, entity_type, start, end) in enumerate(terms):
        if entity_type != "anatomy":
            previous_end, previous_side = -1, None
            continue
        side = scope.laterality_before(start)
        if side is None and previous_side is not None and text[previous_end:start].strip() == "":
            side = previous_side
        sides[position] = side
        previous_end, previous_side = end, side
    return sides


def _nearest_site(anatomy: list[Entity], start: int, scope: ScopeMap) -> Entity | None:
    """Return the anatomy entity that gives a finding at ``start`` its site, or None."""
    clause_start, clause_end = scope.clause_span(scope.clause_of(start))
    # An anatomy term may overlap the finding's start ("肋骨折"), so compare starts.
    before = [a for a in anatomy if clause_start <= a.start < start]
    if before:
        return before[-1]
    if scope.language == "en":
        after = [a for a in anatomy if start <= a.start and a.end <= clause_end]
        if after:
            return after[0]
    sentence_start, _ = scope.sentence_span(scope.sentence_of(start))
    before = [a for a in anatomy if sentence_start <= a.start < start]
    return before[-1] if before else None


def _attach_values(text: str, entities: list[Entity], scope: ScopeMap) -> list[Entity]:
    """Attach each clause's first SUVmax and size to the finding entities it belongs to.

    A clause without findings lends its values to the nearest earlier clause with
    findings in the same sentence. An entity keeps the first value it gets, so in
    "nodule, SUVmax 3.7, smaller (previously SUVmax 8.7)" the nodule's SUVmax is 3.7.
    """
    clause_values: dict[int, dict[str, object]] = {}
    for value, start, _ in parse_suvmax(text):
        clause_values.setdefault(scope.clause_of(start), {}).setdefault("suvmax", value)
    for size, start, _ in parse_sizes(text):
        clause_values.setdefault(scope.clause_of(start), {}).setdefault("size_cm", size)
    if not clause_values:
        return entities

    findings_by_clause: dict[int, list[int]] = {}
    for position, entity in enumerate(entities):
        if entity.type == "finding":
            findings_by_clause.setdefault(scope.clause_of(entity.start), []).append(position)

    updated = list(entities)
    for clause, values in sorted(clause_values.items()):
        target = clause
        sentence = scope.sentence_of(scope.clause_span(clause)[0])
        while target >= 0 and target not in findings_by_clause:
            target -= 1
            if target < 0 or scope.sentence_of(scope.clause_span(target)[0]) != sentence:
                target = -1
        if target < 0:
            continue
        for position in findings_by_clause[target]:
            entity = updated[position]
            updated[position] = replace(
                entity,
                suvmax=entity.suvmax if entity.suvmax is not None else values.get("suvmax"),
                size_cm=entity.size_cm if entity.size_cm is not None else values.get("size_cm"),
            )
    return updated


def _extract_normalised(text: str, language: str, lexicon: Lexicon) -> list[Entity]:
    scope = ScopeMap(text, language, _patterns_for(lexicon, language))
    terms = _find_terms(text, language, lexicon)
    split_terms = _find_split_terms(text, language, lexicon, terms)
    if split_terms:
        terms = sorted(terms + [term[:4] for term in split_terms], key=lambda term: term[2])
    # A split form takes its side from a lateral cue before its head word.
    lateral_start = {start: head_start for _, _, start, _, head_start in split_terms}
    sides = _anatomy_laterality(text, terms, scope)

    anatomy = [
        Entity(concept, "anatomy", sides[position], "positive", None, text=text[start:end], start=start, end=end)
        for position, (concept, entity_type, start, end) in enumerate(terms)
        if entity_type == "anatomy"
    ]
    anatomy_by_start = {entity.start: entity for entity in anatomy}
    entities: list[Entity] = []
    for concept, entity_type, start, end in terms:
        if entity_type == "anatomy":
            entities.append(anatomy_by_start[start])
            continue
        site = _nearest_site(anatomy, start, scope)
        side = scope.laterality_before(lateral_start.get(start, start))
        if side is None and site is not None:
            side = site.laterality
        entities.append(
            Entity(
                concept,
                entity_type,
                side,
                scope.polarity(start, end),
                site.concept if site is not None else None,
                text=text[start:end],
                start=start,
                end=end,
            )
        )
    return _attach_values(text, entities, scope)


@lru_cache(maxsize=65536)
def _extract_cached(text: str, language: str, lexicon_id: int) -> tuple[Entity, ...]:
    normalised = normalize(text)
    language = _resolve_language(normalised, language)
    return tuple(_extract_normalised(normalised, language, _LEXICONS[lexicon_id]))


def extract_entities(text: str, language: str = "auto", lexicon: Lexicon | None = None) -> list[Entity]:
    """Return the clinical entities of ``text`` in order of appearance.

    ``language`` is "zh", "en" or "auto" (decided by the share of CJK
    characters). ``lexicon`` defaults to the packaged one. Offsets index
    ``normalize(text)``. Results are cached per (text, language, lexicon),
    because the three clinical metrics extract the same texts.
    """
    if not isinstance(text, str):
        raise TypeError(f"extract_entities expects a str, got {type(text).__name__}")
    lexicon = lexicon if lexicon is not None else default_lexicon()
    _LEXICONS[id(lexicon)] = lexicon
    return list(_extract_cached(text, language, id(lexicon)))


def entity_set(entities: list[Entity]) -> dict[tuple, Entity]:
    """Return the section's entities as a set keyed by :meth:`Entity.key`, first mention kept.

    The first mention keeps its own values even when a later mention of the
    same key has a SUVmax or size, as in the synthetic corpus's gold.
    """
    keyed: dict[tuple, Entity] = {}
    for entity in entities:
        keyed.setdefault(entity.key(), entity)
    return keyed
