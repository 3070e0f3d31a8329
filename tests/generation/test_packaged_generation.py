"""Generation with the packaged real models (slow; needs `petf2i models prepare`)."""

from __future__ import annotations

import pytest

from petf2i_core.data.records import Report
from petf2i_core.generation.runner import generate_predictions
from petf2i_core.models.packaged import is_prepared

ENGLISH = [
    Report("e1", "There is a 2.1 cm hypermetabolic mass in the right upper lobe with SUVmax 12.3. "
                 "Multiple enlarged mediastinal lymph nodes with increased FDG uptake.", "", "en"),
    Report("e2", "No abnormal FDG uptake is seen in the neck, chest, abdomen or pelvis.", "", "en"),
    Report("e3", "Focal intense uptake in the sigmoid colon, SUVmax 9.8. The liver is unremarkable.", "", "en"),
]
TRAIN_ZH = [
    Report("t1", "右肺上叶见一结节，SUVmax 5.2。", "右肺上叶结节，考虑恶性。", "zh"),
    Report("t2", "肝脏未见异常放射性摄取。", "未见明显异常。", "zh"),
    Report("t3", "纵隔见多发肿大淋巴结，代谢增高。", "纵隔淋巴结转移。", "zh"),
]
CHINESE = [Report("z1", "左肺下叶见一结节，SUVmax 4.1。", "", "zh"), Report("z2", "脾脏未见异常放射性摄取。", "", "zh")]


def _require(name: str) -> None:
    if not is_prepared(name):
        pytest.skip(f"packaged model {name} not converted: run `petf2i models prepare`")


@pytest.mark.slow
def test_smollm2_zero_shot_english(tmp_path):
    _require("smollm2-135m-instruct")

    rows = generate_predictions("smollm2-135m-instruct", ENGLISH, cache_dir=tmp_path, max_new_tokens=32, batch_size=3)

    assert [row["id"] for row in rows] == ["e1", "e2", "e3"]
    for row in rows:
        assert not row["empty"]
        assert row["finish_reason"] in {"stop", "length"}
        assert row["output_tokens"] <= 32
        assert "<|im_end|>" not in row["prediction"]
        assert "assistant" not in row["prediction"][:12]


@pytest.mark.slow
def test_gemma3_few_shot_chinese_stops(tmp_path):
    _require("gemma3-270m")

    rows = generate_predictions("gemma3-270m", CHINESE, train_reports=TRAIN_ZH, cache_dir=tmp_path,
                                max_new_tokens=24, batch_size=2)

    assert rows[0]["template"] == "base-few-shot"
    for row in rows:
        assert not row["empty"]
        assert "检查所见" not in row["prediction"]
        assert "\n\n" not in row["prediction"]
    assert rows[1]["finish_reason"] == "stop"
