"""Benchmark the data layer: de-identification recall and prepare() throughput.

Measured:
* de-identification recall per identifier type, and the false-positive rate on clean
  clinical text, from :func:`petf2i_core.data.deid_eval.measure_deid_recall` for several seeds;
* identifiers found in the real report sets (IU X-ray, CRRSum normalised JSONL);
* wall time and rows per second of :func:`petf2i_core.data.prepare.prepare` on the raw
  upstream files (indiana_reports.csv, crrsum dev.json and test.json), written to a
  temporary folder that is deleted afterwards (the licences forbid copies);
* replacements on 4,000 synthetic PET/CT reports, whose only identifiers are
  comparison dates, and the wall time of :func:`petf2i_core.data.splits.split_reports`
  on 2,000 of them, when the synthetic corpus generator is installed.

Usage: ``.venv/bin/python benchmarks/bench_data.py [--n 2000] [--out benchmarks/results/data.json]``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from petf2i_core.data.deid import find_identifiers
from petf2i_core.data.deid_eval import measure_deid_recall
from petf2i_core.data.prepare import prepare
from petf2i_core.data.records import load_reports
from petf2i_core.provenance import package_versions

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"


def bench_recall(n: int, seeds: list[int]) -> dict:
    """Return recall and false-positive figures per seed, and the minimum recall per type."""
    runs = {}
    for seed in seeds:
        figures = measure_deid_recall(n, seed)
        runs[str(seed)] = {key: figures[key] for key in ("recall", "typed_recall", "misses")}
        runs[str(seed)]["false_positives"] = figures["false_positives"]
    kinds = runs[str(seeds[0])]["recall"]
    minimum = {kind: min(run["recall"][kind] for run in runs.values()) for kind in kinds}
    return {"n_per_seed": n, "seeds": seeds, "min_recall": minimum, "runs": runs}


def bench_real_identifiers() -> dict:
    """Count identifiers found in the normalised real sets (by type; no text is stored)."""
    counts = {}
    for name, path in (("iu-xray", REAL / "iu-xray" / "iu-xray.jsonl"), ("crrsum", REAL / "crrsum" / "crrsum.jsonl")):
        found: Counter = Counter()
        reports = load_reports(path)
        for report in reports:
            for text in (report.findings, report.impression):
                found.update(span.type for span in find_identifiers(text))
        counts[name] = {"reports": len(reports), "found": dict(found)}
    return counts


def bench_prepare() -> dict:
    """Time prepare() on the raw upstream files."""
    inputs = [REAL / "iu-xray" / "indiana_reports.csv", REAL / "crrsum" / "dev.json", REAL / "crrsum" / "test.json"]
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = prepare(inputs, Path(folder) / "out")
        seconds = time.perf_counter() - start
    return {
        "inputs": [path.name for path in inputs],
        "counts": result.counts,
        "rejected_by_reason": result.rejected_by_reason,
        "deid_counts": result.summary["deidentification"]["counts"],
        "duplicates": {key: value for key, value in result.summary["duplicates"].items() if key != "boilerplate_impressions"},
        "seconds": round(seconds, 2),
        "rows_per_second": round(result.counts["rows_in"] / seconds, 1),
    }


def bench_synthetic_false_positives(cases: int = 2000) -> dict:
    """Count replacements on the synthetic PET/CT corpus, which has no identifiers except comparison dates."""
    try:
        from petf2i_core.data.synth.corpus import generate_corpus
    except ImportError as error:
        return {"skipped": f"synthetic corpus generator not importable: {error}"}

    reports = generate_corpus(cases, "both", seed=1)
    found: Counter = Counter()
    for report in reports:
        for text in (report.findings, report.impression):
            found.update(span.type for span in find_identifiers(text))
    return {"reports": len(reports), "texts": 2 * len(reports), "replacements_by_type": dict(found)}


def bench_split_synthetic(cases: int = 1000) -> dict:
    """Time split_reports() on the synthetic corpus (both languages, so 2 * cases reports)."""
    try:
        from petf2i_core.data.synth.corpus import generate_corpus
    except ImportError as error:
        return {"skipped": f"synthetic corpus generator not importable: {error}"}
    from petf2i_core.data.splits import split_reports

    reports = generate_corpus(cases, "both", seed=0)
    start = time.perf_counter()
    splits = split_reports(reports)
    seconds = time.perf_counter() - start
    return {"reports": len(reports), "sizes": {name: len(items) for name, items in splits.items()}, "seconds": round(seconds, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="planted reports per seed")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "data.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    result = {
        "benchmark": "data",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "versions": package_versions(),
        "deid_recall": bench_recall(args.n, [0, 1, 2]),
        "real_set_identifiers": bench_real_identifiers(),
        "prepare_raw_files": bench_prepare(),
        "synthetic_false_positives": bench_synthetic_false_positives(),
        "split_synthetic": bench_split_synthetic(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({key: result[key] for key in ("prepare_raw_files", "split_synthetic")}, ensure_ascii=False, indent=1)[:3000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
