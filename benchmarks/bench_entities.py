"""Benchmark the entity extractor and the ECR, UER and FCR metrics, and score the extractor.

Speed: 20,000 (prediction, reference, findings) triples are built at run time
from the real public report sets beside the checkout (IU X-ray in English,
CRRSum in Chinese, 10,000 each, cycling through the records). The prediction is
the impression of another record drawn with a fixed seed. The report text is
never written out, because the licences forbid copies. The extraction cache is
cleared before each timed step, so every text is analysed at least once per step.

Accuracy: the extractor's micro precision and recall against the gold entities
of the synthetic corpus (``generate_corpus(n, "both", seed)``), per language and
entity type.

Usage: ``.venv/bin/python benchmarks/bench_entities.py [--pairs 20000] [--synthetic 1000] [--seed 20261204]``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"
logger = logging.getLogger("bench_entities")


def load_triples(pairs: int, seed: int) -> list[tuple[str, str, str, str]]:
    """Return (language, prediction, reference, findings) triples, half English and half Chinese."""
    rng = random.Random(seed)
    triples = []
    for name, language in (("iu-xray", "en"), ("crrsum", "zh")):
        with (REAL / name / f"{name}.jsonl").open(encoding="utf-8") as handle:
            records = [json.loads(line) for line in handle]
        for index in range(pairs // 2):
            record = records[index % len(records)]
            other = records[rng.randrange(len(records))]
            triples.append((language, other["impression"], record["impression"], record["findings"]))
    return triples


def time_metrics(triples) -> dict:
    """Time extraction and the three clinical metrics on ``triples`` with a cold cache."""
    from petf2i_core.entities import extractor
    from petf2i_core.metrics.registry import build_metric

    result = {}
    for language in ("en", "zh"):
        subset = [t for t in triples if t[0] == language]
        predictions = [t[1] for t in subset]
        references = [t[2] for t in subset]
        findings = [t[3] for t in subset]

        extractor._extract_cached.cache_clear()
        start = time.perf_counter()
        for texts in (predictions, references, findings):
            for text in texts:
                extractor.extract_entities(text, language)
        extraction_s = time.perf_counter() - start

        extractor._extract_cached.cache_clear()
        start = time.perf_counter()
        scores = {}
        for name in ("ecr", "uer", "fcr"):
            metric = build_metric(name, language=language)
            stats = metric.statistics(predictions, references, findings)
            scores[name] = round(metric.aggregate(stats), 4)
        metrics_s = time.perf_counter() - start

        result[language] = {
            "triples": len(subset),
            "texts_extracted": 3 * len(subset),
            "extraction_seconds": round(extraction_s, 2),
            "ecr_uer_fcr_seconds_cold_cache": round(metrics_s, 2),
            "scores_on_random_pairs": scores,
        }
    return result


def score_synthetic(n: int, seed: int) -> dict:
    """Score the extractor against the synthetic corpus gold, or record why it could not run."""
    from petf2i_core.entities.validation import score_extraction

    try:
        from petf2i_core.data.synth.corpus import generate_corpus

        reports = generate_corpus(n, "both", seed)
    except Exception as error:  # the generator is optional for the speed part
        logger.warning("synthetic corpus not generated: %r", error)
        return {"error": repr(error)}
    result = score_extraction(reports, max_errors=0)
    groups = {
        group: {key: (round(value, 4) if isinstance(value, float) else value) for key, value in figures.items()}
        for group, figures in result["groups"].items()
    }
    return {"cases": n, "seed": seed, "reports": result["reports"], "groups": groups, "values": result["values"]}


def main() -> int:
    """Run the benchmark and write benchmarks/results/entities.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20000, help="number of triples, half per language")
    parser.add_argument("--synthetic", type=int, default=1000, help="synthetic cases to score (each gives a zh and an en report)")
    parser.add_argument("--seed", type=int, default=20261204, help="seed of the pairing and of the synthetic corpus")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "entities.json"), help="output JSON path")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import petf2i_core
    from petf2i_core.entities.lexicon import default_lexicon

    record = {
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "processor": platform.processor(),
        "petf2i": petf2i_core.__version__,
        "lexicon": default_lexicon().version,
        "speed": time_metrics(load_triples(args.pairs, args.seed)),
        "synthetic_accuracy": score_synthetic(args.synthetic, args.seed),
    }
    Path(args.out).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
