"""Strict notebook execution: the papermill traps N1 and N2, failing cells, secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from petf2i_core.study.notebooks import NotebookError, check_parameters, declared_parameters, execute_notebook
from petf2i_core.study.parameters import check_parameter_types


def write_notebook(path: Path, parameters_source: str | None, body: list[str]) -> Path:
    cells = []
    if parameters_source is not None:
        cell = nbformat.v4.new_code_cell(parameters_source)
        cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    cells += [nbformat.v4.new_code_cell(source) for source in body]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


def output_text(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return "\n".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )


def test_declared_parameters_reads_assignments(tmp_path):
    path = write_notebook(tmp_path / "a.ipynb", "lang = 'en'\nmetrics: list = ['bleu4']\nn = 3", [])
    assert set(declared_parameters(path)) == {"lang", "metrics", "n"}


def test_missing_parameters_cell_rejected(tmp_path):
    # N2: papermill alone only warns and keeps the notebook's own value.
    path = write_notebook(tmp_path / "a.ipynb", None, ["lang = 'zh'"])
    with pytest.raises(NotebookError, match="no cell tagged 'parameters'"):
        execute_notebook(path, tmp_path / "out.ipynb", {"lang": "en"})


def test_unknown_parameter_rejected(tmp_path):
    path = write_notebook(tmp_path / "a.ipynb", "lang = 'zh'", [])
    with pytest.raises(NotebookError, match=r"unknown parameter\(s\) \['langauge'\]"):
        check_parameters(path, {"langauge": "en"})


def test_secret_parameter_rejected(tmp_path):
    path = write_notebook(tmp_path / "a.ipynb", "api_key = None", [])
    with pytest.raises(NotebookError, match="look like secrets"):
        check_parameters(path, {"api_key": "sk-test"})


def test_list_parameter_arrives_as_list(tmp_path):
    # N1: through the Python API a list stays a list, unlike papermill's -p flag.
    path = write_notebook(
        tmp_path / "a.ipynb",
        "metrics = ['bleu4']",
        ["print(type(metrics).__name__, len(metrics))"],
    )
    out = execute_notebook(path, tmp_path / "out.ipynb", {"metrics": ["bleu4", "rougeL"]})
    assert "list 2" in output_text(out)


def test_papermill_cli_p_turns_list_into_string(tmp_path):
    # N1 as users meet it: `-p` delivers a string and exits 0; the type check catches it.
    path = write_notebook(
        tmp_path / "a.ipynb",
        "metrics = ['bleu4']",
        [
            "from petf2i_core.study.parameters import check_parameter_types\n"
            "check_parameter_types({'metrics': metrics}, {'metrics': list})"
        ],
    )
    papermill = Path(sys.executable).with_name("papermill")
    result = subprocess.run(
        [str(papermill), str(path), str(tmp_path / "out.ipynb"), "-k", "python3", "-p", "metrics", "['bleu','rouge']"],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "metrics must be list, got str" in result.stderr + result.stdout


def test_failing_cell_names_notebook_and_cell(tmp_path):
    path = write_notebook(tmp_path / "broken.ipynb", "x = 1", ["y = x + 1", "raise ValueError('bad split')"])
    with pytest.raises(NotebookError) as error:
        execute_notebook(path, tmp_path / "out.ipynb", {"x": 2})
    message = str(error.value)
    assert "broken.ipynb" in message
    assert "cell 3" in message  # the injected-parameters cell shifts indices by one
    assert "ValueError: bad split" in message


def test_check_parameter_types_messages():
    with pytest.raises(TypeError) as error:
        check_parameter_types({"metrics": "['bleu4']", "n": 3}, {"metrics": list, "n": int, "seed": int})
    message = str(error.value)
    assert "metrics must be list, got str" in message
    assert "use -y or -f params.yaml" in message
    assert "seed is missing" in message
    check_parameter_types({"n": None}, {"n": (int, type(None))})


def test_stored_error_output_rejected(tmp_path):
    # papermill 2.7 raises on error outputs already; the book step checks again because
    # it never re-executes, so a notebook edited or executed elsewhere cannot slip through.
    from petf2i_core.study.notebooks import prepare_for_book

    path = write_notebook(tmp_path / "a.ipynb", "x = 1", [])
    notebook = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell("raise KeyError('gone')")
    cell.outputs = [nbformat.v4.new_output("error", ename="KeyError", evalue="'gone'", traceback=[])]
    notebook.cells.append(cell)
    nbformat.write(notebook, path)
    with pytest.raises(NotebookError, match="cell 1 stored an error output"):
        prepare_for_book(path)
