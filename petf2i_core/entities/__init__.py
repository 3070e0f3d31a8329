"""Bilingual clinical entity extraction for report text (Chinese and English).

``extract_entities(text, language)`` returns :class:`Entity` rows (anatomy,
finding, diagnosis) with laterality, polarity, site and values, using the YAML
lexicon in ``lexicon/``. The clinical metrics ECR, UER and FCR in
:mod:`petf2i_core.metrics.clinical` compare these entities.
"""

from petf2i_core.entities.extractor import analysed_text, detect_language, entity_set, extract_entities
from petf2i_core.entities.lexicon import Lexicon, default_lexicon, load_lexicon
from petf2i_core.entities.types import Entity

__all__ = [
    "Entity",
    "Lexicon",
    "analysed_text",
    "default_lexicon",
    "detect_language",
    "entity_set",
    "extract_entities",
    "load_lexicon",
]
