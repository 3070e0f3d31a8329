"""Benchmark batched generation with the hf backend against batch size 1.

The same greedy prompts (zero-shot template, English findings from the synthetic
corpus ``generate_corpus(n, "en", seed)``) run through the packaged
SmolLM2-135M-Instruct model twice: one prompt at a time, then in left-padded
batches. The outputs must be identical (the script exits with status 1 if any
differs). Reported: output tokens per second for each, and the speed-up.

Needs the converted model (``petf2i models prepare``).

Usage: ``.venv/bin/python benchmarks/bench_generation.py [--prompts 16] [--batch-size 8] [--max-new-tokens 32]``
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import json
import logging
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
logger = logging.getLogger("bench_generation")


def run_backend(model: str, requests: list, batch_size: int, max_new_tokens: int) -> dict:
    """Generate ``requests`` with one hf backend; return outputs, token count and wall time."""
    from petf2i_core.generation.base import DecodingParams, get_backend

    backend = get_backend("hf", model=model, decoding=DecodingParams(max_new_tokens=max_new_tokens),
                          batch_size=batch_size)
    backend.generate(requests[:1])  # warm-up: first-call allocations are not part of the measurement

    started = time.perf_counter()
    outputs = backend.generate(requests)
    seconds = time.perf_counter() - started
    tokens = sum(output.output_tokens for output in outputs)
    return {
        "batch_size": batch_size,
        "seconds": round(seconds, 3),
        "output_tokens": tokens,
        "output_tokens_per_second": round(tokens / seconds, 3),
        "texts": [output.text for output in outputs],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct", help="model reference (default: the packaged SmolLM2)")
    parser.add_argument("--prompts", type=int, default=16, help="number of prompts (default: 16)")
    parser.add_argument("--batch-size", type=int, default=8, help="batch size of the batched run (default: 8)")
    parser.add_argument("--max-new-tokens", type=int, default=32, help="maximum generated tokens per prompt (default: 32)")
    parser.add_argument("--seed", type=int, default=0, help="synthetic corpus seed (default: 0)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "generation.json"), help="result JSON path")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import torch

    from petf2i_core.data.synth.corpus import generate_corpus
    from petf2i_core.generation.base import GenerationRequest
    from petf2i_core.generation.prompts import build_messages
    from petf2i_core.provenance import package_versions

    reports = generate_corpus(args.prompts, "en", seed=args.seed, noise_rate=0.0)
    requests = [GenerationRequest(r.id, build_messages("zero-shot", r.findings, "en"), chat=True) for r in reports]
    load_at_start = os.getloadavg()

    single = run_backend(args.model, requests, 1, args.max_new_tokens)
    batched = run_backend(args.model, requests, args.batch_size, args.max_new_tokens)
    mismatches = [r.id for r, a, b in zip(reports, single["texts"], batched["texts"]) if a != b]

    result = {
        "benchmark": "generation",
        "command": "python " + " ".join([f"benchmarks/{Path(__file__).name}", *sys.argv[1:]]),
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_at_start": list(load_at_start),
        "load_average_at_end": list(os.getloadavg()),
        "versions": package_versions(),
        "model": args.model,
        "prompts": args.prompts,
        "max_new_tokens": args.max_new_tokens,
        "batch_size_1": {key: value for key, value in single.items() if key != "texts"},
        "batched": {key: value for key, value in batched.items() if key != "texts"},
        "speedup": round(batched["output_tokens_per_second"] / single["output_tokens_per_second"], 3),
        "identical_outputs": not mismatches,
        "mismatched_ids": mismatches,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({key: result[key] for key in ("batch_size_1", "batched", "speedup", "identical_outputs")}, indent=2))
    if mismatches:
        logger.error("batched outputs differ from batch size 1 for %s", mismatches)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
