"""Reading report tables: encodings, formats, row origins and unreadable files."""

from __future__ import annotations

import json

import pytest

from petf2i_core.data.io import TableReadError, decode_bytes, read_table


def test_bom_csv_header_is_clean(tmp_path):
    # D1: a UTF-8 BOM must not end up in the first column name.
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "findings,impression\n右肺上叶结节,考虑炎性\n".encode("utf-8"))
    table = read_table(path)
    assert table.columns == ["findings", "impression"]
    assert len(table.rows) == 1
    assert table.rows[0].fields == {"findings": "右肺上叶结节", "impression": "考虑炎性"}
    assert table.encoding == "utf-8-sig"


def test_gbk_csv_is_detected(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("检查所见,诊断意见\n右肺上叶结节，SUVmax 5.2,考虑肺癌\n".encode("gbk"))
    table = read_table(path)
    assert table.encoding == "gb18030"
    assert table.columns == ["检查所见", "诊断意见"]
    assert table.rows[0].fields["检查所见"] == "右肺上叶结节，SUVmax 5.2"


def test_cp1252_file_not_read_as_gb18030(tmp_path):
    # "patient’s" in Windows-1252 is valid GB18030 ("patient抯"), so it must be caught by content.
    path = tmp_path / "cp1252.csv"
    path.write_bytes("findings,impression\nThe patient’s liver shows a lesion.,Likely metastasis.\n".encode("cp1252"))
    with pytest.raises(TableReadError, match=r"cp1252\.csv.*Windows-1252.*--encoding cp1252"):
        read_table(path)
    table = read_table(path, encoding="cp1252")
    assert table.rows[0].fields["findings"] == "The patient’s liver shows a lesion."


def test_gbk_mostly_english_still_detected(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("findings,impression\n\"Right lung nodule (右肺结节), SUVmax 5.2\",Malignant\n".encode("gbk"))
    table = read_table(path)
    assert table.encoding == "gb18030"
    assert table.rows[0].fields["findings"] == "Right lung nodule (右肺结节), SUVmax 5.2"


def test_explicit_wrong_encoding_names_file(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("检查所见,诊断意见\n右肺,考虑\n".encode("gbk"))
    with pytest.raises(TableReadError, match=r"gbk\.csv.*--encoding"):
        read_table(path, encoding="utf-8")


def test_undecodable_file_names_fix(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"findings,impression\n" + bytes(range(128, 256)) * 4)
    with pytest.raises(TableReadError, match=r"binary\.csv.*UTF-8 or GB18030.*--encoding"):
        read_table(path)


def test_damaged_utf8_keeps_good_rows(tmp_path):
    text = "findings,impression\n" + "右肺上叶结节,考虑炎性\n" * 20
    path = tmp_path / "damaged.csv"
    path.write_bytes(text.encode("utf-8") + b"\xff\xfe\x00bad,row\n")
    table = read_table(path)
    assert table.encoding.startswith("utf-8 (")
    assert len(table.rows) == 21
    assert table.rows[0].fields["findings"] == "右肺上叶结节"
    assert "\ufffd" in table.rows[-1].fields["findings"]


def test_decode_prefers_utf8_over_gb18030():
    # Valid UTF-8 Chinese is also decodable as GB18030 mojibake; UTF-8 must win.
    data = "右肺上叶结节".encode("utf-8")
    text, encoding = decode_bytes(data, path=None)
    assert text == "右肺上叶结节"
    assert encoding == "utf-8-sig"


def test_unclosed_quote_marks_last_row(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('findings,impression\n右肺,ok\n"肝脏,未闭合\n双肺,ok\n', encoding="utf-8")
    table = read_table(path)
    assert len(table.rows) == 2
    assert table.rows[0].error is None
    assert "quote opened in the row starting on line 3 is never closed" in table.rows[1].error
    assert "lines 3-4" in table.rows[1].error


def test_character_after_closing_quote_tolerated(tmp_path):
    path = tmp_path / "lenient.csv"
    path.write_text('findings,impression\n"右肺"结节,ok\n', encoding="utf-8")
    table = read_table(path)
    assert table.rows[0].error is None
    assert table.rows[0].fields["findings"] == "右肺结节"


def test_csv_rows_keep_line_numbers(tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text('findings,impression\n"two\nlines",a\n\nthird,b\n', encoding="utf-8")
    table = read_table(path)
    assert [row.row for row in table.rows] == [1, 2]
    assert [row.line for row in table.rows] == [2, 5]
    assert table.rows[0].fields["findings"] == "two\nlines"


def test_tsv_and_semicolon_delimiters(tmp_path):
    tsv = tmp_path / "reports.tsv"
    tsv.write_text("findings\timpression\nA, b\tc\n", encoding="utf-8")
    semicolon = tmp_path / "reports.csv"
    semicolon.write_text("findings;impression\nA, b;c\n", encoding="utf-8")
    assert read_table(tsv).rows[0].fields == {"findings": "A, b", "impression": "c"}
    assert read_table(semicolon).rows[0].fields == {"findings": "A, b", "impression": "c"}


def test_jsonl_bad_line_is_a_row_error(tmp_path):
    path = tmp_path / "reports.jsonl"
    path.write_text('{"findings": "a", "impression": "b"}\n{oops\n\n[1, 2]\n', encoding="utf-8")
    table = read_table(path)
    assert len(table.rows) == 3
    assert table.rows[0].error is None
    assert "invalid JSON" in table.rows[1].error
    assert table.rows[1].line == 2
    assert "JSON list" in table.rows[2].error
    assert table.rows[2].line == 4


def test_json_list_of_lists(tmp_path):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps([["所见一", "印象一", 3], ["所见二", "印象二", 1]], ensure_ascii=False), encoding="utf-8")
    table = read_table(path)
    assert table.format == "json-lists"
    assert table.columns == ["0", "1", "2"]
    assert table.rows[1].fields["1"] == "印象二"


def test_json_not_a_table(tmp_path):
    path = tmp_path / "scalar.json"
    path.write_text("42", encoding="utf-8")
    with pytest.raises(TableReadError, match=r"scalar\.json"):
        read_table(path)


def test_xlsx_rows(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["影像所见", "印象", "检查号"])
    sheet.append(["右肺上叶结节", "考虑炎性", 12345])
    sheet.append([None, None, None])
    sheet.append(["肝脏未见异常", "正常", 12346])
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    table = read_table(path)
    assert table.format == "xlsx"
    assert [row.line for row in table.rows] == [2, 4]
    assert table.rows[0].fields["检查号"] == 12345


def test_parquet_rows(tmp_path):
    pyarrow = pytest.importorskip("pyarrow")
    import pyarrow.parquet as parquet

    path = tmp_path / "reports.parquet"
    parquet.write_table(pyarrow.table({"findings": ["a", "b"], "impression": ["c", "d"]}), path)
    table = read_table(path)
    assert table.format == "parquet"
    assert [row.fields["impression"] for row in table.rows] == ["c", "d"]


def test_saved_datasets_folder(tmp_path):
    datasets = pytest.importorskip("datasets")
    folder = tmp_path / "saved"
    datasets.Dataset.from_dict({"findings": ["a", "b"], "impression": ["c", "d"]}).save_to_disk(str(folder))
    table = read_table(folder)
    assert table.format == "hf-dataset"
    assert len(table.rows) == 2


def test_unsupported_suffix_and_missing_file(tmp_path):
    path = tmp_path / "reports.doc"
    path.write_bytes(b"x")
    with pytest.raises(TableReadError, match=r"reports\.doc"):
        read_table(path)
    with pytest.raises(TableReadError, match="not found"):
        read_table(tmp_path / "absent.csv")


def test_row_with_extra_fields_flagged(tmp_path):
    path = tmp_path / "extra.csv"
    path.write_text("findings,impression\na,b\nc,d,e\n", encoding="utf-8")
    table = read_table(path)
    assert table.rows[0].error is None
    assert "3 fields where the header has 2" in table.rows[1].error


def test_xlsx_title_row_above_header_skipped(tmp_path):
    import openpyxl

    path = tmp_path / "title.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["某医院PET/CT报告导出"])
    sheet.append([])
    sheet.append(["检查号", "检查所见", "诊断意见"])
    sheet.append(["A1", "右肺结节，SUVmax 3.2。", "考虑炎性。"])
    workbook.save(path)

    table = read_table(path)
    assert table.columns == ["检查号", "检查所见", "诊断意见"]
    assert len(table.rows) == 1
    assert table.rows[0].line == 4
    assert table.rows[0].fields["检查所见"] == "右肺结节，SUVmax 3.2。"


def test_xlsx_one_column_keeps_first_row_as_header(tmp_path):
    import openpyxl

    path = tmp_path / "reports.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["报告"])
    workbook.active.append(["检查所见：右肺结节。诊断意见：肺癌。"])
    workbook.save(path)

    table = read_table(path)
    assert table.columns == ["报告"]
    assert table.rows[0].line == 2
