"""Realistic noise for the synthetic reports that never touches a gold entity.

Noise edits only plain text, punctuation, units and the spelling of values, never
an entity term, a lateral cue or a negation or hedge cue. A typo is kept only when
the edited text (with a few characters of its neighbours) contains exactly the
lexicon terms and cue words it contained before, so the gold set stays true.

``rate`` is the chance that each editable spot is edited. A plain-text run may get
a typo (at a fifth of ``rate``). A punctuation mark or unit may get its other width
or spelling, and an SUVmax or size mention another spelling of the same value.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

from petf2i_core.data.synth.builder import FIXED, PLAIN, SIZE, SUV, Segment
from petf2i_core.data.synth.lexicon import load_lexicon

TYPO_SHARE = 0.2
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[A-Za-z]{5,}")
_FULLWIDTH_DIGITS = str.maketrans("0123456789.", "０１２３４５６７８９．")
# Punctuation and units that reports write in either width or spelling.
_WIDTH_SWAPS = {"zh": (("，", ","), ("：", ":"), ("（", "("), ("）", ")"), ("；", ";")), "en": ((": ", "："), (", ", ",  "))}
_UNIT_SWAPS = (("mCi", "mci"), ("MBq", "Mbq"), ("mmol/L", "mmol/l"), ("mg/dL", "mg/dl"))
_SUV_SPELLINGS = {
    "zh": ("SUVmax {v}", "SUVmax：{v}", "SUV max {v}", "SUVmax={v}", "SUVmax值{v}"),
    "en": ("SUVmax {v}", "SUV max {v}", "SUVmax={v}", "SUVmax: {v}", "SUV(max) {v}"),
}
_SIZE_TIMES = re.compile(r"\s*[×xX*]\s*")


@lru_cache(maxsize=2)
def _protected_pattern(language: str) -> re.Pattern[str]:
    """Compile a pattern of every lexicon term and cue word whose count a typo must not change."""
    lexicon = load_lexicon()
    words = set(lexicon.all_forms(language)) | set(_cue_words(language))
    ordered = sorted(words, key=lambda word: (-len(word), word))
    alternation = "|".join(re.escape(word) for word in ordered)
    if language == "en":
        return re.compile(rf"(?<![A-Za-z0-9])(?:{alternation})(?![A-Za-z0-9])", re.IGNORECASE)
    return re.compile(alternation)


def _cue_words(language: str) -> tuple[str, ...]:
    # Words and fragments of the extractor's negation, hedge, scope and lateral cues
    # (petf2i_core/entities/lexicon/cues.yaml). A typo must not create or remove one.
    if language == "zh":
        return ("无", "未", "否", "排除", "没有", "阴性", "消失", "考虑", "可能", "除外", "排", "疑", "怀疑", "倾向", "拟诊", "左", "右", "双", "两")
    return ("no", "not", "without", "negative", "free", "absence", "absent", "resolved", "excluded", "ruled", "rather", "clear",
            "suspected", "suspect", "likely", "unlikely", "probable", "probably", "possible", "possibly", "questionable", "versus",
            "vs", "suspicious", "may", "could", "might", "cannot", "exclude", "concerning", "worrisome", "suggestive", "suggest",
            "suggests", "suggesting", "favor", "favoring", "favored", "differential", "left", "right", "bilateral", "both",
            "but", "however", "although", "though", "except", "which", "whereas", "while", "there")


def _typo(text: str, language: str, rng: random.Random) -> str | None:
    if language == "zh":
        positions = [i for i, char in enumerate(text) if _CJK.match(char) and 2 <= i < len(text) - 2]
        if not positions:
            return None
        i = rng.choice(positions)
        operation = rng.choice(("duplicate", "delete", "swap"))
        if operation == "duplicate":
            return text[:i] + text[i] + text[i:]
        if operation == "delete":
            return text[:i] + text[i + 1 :]
        if not _CJK.match(text[i + 1]):
            return None
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    words = [match for match in _WORD.finditer(text)]
    if not words:
        return None
    word = rng.choice(words)
    i = rng.randrange(word.start() + 1, word.end() - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _protected_terms(text: str, language: str) -> list[str]:
    return [match.group(0).lower() for match in _protected_pattern(language).finditer(text)]


def _safe_typo(segments: list[Segment], index: int, language: str, rng: random.Random) -> str | None:
    text = segments[index].text
    edited = _typo(text, language, rng)
    if edited is None:
        return None
    before = segments[index - 1].text[-8:] if index > 0 else ""
    after = segments[index + 1].text[:8] if index + 1 < len(segments) else ""
    if _protected_terms(before + text + after, language) != _protected_terms(before + edited + after, language):
        return None
    return edited


def _respell_value(segment: Segment, language: str, rng: random.Random) -> str:
    if segment.kind == SUV:
        spelling = rng.choice(_SUV_SPELLINGS[language])
        return spelling.format(v=f"{segment.value:.1f}")
    text = _SIZE_TIMES.sub(rng.choice(("×", " x ", "*", "X")), segment.text)
    if language == "zh" and rng.random() < 0.5:
        text = text.translate(_FULLWIDTH_DIGITS)
    return text


def _swap_width(text: str, language: str, rng: random.Random) -> str:
    swaps = [(old, new) for old, new in _WIDTH_SWAPS[language] + _UNIT_SWAPS if old in text]
    if not swaps:
        return text
    old, new = rng.choice(swaps)
    return text.replace(old, new, 1)


def apply_noise(segments: list[Segment], language: str, rate: float, rng: random.Random) -> tuple[list[Segment], int]:
    """Return a noisy copy of ``segments`` and the number of edits; ``rate`` 0 returns them unchanged."""
    if rate <= 0:
        return list(segments), 0
    noisy = list(segments)
    edits = 0
    random_value = rng.random
    for index, segment in enumerate(noisy):
        kind = segment.kind
        if kind is SUV or kind is SIZE:
            if random_value() < rate:
                noisy[index] = Segment(kind, _respell_value(segment, language, rng), value=segment.value)
                edits += 1
            continue
        if kind is not PLAIN and kind is not FIXED:
            continue
        if random_value() < rate:
            swapped = _swap_width(segment.text, language, rng)
            if swapped != segment.text:
                noisy[index] = Segment(kind, swapped)
                edits += 1
        if kind is PLAIN and random_value() < rate * TYPO_SHARE:
            edited = _safe_typo(noisy, index, language, rng)
            if edited is not None:
                noisy[index] = Segment(PLAIN, edited)
                edits += 1
    return noisy, edits
