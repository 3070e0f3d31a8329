"""Execute parameterised notebooks with papermill, strictly.

papermill alone is lenient in ways that hide mistakes: without a cell tagged
``parameters`` it only warns and runs the notebook with its own values, and it
accepts parameter names the notebook never defines. The study runner calls
:func:`execute_notebook` instead, which fails on both, refuses parameters that
look like secrets (papermill writes every parameter into the executed notebook),
and turns a failing cell into an error that names the notebook and the cell.
"""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path
from typing import Any

import nbformat

logger = logging.getLogger(__name__)

PARAMETERS_TAG = "parameters"
# Names that must never be notebook parameters: papermill stores their values in the output.
SECRET_NAME = re.compile(r"(api[_-]?key|token|secret|password|credential)", re.IGNORECASE)


class NotebookError(RuntimeError):
    """A notebook could not be executed; the message names the notebook and the cell."""


def parameters_cell(notebook: nbformat.NotebookNode, path: Path) -> tuple[int, str]:
    """Return the index and source of the cell tagged ``parameters``."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            return index, cell.source
    raise NotebookError(
        f"{path}: no cell tagged '{PARAMETERS_TAG}'; add the tag to the cell that assigns the "
        "notebook's parameters (papermill would otherwise ignore the values passed)"
    )


def declared_parameters(path: str | Path) -> dict[str, str]:
    """Return the names assigned in a notebook's parameters cell, with their source text."""
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    index, source = parameters_cell(notebook, path)
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise NotebookError(f"{path}: parameters cell {index} is not valid Python: {error}") from error

    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                names[target.id] = ast.get_source_segment(source, node) or target.id
    return names


def check_parameters(path: str | Path, parameters: dict[str, Any]) -> None:
    """Raise NotebookError if a parameter is not declared in the notebook or looks like a secret."""
    declared = declared_parameters(path)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise NotebookError(
            f"{path}: unknown parameter(s) {unknown}; the parameters cell defines {sorted(declared)}"
        )
    secrets = sorted(name for name in parameters if SECRET_NAME.search(name))
    if secrets:
        raise NotebookError(
            f"{path}: parameter(s) {secrets} look like secrets; papermill writes parameters into the "
            "executed notebook, so read keys from environment variables inside the notebook instead"
        )


def execute_notebook(
    input_path: str | Path,
    output_path: str | Path,
    parameters: dict[str, Any],
    cwd: str | Path | None = None,
    kernel_name: str = "python3",
    title: str | None = None,
) -> Path:
    """Execute ``input_path`` with ``parameters`` into ``output_path``, failing loudly.

    Lists, dicts and ``None`` pass through the Python API unchanged, unlike
    papermill's ``-p`` command-line flag, which turns them into strings.
    ``title`` replaces the first heading of the executed copy, so that one
    notebook run per system gets one page title per system.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    input_path, output_path = Path(input_path), Path(output_path)
    check_parameters(input_path, parameters)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    logger.info("executing %s -> %s", input_path, output_path)

    try:
        papermill.execute_notebook(
            str(input_path),
            str(output_path),
            parameters=parameters,
            kernel_name=kernel_name,
            cwd=str(cwd) if cwd else None,
            progress_bar=False,
        )
    except PapermillExecutionError as error:
        raise NotebookError(
            f"{input_path}: cell {error.cell_index} (execution count {error.exec_count}) raised "
            f"{error.ename}: {error.evalue}; the partly executed notebook is at {output_path}"
        ) from error

    prepare_for_book(output_path, title)
    return output_path


def prepare_for_book(path: str | Path, title: str | None = None) -> None:
    """Tidy an executed notebook for the book: title, defaults cell removed, parameters folded.

    The cell of default parameter values is tagged ``remove-cell`` because the
    values papermill injected replace it; the injected cell is tagged
    ``hide-input``, so readers can unfold the exact parameters of the run.
    """
    if title:
        set_title(path, title)
    notebook = nbformat.read(path, as_version=4)
    check_no_error_outputs(notebook, Path(path))
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).setdefault("tags", [])
        if PARAMETERS_TAG in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
        if "injected-parameters" in tags and "hide-input" not in tags:
            tags.append("hide-input")
    nbformat.write(notebook, path)


def check_no_error_outputs(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Raise NotebookError if a cell stored an error output.

    papermill 2.7 already raises on error outputs, but the book is built without
    re-executing notebooks, so this check keeps a stored traceback out of it
    whichever tool executed the notebook.
    """
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise NotebookError(
                    f"{path}: cell {index} stored an error output ({output.get('ename')}: {output.get('evalue')}); "
                    "fix the cell and run the study again"
                )


def set_title(path: str | Path, title: str) -> None:
    """Replace the first level-1 heading of a notebook's first markdown cell with ``title``."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines()
            if lines and lines[0].startswith("# "):
                lines[0] = f"# {title}"
            else:
                lines.insert(0, f"# {title}\n")
            cell.source = "\n".join(lines)
            break
    nbformat.write(notebook, path)
