"""Rule-based de-identification of Chinese and English report text.

Identifiers are replaced by typed placeholders: [NAME], [MRN] (medical record,
accession and other record numbers), [ID] (national ID card numbers), [PHONE],
[EMAIL], [DATE] and [HOSPITAL]. Dates can instead be shifted by a per-patient offset that
is deterministic for a given key, so that intervals within one patient survive.
Existing masks such as the ``XXXX`` of the IU chest X-ray set are left as they are.

The rules aim at recall on identifiers while leaving clinical numbers intact
(SUVmax 5.2, 1.2×0.8 cm, station 4R, T12, Deauville 4, BI-RADS 4A). Recall and the
false-positive rate are measured by :mod:`petf2i_core.data.deid_eval` on planted
identifiers. The rules are patterns, so an identifier written in a form that no
rule covers (a bare name in running text without a title or label) is missed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

NAME, MRN, ID, PHONE, EMAIL, DATE, HOSPITAL = "NAME", "MRN", "ID", "PHONE", "EMAIL", "DATE", "HOSPITAL"
PLACEHOLDER_TYPES = (NAME, MRN, ID, PHONE, EMAIL, DATE, HOSPITAL)

# Common Chinese surnames (about 200, plus compound surnames). Surnames that are also common
# words right after 患者 or 医生 (应, 和, 向, 时, 全, 明, 成, 常, 单, 左) are left out.
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "司徒", "夏侯", "尉迟", "公孙")
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
    "武戴莫孔汤温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳穆农司卓古吉"
    "缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑"
    "郎甄丛仲虞敖巩佘池查麻苑迟邝"
)
_SURNAME = "(?:" + "|".join(COMPOUND_SURNAMES) + "|[" + SURNAMES + "])"
_CJK = r"[\u4e00-\u9fff]"

# Labels after which a Chinese name follows. The name is the surname plus one or two
# given characters; when no colon follows the label, the name must end at a boundary.
_ZH_NAME_LABELS = (
    "姓名", "患者姓名", "病人姓名", "受检者", "患者", "病人", "报告医生", "报告医师", "审核医生", "审核医师",
    "诊断医生", "诊断医师", "记录医生", "记录者", "主治医师", "主任医师", "副主任医师", "住院医师", "申请医生",
    "申请医师", "送检医生", "临床医生", "技师", "操作者", "录入者", "审核者", "报告者", "签名", "医师", "医生",
    "家属", "联系人", "监护人",
)
_ZH_LABEL_ALT = "|".join(sorted(_ZH_NAME_LABELS, key=len, reverse=True))
# Boundary after a name written without a colon after its label.
_ZH_NAME_END = r"(?=$|[\s，,。；;：:（()）、/]|男|女|先生|女士|医生|医师|主任|教授|\d|性别|年龄|\[)"
# Where the next field starts right after a name: 姓名：张三性别：男.
_ZH_NEXT_FIELD = r"(?=住院|门诊|病历|病案|检查|科室|床|年龄|性别|民族|职业|婚|ID|电话)"
# Without a colon (患者王芳，女，56岁) the name must be followed by sex, age, a title, a
# bracket or another identifier field (患者王芳，身份证号…), because 患者 is also
# followed by symptoms (患者高热3天, 患者黄疸，).
_ZH_UNLABELLED_NAME_END = (
    r"(?=[，,]?\s*(?:男|女|性别|年龄|\d{1,3}岁|身份证|证件号|住院号|门诊号|病历号|病案号|检查号|"
    r"电话|手机|联系方式|出生|ID)|\s*(?:先生|女士)|\s*[（(])"
)
ZH_NAME_RE = re.compile(
    rf"(?P<label>(?:{_ZH_LABEL_ALT}))\s*(?P<value>{_SURNAME}{_CJK}{{1,2}}?){_ZH_UNLABELLED_NAME_END}"
)
# Role labels are always followed by a name, so without a boundary the name is taken
# with two given characters (主治医师许涵较前 masks 许涵较: over-masking one character).
_ZH_ROLE_LABELS = tuple(label for label in _ZH_NAME_LABELS if label not in {"患者", "病人", "医师", "医生", "家属", "技师"})
ZH_ROLE_NAME_RE = re.compile(
    rf"(?P<label>(?:{'|'.join(sorted(_ZH_ROLE_LABELS, key=len, reverse=True))}))[ \t]*(?P<value>{_SURNAME}{_CJK}{{1,2}})"
)
# A labelled name ends at a boundary or where the next field starts; without either,
# it is the surname and two given characters.
ZH_LABELLED_NAME_RE = re.compile(
    rf"(?P<label>(?:{_ZH_LABEL_ALT}))\s*[:：]\s*(?P<value>{_SURNAME}{_CJK}{{1,2}}?)(?:{_ZH_NAME_END}|{_ZH_NEXT_FIELD})"
)
ZH_LABELLED_NAME_FALLBACK_RE = re.compile(
    rf"(?P<label>(?:{_ZH_LABEL_ALT}))\s*[:：]\s*(?P<value>{_SURNAME}{_CJK}{{1,2}})"
)
# A name that opens a line, sentence or field and is followed by sex and age: 张伟，男，56岁.
ZH_DEMOGRAPHIC_NAME_RE = re.compile(
    rf"(?:^|(?<=[\n。；;：:]))[ \t]*(?P<value>{_SURNAME}{_CJK}{{1,2}}?)(?=[，,]\s*(?:男|女)(?:性)?[，,]?\s*\d{{1,3}}\s*岁)"
)
# Names with an honorific after them: 张伟医生, 王芳主任, 李明教授.
ZH_TITLED_NAME_RE = re.compile(
    rf"(?<!{_CJK})(?P<value>{_SURNAME}{_CJK}{{1,2}}?)(?=医生|医师|主任|教授|先生|女士)"
)

_EN_NAME_PART = r"(?:[A-Z]'|Mc|Mac)?[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?"
_EN_INITIAL = r"[A-Z](?:\.|(?![A-Za-z]))"
_EN_FULL_NAME = rf"{_EN_NAME_PART}(?:\s+(?:{_EN_NAME_PART}|{_EN_INITIAL})){{0,3}}"
EN_TITLED_NAME_RE = re.compile(
    rf"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Doctor|Professor)\.?\s+(?P<value>(?:{_EN_INITIAL}\s*){{0,2}}{_EN_FULL_NAME})"
)
# Field labels need a colon (Patient: Jane Doe), because "Patient History" and
# "Physician Assistant" are headings. "... by" labels take a name with or without one.
# "Patient Jane Doe, MRN 123" and "Patient John Smith (DOB ...)": without a colon, the name
# must be followed by another identifier field, an age or a sex, because "Patient History"
# and "Patient Position" are headings.
EN_PATIENT_NAME_RE = re.compile(
    rf"\b(?:Patient|Pt)\.?\s+(?P<value>{_EN_FULL_NAME})"
    r"(?=,?\s*(?:\(\s*(?:DOB|MRN|ID|\d|[MF]\b|male|female|age)|MRN\b|DOB\b|D\.O\.B\b|ID\b|Acc|born\b|aged?\b|\d{1,3}[- ]?(?:y\b|yo\b|years?\b|-year)|"
    r"male\b|female\b|[MF]\b))"
)
EN_LABELLED_NAME_RE = re.compile(
    r"(?:\b(?:Patient\s+Name|Patient|Name|Physician|Radiologist|Attending|Referring\s+Physician|"
    r"Ordering\s+Physician|Technologist|Resident|cc)\s*[:#]|"
    r"\b(?:Reported|Dictated|Read|Signed|Electronically\s+signed|Transcribed|Verified|Interpreted)\s+by\s*:?)\s*"
    rf"(?:(?:Dr|Mr|Mrs|Ms)\.?\s+)?(?P<value>[A-Z][A-Za-z'-]+,\s*[A-Z][A-Za-z'-]+|{_EN_FULL_NAME})"
)
# Capitalised words that follow a title or label in reports but are not names.
EN_NAME_STOPWORDS = frozenset({
    "None", "Unknown", "Pending", "Same", "Agree", "Notified", "Attending", "Resident", "Radiologist", "Radiology",
    "Staff", "Physician", "Doctor", "History", "Position", "Preparation", "Weight", "Height", "Note", "Review",
    "Comment", "Comments", "Assistant", "On", "Call", "The", "This", "See", "Not", "Available", "Male", "Female",
})
# "Jane A. Doe, MD" and "DOE, JANE MD": a signature with a degree after it.
EN_SIGNATURE_RE = re.compile(
    rf"(?P<value>[A-Z][A-Za-z'-]+,\s*[A-Z][A-Za-z'-]+|{_EN_FULL_NAME})"
    r",?\s+(?:M\.?D\.?|D\.?O\.?|Ph\.?D\.?|MBBS|FRCR|FRCPC)(?=\s*(?:$|[\n,.;)]))"
)

_MRN_LABELS_ZH = (
    "住院号", "门诊号", "病历号", "病案号", "检查号", "影像号", "登记号", "申请单号", "检查单号", "流水号", "床号",
    "PET号", "CT号", "MR号", "ID号", "放射号", "病人编号", "患者编号", "患者ID", "病人ID", "就诊号", "就诊卡号",
    "医保卡号", "卡号", "条码号", "样本号", "标本号", "报告编号", "报告号", "检查编号",
)
_MRN_LABELS_EN = (
    r"MRN", r"MR\s*#", r"MR\s+No\.?", r"Medical\s+Record\s+(?:Number|No\.?|#)", r"Record\s+(?:Number|No\.?)",
    r"Accession\s*(?:Number|No\.?|#)?", r"Acc\.?\s*(?:No\.?|#)", r"Patient\s+ID", r"Pt\s+ID", r"PID", r"Study\s+ID",
    r"Exam\s+(?:Number|No\.?|#|ID)", r"Order\s+(?:Number|No\.?|#)", r"Encounter\s+(?:Number|No\.?|#|ID)",
    r"Hospital\s+(?:Number|No\.?)", r"Visit\s+(?:Number|No\.?|ID)",
)
MRN_RE = re.compile(
    r"(?P<label>(?:" + "|".join(re.escape(label) for label in _MRN_LABELS_ZH) + "|"
    + "|".join(rf"\b{label}" for label in _MRN_LABELS_EN)
    # A bare "ID" counts as a label only with a separator after it (ID：1234567).
    + r"|(?<![A-Za-z])ID(?=\s*[:：#])))"
    r"\s*(?:[:：#=]|is)?\s*(?P<value>[A-Za-z]{0,4}[-_]?\d[\dA-Za-z_-]{2,24})",
    re.IGNORECASE,
)

# 18-digit resident ID: 6-digit area, birth date 18xx-20xx, 3-digit sequence, check digit.
ID18_RE = re.compile(r"(?<![\dA-Za-z])(?P<value>[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx])(?![\dA-Za-z])")
ID_LABELLED_RE = re.compile(
    r"(?:身份证(?:号码|号)?|证件号(?:码)?|公民身份号码|SSN|Social\s+Security\s+(?:Number|No\.?))\s*[:：#]?\s*"
    r"(?P<value>\d{3}-\d{2}-\d{4}|\d{17}[\dXx]|\d{15}|\d[\d-]{7,20}[\dXx])(?![\dXx])",
    re.IGNORECASE,
)
SSN_RE = re.compile(r"(?<!\d)(?P<value>\d{3}-\d{2}-\d{4})(?!\d)")

PHONE_PATTERNS = (
    # Chinese mobile numbers, with an optional +86 and optional separators: 138-1234-5678.
    re.compile(r"(?<![\dA-Za-z.])(?P<value>(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2})(?!\d|\.\d)"),
    # Chinese landlines: 010-12345678, (021) 6543 2100, 0755-8888888 with an optional extension.
    re.compile(r"(?<![\dA-Za-z.])(?P<value>(?:\+?86[ -]?)?\(?0\d{2,3}\)?[ -]?\d{3,4}[ -]?\d{4}(?:\s*(?:转|ext\.?|x)\s*\d{1,5})?)(?!\d|\.\d)"),
    # North American numbers: (317) 555-0123, 317-555-0123, 317.555.0123, +1 317 555 0123.
    re.compile(r"(?<![\dA-Za-z.])(?P<value>(?:\+?1[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[ .-])\d{3}[ .-]\d{4}(?:\s*(?:ext\.?|x)\s*\d{1,5})?)(?!\d|\.\d)"),
    # Labelled numbers of any shape: 电话：88886666, Tel: 5550123.
    re.compile(r"(?:电话|手机|联系电话|联系方式|座机|传真|\b(?:Tel|Phone|Telephone|Mobile|Cell|Fax)\b)\.?\s*[:：#]?\s*(?P<value>\+?(?:\(\d{2,4}\)\s?)?\d[\d-]{5,16}\d(?:\s\d{4})?)(?!\d)", re.IGNORECASE),
)

EMAIL_RE = re.compile(r"(?<![A-Za-z0-9._%+-])(?P<value>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")

_MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")],
        start=1,
    )
    for name in names
}
_MONTH_NAME = r"(?P<mname>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<y>(?:18|19|20)\d{2})"
DATE_PATTERNS = (
    # 2020年1月6日, 2020年01月06号, 2020年1月
    re.compile(_YEAR + r"\s*年\s*(?P<m>1[0-2]|0?[1-9])\s*月(?:\s*(?P<d>3[01]|[12]\d|0?[1-9])\s*[日号])?"),
    # 2020-01-06, 2020/1/6, 2020.01.06, 2020-1-6 12:30
    re.compile(r"(?<![\d.])" + _YEAR + r"(?P<sep>[-/.])(?P<m>1[0-2]|0?[1-9])(?P=sep)(?P<d>3[01]|[12]\d|0?[1-9])(?![\d])"
               r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"),
    # 20200106 (8 digits, valid month and day)
    re.compile(r"(?<![\d.])" + _YEAR + r"(?P<m>1[0-2]|0[1-9])(?P<d>3[01]|[12]\d|0[1-9])(?!\d|\.\d)"),
    # 01/06/2020, 1-6-2020, 6.1.2020 (month first for / and -, day first for .)
    re.compile(r"(?<![\d.])(?P<a>3[01]|[12]\d|0?[1-9])(?P<sep>[-/.])(?P<b>3[01]|[12]\d|0?[1-9])(?P=sep)" + _YEAR + r"(?![\d])"),
    # 01/06/20 with a two-digit year, only with slashes
    re.compile(r"(?<![\d./])(?P<a>1[0-2]|0?[1-9])/(?P<b>3[01]|[12]\d|0?[1-9])/(?P<yy>\d{2})(?![\d/])"),
    # Jan 6, 2020; January 6th 2020; Jan 2020
    re.compile(r"(?<![A-Za-z])" + _MONTH_NAME + r"\s+(?:(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?,?\s+)?" + _YEAR + r"(?!\d)", re.IGNORECASE),
    # 6 January 2020, 6-Jan-2020
    re.compile(r"(?<![\dA-Za-z.])(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?[\s-]+" + _MONTH_NAME + r"[\s,-]+" + _YEAR + r"(?!\d)", re.IGNORECASE),
    # 1月6日 (month and day without a year), only with both parts
    re.compile(r"(?<![\d年])(?P<m>1[0-2]|0?[1-9])\s*月\s*(?P<d>3[01]|[12]\d|0?[1-9])\s*[日号]"),
)

_HOSPITAL_SUFFIX_ZH = r"(?:医院|卫生院|医疗中心|肿瘤防治中心|妇幼保健院|保健院|诊所|医学中心|卫生服务中心)"
HOSPITAL_ZH_RE = re.compile(rf"(?P<value>[\u4e00-\u9fff\dA-Za-z]{{2,24}}?{_HOSPITAL_SUFFIX_ZH}(?:[\u4e00-\u9fff]{{1,6}}院区|分院)?)")
# Generic phrases that end in 医院 but name no hospital: 上级医院, 当地医院, 建议专科医院.
_ZH_HOSPITAL_GENERIC = re.compile(
    r"(?:^|建议|请)(?:我|外|本|该|他|其他|上级|下级|当地|基层|综合|专科|各级|多家|同一|此|原|某|县级|市级|省级|三甲|二甲)?"
    + _HOSPITAL_SUFFIX_ZH + "$"
)
# Text before a hospital name that is not part of it: the verb or preposition leading to it.
_ZH_HOSPITAL_LEAD = re.compile(r"^.*(?:于|在|至|到|经|转|赴|往|曾|去|来|及|与|或|议|请|示|行)(?=.{2,}$)")
HOSPITAL_EN_RE = re.compile(
    r"(?<![A-Za-z0-9])(?P<value>(?:(?:The|St\.?|Saint)\s+)?(?:[A-Z][A-Za-z'&-]*\s+){1,6}(?:of\s+(?:[A-Z][A-Za-z'&-]*\s+){1,3})?"
    r"(?:Hospital|Medical\s+Cent(?:er|re)|Cancer\s+Cent(?:er|re)|Health\s+(?:System|Cent(?:er|re))|Clinic|Infirmary|"
    r"Imaging\s+Cent(?:er|re))(?:\s+of\s+[A-Z][A-Za-z'&-]*(?:\s+[A-Z][A-Za-z'&-]*){0,3})?)"
)
# Capitalised words that start a sentence or a clause, not a hospital name.
_EN_HOSPITAL_LEAD = re.compile(
    r"^(?:(?:Compared|Comparison|Prior|Previous|From|At|To|Outside|Transferred|Seen|Done|Performed|Referred|"
    r"Admitted|Per|With|And|In|On|By|For|See|This|That|CT|MRI|PET|The|A|An|Our|Local|Referring|Oncology|Radiology|"
    r"Cardiology|Urology|Neurology|Hematology|Surgery|Surgical|Outpatient|Breast|Thoracic|Nuclear|Medicine|"
    r"Internal|Pediatric|Follow-up)\s+)+"
)

# Tokens that look like identifiers but are existing masks or placeholders: keep them.
_PROTECTED_RE = re.compile(r"\[(?:NAME|MRN|ID|PHONE|EMAIL|DATE|HOSPITAL)\]|X{2,}")


@dataclass(frozen=True)
class Span:
    """One detected identifier: character offsets into the input, and its placeholder type."""

    start: int
    end: int
    type: str


@dataclass
class DeidResult:
    """The de-identified text, the identifier spans found in the input, and counts per type."""

    text: str
    spans: list[Span] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)


@dataclass
class DeidConfig:
    """Options of :func:`deidentify`.

    Attributes:
        dates: "mask" replaces dates by [DATE]; "shift" moves each full date by a
            per-patient offset in days and keeps its written format; "keep" leaves dates.
        max_shift_days: largest absolute shift in days for ``dates="shift"``.
        key: secret mixed into the per-patient date offset. With the default "" anyone
            with the patient key can recompute the offset.
        types: the identifier types to replace; the default is all of PLACEHOLDER_TYPES.
    """

    dates: str = "mask"
    max_shift_days: int = 365
    key: str = ""
    types: tuple[str, ...] = PLACEHOLDER_TYPES

    def __post_init__(self) -> None:
        if self.dates not in {"mask", "shift", "keep"}:
            raise ValueError(f"invalid dates option {self.dates!r}; use 'mask', 'shift' or 'keep'")
        if self.max_shift_days < 1:
            raise ValueError(f"max_shift_days must be at least 1, got {self.max_shift_days}")


def id18_check_digit(first17: str) -> str:
    """Return the check character of an 18-digit Chinese resident ID (GB 11643-1999, ISO 7064 MOD 11-2)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(digit) * weight for digit, weight in zip(first17, weights))
    return "10X98765432"[total % 11]


