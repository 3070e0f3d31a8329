"""Reading report tables exported by hospital systems, row by row, with their origin.

Every reader yields :class:`RawRow` objects that remember the source file, the
1-based data row and, for text formats, the physical line where the row starts,
so that each rejected row can be traced back. A file that cannot be read at all
raises :class:`TableReadError` with the file name and the option to pass instead.

Supported inputs: JSONL, JSON (a list of objects or a list of lists), CSV and TSV,
Excel ``.xlsx`` (openpyxl), Parquet (pyarrow) and a folder written by
``datasets.Dataset.save_to_disk``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Iterator

logger = logging.getLogger(__name__)

# Encodings tried in order, both strictly. GB18030 is a superset of GBK and GB2312.
AUTO_ENCODINGS = ("utf-8-sig", "gb18030")

# A UTF-8 file with a few damaged bytes is still UTF-8: decode it with U+FFFD in place
# of the damaged bytes (those rows are rejected later as unreadable) rather than
# reading the whole file as GB18030 mojibake. This is the least share of valid
# multi-byte characters among all non-ASCII characters that marks such a file.
DAMAGED_UTF8_MIN_VALID_SHARE = 0.9

# A Windows-1252 or Latin-1 file often decodes as GB18030 without error, because a
# high byte and the ASCII letter after it form one GB18030 character: "patient’s"
# becomes "patient抯". Chinese text has runs of ideographs, and this mojibake has only
# single ideographs inside Latin words.
_IDEOGRAPH_RUN = re.compile(r"[\u4e00-\u9fff]{2}")
_IDEOGRAPH_IN_LATIN_WORD = re.compile(r"[A-Za-z][\u4e00-\u9fff]|[\u4e00-\u9fff][A-Za-z]")

# Maximum number of title rows skipped above the header of an Excel sheet.
MAX_TITLE_ROWS = 5

TEXT_SUFFIXES = {".csv", ".tsv", ".tab", ".txt"}
CANDIDATE_DELIMITERS = (",", "\t", ";", "|")

# csv's default field limit (131,072 chars) would stop the whole file on one long report.
csv.field_size_limit(1 << 30)


class TableReadError(ValueError):
    """A file that cannot be read as a table of reports; the message names the file and the fix."""


@dataclass
class RawRow:
    """One row of an input file before column mapping.

    Attributes:
        source: path of the input file (or folder) as given.
        row: 1-based data row number (the header is not counted).
        line: 1-based line in the file where the row starts, for text formats; None otherwise.
        fields: column name to value; list-of-lists JSON uses "0", "1", ... as names.
        error: set when the row itself could not be parsed (an invalid JSONL line).
    """

    source: str
    row: int
    line: int | None
    fields: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Table:
    """The rows of one input file and how they were read.

    Attributes:
        source: the input path as given.
        format: one of jsonl, json, csv, tsv, xlsx, parquet, hf-dataset.
        encoding: the text encoding used, with a note when damaged bytes were replaced;
            None for binary formats.
        columns: column names in file order.
        rows: the data rows.
    """

    source: str
    format: str
    encoding: str | None
    columns: list[str]
    rows: list[RawRow]


def decode_bytes(data: bytes, path: Path, encoding: str | None = None) -> tuple[str, str]:
    """Decode a text file and return ``(text, encoding label)``.

    With ``encoding`` None, try UTF-8 (a leading BOM is dropped) and then GB18030,
    both strictly. A mostly valid UTF-8 file with a few damaged bytes is decoded
    with U+FFFD replacements, so that only the damaged rows are rejected.

    Raises:
        TableReadError: when no encoding fits.
    """
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as error:
            raise TableReadError(
                f"cannot decode {path} as {encoding} ({error}); "
                "check --encoding or omit it to detect UTF-8 or GB18030"
            ) from error

    for candidate in AUTO_ENCODINGS:
        if candidate == "gb18030" and _is_damaged_utf8(data):
            break
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        if candidate == "gb18030" and _is_single_byte_mojibake(text):
            sample = _IDEOGRAPH_IN_LATIN_WORD.search(text)
            raise TableReadError(
                f"{path} decodes as GB18030 only into single Chinese characters inside Latin words "
                f"(such as {text[max(0, sample.start() - 8):sample.end() + 2]!r}), which marks a Windows-1252 "
                "or Latin-1 file; pass --encoding cp1252 (or the file's real encoding)"
            )
        return text, candidate

    if _is_damaged_utf8(data):
        text = data.decode("utf-8-sig", errors="replace")
        damaged = text.count("\ufffd")
        logger.warning("%s: %d invalid UTF-8 byte sequences replaced by U+FFFD", path, damaged)
        return text, f"utf-8 ({damaged} invalid byte sequences replaced)"

    raise TableReadError(
        f"cannot decode {path} as UTF-8 or GB18030; re-export it as UTF-8 "
        "or pass --encoding NAME (for example --encoding big5)"
    )


def _is_single_byte_mojibake(text: str) -> bool:
    """Tell whether GB18030-decoded ``text`` has ideographs only as single characters inside Latin words."""
    return not _IDEOGRAPH_RUN.search(text) and _IDEOGRAPH_IN_LATIN_WORD.search(text) is not None


def _is_damaged_utf8(data: bytes) -> bool:
    """Tell whether ``data`` is UTF-8 text with a few invalid byte sequences."""
    try:
        data.decode("utf-8")
        return False
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    damaged = text.count("\ufffd")
    valid = sum(1 for char in text if ord(char) > 0x7F) - damaged
    return valid > 0 and valid / (valid + damaged) >= DAMAGED_UTF8_MIN_VALID_SHARE


def read_table(
    path: str | Path,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Read one input file (or a saved Hugging Face dataset folder) into a :class:`Table`.

    The format comes from the suffix: .jsonl, .json, .csv, .tsv/.tab/.txt, .xlsx,
    .parquet; a folder is read with ``datasets.load_from_disk``.

    Raises:
        TableReadError: the file is missing, not a table, or cannot be decoded.
    """
    path = Path(path)
    if not path.exists():
        raise TableReadError(f"input not found: {path}")
    if path.is_dir():
        return _read_hf_dataset(path)

    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _read_jsonl(path, encoding)
    if suffix == ".json":
        return _read_json(path, encoding)
    if suffix in TEXT_SUFFIXES:
        return _read_delimited(path, encoding, delimiter)
    if suffix in {".xlsx", ".xlsm"}:
        return _read_xlsx(path, sheet)
    if suffix == ".parquet":
        return _read_parquet(path)
    raise TableReadError(
        f"unsupported input format {suffix!r} for {path}; "
        "use .jsonl, .json, .csv, .tsv, .xlsx, .parquet or a saved datasets folder "
        "(convert .xls files to .xlsx first)"
    )


