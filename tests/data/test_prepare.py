"""prepare(): broken exports, the real report sets, accounting, de-identification and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from petf2i_core.cli.main import main as petf2i_main
from petf2i_core.data.dedup import match_key
from petf2i_core.data.io import TableReadError
from petf2i_core.data.prepare import PrepareConfig, detect_language, load_prepared, prepare
from petf2i_core.data.records import load_reports, read_jsonl

ONE_MEGABYTE = 1 << 20


def _write_broken_corpus(folder: Path) -> dict[str, Path]:
    """Write the broken-input corpus; the expected outcome of each row is in the comments."""
    files = {}

    files["bom"] = folder / "bom.csv"
    files["bom"].write_bytes(
        b"\xef\xbb\xbf"
        + (
            "findings,impression\n"
            "右肺上叶结节,考虑炎性\n"          # accepted
            "肝脏未见异常。,未见异常。\n"      # accepted
            ",\n"                              # rejected: blank row
            "\n"                               # empty line: layout, not a row
            "左肺下叶结节,\n"                  # rejected: empty impression
            "  ,考虑炎性\n"                    # rejected: empty findings
        ).encode("utf-8")
    )

    files["gbk"] = folder / "gbk.csv"
    files["gbk"].write_bytes(
        (
            "检查所见,诊断意见,患者ID\n"
            "右肺上叶见结节，SUVmax 5.2，姓名：张伟，电话13812345678。,考虑肺癌,P001\n"  # accepted, de-identified
            "纵隔4R组淋巴结肿大，SUVmax 3.1。,考虑转移,P001\n"                              # accepted, same patient
            "T12椎体骨质破坏，FDG摄取增高。,考虑骨转移,P002\n"                              # accepted
            "T12椎体骨质破坏，FDG摄取增高。,考虑骨转移,P003\n"                              # accepted, duplicate exam
        ).encode("gbk")
    )

    files["merged"] = folder / "merged.csv"
    files["merged"].write_text(
        "id,报告\n"
        'm1,"检查所见：右肺上叶结节。\n诊断意见：考虑炎性。"\n'                   # accepted
        'm2,"FINDINGS: Clear lungs.\nIMPRESSION: No acute disease."\n'            # accepted
        'm3,"影像所见：肝脏多发低密度灶。"\n',                                     # rejected: no impression section
        encoding="utf-8",
    )

    files["big"] = folder / "big.jsonl"
    with files["big"].open("w", encoding="utf-8") as handle:
        handle.write(json.dumps({"findings": "结" * ONE_MEGABYTE, "impression": "考虑"}, ensure_ascii=False) + "\n")  # rejected
        handle.write(json.dumps({"findings": "双肺纹理增多。", "impression": "支气管炎。"}, ensure_ascii=False) + "\n")  # accepted
        handle.write("{not json\n")  # rejected: unparsable row

    files["binary"] = folder / "binary.csv"
    files["binary"].write_bytes(
        "findings,impression\n".encode("utf-8")
        + "胰头区见团块状放射性摄取增高灶。,考虑胰腺癌。\n".encode("utf-8") * 3   # accepted
        + b"\x89PNG\xff\xfe\x00\x01,x\n"                                          # rejected: unreadable
        + "左肾上腺结节\x01\x02,腺瘤\n".encode("utf-8")                           # rejected: unreadable
    )
    return files


EXPECTED = {  # file: (rows in, accepted, rejected reasons)
    "bom": (5, 2, {"blank row": 1, "empty impression": 1, "empty findings": 1}),
    "gbk": (4, 4, {}),
    "merged": (3, 2, {"no impression section": 1}),
    "big": (3, 1, {"over length limit": 1, "unparsable row": 1}),
    "binary": (5, 3, {"unreadable text": 2}),
}


@pytest.fixture()
def broken(tmp_path) -> dict[str, Path]:
    folder = tmp_path / "broken"
    folder.mkdir()
    return _write_broken_corpus(folder)


def test_broken_corpus_accounting(broken, tmp_path):
    result = prepare(list(broken.values()), tmp_path / "out")
    assert result.counts["rows_in"] == sum(rows for rows, _, _ in EXPECTED.values())
    assert result.counts["accepted"] == sum(accepted for _, accepted, _ in EXPECTED.values())
    assert result.counts["rows_in"] == result.counts["accepted"] + result.counts["rejected"]
    expected_reasons = Counter()
    for _, _, reasons in EXPECTED.values():
        expected_reasons.update(reasons)
    assert result.rejected_by_reason == dict(expected_reasons)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_counts(broken, tmp_path, name):
    rows, accepted, reasons = EXPECTED[name]
    result = prepare([broken[name]], tmp_path / "out")
    assert result.counts["rows_in"] == rows
    assert result.counts["accepted"] == accepted
    assert result.rejected_by_reason == reasons


def test_rejects_name_source_and_row(broken, tmp_path):
    result = prepare([broken["bom"]], tmp_path / "out")
    rejects = list(read_jsonl(result.paths["rejects"]))
    assert [(Path(r["source"]).name, r["row"], r["line"], r["reason_kind"]) for r in rejects] == [
        ("bom.csv", 3, 4, "blank row"),
        ("bom.csv", 4, 6, "empty impression"),
        ("bom.csv", 5, 7, "empty findings"),
    ]


def test_over_length_reason_names_limit(broken, tmp_path):
    result = prepare([broken["big"]], tmp_path / "out")
    reasons = [reject["reason"] for reject in result.rejects]
    assert any("1,048,576 characters" in reason and "--max-chars" in reason for reason in reasons)


def test_max_chars_option(tmp_path):
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps({"findings": "结" * 25_000, "impression": "考虑"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert prepare([path], tmp_path / "default").rejected_by_reason == {"over length limit": 1}
    raised = prepare([path], tmp_path / "raised", PrepareConfig(max_chars=30_000))
    assert raised.counts["accepted"] == 1
    assert len(_all(raised)[0].findings) == 25_000


def test_bom_file_maps_columns(broken, tmp_path):
    # D1: the BOM file yields the findings and impression columns.
    result = prepare([broken["bom"]], tmp_path / "out")
    assert result.sources[0].columns["findings"] == "findings"
    assert result.sources[0].encoding == "utf-8-sig"
    texts = {r.findings for reports in result.splits.values() for r in reports}
    assert "右肺上叶结节" in texts


def test_gbk_deidentified_and_grouped(broken, tmp_path):
    result = prepare([broken["gbk"]], tmp_path / "out")
    assert result.sources[0].encoding == "gb18030"
    written = "".join(path.read_text(encoding="utf-8") for path in result.paths.values())
    assert "张伟" not in written
    assert "13812345678" not in written
    assert "P001" not in written
    reports = load_prepared(tmp_path / "out")
    everything = [r for items in reports.values() for r in items]
    first = next(r for r in everything if r.findings.startswith("右肺上叶见结节"))
    assert first.findings == "右肺上叶见结节，SUVmax 5.2，姓名：[NAME]，电话[PHONE]。"
    assert result.summary["deidentification"]["counts"] == {"NAME": 1, "PHONE": 1}
    split_of = {r.id: name for name, items in reports.items() for r in items}
    same_patient = [r.id for r in everything if r.patient_id == first.patient_id]
    assert len(same_patient) == 2
    assert len({split_of[report_id] for report_id in same_patient}) == 1
    duplicates = [r.id for r in everything if r.findings.startswith("T12")]
    assert len({split_of[report_id] for report_id in duplicates}) == 1


def test_drop_duplicates_rejects_copy(broken, tmp_path):
    result = prepare([broken["gbk"]], tmp_path / "out", PrepareConfig(drop_exact_duplicates=True))
    assert result.counts["accepted"] == 3
    assert result.rejected_by_reason == {"exact duplicate": 1}


def test_merged_report_column_split(broken, tmp_path):
    result = prepare([broken["merged"]], tmp_path / "out")
    reports = {r.id: r for items in result.splits.values() for r in items}
    assert reports["m1"].findings == "右肺上叶结节。"
    assert reports["m1"].impression == "考虑炎性。"
    assert reports["m2"].language == "en"
    assert reports["m1"].language == "zh"
    assert result.rejects[0]["row"] == 3
    assert "no impression section" in result.rejects[0]["reason"]


def test_signature_section_masked_and_kept_out(tmp_path):
    path = tmp_path / "merged.csv"
    path.write_text(
        "id,report\n"
        "s1,【检查所见】肝脏未见异常。【诊断意见】未见异常。 报告医生：张伟\n"
        "s2,FINDINGS: Clear lungs. IMPRESSION: Normal. Electronically signed by: Jane Doe\n",
        encoding="utf-8",
    )
    result = prepare([path], tmp_path / "out")
    reports = {r.id: r for items in result.splits.values() for r in items}

    assert reports["s1"].findings == "肝脏未见异常。"
    assert reports["s1"].impression == "未见异常。"
    assert reports["s1"].meta["other_sections"] == {"报告医生": "[NAME]"}
    assert reports["s2"].impression == "Normal."
    assert reports["s2"].meta["other_sections"] == {"Electronically signed by": "[NAME]"}
    written = "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "out").glob("*.jsonl"))
    assert "张伟" not in written
    assert "Jane Doe" not in written


def test_nested_json_field_rejected(tmp_path):
    path = tmp_path / "nested.jsonl"
    path.write_text(
        '{"id": "n1", "findings": {"text": "右肺结节"}, "impression": "考虑炎性"}\n'
        '{"id": "n2", "findings": "右肺结节", "impression": ["考虑炎性"]}\n'
        '{"id": "n3", "findings": "肝脏未见异常", "impression": "正常"}\n',
        encoding="utf-8",
    )
    result = prepare([path], tmp_path / "out")

    assert result.counts["accepted"] == 1
    assert result.rejected_by_reason == {"not text": 2}
    assert [reject["row"] for reject in result.rejects] == [1, 2]
    assert "findings column 'findings' contains a JSON object" in result.rejects[0]["reason"]
    assert "--impression-col" in result.rejects[1]["reason"]


def test_misnamed_column_stops_with_fix(tmp_path):
    path = tmp_path / "misnamed.csv"
    path.write_text("finding_text,impression\n右肺结节,考虑炎性\n", encoding="utf-8")
    with pytest.raises(TableReadError, match=r"no findings column in .*misnamed\.csv; columns are \['finding_text', 'impression'\]; pass --findings-col"):
        prepare([path], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    result = prepare([path], tmp_path / "out", PrepareConfig(findings_col="finding_text"))
    assert result.counts["accepted"] == 1


def test_missing_named_column(tmp_path):
    path = tmp_path / "reports.csv"
    path.write_text("findings,impression\na,b\n", encoding="utf-8")
    with pytest.raises(TableReadError, match=r"no column 'patient' in .*reports\.csv.*--patient-col"):
        prepare([path], tmp_path / "out", PrepareConfig(patient_col="patient"))


def test_stored_text_unchanged(broken, tmp_path):
    result = prepare([broken["binary"], broken["merged"]], tmp_path / "out")
    texts = {r.findings for items in result.splits.values() for r in items}
    assert "胰头区见团块状放射性摄取增高灶。" in texts
    assert "Clear lungs." in texts


def test_stored_text_keeps_fullwidth(tmp_path):
    # D2: normalisation works on a copy; the written report keeps its full-width SUVmax.
    path = tmp_path / "fullwidth.jsonl"
    rows = [
        {"id": "a", "findings": "右肺结节，ＳＵＶｍａｘ：５．２。", "impression": "考虑肺癌"},
        {"id": "b", "findings": "右肺结节，SUVmax 5.2。", "impression": "考虑肺癌"},
    ]
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    result = prepare([path], tmp_path / "out")
    reports = {r.id: r for r in _all(result)}
    assert reports["a"].findings == "右肺结节，ＳＵＶｍａｘ：５．２。"
    assert result.summary["duplicates"]["exact"] == 1
    split_of = {r.id: name for name, items in result.splits.items() for r in items}
    assert split_of["a"] == split_of["b"]


def test_outputs_deterministic(broken, tmp_path):
    prepare(list(broken.values()), tmp_path / "a")
    prepare(list(broken.values()), tmp_path / "b")
    for name in ("train.jsonl", "val.jsonl", "test.jsonl", "rejects.jsonl", "summary.json", "card.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_card_lists_counts(broken, tmp_path):
    result = prepare(list(broken.values()), tmp_path / "out")
    card = result.paths["card"].read_text(encoding="utf-8")
    for heading in ("## Sources", "## Counts", "## Languages", "## De-identification", "## Duplicates", "## Split", "## Normalisation"):
        assert heading in card
    assert "gb18030" in card
    assert "unreadable text | 2" in card


def test_card_warns_about_empty_pseudonym_key(broken, tmp_path):
    unkeyed = prepare([broken["gbk"]], tmp_path / "unkeyed")
    keyed = prepare([broken["gbk"]], tmp_path / "keyed", PrepareConfig(key="secret"))

    assert "EMPTY key" in unkeyed.paths["card"].read_text(encoding="utf-8")
    assert "EMPTY key" not in keyed.paths["card"].read_text(encoding="utf-8")
    assert "with a secret key" in keyed.paths["card"].read_text(encoding="utf-8")


def test_duplicate_ids_across_files(tmp_path):
    for name in ("first.csv", "second.csv"):
        (tmp_path / name).write_text(f"id,findings,impression,language\n1,{name} 所见,印象,Chinese\n", encoding="utf-8")
    result = prepare([tmp_path / "first.csv", tmp_path / "second.csv"], tmp_path / "out")
    reports = {r.id: r for r in _all(result)}
    assert set(reports) == {"1", "1~2"}
    assert reports["1~2"].meta["original_id"] == "1"
    assert reports["1~2"].meta["source_file"] == "second.csv"
    assert reports["1"].language == "zh"


def test_dates_shifted_per_patient(tmp_path):
    path = tmp_path / "dates.csv"
    path.write_text(
        "accession,patient_id,findings,impression\n"
        "A1,P1,与2020-01-06片比较，右肺结节增大。,考虑进展\n"
        "A2,P1,与2020-01-16片比较，右肺结节缩小。,考虑好转\n",
        encoding="utf-8",
    )
    config = PrepareConfig(dates="shift", key="secret", pseudonymize_ids=True)
    result = prepare([path], tmp_path / "out", config)
    reports = _all(result)
    dates = [dt.date.fromisoformat(re.search(r"\d{4}-\d{2}-\d{2}", r.findings).group()) for r in reports]
    assert abs((dates[1] - dates[0]).days) == 10
    assert all("2020-01-06" not in r.findings and "2020-01-16" not in r.findings for r in reports)
    assert {r.id[:2] for r in reports} == {"r-"}
    written = "".join(result.paths[name].read_text(encoding="utf-8") for name in ("train", "val", "test"))
    assert "A1" not in written


def test_language_detection():
    assert detect_language("右肺上叶结节，SUVmax 5.2") == "zh"
    assert detect_language("Right upper lobe nodule, 1.2 cm") == "en"
    assert detect_language("5.2") == "und"


def test_cli_prepare(broken, tmp_path, capsys):
    code = petf2i_main(["data", "prepare", str(broken["bom"]), str(broken["gbk"]), "--out", str(tmp_path / "out"), "--seed", "1"])
    assert code == 0
    assert "9 rows in: 6 accepted, 3 rejected" in capsys.readouterr().out
    assert (tmp_path / "out" / "card.md").is_file()
    counts = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["counts"]
    assert counts["rows_in"] == 9
    assert counts["accepted"] == 6


def test_cli_error_exit_code(tmp_path, caplog):
    path = tmp_path / "misnamed.csv"
    path.write_text("finding_text,impression\na,b\n", encoding="utf-8")
    code = petf2i_main(["data", "prepare", str(path), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "--findings-col" in caplog.text


def _all(result) -> list:
    return [r for items in result.splits.values() for r in items]


@pytest.mark.slow
def test_real_iu_jsonl(real_data_dir, tmp_path):
    source = real_data_dir / "iu-xray" / "iu-xray.jsonl"
    result = prepare([source], tmp_path / "iu")
    assert result.counts == {"rows_in": 2665, "accepted": 2665, "rejected": 0, **{k: result.counts[k] for k in ("train", "val", "test")}}
    original = {r.id: r for r in load_reports(source)}
    for report in _all(result):
        assert report.findings == original[report.id].findings
        assert report.impression == original[report.id].impression
        assert report.meta["modality"] == "chest X-ray"
    train = {match_key(r.findings) for r in result.splits["train"]}
    assert not any(match_key(r.findings) in train for r in result.splits["test"])


def test_real_crrsum_jsonl(real_data_dir, tmp_path):
    result = prepare([real_data_dir / "crrsum" / "crrsum.jsonl"], tmp_path / "crrsum")
    assert result.counts["rows_in"] == 1544
    assert result.counts["accepted"] == 1544
    assert result.summary["deidentification"]["counts"] == {"DATE": 85}
    assert {r.language for r in _all(result)} == {"zh"}


@pytest.mark.slow
def test_real_raw_files(real_data_dir, tmp_path):
    iu_csv = real_data_dir / "iu-xray" / "indiana_reports.csv"
    dev, test = real_data_dir / "crrsum" / "dev.json", real_data_dir / "crrsum" / "test.json"
    result = prepare([iu_csv, dev, test], tmp_path / "raw")
    by_source = {Path(source.path).name: source for source in result.sources}
    assert (by_source["indiana_reports.csv"].rows, by_source["indiana_reports.csv"].accepted) == (3185, 2665)
    assert (by_source["dev.json"].rows, by_source["dev.json"].accepted) == (713, 713)
    assert (by_source["test.json"].rows, by_source["test.json"].accepted) == (831, 831)
    assert result.rejected_by_reason == {"empty findings": 514, "empty impression": 6}
    assert result.counts["rows_in"] == result.counts["accepted"] + result.counts["rejected"]
    ids = {r.id for r in _all(result)}
    assert {"dev-0", "test-830", "2"} <= ids

    # The raw files give the same texts as the normalised JSONL of the same records.
    iu_jsonl = Counter(r.findings for r in load_reports(real_data_dir / "iu-xray" / "iu-xray.jsonl"))
    assert Counter(r.findings for r in _all(result) if r.language == "en") == iu_jsonl
    crrsum_jsonl = prepare([real_data_dir / "crrsum" / "crrsum.jsonl"], tmp_path / "crrsum")
    assert Counter(r.impression for r in _all(result) if r.language == "zh") == Counter(r.impression for r in _all(crrsum_jsonl))
