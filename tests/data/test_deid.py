"""De-identification: typed placeholders, clinical numbers kept, recall on planted identifiers."""

from __future__ import annotations

import pytest

from petf2i_core.data.deid import DeidConfig, date_shift_days, deidentify, id18_check_digit
from petf2i_core.data.deid_eval import measure_deid_recall, plant_reports

CASES = [
    ("姓名：张伟 性别：男", "姓名：[NAME] 性别：男", "NAME"),
    ("姓名：张三性别：男", "姓名：[NAME]性别：男", "NAME"),
    ("患者王芳，女，56岁。", "患者[NAME]，女，56岁。", "NAME"),
    ("报告医生：欧阳明 审核医生：李娜娜", "报告医生：[NAME] 审核医生：[NAME]", "NAME"),
    ("Dr. John Smith reviewed the images.", "Dr. [NAME] reviewed the images.", "NAME"),
    ("Electronically signed by: Mary K. Jones, MD", "Electronically signed by: [NAME], MD", "NAME"),
    ("Mr. O'Brien and Ms. McDonald", "Mr. [NAME] and Ms. [NAME]", "NAME"),
    ("住院号：A123456", "住院号：[MRN]", "MRN"),
    ("MRN: 00123456; Accession #: PT-2020-00123", "MRN: [MRN]; Accession #: [MRN]", "MRN"),
    ("身份证号：110101199003074514", "身份证号：[ID]", "ID"),
    ("SSN: 123-45-6789", "SSN: [ID]", "ID"),
    ("电话：13812345678", "电话：[PHONE]", "PHONE"),
    ("联系 138-1234-5678 或 010-12345678", "联系 [PHONE] 或 [PHONE]", "PHONE"),
    ("Call (317) 555-0123 or 317.555.0123.", "Call [PHONE] or [PHONE].", "PHONE"),
    ("较前2020-1-6片比较", "较前[DATE]片比较", "DATE"),
    ("检查日期：2020年1月6日", "检查日期：[DATE]", "DATE"),
    ("Compared with 01/06/2020 and Jan 6, 2020.", "Compared with [DATE] and [DATE].", "DATE"),
    ("患者曾于北京协和医院行PET/CT。", "患者曾于[HOSPITAL]行PET/CT。", "HOSPITAL"),
    ("转至复旦大学附属中山医院", "转至[HOSPITAL]", "HOSPITAL"),
    ("Outside study from Massachusetts General Hospital.", "Outside study from [HOSPITAL].", "HOSPITAL"),
    ("患者王秀英，身份证号110101199003074514。", "患者[NAME]，身份证号[ID]。", "NAME"),
    ("联系人：李娜 手机：13987654321", "联系人：[NAME] 手机：[PHONE]", "NAME"),
    ("Patient John Smith, MRN 12345678.", "Patient [NAME], MRN [MRN].", "NAME"),
    ("Patient Jane Doe (DOB 03/07/1980)", "Patient [NAME] (DOB [DATE])", "NAME"),
    ("ID：1234567", "ID：[MRN]", "MRN"),
    ("邮箱：zhangwei@163.com", "邮箱：[EMAIL]", "EMAIL"),
    ("Reply to john.smith@example.org.", "Reply to [EMAIL].", "EMAIL"),
    ("QQ邮箱13812345678@qq.com", "QQ邮箱[EMAIL]", "EMAIL"),
    ("张伟，男，56岁。右肺结节。", "[NAME]，男，56岁。右肺结节。", "NAME"),
    ("检查所见：王芳，女性，45岁，右肺结节。", "检查所见：[NAME]，女性，45岁，右肺结节。", "NAME"),
]


@pytest.mark.parametrize(("text", "expected", "kind"), CASES)
def test_identifier_replaced(text, expected, kind):
    result = deidentify(text)
    assert result.text == expected
    assert result.counts[kind] >= 1


