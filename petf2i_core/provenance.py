"""Versions of Python and the packages that a score or a result file depends on."""

from __future__ import annotations

import platform
from importlib import metadata

# Distribution names on PyPI; the keys of the returned dict use the same spelling.
TRACKED_PACKAGES = (
    "petf2i",
    "torch",
    "transformers",
    "peft",
    "accelerate",
    "sacrebleu",
    "rouge-score",
    "bert-score",
    "jieba",
    "numpy",
)


def package_version(name: str) -> str:
    """Return the installed version of distribution ``name``, or "not installed"."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def package_versions() -> dict[str, str]:
    """Return the Python version and the versions of :data:`TRACKED_PACKAGES`."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        versions[name] = package_version(name)
    return versions
