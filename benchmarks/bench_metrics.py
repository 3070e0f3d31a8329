"""Benchmark the metrics on 10,000 Chinese and 10,000 English report pairs.

Pairs are built at run time from real public impressions (CRRSum for Chinese,
IU X-ray for English) in the real report sets beside the checkout. Their text is
never written out because the licences forbid copies. Each prediction is the reference with seeded edits (deleted spans,
characters or words borrowed from another impression, swapped sentences, a cut
tail), and one pair in ten is left identical.

Measured, on one core (one thread for torch, pure Python for the rest):
* BLEU-4 and ROUGE-L (plus ECR, UER and FCR when importable) on both sets;
* sacrebleu and rouge-score on the same pairs, for time and equality of values;
* Hugging Face ``evaluate``'s bleu and rouge, when its metric scripts load (they
  come from the hub, so offline the load error is recorded instead);
* the bit-parallel LCS against rouge-score's O(nm) table;
* BERTScore pairs per second with the packaged MiniLM encoder (and the Gemma
  folder for Chinese when it exists).

Usage: ``.venv/bin/python benchmarks/bench_metrics.py [--pairs 10000] [--out benchmarks/results/metrics.json]``
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import json
import logging
import platform
import random
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from petf2i_core.metrics.bleu import Bleu4
from petf2i_core.metrics.bootstrap import bootstrap_interval
from petf2i_core.metrics.registry import build_metric
from petf2i_core.metrics.rouge import RougeL, lcs_length
from petf2i_core.provenance import package_versions

logger = logging.getLogger("bench_metrics")

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"
SOURCES = {"zh": REAL / "crrsum" / "crrsum.jsonl", "en": REAL / "iu-xray" / "iu-xray.jsonl"}
_SENTENCE_END = {"zh": re.compile(r"(?<=[。；;])"), "en": re.compile(r"(?<=[.;])\s+")}


def load_impressions(language: str) -> list[str]:
    """Return the non-empty impressions of the real report set for ``language``."""
    path = SOURCES[language]
    if not path.is_file():
        sys.exit(f"{path} not found; the benchmark needs the real report sets beside the checkout")
    impressions = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            text = json.loads(line).get("impression") or ""
            if text.strip():
                impressions.append(text.strip())
    return impressions


def _units(text: str, language: str) -> list[str]:
    return list(text) if language == "zh" else text.split()


def perturb(text: str, pool: list[str], language: str, rng: random.Random) -> str:
    """Return a seeded, realistic-looking edit of ``text`` (identical one time in ten)."""
    if rng.random() < 0.1:
        return text
    joiner = "" if language == "zh" else " "
    sentences = [s for s in _SENTENCE_END[language].split(text) if s]
    if len(sentences) > 1 and rng.random() < 0.3:
        i, j = rng.sample(range(len(sentences)), 2)
        sentences[i], sentences[j] = sentences[j], sentences[i]
        text = joiner.join(sentences)

    units = _units(text, language)
    donor = _units(rng.choice(pool), language)
    for _ in range(rng.randint(1, 4)):
        if not units:
            break
        position = rng.randrange(len(units))
        action = rng.random()
        if action < 0.35:
            del units[position : position + rng.randint(1, 4)]
        elif action < 0.75 and donor:
            units[position] = rng.choice(donor)
        else:
            start = rng.randrange(len(donor)) if donor else 0
            units[position:position] = donor[start : start + rng.randint(1, 5)]
    if units and rng.random() < 0.15:
        units = units[: max(1, int(len(units) * rng.uniform(0.5, 0.9)))]
    return joiner.join(units)


def make_pairs(language: str, n_pairs: int, seed: int) -> tuple[list[str], list[str]]:
    """Return ``n_pairs`` (predictions, references) built from real impressions."""
    rng = random.Random(seed)
    pool = load_impressions(language)
    references = [rng.choice(pool) for _ in range(n_pairs)]
    predictions = [perturb(reference, pool, language, rng) for reference in references]
    return predictions, references


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """Return the function's result and its wall-clock seconds."""
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def bench_petf2i(pairs: dict[str, tuple[list[str], list[str]]], names: list[str]) -> dict[str, Any]:
    """Time statistics plus corpus score of each metric per language."""
    results: dict[str, Any] = {}
    total = 0.0
    for language, (predictions, references) in pairs.items():
        for name in names:
            metric = build_metric(name, language=language)
            stats, seconds_stats = timed(lambda: metric.statistics(predictions, references, references))
            score, seconds_aggregate = timed(lambda: metric.aggregate(stats))
            seconds = seconds_stats + seconds_aggregate
            total += seconds
            results[f"{language}/{name}"] = {"score": score, "seconds": round(seconds, 3), "signature": str(metric.signature())}
            logger.info("%s %s: %.4f in %.2f s", language, name, score, seconds)
    results["total_seconds"] = round(total, 3)
    return results


