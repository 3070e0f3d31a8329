"""Type checks for notebook parameters, called in each notebook's first code cell.

papermill's ``-p`` flag turns lists into strings (``-p metrics "['bleu4']"``
delivers the string, not a list) and exits 0; checking types up front turns
that into a clear error instead of a wrong result later.
"""

from __future__ import annotations

from typing import Any


def check_parameter_types(values: dict[str, Any], expected: dict[str, type | tuple[type, ...]]) -> None:
    """Raise TypeError for each parameter whose value is not of the expected type.

    Args:
        values: parameter names and values, usually ``{name: globals()[name]}``.
        expected: parameter names and allowed types; include ``type(None)`` for optional ones.
    """
    problems = []
    for name, allowed in expected.items():
        if name not in values:
            problems.append(f"{name} is missing")
            continue
        value = values[name]
        if not isinstance(value, allowed):
            allowed_names = " or ".join(t.__name__ for t in (allowed if isinstance(allowed, tuple) else (allowed,)))
            hint = ""
            if isinstance(value, str) and value[:1] in "[{":
                hint = " (papermill -p passes lists and dicts as strings; use -y or -f params.yaml)"
            problems.append(f"{name} must be {allowed_names}, got {type(value).__name__} {value!r}{hint}")
    if problems:
        raise TypeError("invalid notebook parameters: " + "; ".join(problems))
