"""Splitting a whole report into findings and impression by its section headers.

Headers are recognised in English (FINDINGS, IMPRESSION, CONCLUSION, ...) and
Chinese (检查所见, 影像所见, 诊断意见, 印象, 意见, 结论, ...), with ASCII or
full-width colons, optional spaces inside and around the header, and optional
brackets (【检查所见】, [FINDINGS]). A header in square or lenticular brackets needs
no colon, so "【检查所见】右肺结节。" splits too. A header counts only at the start of the text,
of a line, or after a sentence end, so "临床诊断" or "no impression of" inside a
sentence is not a header. The returned section texts are slices of the input,
stripped at both ends and otherwise unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FINDINGS = "findings"
IMPRESSION = "impression"
OTHER = "other"

# Header words per section kind; longer words first so that 检查所见 wins over 所见.
HEADER_WORDS: dict[str, tuple[str, ...]] = {
    FINDINGS: (
        "findings", "finding", "检查所见", "影像所见", "影像学表现", "影像表现", "检查描述", "所见", "表现",
    ),
    IMPRESSION: (
        "impressions", "impression", "conclusions", "conclusion", "diagnosis", "opinion",
        "诊断意见", "影像诊断", "检查结论", "诊断结论", "印象", "意见", "结论", "诊断", "提示",
    ),
    OTHER: (
        "examination", "exam", "technique", "comparison", "indication", "history", "clinical history",
        "检查方法", "检查项目", "检查技术", "临床诊断", "临床资料", "病史", "检查部位",
        # Signature and date fields that close a report, so that they stay out of the impression.
        "报告医生", "报告医师", "审核医生", "审核医师", "诊断医生", "诊断医师", "报告日期", "审核日期",
        "reported by", "dictated by", "signed by", "electronically signed by",
    ),
}


def _header_pattern(word: str) -> str:
    """Regex for one header word; Chinese words may carry spaces between characters."""
    if word.isascii():
        return r"\s+".join(re.escape(part) for part in word.split())
    return r"\s*".join(re.escape(char) for char in word)


_WORD_KIND = {word: kind for kind, words in HEADER_WORDS.items() for word in words}
_ALTERNATIVES = "|".join(
    _header_pattern(word) for word in sorted(_WORD_KIND, key=len, reverse=True)
)
# A header: at a boundary, an optional opening bracket, the word, an optional closing
# bracket, then a colon (ASCII or full-width) or the end of its line. A word inside
# square or lenticular brackets ([FINDINGS], 【诊断意见】) needs neither.
HEADER_RE = re.compile(
    r"(?:^|(?<=[\n\r。.;；!！?？]))[ \t\u3000]*"
    r"(?:(?P<bracket>[\[【])|[(（])?[ \t\u3000]*(?P<word>" + _ALTERNATIVES + r")[ \t\u3000]*"
    r"(?(bracket)[\]】][ \t\u3000]*[:：]?"
    r"|[)）]?[ \t\u3000]*(?:[:：]|(?=[ \t\u3000]*(?:\r?\n|$))))",
    re.IGNORECASE,
)


@dataclass
class SplitReport:
    """The sections of one whole report.

    Attributes:
        findings: the findings text, or the text before the first impression header
            when the report has no findings header.
        impression: the impression sections joined by a blank line; "" when none.
        other: texts of other labelled sections (technique, comparison, ...) by header.
        headers: the headers found, in order, as written.
        preamble: text before the first header when a findings header exists
            (patient data, exam title); "" otherwise.
    """

    findings: str
    impression: str
    other: dict[str, str] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)
    preamble: str = ""


def _kind_of(word: str) -> str:
    compact = re.sub(r"\s+", " ", word.strip()).lower()
    compact_cjk = re.sub(r"\s+", "", compact)
    return _WORD_KIND.get(compact) or _WORD_KIND.get(compact_cjk) or OTHER


def split_sections(text: str) -> SplitReport:
    """Split a whole report into findings, impression and other sections.

    >>> split_sections("检查所见：右肺上叶结节。\\n诊断意见：考虑炎性。").impression
    '考虑炎性。'
    >>> split_sections("FINDINGS: Clear lungs. IMPRESSION: Normal chest.").findings
    'Clear lungs.'
    """
    matches = list(HEADER_RE.finditer(text))
    preamble = text[: matches[0].start()] if matches else text

    findings_parts: list[str] = []
    impression_parts: list[str] = []
    other: dict[str, str] = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end() : end].strip()
        kind = _kind_of(match.group("word"))
        if kind == FINDINGS:
            findings_parts.append(body)
        elif kind == IMPRESSION:
            impression_parts.append(body)
        else:
            other[match.group("word").strip()] = body

    findings = "\n\n".join(part for part in findings_parts if part)
    if not findings_parts:
        findings = preamble.strip()
    impression = "\n\n".join(part for part in impression_parts if part)
    headers = [match.group("word").strip() for match in matches]
    return SplitReport(
        findings=findings,
        impression=impression,
        other=other,
        headers=headers,
        preamble=preamble.strip() if findings_parts else "",
    )
