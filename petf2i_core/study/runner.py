"""The study runner: materialise the data, then execute every notebook of the study.

``run_study`` reads top to bottom: prepare the splits, plan one notebook job per
page (one executed copy per system), execute each strictly (see
:mod:`petf2i_core.study.notebooks`), and write a manifest with timings and
package versions. Notebooks hold the analysis; this module only orchestrates.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from petf2i_core.provenance import package_versions
from petf2i_core.study.config import StudyConfig
from petf2i_core.study.data import materialise_data
from petf2i_core.study.notebooks import execute_notebook

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
BOOK_SKELETON = REPO_ROOT / "book"
# Files of the book skeleton copied for studies that build their own book.
SKELETON_FILES = ("_config.yml", "_toc.yml", "intro.md", "metrics_definitions.md", "references.md")
# The real public report sets the dataset chapter compares with, when present.
DEFAULT_REAL_DATA = REPO_ROOT.parent / "shared" / "data" / "real"


@dataclass
class NotebookJob:
    """One notebook execution: source notebook, executed copy and its parameters."""

    page: str
    notebook: Path
    output: Path
    parameters: dict[str, Any]
    title: str | None = None


@dataclass
class StudyRun:
    """Outputs of a study run: the splits, the executed notebooks and their timings."""

    config: StudyConfig
    data_files: dict[str, Path]
    jobs: list[NotebookJob]
    seconds: dict[str, float] = field(default_factory=dict)
    manifest: Path | None = None


def display_path(path: Path) -> str:
    """Return ``path`` relative to the repository when it lies in it or beside it, else absolute.

    Notebooks run with the repository as working directory, so relative paths
    resolve, and the book shows no machine-specific prefix.
    """
    # abspath, not resolve: a shared/ folder beside the checkout may be a symbolic link.
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, REPO_ROOT)
    return absolute if relative.startswith(os.path.join(os.pardir, os.pardir)) else relative


def plan_jobs(config: StudyConfig) -> list[NotebookJob]:
    """Return the notebook jobs of a study, in execution order."""
    run_dir = display_path(config.run_path)
    generated = config.book_path.resolve() / "generated"
    systems = [dataclasses.asdict(system) for system in config.systems]
    real_data = display_path(DEFAULT_REAL_DATA) if DEFAULT_REAL_DATA.is_dir() else None
    common = {"run_dir": run_dir, "seed": config.seed}

    def job(page: str, notebook: str, output: Path, title: str | None = None, **parameters: Any) -> NotebookJob:
        return NotebookJob(page, NOTEBOOKS_DIR / notebook, output, {**common, **parameters}, title)

    jobs = [
        job("dataset", "dataset.ipynb", generated / "dataset.ipynb",
            study_name=config.name, real_data_dir=real_data, private=config.data.private),
        job("metrics", "metrics.ipynb", generated / "metrics.ipynb", real_data_dir=real_data),
    ]
    for system in systems:
        if system["kind"] == "lora":
            jobs.append(job(f"train:{system['name']}", "train_lora.ipynb",
                            generated / "training" / f"{system['name']}.ipynb",
                            title=f"LoRA fine-tuning: {system['name']}", system=system))
    for system in systems:
        jobs.append(job(f"system:{system['name']}", "system.ipynb",
                        generated / "systems" / f"{system['name']}.ipynb",
                        title=f"System: {system['name']}",
                        system=system,
                        metrics=list(config.evaluation.metrics),
                        metric_options=dict(config.evaluation.metric_options),
                        n_bootstrap=config.evaluation.n_bootstrap,
                        private=config.data.private,
                        allow_remote=config.data.allow_remote))
    names = [system["name"] for system in systems]
    jobs += [
        job("results", "results.ipynb", generated / "results.ipynb",
            study_name=config.name, system_names=names, metrics=list(config.evaluation.metrics)),
        job("examples", "examples.ipynb", generated / "examples.ipynb",
            system_names=names, show_text=not config.data.private),
        # The efficiency page renders benchmark results and does not depend on the run.
        NotebookJob("efficiency", NOTEBOOKS_DIR / "efficiency.ipynb", generated / "efficiency.ipynb",
                    {"results_dir": "benchmarks/results"}),
    ]
    return jobs


def prepare_book_dir(config: StudyConfig) -> Path:
    """Copy the book skeleton into the study's book folder unless it is the skeleton itself."""
    book = config.book_path.resolve()
    if book == BOOK_SKELETON.resolve():
        return book
    book.mkdir(parents=True, exist_ok=True)
    for name in SKELETON_FILES:
        source = BOOK_SKELETON / name
        if source.exists():
            shutil.copy2(source, book / name)
    return book


def run_study(config: StudyConfig, only: list[str] | None = None) -> StudyRun:
    """Run a whole study, or only the pages named in ``only`` (e.g. ``["results"]``)."""
    config.run_path.mkdir(parents=True, exist_ok=True)
    prepare_book_dir(config)

    started = time.perf_counter()
    data_files = materialise_data(config)
    run = StudyRun(config=config, data_files=data_files, jobs=plan_jobs(config))
    run.seconds["data"] = time.perf_counter() - started

    for job in run.jobs:
        if only and job.page.split(":")[0] not in only and job.page not in only:
            continue
        started = time.perf_counter()
        execute_notebook(job.notebook, job.output, job.parameters, cwd=REPO_ROOT, title=job.title)
        run.seconds[job.page] = time.perf_counter() - started
        logger.info("page %s done in %.1f s", job.page, run.seconds[job.page])

    run.manifest = write_manifest(run)
    return run


def write_manifest(run: StudyRun) -> Path:
    """Write ``study.json`` in the run folder: config, data files, timings and versions."""
    manifest = {
        "study": run.config.name,
        "config": dataclasses.asdict(run.config),
        "data_files": {split: str(path) for split, path in run.data_files.items()},
        "notebooks": {job.page: str(job.output) for job in run.jobs},
        "seconds": {page: round(value, 2) for page, value in run.seconds.items()},
        "total_seconds": round(sum(run.seconds.values()), 2),
        "versions": package_versions(),
    }
    path = run.config.run_path / "study.json"
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
