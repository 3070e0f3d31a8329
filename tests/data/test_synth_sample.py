"""The committed synthetic sample is what the generator produces today."""

from __future__ import annotations

from pathlib import Path

from petf2i_core.data.synth import generate_corpus, write_corpus

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "sample.jsonl"


def test_sample_matches_generator(tmp_path):
    # Regenerate with: petf2i data synth --n 10 --lang both --seed 0 --out data/synthetic/sample.jsonl
    fresh = write_corpus(generate_corpus(10, language="both", seed=0), tmp_path / "sample.jsonl")
    assert fresh.read_bytes() == SAMPLE.read_bytes()