def _finditer_values(pattern: re.Pattern[str], text: str, kind: str) -> list[Span]:
    spans = []
    for match in pattern.finditer(text):
        start, end = match.span("value")
        if start < end:
            spans.append(Span(start, end, kind))
    return spans


def _find_zh_names(text: str) -> list[Span]:
    spans = _finditer_values(ZH_LABELLED_NAME_RE, text, NAME)
    starts = {span.start for span in spans}
    spans += [span for span in _finditer_values(ZH_LABELLED_NAME_FALLBACK_RE, text, NAME) if span.start not in starts]
    spans += _finditer_values(ZH_NAME_RE, text, NAME)
    covered = {span.start for span in spans}
    spans += [span for span in _finditer_values(ZH_ROLE_NAME_RE, text, NAME) if span.start not in covered]
    spans += _finditer_values(ZH_TITLED_NAME_RE, text, NAME)
    spans += _finditer_values(ZH_DEMOGRAPHIC_NAME_RE, text, NAME)
    return spans


def _find_en_names(text: str) -> list[Span]:
    spans = []
    for pattern in (EN_TITLED_NAME_RE, EN_PATIENT_NAME_RE, EN_LABELLED_NAME_RE, EN_SIGNATURE_RE):
        for span in _finditer_values(pattern, text, NAME):
            trimmed = _strip_stopwords(span, text)
            if trimmed is not None:
                spans.append(trimmed)
    return spans


