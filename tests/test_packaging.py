"""The environment files agree: requirements pins, conda pins and pyproject ranges."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parents[1]


def pins(lines) -> dict[str, str]:
    result = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{line} is not pinned with =="
        result[requirement.name.lower().replace("_", "-")] = specifier.version
    return result


def requirements_pins() -> dict[str, str]:
    return pins((REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines())


def test_conda_environment_matches_requirements():
    environment = yaml.safe_load((REPO_ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_section = next(item["pip"] for item in environment["dependencies"] if isinstance(item, dict))
    assert pins(pip_section) == requirements_pins()


def test_pyproject_ranges_admit_pinned_versions():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = requirements_pins()
    for line in project["dependencies"]:
        requirement = Requirement(line)
        name = requirement.name.lower().replace("_", "-")
        assert name in pinned, f"{name} is a dependency but not pinned in requirements.txt"
        assert requirement.specifier.contains(pinned[name]), f"{line} excludes the pinned {pinned[name]}"


def test_torch_is_pinned_exactly():
    # An open torch range pulls a multi-gigabyte CUDA build on CPU machines.
    assert requirements_pins()["torch"] == "2.13.0"
