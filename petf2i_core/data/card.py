"""The dataset card (card.md) written next to prepared splits."""

from __future__ import annotations

from typing import Any


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|").replace("\n", " ") for cell in row) + " |" for row in rows]
    return lines + [""]


def _sources(summary: dict[str, Any]) -> list[str]:
    rows = []
    for source in summary["sources"]:
        columns = ", ".join(f"{field}={name}" for field, name in source["columns"].items() if name is not None)
        rows.append([source["path"], source["format"], source["encoding"] or "-", columns, source["rows"], source["accepted"], source["rejected"]])
    return ["## Sources", ""] + _table(["file", "format", "encoding", "columns", "rows", "accepted", "rejected"], rows)


def _counts(summary: dict[str, Any]) -> list[str]:
    counts = summary["counts"]
    lines = ["## Counts", ""]
    lines += _table(["rows in", "accepted", "rejected", "train", "val", "test"], [[counts[key] for key in ("rows_in", "accepted", "rejected", "train", "val", "test")]])
    if summary["rejected_by_reason"]:
        lines += ["Rejected rows by reason (details with file and row in rejects.jsonl):", ""]
        lines += _table(["reason", "rows"], [[reason, count] for reason, count in summary["rejected_by_reason"].items()])
    return lines


def _languages_and_lengths(summary: dict[str, Any]) -> list[str]:
    lines = ["## Languages", ""]
    lines += _table(["split", "languages"], [[name, ", ".join(f"{lang}: {n}" for lang, n in langs.items()) or "-"] for name, langs in summary["split_languages"].items()])
    lines += ["## Lengths (characters)", ""]
    lines += _table(
        ["field", "min", "median", "mean", "max"],
        [[field, stats["min"], stats["median"], stats["mean"], stats["max"]] for field, stats in summary["lengths"].items()],
    )
    return lines


def _deid(summary: dict[str, Any]) -> list[str]:
    deid = summary["deidentification"]
    lines = ["## De-identification", ""]
    if not deid["enabled"]:
        return lines + ["De-identification was switched off; the text is as exported.", ""]
    lines += [f"Dates: {deid['dates']}. Patient ids: {deid['patient_ids']}. Record ids: {deid['record_ids']}.", ""]
    rows = [[kind, count] for kind, count in deid["counts"].items()] or [["(none found)", 0]]
    return lines + _table(["placeholder", "replacements"], rows)


def _duplicates(summary: dict[str, Any]) -> list[str]:
    duplicates = summary["duplicates"]
    lines = ["## Duplicates", ""]
    lines += [
        f"Exact duplicates of an earlier report's findings: {duplicates['exact']}. "
        f"Near-duplicate pairs ({duplicates['near_rule']}): {duplicates['near_pairs']}. "
        f"Duplicate groups: {duplicates['groups']}, largest {duplicates['largest_group']}. "
        "Each group stays in one split.",
        "",
    ]
    if duplicates["boilerplate_impressions"]:
        lines += ["Most frequent impressions (boilerplate):", ""]
        lines += _table(["impression", "reports"], [[text[:120], count] for text, count in duplicates["boilerplate_impressions"]])
    return lines


def _processing(summary: dict[str, Any]) -> list[str]:
    split = summary["split"]
    lines = ["## Split", ""]
    lines += [
        f"Ratios {split['ratios']} (train, val, test), seed {split['seed']}, stratified by {split['stratify'] or 'nothing'}. "
        "Units kept together: one patient (or one record without a patient id) and one duplicate group.",
        "",
        "## Changes to the stored text",
        "",
    ]
    lines += [f"- {change}" for change in summary["stored_text_changes"]] + [""]
    lines += ["## Normalisation for metrics and matching (a copy; stored text unchanged)", ""]
    lines += [f"- `{step['name']}`: {step['description']}" for step in summary["normalisation_steps"]] + [""]
    return lines


def render_card(summary: dict[str, Any]) -> str:
    """Render the dataset card from the summary that :func:`petf2i_core.data.prepare.prepare` builds."""
    lines = ["# Dataset card", ""]
    for section in (_sources, _counts, _languages_and_lengths, _deid, _duplicates, _processing):
        lines += section(summary)
    return "\n".join(lines).rstrip() + "\n"