def _strip_stopwords(span: Span, text: str) -> Span | None:
    """Drop leading words of EN_NAME_STOPWORDS from a name span; None when nothing is left."""
    for word in re.finditer(r"[A-Za-z'-]+", text[span.start:span.end]):
        if word.group() not in EN_NAME_STOPWORDS:
            return Span(span.start + word.start(), span.end, span.type)
    return None


def _find_ids(text: str) -> list[Span]:
    spans = []
    for match in ID18_RE.finditer(text):
        value = match.group("value")
        if id18_check_digit(value[:17]) == value[17].upper():
            spans.append(Span(*match.span("value"), ID))
    spans += _finditer_values(ID_LABELLED_RE, text, ID)
    spans += _finditer_values(SSN_RE, text, ID)
    return spans


def _find_phones(text: str) -> list[Span]:
    spans = []
    for pattern in PHONE_PATTERNS:
        spans += _finditer_values(pattern, text, PHONE)
    return spans


def _find_dates(text: str) -> list[Span]:
    spans = []
    for pattern in DATE_PATTERNS:
        spans += [Span(*match.span(), DATE) for match in pattern.finditer(text)]
    return spans


def _find_hospitals(text: str) -> list[Span]:
    spans = []
    for match in HOSPITAL_ZH_RE.finditer(text):
        start, end = match.span("value")
        value = match.group("value")
        lead = _ZH_HOSPITAL_LEAD.match(value)
        if lead:
            start += lead.end()
            value = value[lead.end():]
        if _ZH_HOSPITAL_GENERIC.search(value) or len(value) < 4:
            continue
        spans.append(Span(start, end, HOSPITAL))
    for match in HOSPITAL_EN_RE.finditer(text):
        start, end = match.span("value")
        lead = _EN_HOSPITAL_LEAD.match(match.group("value"))
        if lead:
            start += lead.end()
        # After leading verbs and department words, a name must remain before the
        # suffix: "Mercy Hospital" stays, "The Cancer Center" and "Oncology Clinic" go.
        if HOSPITAL_EN_RE.fullmatch(text, start, end):
            spans.append(Span(start, end, HOSPITAL))
    return spans


