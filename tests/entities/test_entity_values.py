"""SUVmax and size parsing on normalised text."""

from __future__ import annotations

import pytest

from petf2i_core.entities.values import parse_sizes, parse_suvmax
from petf2i_core.text.normalize import normalize


@pytest.mark.parametrize("text", ["SUVmax 5.2", "SUVmax：5.2", "ＳＵＶｍａｘ：５．２", "SUV max = 5.2", "SUVmax值约为5.2", "SUVmax of 5.2"])
def test_d2_suvmax_spellings(text):
    values = parse_suvmax(normalize(text))
    assert [value for value, _, _ in values] == [5.2]


def test_suvmax_range_takes_upper_end():
    assert [value for value, _, _ in parse_suvmax("SUVmax 3.1-5.2")] == [5.2]


def test_several_suvmax_values_in_order():
    assert [value for value, _, _ in parse_suvmax("SUVmax 3.1, SUVmax 7.9")] == [3.1, 7.9]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("大小约1.2×0.8cm", (1.2, 0.8)),
        ("大小约0.8×1.2cm", (1.2, 0.8)),
        ("1.2cm x 0.8cm", (1.2, 0.8)),
        ("直径约6mm", (0.6,)),
        ("12 x 8 mm", (1.2, 0.8)),
        ("3.0×2.1×1.5 cm", (3.0, 2.1, 1.5)),
        ("约2厘米", (2.0,)),
    ],
)
def test_sizes_in_centimetres(text, expected):
    sizes = parse_sizes(normalize(text))
    assert len(sizes) == 1
    assert sizes[0][0] == pytest.approx(expected)


@pytest.mark.parametrize("text", ["T12椎体", "第5跖骨", "SUVmax 5.2", "im 51"])
def test_numbers_without_unit_are_not_sizes(text):
    assert parse_sizes(normalize(text)) == []


def test_size_offsets_point_at_text():
    text = normalize("右肺结节，大小约1.2×0.8cm")
    (_, start, end), = parse_sizes(text)
    assert text[start:end] == "1.2×0.8cm"
