"""Synthetic whole-body PET/CT reports in Chinese and English with gold entities.

``generate_corpus(n, language="both", seed=0, noise_rate=0.05)`` returns
:class:`~petf2i_core.data.records.Report` objects; ``write_corpus(reports, path)``
writes them as JSONL with a dataset card beside the file.
"""

from petf2i_core.data.synth.card import card_path, render_card, write_card
from petf2i_core.data.synth.cases import CANCERS, INDICATIONS, TRACERS, Case, Lesion, sample_case
from petf2i_core.data.synth.corpus import generate_corpus, render_report, write_corpus
from petf2i_core.data.synth.styles import STYLE_NAMES, STYLES

__all__ = [
    "CANCERS",
    "INDICATIONS",
    "STYLES",
    "STYLE_NAMES",
    "TRACERS",
    "Case",
    "Lesion",
    "card_path",
    "generate_corpus",
    "render_card",
    "render_report",
    "sample_case",
    "write_card",
    "write_corpus",
]
