"""Metrics registered by name, so configs and the CLI can select them as strings."""

from __future__ import annotations

import importlib
from typing import Any, Callable

from petf2i_core.metrics.base import Metric

# Study order of the six metrics; tables and the CLI list them in this order.
METRIC_NAMES = ("bleu4", "rougeL", "bertscore", "ecr", "uer", "fcr")

_REGISTRY: dict[str, Callable[..., Metric]] = {}


def register_metric(name: str) -> Callable[[Callable[..., Metric]], Callable[..., Metric]]:
    """Register a metric class or factory under ``name``; it is called as ``factory(language=..., **options)``."""

    def decorator(factory: Callable[..., Metric]) -> Callable[..., Metric]:
        if name in _REGISTRY:
            raise ValueError(f"metric {name!r} is already registered by {_REGISTRY[name]!r}")
        _REGISTRY[name] = factory
        return factory

    return decorator


_BUILTIN_MODULES = ("bleu", "rouge", "bertscore", "clinical")
# Builtin metric modules that are missing from this install, with the reason.
_MISSING_MODULES: dict[str, str] = {}


def _import_builtin_metrics() -> None:
    # Importing the modules runs their @register_metric decorators. A module that
    # does not exist is recorded, so only a request for one of its metrics fails.
    for module in _BUILTIN_MODULES:
        module_name = f"petf2i_core.metrics.{module}"
        try:
            importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            _MISSING_MODULES[module_name] = str(error)
        else:
            _MISSING_MODULES.pop(module_name, None)


def build_metric(name: str, language: str, **options: Any) -> Metric:
    """Return the metric registered as ``name``, configured for ``language`` ("zh" or "en")."""
    _import_builtin_metrics()
    if name not in _REGISTRY:
        missing = f" (not importable: {', '.join(sorted(_MISSING_MODULES))})" if _MISSING_MODULES else ""
        raise KeyError(f"unknown metric {name!r}; choose from {sorted(_REGISTRY)}{missing}")
    return _REGISTRY[name](language=language, **options)


def available_metrics() -> list[str]:
    """Return the registered metric names."""
    _import_builtin_metrics()
    return sorted(_REGISTRY)
