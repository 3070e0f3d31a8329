"""The vllm backend without vllm installed: a clear error, raised only when the backend is built."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from petf2i_core.generation.base import available_backends, get_backend


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_missing_vllm_error():
    with pytest.raises(ImportError, match=r"pip install 'petf2i\[vllm\]'"):
        get_backend("vllm", model="smollm2-135m-instruct")


def test_vllm_listed_but_not_imported():
    assert "vllm" in available_backends()
    assert "vllm" not in sys.modules or importlib.util.find_spec("vllm") is not None