def _read_text(path: Path, encoding: str | None) -> tuple[str, str]:
    data = path.read_bytes()
    if not data.strip():
        raise TableReadError(f"{path} is empty; pass a file with a header row and at least one report")
    return decode_bytes(data, path, encoding)


def _read_jsonl(path: Path, encoding: str | None) -> Table:
    text, used = _read_text(path, encoding)
    rows: list[RawRow] = []
    columns: dict[str, None] = {}
    # split on "\n" only: str.splitlines would also break at U+2028 inside JSON strings.
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        row = RawRow(source=str(path), row=len(rows) + 1, line=line_number)
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            row.error = f"invalid JSON ({error.msg})"
            rows.append(row)
            continue
        if not isinstance(value, dict):
            row.error = f"a JSON {type(value).__name__} where a JSON object was expected"
        else:
            row.fields = value
            columns.update(dict.fromkeys(value))
        rows.append(row)
    if rows and all(row.error for row in rows):
        raise TableReadError(
            f"{path} has no valid JSON object lines (first error on line {rows[0].line}: "
            f"{rows[0].error}); pass a JSONL file with one object per line"
        )
    return Table(str(path), "jsonl", used, list(columns), rows)


def _read_json(path: Path, encoding: str | None) -> Table:
    text, used = _read_text(path, encoding)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        if text.lstrip().startswith("{") and "\n{" in text:
            table = _read_jsonl(path, encoding)
            table.format = "jsonl"
            return table
        raise TableReadError(
            f"{path} is not valid JSON (line {error.lineno}: {error.msg}); "
            "pass a JSON list of objects or of [findings, impression] lists, or a JSONL file"
        ) from error

    if isinstance(value, dict):
        value = _unwrap_json_object(value, path)
    if not isinstance(value, list):
        raise TableReadError(
            f"{path} contains a JSON {type(value).__name__}; pass a JSON list of report objects "
            "or of [findings, impression, ...] lists"
        )
    return _table_from_json_list(value, path, used)


