"""The book's Sphinx settings make a failing notebook fail the build (pitfall N3)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def make_book(root: Path, cell_source: str) -> Path:
    config = yaml.safe_load((REPO_ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))
    # The real book is executed by the study runner; here the book executes it itself.
    config["execute"]["execute_notebooks"] = "force"
    root.mkdir()
    (root / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (root / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: page\n", encoding="utf-8")
    (root / "index.md").write_text("# Test book\n", encoding="utf-8")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Page"), nbformat.v4.new_code_cell(cell_source)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, root / "page.ipynb")
    return root


def build(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTER_BOOK), "build", str(root)], capture_output=True, text=True, timeout=600)


def test_book_config_raises_on_notebook_error():
    config = yaml.safe_load((REPO_ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))
    assert config["sphinx"]["config"]["nb_execution_raise_on_error"] is True
    assert config["execute"]["execute_notebooks"] == "off"


@pytest.mark.slow
def test_failing_notebook_fails_build(tmp_path):
    result = build(make_book(tmp_path / "bad", "raise RuntimeError('cell failed on purpose')"))
    assert result.returncode != 0, result.stdout[-2000:]


@pytest.mark.slow
def test_good_notebook_builds(tmp_path):
    root = make_book(tmp_path / "good", "print(6 * 7)")
    result = build(root)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    html = (root / "_build" / "html" / "page.html").read_text(encoding="utf-8")
    assert "42" in html
