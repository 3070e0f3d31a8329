"""The study plan: one job per page and system, each valid against its notebook."""

from __future__ import annotations

from pathlib import Path

import nbformat
import yaml

from petf2i_core.study.config import load_study_config, study_from_dict
from petf2i_core.study.notebooks import check_parameters, set_title
from petf2i_core.study.runner import NOTEBOOKS_DIR, plan_jobs

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_default_plan_is_valid_for_every_notebook():
    config = load_study_config(REPO_ROOT / "configs" / "study" / "default.yaml")
    jobs = plan_jobs(config)
    for job in jobs:
        check_parameters(job.notebook, job.parameters)
    pages = [job.page for job in jobs]
    assert pages[:2] == ["dataset", "metrics"]
    assert pages[-3:] == ["results", "examples", "efficiency"]
    assert sum(page.startswith("system:") for page in pages) == len(config.systems)
    lora = [system.name for system in config.systems if system.kind == "lora"]
    assert [page for page in pages if page.startswith("train:")] == [f"train:{name}" for name in lora]
    # Training runs before the system page that generates with its adapter.
    for name in lora:
        assert pages.index(f"train:{name}") < pages.index(f"system:{name}")


def test_other_study_writes_its_own_book(tmp_path):
    config = study_from_dict({"name": "mine", "run_dir": str(tmp_path / "run"),
                              "systems": [{"name": "extractive", "kind": "baseline", "model": "extractive"}]})
    outputs = [job.output for job in plan_jobs(config)]
    assert all(str(path).startswith(str((tmp_path / "run" / "book" / "generated").resolve())) for path in outputs)


def test_every_notebook_has_a_title_and_parameters():
    for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        assert notebook.cells[0].cell_type == "markdown", path
        assert notebook.cells[0].source.startswith("# "), path
        tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
        assert len(tagged) == 1, path
        outputs = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.outputs]
        assert not outputs, f"{path} is committed with outputs; clear them"


def test_set_title_replaces_first_heading(tmp_path):
    path = tmp_path / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# System\n\nText.")]), path)
    set_title(path, "System: retrieval")
    assert nbformat.read(path, as_version=4).cells[0].source == "# System: retrieval\n\nText."


def test_display_path_relative_inside_and_beside_repo(tmp_path):
    from petf2i_core.study.runner import REPO_ROOT, display_path

    assert display_path(REPO_ROOT / "runs" / "default") == "runs/default"
    assert display_path(REPO_ROOT.parent / "shared" / "data") == "../shared/data"
    assert display_path(tmp_path) == str(tmp_path.resolve())


def test_prepare_for_book_tags_parameter_cells(tmp_path):
    from petf2i_core.study.notebooks import prepare_for_book

    defaults = nbformat.v4.new_code_cell("x = 1")
    defaults.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell("x = 2")
    injected.metadata["tags"] = ["injected-parameters"]
    path = tmp_path / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Page"), defaults, injected]), path)
    prepare_for_book(path, "Page: one")
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].source == "# Page: one"
    assert "remove-cell" in cells[1].metadata["tags"]
    assert "hide-input" in cells[2].metadata["tags"]


def test_display_path_keeps_linked_sibling_relative(tmp_path):
    from petf2i_core.study.runner import REPO_ROOT, display_path

    # A linked folder beside the checkout stays relative instead of resolving to its target.
    link = REPO_ROOT.parent / "shared" / "data"
    assert display_path(link) == "../shared/data"
    target = tmp_path / "elsewhere"
    target.mkdir()
    linked = tmp_path / "link"
    linked.symlink_to(target)
    assert display_path(linked) == str(linked)
