"""The clinical lexicon: concepts with Chinese and English surface forms, loaded from YAML.

The lexicon is package data in ``petf2i_core/entities/lexicon/``. Each of
``anatomy.yaml``, ``findings.yaml``, ``diagnoses.yaml`` and ``radiology.yaml``
contains concepts of one type (a concept in ``radiology.yaml`` may override the
file's type with its own ``type`` key, because general radiology vocabulary
mixes anatomy and findings). ``cues.yaml`` holds the negation, hedge and
laterality cues. A concept looks like::

    - id: lung.upper_lobe      # lowercase dotted id, never contains laterality
      parent: lung             # optional coarser concept for lenient matching
      zh: [肺上叶, 上叶]
      en: [upper lobe, upper lobes]

:attr:`Lexicon.version` joins the file versions with a content hash, so any
edit to a surface form changes the metric signatures.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from petf2i_core.entities.types import ENTITY_TYPES

logger = logging.getLogger(__name__)

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
CONCEPT_FILES = ("anatomy.yaml", "findings.yaml", "diagnoses.yaml", "radiology.yaml")
CUES_FILE = "cues.yaml"
LANGUAGES = ("zh", "en")
_CONCEPT_ID = re.compile(r"^[a-z0-9_]+(?:\.[a-z0-9_]+)*$")


@dataclass(frozen=True)
class Concept:
    """A lexicon concept: its id, entity type, optional parent id and surface forms per language."""

    id: str
    type: str
    parent: str | None
    forms: dict[str, tuple[str, ...]]
    source: str


@dataclass
class Lexicon:
    """Concepts by id, cue lists and one compiled surface-form pattern per language.

    ``surface_index[language]`` maps a surface form (lower-cased for English)
    to its concept id, or to ``""`` for an ignored word (a word that contains a
    surface form but names no entity). ``pattern[language]`` finds the longest
    form at each position; its match text, lower-cased for English, keys
    ``surface_index``.
    """

    concepts: dict[str, Concept]
    cues: dict[str, Any]
    version: str
    surface_index: dict[str, dict[str, str]] = field(default_factory=dict)
    pattern: dict[str, re.Pattern[str]] = field(default_factory=dict)
    split_patterns: dict[str, list[tuple[str, re.Pattern[str]]]] = field(default_factory=dict)

    def ancestors(self, concept_id: str) -> tuple[str, ...]:
        """Return the concept's parent chain, nearest first, without the concept itself."""
        chain: list[str] = []
        current = self.concepts.get(concept_id)
        while current is not None and current.parent and current.parent not in chain:
            chain.append(current.parent)
            current = self.concepts.get(current.parent)
        return tuple(chain)

    def related(self, first: str, second: str) -> bool:
        """Return True when the two concepts are equal or one is an ancestor of the other."""
        if first == second:
            return True
        return second in self.ancestors(first) or first in self.ancestors(second)


def _trie_alternation(forms: list[str]) -> str:
    """Return a regex alternation of ``forms`` with shared prefixes factored into a trie.

    A trie pattern is several times faster than a flat alternation of hundreds
    of forms in Python's ``re``. Each optional continuation is greedy, so at a
    given start the longest form that satisfies the surrounding assertions wins,
    as with a flat alternation sorted longest first.
    """
    trie: dict = {}
    for form in forms:
        node = trie
        for char in form:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return ("(?:" + body + ")?") if len(branches) == 1 else body + "?"
        return body

    return emit(trie)


def surface_pattern(forms: list[str], language: str) -> re.Pattern[str]:
    """Compile ``forms`` into one pattern that prefers the longest form at each position.

    English forms match case-insensitively and only on word boundaries, so
    "rib" does not match inside "distribution". Chinese forms match anywhere.
    """
    if language == "en":
        body = _trie_alternation(sorted({form.lower() for form in forms}))
        return re.compile(rf"(?<![A-Za-z0-9])(?:{body})(?![A-Za-z0-9])", re.IGNORECASE)
    return re.compile(f"(?:{_trie_alternation(sorted(set(forms)))})")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: invalid YAML ({error}); fix the syntax of this lexicon file") from error
    if not isinstance(data, dict) or "version" not in data:
        raise ValueError(f"{path}: expected a mapping with a 'version' key at the top level")
    return data


def _parse_concept(row: Any, file_type: str | None, path: Path, number: int) -> Concept:
    where = f"{path}: concept #{number}"
    if not isinstance(row, dict) or "id" not in row:
        raise ValueError(f"{where}: expected a mapping with an 'id' key, got {row!r}")
    concept_id = str(row["id"])
    if not _CONCEPT_ID.match(concept_id):
        raise ValueError(f"{where}: invalid id {concept_id!r}; use lowercase dotted ids like 'lung.upper_lobe'")
    concept_type = row.get("type", file_type)
    if concept_type not in ENTITY_TYPES:
        raise ValueError(f"{where} ({concept_id}): type {concept_type!r} is not one of {ENTITY_TYPES}")
    forms = {}
    for language in LANGUAGES:
        values = row.get(language) or []
        if not isinstance(values, list):
            raise ValueError(f"{where} ({concept_id}): '{language}' must be a list of surface forms")
        if any(not isinstance(value, (str, int, float)) or isinstance(value, bool) for value in values):
            raise ValueError(
                f"{where} ({concept_id}): '{language}' has a non-text surface form in {values!r}; "
                'quote words that YAML reads as booleans, such as "no" or "on"'
            )
        cleaned = [str(value).strip() for value in values if str(value).strip()]
        forms[language] = tuple(form.lower() if language == "en" else form for form in cleaned)
    parent = row.get("parent")
    return Concept(concept_id, concept_type, str(parent) if parent else None, forms, path.name)


