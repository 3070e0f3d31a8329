"""Fixtures for the training tests: tiny Qwen2 models and small report sets."""

from __future__ import annotations

import pytest

from petf2i_core.data.records import Report
from petf2i_core.models.tiny import build_tiny_qwen2


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    return build_tiny_qwen2(tmp_path_factory.mktemp("tiny_qwen2"))


@pytest.fixture(scope="session")
def tiny_pad_eos_dir(tmp_path_factory):
    return build_tiny_qwen2(tmp_path_factory.mktemp("tiny_qwen2_pad_eos"), pad_is_eos=True)


def make_reports(count: int, prefix: str = "r") -> list[Report]:
    """Return ``count`` short synthetic reports alternating Chinese and English, with varied lengths."""
    reports = []
    for index in range(count):
        if index % 2 == 0:
            findings = "右肺上叶见一结节，" + "边界欠清，" * (index % 5) + f"SUVmax {index % 9 + 1}.2。"
            impression = "考虑恶性病变。" if index % 4 == 0 else "考虑炎性病变，建议随访。"
            language = "zh"
        else:
            findings = "A nodule in the liver " + "with irregular margins " * (index % 4) + f"and SUVmax {index % 7 + 2}.1."
            impression = "Suspicious for malignancy." if index % 3 == 0 else "Likely inflammatory."
            language = "en"
        reports.append(Report(id=f"{prefix}{index}", findings=findings, impression=impression, language=language))
    return reports


@pytest.fixture()
def small_reports():
    return make_reports(16)


@pytest.fixture(name="make_reports")
def make_reports_fixture():
    return make_reports
