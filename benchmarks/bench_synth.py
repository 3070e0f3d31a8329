"""Benchmark the synthetic PET/CT corpus generator: speed, uniqueness and extractor agreement.

Measured:
* wall time and CPU time of ``generate_corpus(n, "both")`` in this process (one core),
  reported as reports per second per language;
* duplicate findings and duplicate findings+impression pairs per language;
* precision and recall of :func:`petf2i_core.entities.extractor.extract_entities` against
  the gold key sets, and its value accuracy (SUVmax exact to 0.1, size within 0.05 cm),
  on the first ``--agree`` cases.

The speed target is 41,000 reports per language in under a minute on one core. The
machine is shared, so the load average at the start is recorded with the result.

Usage: ``.venv/bin/python benchmarks/bench_synth.py [--n 41000] [--agree 1000] [--out benchmarks/results/synth.json]``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

from petf2i_core.data.synth import generate_corpus
from petf2i_core.provenance import package_versions

REPO = Path(__file__).resolve().parents[1]


def bench_speed(n: int, seed: int, noise_rate: float) -> tuple[dict, list]:
    """Generate ``n`` cases in both languages and time it."""
    wall, cpu = time.perf_counter(), time.process_time()
    reports = generate_corpus(n, "both", seed=seed, noise_rate=noise_rate)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    per_language = Counter(report.language for report in reports)
    return {
        "cases": n,
        "reports": len(reports),
        "reports_per_language": dict(per_language),
        "seed": seed,
        "noise_rate": noise_rate,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "reports_per_cpu_s": round(len(reports) / cpu, 1),
        "cpu_s_for_41000_per_language": round(cpu * 41000 / n, 1),
        "target_cpu_s": 60,
    }, reports


def bench_uniqueness(reports: list) -> dict:
    """Count repeated findings, and repeated findings+impression pairs, per language."""
    result = {}
    for language in ("zh", "en"):
        subset = [report for report in reports if report.language == language]
        findings = Counter(report.findings for report in subset)
        pairs = Counter((report.findings, report.impression) for report in subset)
        impressions = Counter(report.impression for report in subset)
        result[language] = {
            "reports": len(subset),
            "duplicate_findings": sum(count - 1 for count in findings.values() if count > 1),
            "duplicate_pairs": sum(count - 1 for count in pairs.values() if count > 1),
            "distinct_impressions": len(impressions),
        }
    return result


def _close(first, second, tolerance: float) -> bool:
    if first is None or second is None:
        return first is None and second is None
    first = first if isinstance(first, (list, tuple)) else [first]
    second = second if isinstance(second, (list, tuple)) else [second]
    return len(first) == len(second) and all(abs(a - b) <= tolerance for a, b in zip(first, second))


def bench_agreement(reports: list, cases: int) -> dict:
    """Return extractor precision, recall and value accuracy against the gold sets."""
    from petf2i_core.entities.extractor import extract_entities

    result = {}
    for language in ("zh", "en"):
        subset = [report for report in reports if report.language == language][:cases]
        true_positive = predicted = expected = values_ok = values_total = 0
        for report in subset:
            for section in ("findings", "impression"):
                gold = {(r["type"], r["concept"], r["laterality"], r["polarity"]): r for r in report.meta["entities"][section]}
                found = {}
                for entity in extract_entities(getattr(report, section), language):
                    found.setdefault(entity.key(), entity)
                true_positive += len(gold.keys() & found.keys())
                predicted += len(found)
                expected += len(gold)
                for key in gold.keys() & found.keys():
                    if key[0] != "finding":
                        continue
                    values_total += 1
                    row, entity = gold[key], found[key]
                    values_ok += _close(row["suvmax"], entity.suvmax, 0.051) and _close(row["size_cm"], entity.size_cm, 0.05)
        result[language] = {
            "reports": len(subset),
            "precision": round(true_positive / max(1, predicted), 4),
            "recall": round(true_positive / max(1, expected), 4),
            "value_accuracy": round(values_ok / max(1, values_total), 4),
            "gold_entities": expected,
        }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=41000, help="cases to generate (each gives a zh and an en report)")
    parser.add_argument("--agree", type=int, default=1000, help="reports per language checked against the extractor")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise-rate", type=float, default=0.05)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "synth.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    result = {
        "benchmark": "synth",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "versions": package_versions(),
    }
    speed, reports = bench_speed(args.n, args.seed, args.noise_rate)
    result["speed"] = speed
    result["uniqueness"] = bench_uniqueness(reports)
    result["extractor_agreement"] = bench_agreement(reports, args.agree)
    result["load_average_at_end"] = os.getloadavg()

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({key: result[key] for key in ("speed", "uniqueness", "extractor_agreement")}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
