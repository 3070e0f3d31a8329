"""Read the PET/CT lexicon files that the synthetic corpus renders its entities from.

Every entity the generator writes uses a surface form listed in
``petf2i_core/entities/lexicon/{anatomy,findings,diagnoses}.yaml``, so the
extractor built on the same files can find it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

LEXICON_DIR = Path(__file__).resolve().parents[2] / "entities" / "lexicon"
LEXICON_FILES = ("anatomy.yaml", "findings.yaml", "diagnoses.yaml")
LANGUAGES = ("zh", "en")
# (language, concept, form) triples already checked, so rendering 80k reports checks each once.
_CHECKED: set[tuple[str, str, str]] = set()


@dataclass(frozen=True)
class Lexicon:
    """Concepts and surface forms of the corpus lexicon files.

    ``forms`` maps ``(language, concept)`` to the tuple of surface forms, ``types``
    maps a concept to its entity type, ``versions`` maps each file to its version.
    """

    forms: dict[tuple[str, str], tuple[str, ...]]
    types: dict[str, str]
    versions: dict[str, str]

    def check_form(self, language: str, concept: str, form: str) -> str:
        """Return ``form`` after checking that the lexicon lists it for ``concept`` (English: any case)."""
        if (language, concept, form) in _CHECKED:
            return form
        listed = self.forms.get((language, concept), ())
        if language == "en":
            found = form.lower() in {value.lower() for value in listed}
        else:
            found = form in listed
        if not found:
            raise KeyError(
                f"surface form {form!r} is not listed for concept {concept!r} ({language}) "
                f"in {LEXICON_DIR}; add it to the lexicon file of type {self.types.get(concept)!r}"
            )
        _CHECKED.add((language, concept, form))
        return form

    def all_forms(self, language: str) -> list[str]:
        """Return every surface form of ``language``, longest first."""
        forms = {form for (lang, _), values in self.forms.items() if lang == language for form in values}
        return sorted(forms, key=lambda form: (-len(form), form))

    def form_index(self, language: str) -> dict[str, str]:
        """Map each surface form of ``language`` (lower-cased for English) to its concept."""
        index = {}
        for (lang, concept), values in self.forms.items():
            if lang != language:
                continue
            for form in values:
                index[form.lower() if language == "en" else form] = concept
        return index


def _read_file(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: invalid YAML ({error}); fix the file syntax") from error
    if not isinstance(data, dict) or "concepts" not in data or "type" not in data:
        raise ValueError(f"{path}: expected a mapping with 'version', 'type' and 'concepts'")
    return data


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """Load the three corpus lexicon files, raising on a duplicate concept id or surface form."""
    forms: dict[tuple[str, str], tuple[str, ...]] = {}
    types: dict[str, str] = {}
    versions: dict[str, str] = {}
    owner: dict[tuple[str, str], str] = {}

    for name in LEXICON_FILES:
        path = LEXICON_DIR / name
        data = _read_file(path)
        versions[name] = str(data.get("version", ""))
        for row, concept in enumerate(data["concepts"], start=1):
            concept_id = concept["id"]
            if concept_id in types:
                raise ValueError(f"{path}: concept {row} ({concept_id!r}) is defined twice; merge the entries")
            types[concept_id] = data["type"]
            for language in LANGUAGES:
                values = tuple(concept.get(language) or ())
                forms[(language, concept_id)] = values
                for form in values:
                    key = (language, form.lower() if language == "en" else form)
                    if key in owner:
                        raise ValueError(
                            f"{path}: surface form {form!r} of {concept_id!r} is also listed for "
                            f"{owner[key]!r}; each form must name one concept"
                        )
                    owner[key] = concept_id

    return Lexicon(forms=forms, types=types, versions=versions)


def surface_pattern(language: str) -> re.Pattern[str]:
    """Compile a longest-first regex of every surface form (English on word boundaries, any case)."""
    forms = load_lexicon().all_forms(language)
    alternation = "|".join(re.escape(form) for form in forms)
    if language == "en":
        return re.compile(rf"(?<![A-Za-z0-9])(?:{alternation})(?![A-Za-z0-9])", re.IGNORECASE)
    return re.compile(alternation)