FINDERS: dict[str, Callable[[str], list[Span]]] = {
    MRN: lambda text: _finditer_values(MRN_RE, text, MRN),
    ID: _find_ids,
    PHONE: _find_phones,
    EMAIL: lambda text: _finditer_values(EMAIL_RE, text, EMAIL),
    DATE: _find_dates,
    HOSPITAL: _find_hospitals,
    NAME: lambda text: _find_zh_names(text) + _find_en_names(text),
}
# When spans overlap, the type listed first wins (an ID card number is not a phone number,
# and 13812345678@qq.com is an e-mail address, not a phone number).
TYPE_PRIORITY = (EMAIL, ID, MRN, PHONE, DATE, HOSPITAL, NAME)


def _unclaimed_parts(span: Span, text: str, covered: list[bool]) -> list[Span]:
    """Return the parts of ``span`` not yet covered that contain a letter or digit, and claim them."""
    parts = []
    position = span.start
    while position < span.end:
        if covered[position]:
            position += 1
            continue
        start = position
        while position < span.end and not covered[position]:
            position += 1
        while start < position and text[start].isspace():
            start += 1
        end = position
        while end > start and text[end - 1].isspace():
            end -= 1
        if any(char.isalnum() for char in text[start:end]):
            parts.append(Span(start, end, span.type))
            covered[start:end] = [True] * (end - start)
    return parts


