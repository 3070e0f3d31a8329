"""generate_predictions and `petf2i generate`: caching, resume after SIGKILL, seeds, privacy, baselines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from petf2i_core.data.records import Report, write_jsonl
from petf2i_core.generation import runner
from petf2i_core.generation.cache import CACHE_FILE
from petf2i_core.generation.runner import build_requests, generate_predictions, summarize_run
from petf2i_core.models.registry import ModelEntry, PrivateDataError

SITES = ["右肺上叶", "左肺下叶", "纵隔", "肝脏", "胰腺", "骶骨", "左侧颈部", "右侧腋窝"]
FINDINGS = ["见一结节，SUVmax 5.2。", "未见明显异常放射性摄取。", "见多发淋巴结，代谢增高，SUVmax 8.7。" * 2]
REPORTS = [
    Report(f"r{index:02d}", SITES[index % len(SITES)] + FINDINGS[index % len(FINDINGS)], "考虑恶性。", "zh")
    for index in range(16)
]
TRAIN = [
    Report("t1", "右肺上叶见一结节，SUVmax 5.2。", "右肺上叶结节，考虑恶性。", "zh"),
    Report("t2", "肝脏未见异常放射性摄取。", "未见明显异常。", "zh"),
]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from petf2i_core.models.tiny import build_tiny_qwen2

    path = tmp_path_factory.getbasetemp() / "petf2i-generation-tiny"
    if not (path / "config.json").is_file():
        build_tiny_qwen2(path)
    return path


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "petf2i_core.cli.main", *args]


def _cache_lines(cache_dir: Path) -> list[dict]:
    path = cache_dir / CACHE_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_sigkill_then_resume_matches_clean_run(tiny_dir: Path, tmp_path: Path):
    data = tmp_path / "reports.jsonl"
    write_jsonl(data, REPORTS)
    cache_dir = tmp_path / "cache"
    args = _cli("generate", "--model", str(tiny_dir), "--data", str(data), "--out", str(tmp_path / "out.jsonl"),
                "--cache-dir", str(cache_dir), "--batch-size", "2", "--max-new-tokens", "24")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}

    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if len(_cache_lines_safe(cache_dir)) >= 2:
            break
        time.sleep(0.02)
    assert process.poll() is None, "generation finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_at_kill = len(_cache_lines_safe(cache_dir))
    assert 2 <= done_at_kill < len(REPORTS)

    subprocess.run(args, env=env, check=True, capture_output=True, timeout=300)
    resumed = _cache_lines(cache_dir)
    clean = generate_predictions(str(tiny_dir), REPORTS, template="zero-shot", cache_dir=tmp_path / "clean",
                                 max_new_tokens=24, batch_size=2)
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]

    assert sorted(record["id"] for record in resumed) == sorted(report.id for report in REPORTS)
    assert len({record["key"] for record in resumed}) == len(REPORTS)
    assert [row["id"] for row in rows] == [report.id for report in REPORTS]
    assert [row["prediction"] for row in rows] == [row["prediction"] for row in clean]


def _cache_lines_safe(cache_dir: Path) -> list[dict]:
    """Parse complete lines only; the writer may be mid-append."""
    path = cache_dir / CACHE_FILE
    if not path.exists():
        return []
    data = path.read_bytes()
    if b"\n" not in data:
        return []
    complete = data.rsplit(b"\n", 1)[0]
    return [json.loads(line) for line in complete.decode("utf-8").splitlines() if line.strip()]


def test_rerun_uses_cache_only(tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    first = generate_predictions(str(tiny_dir), REPORTS[:3], template="zero-shot", cache_dir=tmp_path,
                                 max_new_tokens=6, batch_size=2)

    def no_backend(*args, **kwargs):
        raise AssertionError("a fully cached rerun must not build a backend")

    monkeypatch.setattr(runner, "_build_backend", no_backend)
    second = generate_predictions(str(tiny_dir), REPORTS[:3], template="zero-shot", cache_dir=tmp_path,
                                  max_new_tokens=6, batch_size=2)

    assert [row["prediction"] for row in second] == [row["prediction"] for row in first]
    assert len(_cache_lines(tmp_path)) == 3


def test_record_fields(tiny_dir: Path, tmp_path: Path):
    row = generate_predictions(str(tiny_dir), REPORTS[:1], template="few-shot", train_reports=TRAIN,
                               cache_dir=tmp_path, max_new_tokens=5)[0]

    for field in ("id", "prediction", "model_id", "model_revision", "adapter_hash", "template_hash", "decoding",
                  "seed", "finish_reason", "prompt_tokens", "output_tokens", "latency_s", "empty", "repetition"):
        assert field in row
    assert row["id"] == "r00"
    assert len(row["model_revision"]) == 16
    assert row["decoding"]["max_new_tokens"] == 5
    assert row["prompt_tokens"] > 0


def test_sampled_outputs_keyed_by_seed(tiny_dir: Path, tmp_path: Path):
    options = dict(template="zero-shot", cache_dir=tmp_path, max_new_tokens=8, do_sample=True)
    seed0 = generate_predictions(str(tiny_dir), REPORTS[:2], seed=0, **options)
    seed1 = generate_predictions(str(tiny_dir), REPORTS[:2], seed=1, **options)
    again = generate_predictions(str(tiny_dir), REPORTS[:2], seed=0, **options)

    assert len(_cache_lines(tmp_path)) == 4
    assert {row["key"] for row in seed0}.isdisjoint(row["key"] for row in seed1)
    assert [row["prediction"] for row in again] == [row["prediction"] for row in seed0]


def test_few_shot_needs_training_reports():
    with pytest.raises(ValueError, match="train_reports"):
        build_requests(REPORTS[:1], "few-shot")


def test_few_shot_excludes_own_report():
    requests = build_requests(TRAIN, "few-shot", train_reports=TRAIN)
    first_prompt = json.dumps(requests[0].prompt, ensure_ascii=False)

    assert TRAIN[0].impression not in first_prompt
    assert TRAIN[1].impression in first_prompt


def test_private_data_rejects_remote(tmp_path: Path):
    entry = ModelEntry(name="api", family="frontier", backend="openai", hub_id="m",
                       base_url="http://127.0.0.1:9", api_key_env="PETF2I_UNSET_KEY")

    with pytest.raises(PrivateDataError, match="private"):
        generate_predictions(entry, REPORTS[:1], cache_dir=tmp_path, private=True)
    assert not (tmp_path / CACHE_FILE).exists()


def test_private_data_rejects_backend_override(tiny_dir: Path, tmp_path: Path):
    # A local model entry sent to an OpenAI-compatible server leaves the machine too.
    entry = ModelEntry(name="local", family="open", backend="hf", hub_id=str(tiny_dir))

    with pytest.raises(PrivateDataError, match="private"):
        generate_predictions(entry, REPORTS[:1], cache_dir=tmp_path, private=True, backend="openai",
                             base_url="http://127.0.0.1:9")
    assert not (tmp_path / CACHE_FILE).exists()


def test_private_data_allowed_locally(tmp_path: Path):
    rows = generate_predictions("extractive", REPORTS[:2], cache_dir=tmp_path, private=True)

    assert rows[0]["prediction"] == "右肺上叶见一结节，SUVmax 5.2。"


def test_baselines_through_runner(tmp_path: Path):
    extractive = generate_predictions("extractive", REPORTS[:2], cache_dir=tmp_path)
    retrieval = generate_predictions("retrieval", REPORTS[:2], cache_dir=tmp_path, train_reports=TRAIN)

    assert extractive[1]["prediction"] == "左肺下叶未见明显异常放射性摄取。"
    assert retrieval[0]["prediction"] == "右肺上叶结节，考虑恶性。"
    assert retrieval[1]["prediction"] == "未见明显异常。"
    assert retrieval[0]["model_revision"].startswith("train-")


def test_summary_counts_and_throughput():
    rows = [
        {"model": "m", "prompt_tokens": 10, "output_tokens": 4, "batch_latency_s": 2.0, "batch_size": 2,
         "finish_reason": "stop", "empty": False, "repetition": False},
        {"model": "m", "prompt_tokens": 12, "output_tokens": 6, "batch_latency_s": 2.0, "batch_size": 2,
         "finish_reason": "length", "empty": True, "repetition": True},
    ]
    entry = ModelEntry(name="m", family="frontier", backend="openai", price_input_per_1m=2.0, price_output_per_1m=8.0)

    summary = summarize_run(rows, entry)

    assert summary["output_tokens_per_second"] == 5.0
    assert summary["empty"] == 1
    assert summary["repetition"] == 1
    assert summary["cost_usd"] == pytest.approx((22 * 2.0 + 10 * 8.0) / 1e6)


def test_summary_cost_unknown_without_prices():
    entry = ModelEntry(name="m", family="frontier", backend="openai")

    assert summarize_run([], entry)["cost_usd"] is None


def test_cli_prepared_folder_baseline(tmp_path: Path):
    folder = tmp_path / "prepared"
    write_jsonl(folder / "train.jsonl", TRAIN)
    write_jsonl(folder / "test.jsonl", REPORTS[:3])
    out = tmp_path / "pred.jsonl"

    result = subprocess.run(_cli("generate", "--model", "retrieval", "--data", str(folder), "--out", str(out)),
                            capture_output=True, text=True, timeout=120)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    summary = json.loads((tmp_path / "pred.summary.json").read_text(encoding="utf-8"))

    assert result.returncode == 0, result.stderr
    assert [row["id"] for row in rows] == ["r00", "r01", "r02"]
    assert summary["n"] == 3
    assert summary["errors"] == 0


def _random_adapter(tiny_dir: Path, out_dir: Path) -> Path:
    """Save a LoRA adapter with non-zero random weights for the tiny model."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    torch.manual_seed(0)
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0.0, 0.5)
    peft_model.save_pretrained(out_dir)
    return out_dir


@pytest.mark.slow
def test_adapter_changes_key_and_output(tiny_dir: Path, tmp_path: Path):
    adapter = _random_adapter(tiny_dir, tmp_path / "adapter")
    options = dict(template="zero-shot", cache_dir=tmp_path / "cache", max_new_tokens=8)

    base = generate_predictions(str(tiny_dir), REPORTS[:2], **options)
    tuned = generate_predictions(str(tiny_dir), REPORTS[:2], adapter=adapter, **options)

    assert base[0]["adapter_hash"] == ""
    assert len(tuned[0]["adapter_hash"]) == 16
    assert tuned[0]["key"] != base[0]["key"]
    assert [row["prediction"] for row in tuned] != [row["prediction"] for row in base]
    assert len(_cache_lines(tmp_path / "cache")) == 4