def bench_bootstrap(pairs, n_resamples: int) -> dict[str, Any]:
    """Time a 1,000-resample bootstrap interval of BLEU-4 and ROUGE-L on the English pairs."""
    predictions, references = pairs["en"]
    results = {}
    for metric in (Bleu4("en"), RougeL("en")):
        stats = metric.statistics(predictions, references)
        interval, seconds = timed(lambda: bootstrap_interval(metric, stats, n_resamples=n_resamples))
        results[metric.name] = {"ci95": [interval.low, interval.high], "seconds": round(seconds, 3)}
    return results


def bench_reference_libraries(pairs) -> dict[str, Any]:
    """Time sacrebleu and rouge-score on the same pairs and compare their values with petf2i's."""
    import sacrebleu
    from rouge_score import rouge_scorer

    results: dict[str, Any] = {}
    for language, tokenize in (("zh", "zh"), ("en", "13a")):
        predictions, references = pairs[language]
        reference_score, seconds = timed(lambda: sacrebleu.corpus_bleu(predictions, [references], tokenize=tokenize).score / 100)
        ours = Bleu4(language, normalize=False)
        own_score = ours.aggregate(ours.statistics(predictions, references))
        results[f"{language}/sacrebleu_corpus_bleu"] = {
            "score": reference_score, "seconds": round(seconds, 3), "abs_diff_vs_petf2i_unnormalised": abs(reference_score - own_score),
        }

    predictions, references = pairs["en"]
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    scores, seconds = timed(lambda: [scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(predictions, references)])
    own = RougeL("en", normalize=False).statistics(predictions, references)[:, 5]
    results["en/rouge_score_rougeL"] = {
        "score": float(np.mean(scores)), "seconds": round(seconds, 3),
        "max_abs_diff_per_sample_vs_petf2i_unnormalised": float(np.max(np.abs(np.asarray(scores) - own))),
    }
    return results


def bench_hf_evaluate(pairs) -> dict[str, Any]:
    """Try Hugging Face ``evaluate``'s bleu and rouge; record the error when the scripts do not load."""
    try:
        import evaluate
    except ImportError as error:
        return {"status": "not installed", "error": str(error)}
    results: dict[str, Any] = {"version": evaluate.__version__}
    predictions, references = pairs["en"]
    for name in ("bleu", "rouge"):
        try:
            module = evaluate.load(name)
        except Exception as error:  # evaluate raises several types when the hub is unreachable
            results[name] = {"status": "failed to load offline", "error": f"{type(error).__name__}: {error}"}
            continue
        value, seconds = timed(lambda: module.compute(predictions=predictions, references=references))
        results[name] = {"status": "ok", "value": value, "seconds": round(seconds, 3)}
    return results


