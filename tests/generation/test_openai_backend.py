"""The OpenAI-compatible backend against a real chat-completions server on 127.0.0.1.

The server injects 429s with Retry-After, 500s, slow replies (client timeouts),
truncated outputs, empty content and client errors, chosen by a marker in the
prompt, and counts attempts and requests in flight.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from petf2i_core.data.records import Report, write_jsonl
from petf2i_core.generation.base import DecodingParams, GenerationRequest, get_backend
from petf2i_core.generation.runner import generate_predictions
from petf2i_core.models.registry import ModelEntry


class FakeChatServer:
    """A chat-completions endpoint whose behaviour is chosen by ``CASE=<name>`` in the last message."""

    def __init__(self) -> None:
        self.attempts: dict[str, int] = {}
        self.auth_headers: list[str] = []
        self.bodies: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake.lock:
                    fake.auth_headers.append(self.headers.get("Authorization", ""))
                    fake.bodies.append(body)
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    fake.respond(self, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and closed the connection
                finally:
                    with fake.lock:
                        fake.in_flight -= 1

        return Handler

    def respond(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        content = body["messages"][-1]["content"]
        case = content.split("CASE=")[1].split()[0] if "CASE=" in content else "ok"
        with self.lock:
            self.attempts[content] = self.attempts.get(content, 0) + 1
            attempt = self.attempts[content]

        if case == "rate429" and attempt == 1:
            return self._send(handler, 429, {"error": {"message": "rate limited", "type": "rate_limit"}}, {"Retry-After": "1"})
        if case == "err500" and attempt <= 2:
            return self._send(handler, 500, {"error": {"message": "server error"}})
        if case == "always500":
            return self._send(handler, 503, {"error": {"message": "unavailable"}})
        if case == "bad":
            return self._send(handler, 400, {"error": {"message": "bad request"}})
        if case == "slow" and attempt == 1:
            time.sleep(1.5)
        if case == "busy":
            time.sleep(0.2)

        text, finish = f"Impression {attempt}.", "stop"
        if case == "length":
            text, finish = "Truncated impress", "length"
        if case == "empty":
            text, finish = None, "length"
        self._send(handler, 200, {
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7 if text else 64, "total_tokens": 18},
        })

    @staticmethod
    def _send(handler, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


@pytest.fixture
def server():
    fake = FakeChatServer()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = "sk-petf2i-test-" + uuid.uuid4().hex
    monkeypatch.setenv("PETF2I_TEST_API_KEY", key)
    return key


def _backend(server: FakeChatServer, **options):
    settings = dict(model="test-model", base_url=server.base_url, api_key_env="PETF2I_TEST_API_KEY",
                    decoding=DecodingParams(max_new_tokens=32), max_retries=3, backoff_s=0.05, timeout_s=0.5)
    settings.update(options)
    return get_backend("openai", **settings)


def _request(request_id: str, case: str = "ok") -> GenerationRequest:
    return GenerationRequest(request_id, [{"role": "user", "content": f"{request_id} CASE={case}"}])


def test_plain_reply(server, api_key):
    output = _backend(server).generate([_request("a")])[0]

    assert output.text == "Impression 1."
    assert output.finish_reason == "stop"
    assert output.prompt_tokens == 11
    assert output.output_tokens == 7
    assert server.bodies[0]["temperature"] == 0.0
    assert server.bodies[0]["max_tokens"] == 32


def test_reasoning_request_body(server, api_key):
    output = _backend(server, reasoning=True, max_tokens_param="max_completion_tokens").generate([_request("a")])[0]

    assert output.text == "Impression 1."
    assert server.bodies[0]["max_completion_tokens"] == 32
    assert "temperature" not in server.bodies[0]
    assert "max_tokens" not in server.bodies[0]


def test_429_honours_retry_after(server, api_key):
    started = time.perf_counter()
    output = _backend(server).generate([_request("a", "rate429")])[0]
    elapsed = time.perf_counter() - started

    assert output.text == "Impression 2."
    assert server.attempts["a CASE=rate429"] == 2
    assert elapsed >= 1.0


def test_500_retried_with_backoff(server, api_key):
    output = _backend(server).generate([_request("a", "err500")])[0]

    assert output.text == "Impression 3."
    assert server.attempts["a CASE=err500"] == 3


def test_timeout_retried(server, api_key):
    output = _backend(server).generate([_request("a", "slow")])[0]

    assert output.text == "Impression 2."
    assert output.finish_reason == "stop"


def test_persistent_5xx_becomes_error_output(server, api_key):
    outputs = _backend(server, max_retries=2).generate([_request("a", "always500"), _request("b")])

    assert outputs[0].finish_reason == "error"
    assert outputs[0].empty
    assert "503" in outputs[0].error
    assert server.attempts["a CASE=always500"] == 3
    assert outputs[1].text == "Impression 1."


def test_client_error_not_retried(server, api_key):
    output = _backend(server).generate([_request("a", "bad")])[0]

    assert output.finish_reason == "error"
    assert server.attempts["a CASE=bad"] == 1


def test_failure_log_counts_real_attempts(server, api_key, caplog):
    caplog.set_level(logging.ERROR, logger="petf2i_core.generation.openai_backend")
    outputs = _backend(server, max_retries=2).generate([_request("a", "bad"), _request("b", "always500")])

    assert outputs[0].error == "BadRequestError: 400"
    messages = [record.getMessage() for record in caplog.records]
    assert "request a to test-model failed after 1 attempt(s): BadRequestError (HTTP 400)" in messages
    assert "request b to test-model failed after 3 attempt(s): InternalServerError (HTTP 503)" in messages


def test_truncated_output_finish_length(server, api_key):
    output = _backend(server).generate([_request("a", "length")])[0]

    assert output.text == "Truncated impress"
    assert output.finish_reason == "length"


def test_empty_content_recorded(server, api_key):
    output = _backend(server).generate([_request("a", "empty")])[0]

    assert output.empty
    assert output.text == ""
    assert output.finish_reason == "length"
    assert output.output_tokens == 64
    assert output.error is None


def test_concurrency_is_bounded(server, api_key):
    outputs = _backend(server, max_concurrency=2).generate([_request(f"r{i}", "busy") for i in range(8)])

    assert [o.id for o in outputs] == [f"r{i}" for i in range(8)]
    assert server.max_in_flight == 2


def test_missing_key_variable(monkeypatch, server):
    monkeypatch.delenv("PETF2I_TEST_API_KEY", raising=False)

    with pytest.raises(RuntimeError, match="PETF2I_TEST_API_KEY"):
        _backend(server)


REPORTS = [
    Report("p1", "Right upper lobe nodule CASE=ok with SUVmax 5.2.", "Suspicious nodule.", "en"),
    Report("p2", "Liver mass CASE=err500 with intense uptake.", "Liver metastasis.", "en"),
    Report("p3", "Neck node CASE=always500 noted.", "Nodal disease.", "en"),
]


def _search(root: Path, secret: str) -> list[str]:
    return [str(path) for path in root.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()]


def test_http_client_loggers_quieted(server, api_key, monkeypatch):
    import openai

    # The HTTP client package the installed openai sends through: httpx2 from openai 3, httpx before.
    client_package = "httpx2" if hasattr(openai._base_client, "httpx2") else "httpx"
    for name in ("openai", client_package, client_package.replace("httpx", "httpcore")):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
    monkeypatch.setattr(logging.getLogger(), "level", logging.DEBUG)
    _backend(server)

    for name in ("openai", client_package, client_package.replace("httpx", "httpcore")):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.INFO, name


def test_api_key_never_logged_or_stored(server, api_key, tmp_path, caplog, capsys):
    log_file = tmp_path / "debug.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    entry = ModelEntry(name="test-api", family="frontier", backend="openai", hub_id="test-model",
                       base_url=server.base_url, api_key_env="PETF2I_TEST_API_KEY")
    try:
        rows = generate_predictions(entry, REPORTS, cache_dir=tmp_path / "cache",
                                    backend_options={"backoff_s": 0.05, "max_retries": 2})
        write_jsonl(tmp_path / "out.jsonl", rows)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    captured = capsys.readouterr()

    assert server.auth_headers[0] == f"Bearer {api_key}"
    assert [row["finish_reason"] for row in rows] == ["stop", "stop", "error"]
    assert "retrying" in caplog.text
    assert api_key not in caplog.text
    assert api_key not in captured.out + captured.err
    assert _search(tmp_path, api_key) == []
    assert "Right upper lobe nodule" not in log_file.read_text(encoding="utf-8")


def test_cli_registry_entry_local_server(server, tmp_path):
    key = "sk-petf2i-cli-" + uuid.uuid4().hex
    data = tmp_path / "test.jsonl"
    write_jsonl(data, REPORTS[:2])
    out = tmp_path / "pred.jsonl"
    env = {**os.environ, "OPENAI_API_KEY": key}

    result = subprocess.run(
        [sys.executable, "-m", "petf2i_core.cli.main", "-v", "generate", "--model", "gpt-4o", "--data", str(data),
         "--out", str(out), "--base-url", server.base_url, "--max-new-tokens", "16"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]

    assert result.returncode == 0, result.stderr[-2000:]
    assert [row["prediction"] for row in rows] == ["Impression 1.", "Impression 3."]
    assert server.bodies[0]["model"] == "gpt-4o"
    assert key not in result.stdout + result.stderr
    assert _search(tmp_path, key) == []
