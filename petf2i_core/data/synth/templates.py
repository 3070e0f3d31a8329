"""A small template syntax for fixed report sentences with typed entity slots.

``{a:concept:form}`` is an anatomy term, ``{a:concept:form:side:cue}`` one with a
lateral cue, ``{f:concept:form}`` a finding or diagnosis, ``{n:cue}`` a negation
cue, ``{h:cue}`` a hedge cue, ``{x:text}`` fixed text; anything else is plain text.
Templates are compiled once into segment lists that renderers copy into a builder.
"""

from __future__ import annotations

import re

from petf2i_core.data.synth.builder import (
    ANATOMY, DIAGNOSIS, FINDING, FIXED, HEDGE, LATERAL, LATERAL_CUES, NEGATION, PLAIN, Segment,
)
from petf2i_core.data.synth.lexicon import load_lexicon

_SLOT = re.compile(r"\{(a|f|n|h|x):([^{}]*)\}")


def compile_template(template: str, language: str) -> tuple[Segment, ...]:
    """Compile ``template`` into segments, checking every surface form against the lexicon."""
    lexicon = load_lexicon()
    segments: list[Segment] = []
    position = 0
    for match in _SLOT.finditer(template):
        if match.start() > position:
            segments.append(Segment(PLAIN, template[position : match.start()]))
        kind, body = match.group(1), match.group(2)
        if kind == "a":
            parts = body.split(":")
            concept, form = parts[0], parts[1]
            lexicon.check_form(language, concept, form)
            if len(parts) > 2:
                side = parts[2]
                cue = parts[3] if len(parts) > 3 else LATERAL_CUES[language][side][0]
                if cue.lower() not in LATERAL_CUES[language][side]:
                    raise ValueError(f"{cue!r} is not a {side} cue in template {template!r}")
                segments.append(Segment(LATERAL, cue + (" " if language == "en" else ""), laterality=side))
            segments.append(Segment(ANATOMY, form, concept))
        elif kind == "f":
            concept, form = body.split(":", 1)
            lexicon.check_form(language, concept, form)
            segments.append(Segment(FINDING if lexicon.types[concept] == "finding" else DIAGNOSIS, form, concept))
        elif kind == "n":
            segments.append(Segment(NEGATION, body))
        elif kind == "h":
            segments.append(Segment(HEDGE, body))
        else:
            segments.append(Segment(FIXED, body))
        position = match.end()
    if position < len(template):
        segments.append(Segment(PLAIN, template[position:]))
    return tuple(segments)


def compile_all(templates, language: str):
    """Compile a nested structure (dict, list or tuple) of template strings."""
    if isinstance(templates, str):
        return compile_template(templates, language)
    if isinstance(templates, dict):
        return {key: compile_all(value, language) for key, value in templates.items()}
    return tuple(compile_all(value, language) for value in templates)
