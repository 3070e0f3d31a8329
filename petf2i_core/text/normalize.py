"""Meaning-preserving normalisation of report text for metrics and matching.

Stored reports are never rewritten: every stage that compares text (the lexical
metrics, the entity extractor, duplicate detection) works on the copy returned by
:func:`normalize`. Each step is named in :data:`STEPS` so that dataset cards and
metric signatures can say exactly what was done.
"""

from __future__ import annotations

import re
import unicodedata

# Full-width ASCII (U+FF01..U+FF5E) maps to U+0021..U+007E by a fixed offset.
_FULLWIDTH_OFFSET = 0xFEE0
_FULLWIDTH_TABLE = {code: code - _FULLWIDTH_OFFSET for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH_TABLE[0x3000] = 0x20  # ideographic space

# SUVmax spellings seen in reports: "SUV max", "SUV(max)", "SUVmax值", "suv-max".
_SUVMAX = re.compile(r"suv\s*[-_(（]?\s*max\s*[)）]?(?:值)?", re.IGNORECASE)
# Chinese and English reports write the colon or equals sign around values in many ways.
_SUVMAX_SEPARATOR = re.compile(r"SUVmax\s*(?:[:=]|约|为|of|is|was)?\s*(?=\d)")
# "1.2 x 0.8 cm", "1.2*0.8cm", "1.2X0.8 cm" all mean 1.2×0.8 cm.
_SIZE_TIMES = re.compile(r"(?<=\d)\s*[xX*×]\s*(?=\d)")
_SPACES = re.compile(r"[ \t\u00a0]+")

STEPS: tuple[tuple[str, str], ...] = (
    ("unicode-nfc", "Unicode NFC composition"),
    ("fullwidth-ascii", "full-width Latin letters, digits and punctuation to half-width"),
    ("suvmax-spelling", "SUVmax spellings (SUV max, SUV(max), SUVmax值) to 'SUVmax'"),
    ("suvmax-separator", "separators between SUVmax and its value (':', '=', '约', 'of') to one space"),
    ("size-times", "size separators (x, X, *, ×) between numbers to '×'"),
    ("whitespace", "runs of spaces and tabs to one space; line ends kept; ends stripped"),
)


def fullwidth_to_halfwidth(text: str) -> str:
    """Map full-width ASCII forms and the ideographic space to their half-width forms.

    CJK punctuation outside the full-width ASCII block (。、「」) is kept, because
    it has no half-width twin with the same meaning.
    """
    return text.translate(_FULLWIDTH_TABLE)


def normalize(text: str) -> str:
    """Return the normalised copy of ``text`` used by metrics and matching.

    >>> normalize("ＳＵＶｍａｘ：５．２")
    'SUVmax 5.2'
    >>> normalize("SUV max = 5.2, 1.2 x 0.8 cm")
    'SUVmax 5.2, 1.2×0.8 cm'
    """
    text = unicodedata.normalize("NFC", text)
    text = fullwidth_to_halfwidth(text)
    text = _SUVMAX.sub("SUVmax", text)
    text = _SUVMAX_SEPARATOR.sub("SUVmax ", text)
    text = _SIZE_TIMES.sub("×", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(lines).strip()
