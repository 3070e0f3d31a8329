"""Tests of the CJK-aware tokenizers used by the lexical metrics."""

from __future__ import annotations

from petf2i_core.metrics.tokenize import cjk_fraction, cjk_tokens, contains_cjk, jieba_tokens


def test_cjk_tokens_mixed_text():
    tokens = cjk_tokens("右肺上叶结节SUVmax 5.2, 1.2cm")
    assert tokens == ["右", "肺", "上", "叶", "结", "节", "SUVmax", "5.2", "1.2", "cm"]


def test_cjk_tokens_latin_run_stops_at_cjk():
    assert cjk_tokens("1.2cm大小T2加权") == ["1.2", "cm", "大", "小", "T2", "加", "权"]


def test_cjk_tokens_keep_punctuation():
    tokens = cjk_tokens("结节，SUVmax 5.2。", keep_punctuation=True)
    assert tokens == ["结", "节", "，", "SUVmax", "5.2", "。"]


def test_cjk_tokens_lowercase():
    assert cjk_tokens("SUVmax FDG", lowercase=True) == ["suvmax", "fdg"]


def test_cjk_tokens_english_sentence():
    assert cjk_tokens("No acute disease, size 3.5 cm.") == ["No", "acute", "disease", "size", "3.5", "cm"]


def test_cjk_tokens_rare_ideograph():
    # U+20000 (CJK extension B) is one token, not dropped.
    assert cjk_tokens("\U00020000肺") == ["\U00020000", "肺"]


def test_jieba_tokens_words_and_numbers():
    tokens = jieba_tokens("右肺结节SUVmax 5.2, 1.2cm")
    assert "结节" in tokens
    assert "5.2" in tokens
    assert "1.2" in tokens
    assert "cm" in tokens
    assert "," not in tokens


def test_contains_cjk_and_fraction():
    assert contains_cjk("SUVmax 5.2 右肺")
    assert not contains_cjk("SUVmax 5.2")
    assert cjk_fraction("右肺ab") == 0.5
    assert cjk_fraction("   ") == 0.0