def _unwrap_json_object(value: dict[str, Any], path: Path) -> Any:
    """Return the report list of ``{"data": [...]}``-style files."""
    lists = [key for key, item in value.items() if isinstance(item, list)]
    if len(lists) == 1:
        return value[lists[0]]
    raise TableReadError(
        f"{path} is a JSON object with keys {sorted(value)[:10]}; "
        "pass a file whose top level is the list of reports"
    )


def _table_from_json_list(items: list[Any], path: Path, encoding: str) -> Table:
    rows: list[RawRow] = []
    columns: dict[str, None] = {}
    for index, item in enumerate(items):
        row = RawRow(source=str(path), row=index + 1, line=None)
        if isinstance(item, dict):
            row.fields = item
        elif isinstance(item, list):
            row.fields = {str(position): element for position, element in enumerate(item)}
        else:
            row.error = f"a JSON {type(item).__name__} where an object or a list was expected"
        columns.update(dict.fromkeys(row.fields))
        rows.append(row)
    shape = "json-lists" if items and all(isinstance(item, list) for item in items) else "json"
    return Table(str(path), shape, encoding, list(columns), rows)


def sniff_delimiter(header_line: str, suffix: str) -> str:
    """Pick the delimiter of a text table from its suffix and header line."""
    if suffix in {".tsv", ".tab"}:
        return "\t"
    counts = {candidate: header_line.count(candidate) for candidate in CANDIDATE_DELIMITERS}
    best = max(counts, key=lambda candidate: counts[candidate])
    return best if counts[best] > 0 else ","


def _read_delimited(path: Path, encoding: str | None, delimiter: str | None) -> Table:
    text, used = _read_text(path, encoding)
    first_line = text.split("\n", 1)[0]
    delimiter = delimiter or sniff_delimiter(first_line, path.suffix.lower())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    try:
        header = next(reader)
    except (StopIteration, csv.Error) as error:
        raise TableReadError(f"{path} has no header row; the first line must name the columns") from error
    header = [name.lstrip("\ufeff").strip() for name in header]
    if len(header) < 2:
        raise TableReadError(
            f"{path} has one column {header!r} with delimiter {delimiter!r}; "
            "pass --delimiter CHAR if the file uses another separator"
        )

    rows: list[RawRow] = []
    previous_end = reader.line_num
    while True:
        start_line = previous_end + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise TableReadError(f"{path}:{start_line}: malformed CSV ({error})") from error
        previous_end = reader.line_num
        if not values:
            continue  # an empty line is layout, not a row; a line of empty fields is a row
        row = RawRow(source=str(path), row=len(rows) + 1, line=start_line)
        row.fields = dict(zip(header, values))
        if len(values) > len(header):
            row.error = f"{len(values)} fields where the header has {len(header)} (an unquoted delimiter?)"
        rows.append(row)
    if rows and _ends_inside_quotes(text, delimiter):
        # The lenient reader puts every line after an unclosed quote into one field.
        rows[-1].error = (
            f"a quote opened in the row starting on line {rows[-1].line} is never closed, so lines "
            f"{rows[-1].line}-{previous_end} were read as one field; close the quote or remove it"
        )
    file_format = "tsv" if delimiter == "\t" else "csv"
    return Table(str(path), file_format, used, header, rows)