def bench_lcs(pairs, n_pairs: int) -> dict[str, Any]:
    """Compare the bit-parallel LCS with rouge-score's dynamic-programming table on character tokens."""
    from rouge_score.rouge_scorer import _lcs_table

    metric = RougeL("zh")
    predictions, references = pairs["zh"]
    token_pairs = [(metric.tokens(r), metric.tokens(p)) for p, r in zip(predictions[:n_pairs], references[:n_pairs])]
    fast, fast_seconds = timed(lambda: [lcs_length(r, p) for r, p in token_pairs])
    table, table_seconds = timed(lambda: [_lcs_table(r, p)[-1][-1] for r, p in token_pairs])
    return {
        "pairs": n_pairs,
        "mean_ref_tokens": float(np.mean([len(r) for r, _ in token_pairs])),
        "bit_parallel_seconds": round(fast_seconds, 3),
        "dp_table_seconds": round(table_seconds, 3),
        "speedup": round(table_seconds / fast_seconds, 1),
        "identical_lengths": fast == table,
    }


def bench_bertscore(pairs, n_pairs: int) -> dict[str, Any]:
    """Measure BERTScore pairs per second on one CPU thread (model load excluded)."""
    import torch

    from petf2i_core.metrics.bertscore import BertScore

    torch.set_num_threads(1)
    results: dict[str, Any] = {"torch_threads": 1}
    for language in ("en", "zh"):
        try:
            metric = BertScore(language)
        except FileNotFoundError as error:
            results[language] = {"status": "skipped", "reason": str(error)}
            continue
        predictions, references = (texts[:n_pairs] for texts in pairs[language])
        _, load_seconds = timed(lambda: metric.encoder)
        stats, seconds = timed(lambda: metric.statistics(predictions, references))
        results[language] = {
            "encoder": metric.spec.name,
            "layer": metric.spec.layer,
            "pairs": n_pairs,
            "load_seconds": round(load_seconds, 2),
            "seconds": round(seconds, 2),
            "pairs_per_second": round(n_pairs / seconds, 1),
            "score": metric.aggregate(stats),
            "n_too_long": int(stats[:, 4].sum()),
        }
    return results


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark and write the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000, help="pairs per language (default: 10000)")
    parser.add_argument("--bertscore-pairs", type=int, default=256, help="pairs per language for BERTScore (default: 256)")
    parser.add_argument("--seed", type=int, default=12345, help="seed of the pair construction")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "metrics.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    pairs = {language: make_pairs(language, args.pairs, args.seed) for language in ("zh", "en")}
    lexical = ["bleu4", "rougeL"]
    clinical = []
    try:
        for name in ("ecr", "uer", "fcr"):
            build_metric(name, language="zh")
            clinical.append(name)
    except (KeyError, ImportError, ValueError) as error:
        logger.warning("clinical metrics not benchmarked: %s", error)

    result = {
        "benchmark": "metrics",
        "command": " ".join([".venv/bin/python", "benchmarks/bench_metrics.py", *(argv or sys.argv[1:])]),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        "threads": "one core: pure-Python metrics, torch.set_num_threads(1) for BERTScore",
        "versions": package_versions(),
        "pairs_per_language": args.pairs,
        "pair_construction": "real CRRSum (zh) and IU X-ray (en) impressions with seeded edits; 10% identical",
        "target": "BLEU-4 + ROUGE-L (+ ECR, UER, FCR) on both languages in under 20 s on one core",
        "lexical": bench_petf2i(pairs, lexical),
        "lexical_and_clinical": bench_petf2i(pairs, lexical + clinical) if clinical else "clinical metrics not importable",
        "bootstrap_1000_en": bench_bootstrap(pairs, 1000),
        "reference_libraries": bench_reference_libraries(pairs),
        "hf_evaluate": bench_hf_evaluate(pairs),
        "lcs_zh_characters": bench_lcs(pairs, 2000),
        "bertscore_cpu": bench_bertscore(pairs, args.bertscore_pairs),
    }
    result["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
