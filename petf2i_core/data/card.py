"""The summary (summary.json) and dataset card (card.md) written next to prepared splits."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from ..text.normalize import STEPS
from .records import Report
from .splits import SPLIT_NAMES


def _pseudonym_method(config: Any) -> str:
    if config.key:
        return "pseudonymised (HMAC-SHA256 with a secret key)"
    # Ids such as record numbers are few enough to enumerate, so an empty key protects nothing.
    return ("pseudonymised (HMAC-SHA256 with an EMPTY key, so anyone who can guess an id can recompute "
            "its pseudonym. Set the key environment variable, PETF2I_DEID_KEY by default)")


def _length_stats(values: list[int]) -> dict[str, float]:
    if not values:
        return {"min": 0, "median": 0, "mean": 0, "max": 0}
    ordered = sorted(values)
    return {
        "min": ordered[0],
        "median": ordered[len(ordered) // 2],
        "mean": round(sum(ordered) / len(ordered), 1),
        "max": ordered[-1],
    }


def build_summary(config, sources, counts, by_reason, deid_counts, duplicates, splits) -> dict[str, Any]:
    """Collect the figures of one prepare() run that summary.json and card.md report."""

    reports = [report for name in SPLIT_NAMES for report in splits[name]]
    return {
        "sources": [asdict(source) for source in sources],
        "counts": counts,
        "rejected_by_reason": by_reason,
        "languages": dict(Counter(report.language for report in reports).most_common()),
        "split_languages": {name: dict(Counter(r.language for r in splits[name]).most_common()) for name in SPLIT_NAMES},
        "lengths": {
            "findings": _length_stats([len(report.findings) for report in reports]),
            "impression": _length_stats([len(report.impression) for report in reports]),
        },
        "patients": len({report.patient_id for report in reports if report.patient_id}),
        "split_from_report_column": sum(1 for report in reports if report.meta.get("split_from_report")),
        "deidentification": {
            "enabled": config.deidentify,
            "dates": config.dates,
            "counts": dict(sorted(deid_counts.items())),
            "patient_ids": _pseudonym_method(config) if config.pseudonymize_patients else "kept",
            "record_ids": _pseudonym_method(config) if config.pseudonymize_ids else "kept",
        },
        "duplicates": {
            "exact": duplicates.exact_pairs,
            "near_pairs": len(duplicates.near_pairs),
            "groups": duplicates.groups,
            "largest_group": duplicates.largest_group,
            "near_rule": "character 5-gram Jaccard >= 0.9 on normalised findings (MinHash LSH, confirmed exactly)",
            "boilerplate_impressions": duplicates.boilerplate_impressions,
            "dropped_exact": config.drop_exact_duplicates,
        },
        "split": {"ratios": list(config.ratios), "seed": config.seed, "stratify": config.stratify},
        "stored_text_changes": _stored_text_changes(config, reports),
        "normalisation_steps": [{"name": name, "description": text} for name, text in STEPS],
    }


def _stored_text_changes(config: Any, reports: list[Report]) -> list[str]:
    changes = ["leading and trailing whitespace removed from findings and impression"]
    if config.deidentify:
        changes.append(f"identifiers replaced by typed placeholders (dates: {config.dates})")
    split_count = sum(1 for report in reports if report.meta.get("split_from_report"))
    if split_count:
        changes.append(f"{split_count} whole reports split into findings and impression at section headers")
    return changes


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
