"""Reporting styles: how different physicians lay out and phrase the same case.

Each language has four styles. A style fixes the layout (header, region titles,
impression numbering) and the measurement spellings; the renderer still varies
the wording sentence by sentence with the case's random generator.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    """One physician's reporting habits.

    name: style id stored in ``meta["style"]`` (``zh-a`` ... ``en-d``).
    language: ``zh`` or ``en``.
    region_title: format of a region heading, with ``{title}`` for the region name.
    size_format: ``cm_each`` (2.1cm×1.8cm), ``cm_tail`` (2.1×1.8cm), ``mm`` (21mm×18mm)
        or ``x_space`` (2.1 x 1.8 cm).
    suv_format: format of an SUVmax mention, with ``{value}``.
    suv_inline: True writes SUVmax in brackets in the uptake clause, False in its own clause.
    numbering: format of an impression item number, with ``{n}``.
    item_end: text that ends an impression item.
    hedges: hedge cue texts this physician uses, most used first.
    activity_unit: ``mCi`` or ``MBq`` for the injected activity.
    structured_negatives: True writes some normal statements as ``胸腔积液：无`` lines.
    size_first: True puts the size before the lesion noun in the same clause.
    lesions_first: True describes a region's lesions before its normal statements,
        False after them (organ-by-organ readers).
    """

    name: str
    language: str
    region_title: str
    size_format: str
    suv_format: str
    suv_inline: bool
    numbering: str
    item_end: str
    hedges: tuple[str, ...]
    activity_unit: str
    structured_negatives: bool = False
    size_first: bool = False
    lesions_first: bool = True


STYLES: dict[str, Style] = {
    style.name: style
    for style in (
        Style("zh-a", "zh", "{title}：", "cm_each", "SUVmax {value}", True, "{n}. ", "；", ("考虑", "考虑为"), "mCi", size_first=True),
        Style("zh-b", "zh", "【{title}】", "cm_tail", "SUVmax：{value}", False, "{n}、", "。", ("多考虑", "考虑"), "MBq"),
        Style("zh-c", "zh", "{title}：", "mm", "SUVmax约{value}", False, "（{n}）", "；", ("倾向", "考虑", "不除外"), "mCi", structured_negatives=True, lesions_first=False),
        Style("zh-d", "zh", "{title}\n", "cm_each", "SUVmax值约{value}", True, "{n}）", "。", ("考虑", "可能为", "疑为"), "MBq", size_first=True),
        Style("en-a", "en", "{title}:", "x_space", "SUVmax {value}", True, "{n}. ", ".", ("likely", "suspicious for"), "mCi", lesions_first=False),
        Style("en-b", "en", "{title}", "cm_each", "SUVmax: {value}", False, "{n}) ", ".", ("suspicious for", "probable"), "MBq", size_first=True),
        Style("en-c", "en", "{title} -", "mm", "SUV max {value}", True, "{n}. ", ".", ("concerning for", "likely", "possible"), "MBq", structured_negatives=True),
        Style("en-d", "en", "{title}:", "x_space", "SUVmax of {value}", False, "{n}. ", ".", ("suggestive of", "probable"), "mCi", size_first=True),
    )
}
STYLE_NAMES = {language: tuple(name for name, style in STYLES.items() if style.language == language) for language in ("zh", "en")}


def format_size(dims_cm: tuple[float, ...], style: Style) -> str:
    """Write a size the way ``style`` does (largest dimension first)."""
    dims_cm = tuple(sorted(dims_cm, reverse=True))
    if style.size_format == "mm":
        numbers = [f"{round(d * 10):d}mm" if style.language == "zh" else f"{round(d * 10):d}" for d in dims_cm]
        return "×".join(numbers) if style.language == "zh" else " x ".join(numbers) + " mm"
    numbers = [f"{d:.1f}" for d in dims_cm]
    if style.size_format == "cm_each":
        return "×".join(f"{n}cm" for n in numbers) if style.language == "zh" else " x ".join(f"{n} cm" for n in numbers)
    if style.size_format == "cm_tail":
        return "×".join(numbers) + "cm"
    return " x ".join(numbers) + " cm"


def size_value(dims_cm: tuple[float, ...], style: Style) -> tuple[float, ...]:
    """Return the size in cm exactly as written by :func:`format_size` (mm rounding included)."""
    dims_cm = tuple(sorted(dims_cm, reverse=True))
    if style.size_format == "mm":
        return tuple(round(d * 10) / 10 for d in dims_cm)
    return tuple(round(d, 1) for d in dims_cm)
