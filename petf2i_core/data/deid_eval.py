"""Measuring de-identification on synthetic reports with planted identifiers.

:func:`plant_reports` writes short Chinese and English PET/CT report texts from
clinical sentence templates and plants identifiers of every placeholder type
except EMAIL in the forms hospital exports use, remembering each planted span. :func:`measure_deid_recall`
runs :func:`petf2i_core.data.deid.find_identifiers` on them and returns, per type,
the share of planted identifiers that were fully removed (recall), and, on the
same reports without identifiers, how many clinical tokens were masked by mistake.

NOTE: the identifier forms and contexts were written by the author of the rules,
so recall here is an upper bound for real exports. Forms that no rule covers
(a bare name inside running text) are not planted.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from .deid import DATE, HOSPITAL, ID, MRN, NAME, PHONE, PLACEHOLDER_TYPES, Span, find_identifiers, id18_check_digit

ZH_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅建国志文斌海燕鹏飞宇浩然子涵欣怡俊"
ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
ZH_COMPOUND = ("欧阳", "司马", "诸葛", "上官")
EN_FIRST = ("John", "Mary", "James", "Linda", "Robert", "Patricia", "Michael", "Jennifer", "David", "Susan", "Wei", "Ana", "Jean-Luc", "Siobhan")
EN_LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wang", "O'Brien", "McDonald", "Nguyen", "Kowalski", "Lee")
ZH_PLACES = ("北京", "上海市", "广州", "浙江省", "四川大学华西", "复旦大学附属", "中山大学附属第一", "广西壮族自治区", "南京鼓楼", "郑州大学第一附属", "江苏省")
ZH_HOSPITAL_KINDS = ("县人民医院", "医学科学院肿瘤医院", "总医院第一医学中心", "协和医院", "第一人民医院", "中心医院", "肿瘤医院", "中山医院", "人民医院", "中医院", "妇幼保健院", "医院", "肿瘤防治中心", "儿童医院")
EN_HOSPITAL_NAMES = (
    "Massachusetts General Hospital", "St. Mary's Hospital", "Mercy Medical Center", "University of Michigan Health System",
    "Riverside General Hospital", "Memorial Sloan Kettering Cancer Center", "Johns Hopkins Hospital", "Saint Luke's Hospital",
    "Mayo Clinic", "Indiana University Health Center", "Royal Infirmary of Edinburgh", "Lakeside Imaging Center",
)

ZH_CLINICAL = (
    "右肺上叶见一结节，大小约1.2×0.8 cm，放射性摄取增高，SUVmax 5.2。",
    "纵隔4R组及7组淋巴结肿大，SUVmax约3.1，考虑转移。",
    "T12椎体及L4-5椎间见骨质破坏，FDG摄取增高，SUVmax：6.8。",
    "肝脏形态大小正常，未见异常放射性浓聚。",
    "双肺纹理增多，未见明显结节。",
    "患者术后改变，吻合口未见异常代谢增高。",
    "淋巴瘤治疗后，Deauville 4分。",
    "左侧乳腺结节，BI-RADS 4A类。",
    "注射18F-FDG 370 MBq，60分钟后行PET/CT显像，血糖5.6 mmol/L。",
    "右侧第3前肋骨质密度增高，CT值约450 HU。",
    "甲状腺左叶低密度结节，大小约2.5 x 1.8 cm。",
    "1.右肺上叶恶性肿瘤可能大。2.纵隔淋巴结转移。",
    "医师建议结合临床随访复查，3个月后复查。",
    "患者自述2周前出现咳嗽，T2N1M0期。",
    "腹膜后II-III区多发淋巴结，最大者约15 mm。",
    "患者曾于2019年行右肺癌根治术，患者高热3天，黄疸2周。",
    "建议专科医院就诊，或至上级医院进一步诊治。",
)
EN_CLINICAL = (
    "There is a 1.2 x 0.8 cm nodule in the right upper lobe with SUVmax 5.2.",
    "Hypermetabolic 4R and 10L lymph nodes, SUV max 3.1, suspicious for metastasis.",
    "Lytic lesion of the T12 vertebral body, SUVmax of 6.8.",
    "Deauville score 4 after two cycles of ABVD for Hodgkin lymphoma.",
    "BI-RADS 4A mass in the left breast at 2 o'clock, 3 cm from the nipple.",
    "No focal consolidation, pleural effusion or pneumothorax.",
    "Schmorl's node at L4-5. Degenerative changes of the C5-C6 disc.",
    "Injected 10 mCi (370 MBq) F-18 FDG; blood glucose 98 mg/dL; uptake time 60 minutes.",
    "Normal chest x-XXXX. Heart size is within normal limits.",
    "Compared to the prior study, the nodule has increased from 8 mm to 12 mm.",
    "Stage T2N1M0 disease. Lung-RADS 3.",
    "1. Right upper lobe malignancy. 2. Mediastinal nodal metastasis.",
    "Recommend follow-up CT in 3 months at the outpatient clinic.",
    "Paget disease of the right hemipelvis. Baker's cyst in the left knee.",
    "Liver attenuation 55 HU; spleen 11.5 cm in craniocaudal length.",
    "Patient History: restaging of Hodgkin Lymphoma, MD Anderson protocol.",
    "Referring Physician Notified. Read by Attending Radiologist.",
)


@dataclass
class PlantedReport:
    """A synthetic report text and the identifier spans planted in it."""

    text: str
    language: str
    planted: list[Span] = field(default_factory=list)


def _zh_name(rng: random.Random) -> str:
    surname = rng.choice(ZH_COMPOUND) if rng.random() < 0.1 else rng.choice(ZH_SURNAMES)
    return surname + "".join(rng.choice(ZH_GIVEN) for _ in range(rng.choice((1, 2))))


def _en_name(rng: random.Random) -> str:
    first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
    return rng.choice((f"{first} {last}", f"{first} {rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}", last))


def _name(rng: random.Random, language: str) -> tuple[str, str]:
    if language == "zh":
        value = _zh_name(rng)
        template = rng.choice((
            "姓名：{}", "姓名:{} 性别：男", "患者{}，男，63岁。", "患者：{}", "报告医生：{}", "审核医师：{}",
            "{}医生", "主治医师{}", "签名：{}", "报告医师 {} ", "患者姓名：{}性别：女", "报告者：{}",
            "受检者：{}，", "医师签名：{}",
        ))
    else:
        value = _en_name(rng)
        template = rng.choice((
            "Dr. {}", "Mr. {}", "Ms. {}", "Name: {}", "Patient: {}", "Dictated by: {}",
            "Electronically signed by: {}, MD", "{}, M.D.", "Reported by {}", "Referring Physician: {}",
            "Dr {} reviewed", "Attending: {}",
        ))
        if rng.random() < 0.1:
            value, template = f"{rng.choice(EN_LAST).upper()}, {rng.choice(EN_FIRST).upper()}", "Patient: {}"
    return template, value


def _mrn(rng: random.Random, language: str) -> tuple[str, str]:
    value = rng.choice((
        str(rng.randrange(10**5, 10**10)),
        f"{rng.choice(['A', 'PT', 'CT', 'MR', 'ZY'])}{rng.randrange(10**5, 10**9)}",
        f"PT-{rng.randrange(2015, 2025)}-{rng.randrange(10**4, 10**6)}",
    ))
    if language == "zh":
        template = rng.choice(("住院号：{}", "病历号:{}", "检查号 {}", "PET号：{}", "门诊号：{}", "影像号：{}", "登记号{}", "ID号：{}", "检查流水号：{}"))
    else:
        template = rng.choice(("MRN: {}", "MRN {}", "Accession #: {}", "Accession No. {}", "Medical Record Number: {}", "Patient ID: {}", "MR# {}"))
    return template, value


def _id_card(rng: random.Random, language: str) -> tuple[str, str]:
    if language == "en" and rng.random() < 0.5:
        return rng.choice(("SSN: {}", "Social Security Number {}")), f"{rng.randrange(100, 899)}-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}"
    area = rng.choice(("110101", "310104", "440106", "510107", "330102", "420111"))
    birth = f"{rng.randrange(1930, 2015)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    first17 = f"{area}{birth}{rng.randrange(0, 1000):03d}"
    value = first17 + id18_check_digit(first17)
    template = rng.choice(("身份证号：{}", "身份证号码 {}", "证件号：{}", "{}", "公民身份号码{}")) if language == "zh" else "ID card {}"
    return template, value


def _phone(rng: random.Random, language: str) -> tuple[str, str]:
    mobile = f"1{rng.choice('3456789')}{rng.randrange(0, 10)}{rng.randrange(10**7, 10**8)}"
    choices = [
        mobile,
        f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
        f"+86 {mobile}",
        f"0{rng.choice(['10', '21', '20', '755', '571'])}-{rng.randrange(10**7, 10**8)}",
        f"(0{rng.choice(['10', '21', '28'])}) {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}",
        f"({rng.randrange(201, 989)}) {rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}",
        f"{rng.randrange(201, 989)}-{rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}",
        f"{rng.randrange(201, 989)}.{rng.randrange(200, 999)}.{rng.randrange(1000, 9999)}",
        f"+1 {rng.randrange(201, 989)} {rng.randrange(200, 999)} {rng.randrange(1000, 9999)}",
        f"0{rng.choice(['571', '755'])} {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}",
        f"+86-{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
    ]
    value = rng.choice(choices)
    if language == "zh":
        template = rng.choice(("电话：{}", "联系电话 {}", "手机:{}", "家属电话{}", "{}"))
    else:
        template = rng.choice(("Tel: {}", "Phone {}", "call {} with questions", "Contact: {}", "{}"))
    return template, value


def _date(rng: random.Random, language: str) -> tuple[str, str]:
    year, month, day = rng.randrange(1990, 2025), rng.randrange(1, 13), rng.randrange(1, 29)
    month_names = ("Jan", "February", "Mar", "April", "May", "Jun", "July", "Aug", "Sept", "October", "Nov", "December")
    value = rng.choice((
        f"{year}-{month:02d}-{day:02d}",
        f"{year}-{month}-{day}",
        f"{year}/{month}/{day}",
        f"{year}.{month:02d}.{day:02d}",
        f"{year}年{month}月{day}日",
        f"{year}年{month:02d}月",
        f"{year}{month:02d}{day:02d}",
        f"{month:02d}/{day:02d}/{year}",
        f"{month}/{day}/{year % 100:02d}",
        f"{month_names[month - 1]} {day}, {year}",
        f"{day} {month_names[month - 1]} {year}",
        f"{month}月{day}日",
        f"{year}.{month}.{day}",
        f"{day:02d}-{month_names[month - 1][:3]}-{year}",
        f"{year}/{month:02d}/{day:02d} 14:30",
    ))
    if language == "zh":
        template = rng.choice(("检查日期：{}", "与{}片比较", "较前（{}）", "于{}行手术", "{}复查"))
    else:
        template = rng.choice(("Exam date: {}", "Compared with {}.", "on {}", "Prior study dated {}", "({})"))
    return template, value


def _hospital(rng: random.Random, language: str) -> tuple[str, str]:
    if language == "zh":
        value = rng.choice(ZH_PLACES) + rng.choice(ZH_HOSPITAL_KINDS)
        template = rng.choice(("于{}行PET/CT检查", "患者曾在{}就诊", "转自{}", "（{}）", "外院（{}）CT示", "{}PET/CT中心"))
    else:
        value = rng.choice(EN_HOSPITAL_NAMES)
        template = rng.choice(("Outside study from {}.", "Compared to prior at {}.", "Transferred from {} for staging.", "{} Department of Radiology", "Performed at {}."))
    return template, value


# NOTE: e-mail addresses (EMAIL) are not planted, so their recall is not measured.
PLANTERS: dict[str, Callable[[random.Random, str], tuple[str, str]]] = {
    NAME: _name, MRN: _mrn, ID: _id_card, PHONE: _phone, DATE: _date, HOSPITAL: _hospital,
}


def clean_report(rng: random.Random, language: str, sentences: int = 4) -> str:
    """Return a synthetic report text of clinical sentences with no identifiers."""
    pool = ZH_CLINICAL if language == "zh" else EN_CLINICAL
    separator = "" if language == "zh" else " "
    return separator.join(rng.sample(pool, sentences))


def plant_reports(n: int, seed: int = 0) -> list[PlantedReport]:
    """Generate ``n`` reports, half Chinese and half English, each with one identifier of every type in PLANTERS.

    Clinical sentences and identifier phrases are interleaved in random order.
    """
    rng = random.Random(seed)
    reports = []
    for index in range(n):
        language = "zh" if index % 2 == 0 else "en"
        pool = ZH_CLINICAL if language == "zh" else EN_CLINICAL
        pieces: list[tuple[str, str | None, str | None]] = [(sentence, None, None) for sentence in rng.sample(pool, 3)]
        for kind, planter in PLANTERS.items():
            template, value = planter(rng, language)
            pieces.append((template, value, kind))
        rng.shuffle(pieces)

        text = ""
        planted = []
        separator = "" if language == "zh" else " "
        for template, value, kind in pieces:
            if text:
                text += separator if language == "en" else rng.choice(("\n", "，", "。", " ", "；"))
            if value is None:
                text += template
                continue
            before, after = template.split("{}")
            start = len(text) + len(before)
            text += before + value + after
            planted.append(Span(start, start + len(value), kind))
        reports.append(PlantedReport(text=text, language=language, planted=planted))
    return reports


def _covered(span: Span, found: list[Span], text: str) -> tuple[bool, bool]:
    """Return whether every letter and digit of ``span`` is inside found spans, and inside found spans of its type."""
    characters = {index for index in range(span.start, span.end) if text[index].isalnum()}
    covered_any = set()
    covered_typed = set()
    for other in found:
        overlap = characters.intersection(range(other.start, other.end))
        covered_any |= overlap
        if other.type == span.type:
            covered_typed |= overlap
    return covered_any == characters, covered_typed == characters


def measure_deid_recall(n: int = 1000, seed: int = 0) -> dict:
    """Measure recall per identifier type and the false-positive rate on clean text.

    Returns a dict with ``n``, ``seed`` and ``recall``: type to the share of planted
    identifiers whose every letter and digit was replaced. ``typed_recall`` counts only
    replacements by the placeholder of the identifier's own type. ``planted`` gives the
    counts per type and ``misses`` up to 5 missed values per type. ``false_positives``
    describes ``n`` clean reports: the share with any replacement, the replacements per
    report, and the masked strings.
    """
    reports = plant_reports(n, seed)
    planted: Counter = Counter()
    removed: Counter = Counter()
    typed: Counter = Counter()
    misses: dict[str, list[str]] = {kind: [] for kind in PLACEHOLDER_TYPES}
    for report in reports:
        found = find_identifiers(report.text)
        for span in report.planted:
            planted[span.type] += 1
            any_type, same_type = _covered(span, found, report.text)
            removed[span.type] += any_type
            typed[span.type] += same_type
            if not any_type and len(misses[span.type]) < 5:
                misses[span.type].append(report.text[span.start:span.end])

    rng = random.Random(seed + 1)
    masked: Counter = Counter()
    reports_hit = 0
    detections = 0
    for index in range(n):
        text = clean_report(rng, "zh" if index % 2 == 0 else "en")
        found = find_identifiers(text)
        detections += len(found)
        reports_hit += bool(found)
        masked.update(f"{span.type}:{text[span.start:span.end]}" for span in found)

    return {
        "n": n,
        "seed": seed,
        "planted": dict(planted),
        "recall": {kind: removed[kind] / planted[kind] for kind in PLACEHOLDER_TYPES if planted[kind]},
        "typed_recall": {kind: typed[kind] / planted[kind] for kind in PLACEHOLDER_TYPES if planted[kind]},
        "misses": {kind: values for kind, values in misses.items() if values},
        "false_positives": {
            "clean_reports": n,
            "reports_with_any_replacement": reports_hit / n,
            "replacements_per_report": detections / n,
            "masked": dict(masked.most_common(20)),
        },
    }