def _ends_inside_quotes(text: str, delimiter: str) -> bool:
    """Tell whether the text ends inside a quoted field, which Python's strict csv reader reports."""
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as error:
        # Other strict-mode errors (a character after a closing quote) are tolerated, as the lenient reader does.
        return "unexpected end of data" in str(error)
    return False


def _read_xlsx(path: Path, sheet: str | None) -> Table:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged or mislabelled file
        raise TableReadError(f"cannot open {path} as an Excel workbook ({error}); save it as .xlsx") from error

    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise TableReadError(f"no sheet {sheet!r} in {path}; sheets are {workbook.sheetnames}")
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        leading = list(islice(worksheet.iter_rows(values_only=True), MAX_TITLE_ROWS + 1))
        if not leading:
            raise TableReadError(f"{path} sheet {worksheet.title!r} is empty")
        header_index = _header_row_index(leading)
        if header_index:
            logger.warning("%s: skipped %d title row(s) above the header on row %d", path, header_index, header_index + 1)
        cells = islice(worksheet.iter_rows(values_only=True), header_index, None)
        header_cells = next(cells)
        header = ["" if cell is None else str(cell).strip() for cell in header_cells]

        rows: list[RawRow] = []
        for excel_row, values in enumerate(cells, start=header_index + 2):
            if all(value is None or str(value).strip() == "" for value in values):
                continue
            fields = {name: _cell_text(value) for name, value in zip(header, values) if name}
            rows.append(RawRow(source=str(path), row=len(rows) + 1, line=excel_row, fields=fields))
    finally:
        workbook.close()
    return Table(str(path), "xlsx", None, [name for name in header if name], rows)


def _filled_cells(values: tuple[Any, ...]) -> int:
    return sum(1 for value in values if value is not None and str(value).strip() != "")


def _header_row_index(leading: list[tuple[Any, ...]]) -> int:
    """Return the 0-based index of the header row among the first rows of a sheet.

    Exports often put a title ("某医院PET/CT报告导出") in a single cell above the
    header. Rows with at most one filled cell are skipped when a later row among
    ``leading`` has two or more, so a one-column sheet keeps its first row as header.
    """
    for index, values in enumerate(leading):
        if _filled_cells(values) >= 2:
            return index
    return 0


def _cell_text(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _read_parquet(path: Path) -> Table:
    import pyarrow.parquet as parquet

    try:
        arrow_table = parquet.read_table(path)
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError and others
        raise TableReadError(f"cannot read {path} as Parquet ({error})") from error
    records = arrow_table.to_pylist()
    rows = [RawRow(source=str(path), row=index + 1, line=None, fields=record) for index, record in enumerate(records)]
    return Table(str(path), "parquet", None, list(arrow_table.column_names), rows)


def _read_hf_dataset(path: Path) -> Table:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as error:
        raise TableReadError(
            f"{path} is a folder but not a saved datasets folder ({error}); "
            "pass files, or a folder written by Dataset.save_to_disk"
        ) from error

    splits = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [(None, loaded)]
    rows: list[RawRow] = []
    columns: dict[str, None] = {}
    for split_name, dataset in splits:
        columns.update(dict.fromkeys(dataset.column_names))
        for record in dataset:
            fields = dict(record)
            if split_name is not None:
                fields.setdefault("hf_split", split_name)
            rows.append(RawRow(source=str(path), row=len(rows) + 1, line=None, fields=fields))
    return Table(str(path), "hf-dataset", None, list(columns), rows)


def iter_tables(paths: list[str | Path], **options: Any) -> Iterator[Table]:
    """Read each path with :func:`read_table` and the same options."""
    for path in paths:
        yield read_table(path, **options)
