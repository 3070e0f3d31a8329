"""End-to-end test of ``petf2i data synth``."""

from __future__ import annotations

import subprocess
import sys

from petf2i_core.data.records import load_reports


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "petf2i_core.cli.main", "data", "synth", *args], capture_output=True, text=True, check=False)


def test_cli_writes_jsonl_and_card(tmp_path):
    out = tmp_path / "synth.jsonl"
    result = _run("--n", "8", "--lang", "both", "--seed", "5", "--out", str(out), "--noise-rate", "0.1")
    assert result.returncode == 0, result.stderr
    reports = load_reports(out)
    assert len(reports) == 16
    assert {r.language for r in reports} == {"zh", "en"}
    card = tmp_path / "synth.jsonl.card.md"
    assert card.exists()
    assert "Reports: 16." in card.read_text(encoding="utf-8")


def test_cli_same_seed_same_bytes(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert _run("--n", "5", "--lang", "zh", "--seed", "2", "--out", str(first)).returncode == 0
    assert _run("--n", "5", "--lang", "zh", "--seed", "2", "--out", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()


def test_cli_rejects_bad_noise_rate(tmp_path):
    result = _run("--n", "2", "--out", str(tmp_path / "x.jsonl"), "--noise-rate", "2")
    assert result.returncode != 0
    assert "--noise-rate" in result.stderr