CLINICAL = [
    "右肺上叶结节1.2×0.8 cm，SUVmax 5.2，SUVmax：6.8",
    "4R组及10L组淋巴结，T12椎体，L4-5椎间盘，C5-C6",
    "Deauville 4分，BI-RADS 4A类，Lung-RADS 3，T2N1M0",
    "CT值约45HU，注射18F-FDG 370 MBq（10 mCi），血糖5.6 mmol/L",
    "1.右肺上叶恶性肿瘤可能大。2.纵隔淋巴结转移。3个月后复查。",
    "患者术后改变。患者于外院检查。医师建议结合临床。我院复查。",
    "建议专科医院就诊，或至上级医院进一步诊治；患者于当地医院行手术。",
    "There is a 3.5 x 2.1 cm mass, SUV max 12.3, in segment 4A of the liver.",
    "Hodgkin lymphoma, Paget disease, Schmorl's node at L4-5, Baker's cyst.",
    "Normal chest x-XXXX. Dr. XXXX was notified on XXXX at XXXX p.m.",
    "患者曾于2019年行右肺癌根治术。患者高热3天。患者黄疸，伴发热。病人江西人。",
    "Patient History: Lung cancer. Patient Position: Supine. Read by Attending Radiologist.",
    "Referring Physician Notified. Physician Assistant Note. Resident Review: Agree. Dr. Notified.",
    "cc Oncology Clinic. The Cancer Center protocol. Hodgkin Lymphoma, MD Anderson protocol.",
    "Patient Information (see chart). Patient History, male. ID: IDH1 mutant. PSMA ID: 5.",
    "患者黄疸，伴发热。患者高热3天，男性。",
    "患者，男，56岁。病人，女，45岁。右肺，男性患者。",
]


@pytest.mark.parametrize("text", CLINICAL)
def test_clinical_text_untouched(text):
    result = deidentify(text)
    assert result.text == text
    assert sum(result.counts.values()) == 0


def test_existing_masks_kept():
    text = "Dr. XXXX reviewed XXXX XXXX. Name: XXXX"
    assert deidentify(text).text == text


def test_id_check_digit():
    assert id18_check_digit("11010119900307451") == "4"
    assert id18_check_digit("11010519491231002") == "X"
    # A number with a wrong check digit and no label is not an ID card number.
    assert deidentify("编号 110101199003074515").counts["ID"] == 0


def test_date_shift_per_patient():
    config = DeidConfig(dates="shift", key="secret")
    first = deidentify("2020-01-06 复查；2020年1月6日", "patient-1", config).text
    again = deidentify("2020-01-06 复查；2020年1月6日", "patient-1", config).text
    offset = date_shift_days("patient-1", config)
    assert first == again
    assert offset != 0
    assert abs(offset) <= config.max_shift_days
    assert "2020-01-06" not in first
    other = deidentify("2020-01-06", "patient-2", config).text
    assert other != first.split(" ")[0] or date_shift_days("patient-2", config) == offset


def test_date_shift_keeps_interval():
    config = DeidConfig(dates="shift")
    text = deidentify("2020-01-06 and 2020-01-16", "p", config).text
    import datetime as dt

    first, second = (dt.date.fromisoformat(part) for part in text.split(" and "))
    assert (second - first).days == 10


def test_dates_keep_option():
    assert deidentify("2020-01-06", config=DeidConfig(dates="keep")).text == "2020-01-06"


def test_invalid_dates_option():
    with pytest.raises(ValueError, match="dates"):
        DeidConfig(dates="drop")


def test_planted_spans_point_at_values():
    for report in plant_reports(50, seed=3):
        assert len(report.planted) == 6
        for span in report.planted:
            assert report.text[span.start:span.end].strip() == report.text[span.start:span.end]


def test_recall_per_type_at_least_099():
    figures = measure_deid_recall(n=1000, seed=0)
    for kind, recall in figures["recall"].items():
        assert recall >= 0.99, (kind, recall, figures["misses"].get(kind))
    assert set(figures["recall"]) == {"NAME", "MRN", "ID", "PHONE", "DATE", "HOSPITAL"}


def test_false_positive_rate_on_clean_text():
    figures = measure_deid_recall(n=500, seed=1)
    assert figures["false_positives"]["replacements_per_report"] == 0.0


@pytest.mark.xfail(strict=True, reason="names without a label, title or degree are not detected")
def test_bare_name_in_running_text():
    assert deidentify("张伟今日复查，Smith reports chest pain.").counts["NAME"] == 2
