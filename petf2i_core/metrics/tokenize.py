"""Tokenizers for the lexical metrics on Chinese, English and mixed report text.

rouge-score's default tokenizer keeps only ``[a-z0-9]`` runs, so it turns any
Chinese text into zero tokens and scores it 0.0. :func:`cjk_tokens` keeps each
CJK character as one token and Latin words and decimal numbers whole:
``右肺上叶结节SUVmax 5.2, 1.2cm`` becomes
``右 肺 上 叶 结 节 SUVmax 5.2 1.2 cm``.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

logger = logging.getLogger(__name__)

# CJK Unified Ideographs with extension A, the compatibility block, extensions B-F,
# and kana and Hangul syllables, which are also written without spaces.
_CJK_RANGES = (
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK Unified Ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0002ffff"  # CJK extensions B-F
)
CJK_CHAR = re.compile(f"[{_CJK_RANGES}]")

# One CJK character, or a decimal number (5.2, 1,200 is two numbers), or a Latin word
# with trailing digits (SUVmax, T2, FDG), or one other symbol that is not punctuation.
_TOKEN = re.compile(
    rf"[{_CJK_RANGES}]"
    r"|\d+(?:\.\d+)?"
    rf"|(?:(?![{_CJK_RANGES}])[^\W\d_])+\d*"
)
_PUNCT_TOKEN = re.compile(
    rf"[{_CJK_RANGES}]"
    r"|\d+(?:\.\d+)?"
    rf"|(?:(?![{_CJK_RANGES}])[^\W\d_])+\d*"
    r"|[^\w\s]|_"
)


def contains_cjk(text: str) -> bool:
    """Return True when ``text`` contains at least one CJK character."""
    return CJK_CHAR.search(text) is not None


def cjk_fraction(text: str) -> float:
    """Return the share of CJK characters among the non-space characters of ``text``."""
    visible = [char for char in text if not char.isspace()]
    if not visible:
        return 0.0
    return sum(1 for char in visible if CJK_CHAR.match(char)) / len(visible)


def cjk_tokens(text: str, lowercase: bool = False, keep_punctuation: bool = False) -> list[str]:
    """Split ``text`` into CJK characters, decimal numbers and Latin words.

    Punctuation is dropped unless ``keep_punctuation`` is set, as rouge-score drops
    it for English. Latin words keep their case unless ``lowercase`` is set.
    """
    if lowercase:
        text = text.lower()
    pattern = _PUNCT_TOKEN if keep_punctuation else _TOKEN
    return pattern.findall(text)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def jieba_tokens(text: str, lowercase: bool = False, keep_punctuation: bool = False) -> list[str]:
    """Split ``text`` into jieba words (precise mode); spaces and punctuation are dropped.

    Latin runs that jieba returns with digits attached are split again by
    :func:`cjk_tokens`, so ``1.2cm`` gives ``1.2`` and ``cm`` under both tokenizers.
    """
    if lowercase:
        text = text.lower()
    tokens: list[str] = []
    for word in _jieba().lcut(text, HMM=True):
        if not word.strip():
            continue
        if contains_cjk(word):
            tokens.append(word)
        else:
            tokens.extend(cjk_tokens(word, keep_punctuation=keep_punctuation))
    return tokens