def _extend_concept(concepts: dict[str, Concept], row: dict[str, Any], path: Path, number: int) -> None:
    """Add the surface forms of an ``extends`` entry to a concept loaded from an earlier file."""
    target = str(row["extends"])
    if target not in concepts:
        raise ValueError(
            f"{path}: concept #{number} extends {target!r}, which no earlier lexicon file defines; "
            "fix the id or turn the entry into a concept with its own 'id'"
        )
    extra = _parse_concept({"id": target, "zh": row.get("zh"), "en": row.get("en")}, concepts[target].type, path, number)
    base = concepts[target]
    forms = {
        language: base.forms[language] + tuple(f for f in extra.forms[language] if f not in base.forms[language])
        for language in LANGUAGES
    }
    concepts[target] = Concept(base.id, base.type, base.parent, forms, base.source)


def _index_surface_forms(concepts: dict[str, Concept]) -> dict[str, dict[str, str]]:
    """Map each surface form to one concept; a form claimed twice keeps its first owner.

    Files load in the order of :data:`CONCEPT_FILES`, so the PET/CT files win
    over the general radiology file.
    """
    index: dict[str, dict[str, str]] = {language: {} for language in LANGUAGES}
    for concept in concepts.values():
        for language in LANGUAGES:
            for form in concept.forms[language]:
                owner = index[language].get(form)
                if owner is None:
                    index[language][form] = concept.id
                elif owner != concept.id:
                    logger.warning(
                        "surface form %r (%s) is listed for %s and %s (%s); keeping %s",
                        form, language, owner, concept.id, concept.source, owner,
                    )
    return index


# Characters allowed between the head and the tail of a split form: anything but a clause end.
SPLIT_GAP = r"[^,;。!?\n]{0,12}?"


def _compile_split_forms(rows: list[tuple[dict[str, Any], Path]], concepts: dict[str, Concept]) -> dict[str, list]:
    """Compile split forms into (concept id, pattern) pairs per language; the pattern's groups are head and tail."""
    compiled: dict[str, list] = {language: [] for language in LANGUAGES}
    for row, path in rows:
        concept_id = str(row.get("concept"))
        if concept_id not in concepts:
            raise ValueError(f"{path}: split form names unknown concept {concept_id!r}; define the concept first")
        for language in LANGUAGES:
            parts = row.get(language)
            if not parts:
                continue
            if not parts.get("head") or not parts.get("tail"):
                raise ValueError(f"{path}: split form of {concept_id!r} ({language}) needs non-empty 'head' and 'tail' lists")
            head = "|".join(re.escape(str(word)) for word in sorted(parts["head"], key=len, reverse=True))
            tail = "|".join(re.escape(str(word)) for word in sorted(parts["tail"], key=len, reverse=True))
            flags = re.IGNORECASE if language == "en" else 0
            compiled[language].append((concept_id, re.compile(f"({head}){SPLIT_GAP}({tail})", flags)))
    return compiled


def load_lexicon(directory: str | Path | None = None) -> Lexicon:
    """Load the concept files and cues from ``directory`` (default: the packaged lexicon).

    A missing concept file is skipped with a warning, so the extractor still
    works while a file is being written. A missing ``cues.yaml`` is an error.
    """
    directory = Path(directory) if directory is not None else LEXICON_DIR
    concepts: dict[str, Concept] = {}
    ignored: dict[str, list[str]] = {language: [] for language in LANGUAGES}
    split_rows: list[tuple[dict[str, Any], Path]] = []
    digest = hashlib.sha256()
    versions = []

    for name in CONCEPT_FILES:
        path = directory / name
        if not path.exists():
            logger.warning("lexicon file %s not found; its concepts are not extracted", path)
            continue
        digest.update(path.read_bytes())
        data = _read_yaml(path)
        versions.append(f"{path.stem}{data['version']}")
        split_rows.extend((row, path) for row in data.get("split_forms") or [])
        for language in LANGUAGES:
            words = (data.get("ignore") or {}).get(language) or []
            ignored[language].extend(str(word).lower() if language == "en" else str(word) for word in words)
        for number, row in enumerate(data.get("concepts") or [], start=1):
            if isinstance(row, dict) and "extends" in row:
                _extend_concept(concepts, row, path, number)
                continue
            concept = _parse_concept(row, data.get("type"), path, number)
            if concept.id in concepts:
                raise ValueError(
                    f"{path}: concept id {concept.id!r} is already defined in {concepts[concept.id].source}; "
                    "merge the two entries or rename one"
                )
            concepts[concept.id] = concept

    cues_path = directory / CUES_FILE
    if not cues_path.exists():
        raise FileNotFoundError(f"cue file {cues_path} not found; the extractor needs negation and hedge cues")
    digest.update(cues_path.read_bytes())
    cues = _read_yaml(cues_path)
    versions.append(f"cues{cues['version']}")

    version = "+".join(versions) + "#" + digest.hexdigest()[:8]
    lexicon = Lexicon(concepts=concepts, cues=cues, version=version)
    lexicon.surface_index = _index_surface_forms(concepts)
    for language in LANGUAGES:
        for word in ignored[language]:
            lexicon.surface_index[language].setdefault(word, "")
    for language in LANGUAGES:
        forms = list(lexicon.surface_index[language])
        # An empty alternation would match the empty string everywhere.
        lexicon.pattern[language] = surface_pattern(forms, language) if forms else re.compile(r"(?!x)x")
    lexicon.split_patterns = _compile_split_forms(split_rows, concepts)
    logger.info("loaded lexicon %s with %d concepts from %s", version, len(concepts), directory)
    return lexicon


@lru_cache(maxsize=4)
def default_lexicon() -> Lexicon:
    """Return the packaged lexicon, loaded once per process."""
    return load_lexicon()
