"""SUVmax and lesion size values read from normalised report text.

Run on the output of :func:`petf2i_core.text.normalize.normalize`, which has
already turned full-width digits and letters into half-width ones,
"SUV max = 5.2" and "SUVmax：5.2" into "SUVmax 5.2", and "1.2 x 0.8" into
"1.2×0.8". The parsers here still accept the separators that normalisation
keeps ("SUVmax约为5.2", "1.2cm×0.8cm") so that they also work on text that was
normalised by an older version.
"""

from __future__ import annotations

import re

_NUMBER = r"\d+(?:\.\d+)?"
_SUVMAX = re.compile(
    rf"SUV\s*max\s*(?:值)?\s*(?:[:：=]|约为|约|为|of|is|was|up to|达)?\s*({_NUMBER})"
    rf"(?:\s*(?:-|~|～|至|to)\s*({_NUMBER}))?",
    re.IGNORECASE,
)
_UNIT = r"(cm|mm|厘米|毫米)"
_SIZE = re.compile(
    rf"(?<![\d.])({_NUMBER})\s*{_UNIT}?"
    rf"((?:\s*[×xX*]\s*{_NUMBER}\s*{_UNIT}?){{0,2}})",
)
_DIMENSION = re.compile(rf"({_NUMBER})\s*{_UNIT}?")
_MILLIMETRE = {"mm", "毫米"}


def parse_suvmax(text: str) -> list[tuple[float, int, int]]:
    """Return every SUVmax value in ``text`` as (value, start, end).

    A range such as "SUVmax 3.1-5.2" yields its upper end, because SUVmax is
    already a maximum.
    """
    values = []
    for match in _SUVMAX.finditer(text):
        low = float(match.group(1))
        high = float(match.group(2)) if match.group(2) else low
        values.append((max(low, high), match.start(), match.end()))
    return values


def parse_sizes(text: str) -> list[tuple[tuple[float, ...], int, int]]:
    """Return every size in ``text`` as (dimensions in cm, largest first, start, end).

    A size needs a unit on at least one dimension ("1.2×0.8cm", "6mm",
    "1.2cm×0.8cm"). A dimension without its own unit takes the unit written
    after the last dimension. Millimetres are converted to centimetres.
    Numbers that follow "SUVmax" are not sizes.
    """
    sizes = []
    for match in _SIZE.finditer(text):
        if text[max(0, match.start() - 7) : match.start()].rstrip().lower().endswith("suvmax"):
            continue
        dimensions = _DIMENSION.findall(match.group(0))
        units = [unit for _, unit in dimensions if unit]
        if not units:
            continue
        default_unit = units[-1]
        centimetres = []
        for number, unit in dimensions:
            value = float(number)
            if (unit or default_unit) in _MILLIMETRE:
                value /= 10.0
            centimetres.append(round(value, 3))
        sizes.append((tuple(sorted(centimetres, reverse=True)), match.start(), match.end()))
    return sizes