def find_identifiers(text: str, types: tuple[str, ...] = PLACEHOLDER_TYPES) -> list[Span]:
    """Find identifier spans in ``text``, merged so that no two spans overlap."""
    protected = [match.span() for match in _PROTECTED_RE.finditer(text)]
    candidates: list[Span] = []
    for kind in TYPE_PRIORITY:
        if kind in types:
            candidates += FINDERS[kind](text)

    rank = {kind: index for index, kind in enumerate(TYPE_PRIORITY)}
    covered = [False] * len(text)
    for start, end in protected:
        covered[start:end] = [True] * (end - start)

    # Higher-priority and longer spans claim their characters first. A later span keeps
    # only its unclaimed parts, so a phone number that ran into a date leaves the rest of
    # the date to be masked as a date instead of leaking it.
    chosen: list[Span] = []
    for span in sorted(candidates, key=lambda s: (rank[s.type], -(s.end - s.start), s.start)):
        chosen += _unclaimed_parts(span, text, covered)
    return sorted(chosen, key=lambda span: span.start)


def date_shift_days(patient_key: str, config: DeidConfig) -> int:
    """Return the non-zero date offset in days for one patient (same key, same offset)."""
    digest = hashlib.sha256(f"{config.key}\x00{patient_key}".encode("utf-8")).digest()
    magnitude = int.from_bytes(digest[:4], "big") % config.max_shift_days + 1
    return magnitude if digest[4] % 2 else -magnitude


def _shift_date(value: str, days: int) -> str | None:
    """Shift a date written in one of the year-month-day forms, keeping its separators."""
    match = re.fullmatch(r"(\d{4})(\s*年\s*|[-/.])(\d{1,2})(\s*月\s*|[-/.])(\d{1,2})(\s*[日号])?(.*)", value, re.S)
    if not match:
        return None
    year, sep1, month, sep2, day, suffix, rest = match.groups()
    try:
        shifted = dt.date(int(year), int(month), int(day)) + dt.timedelta(days=days)
    except ValueError:
        return None
    width_month, width_day = len(month), len(day)
    return (
        f"{shifted.year:04d}{sep1}{shifted.month:0{width_month}d}{sep2}"
        f"{shifted.day:0{width_day}d}{suffix or ''}{rest}"
    )


def deidentify(text: str, patient_key: str = "", config: DeidConfig | None = None) -> DeidResult:
    """Replace identifiers in ``text`` by typed placeholders and count them per type.

    ``patient_key`` (a patient or record id) fixes the date offset when
    ``config.dates == "shift"``. A date that cannot be shifted (no day, or the month
    written as a word) is masked instead.

    >>> deidentify("姓名：张伟 住院号：A123456 SUVmax 5.2").text
    '姓名：[NAME] 住院号：[MRN] SUVmax 5.2'
    """
    config = config or DeidConfig()
    types = tuple(kind for kind in config.types if not (kind == DATE and config.dates == "keep"))
    spans = find_identifiers(text, types)

    pieces: list[str] = []
    counts: Counter = Counter()
    cursor = 0
    for span in spans:
        pieces.append(text[cursor:span.start])
        replacement = f"[{span.type}]"
        if span.type == DATE and config.dates == "shift":
            shifted = _shift_date(text[span.start:span.end], date_shift_days(patient_key, config))
            replacement = shifted if shifted is not None else replacement
        pieces.append(replacement)
        counts[span.type] += 1
        cursor = span.end
    pieces.append(text[cursor:])
    return DeidResult(text="".join(pieces), spans=spans, counts=counts)
