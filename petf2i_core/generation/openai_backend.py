"""Generation through any OpenAI-compatible chat-completions endpoint.

Requests run in a bounded thread pool. A 429, a 5xx, a timeout or a dropped
connection is retried with exponential backoff, waiting at least the delay in the
server's ``Retry-After`` header. A reply without content (a reasoning model
that spent its token budget on hidden reasoning) is recorded as an empty output
with the provider's finish reason. A request that still fails after all retries
becomes an output with ``finish_reason="error"`` and the error message, so one bad
request does not lose a whole batch.

The API key comes only from the environment variable named by ``api_key_env``;
it is never logged or stored.
"""

from __future__ import annotations

import logging
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from petf2i_core.generation.base import (
    FINISH_ERROR,
    Backend,
    DecodingParams,
    GenerationOutput,
    GenerationRequest,
    finish_output,
    register_backend,
)

logger = logging.getLogger(__name__)

MAX_BACKOFF_S = 60.0
# At DEBUG these libraries log request bodies, which contain report text; keep them at INFO or above.
# openai 3.x sends through httpx2 and httpcore2, earlier versions through httpx and httpcore.
_HTTP_LOGGERS = ("openai", "httpx", "httpcore", "httpx2", "httpcore2")


def quiet_http_loggers() -> None:
    """Raise the loggers of _HTTP_LOGGERS to INFO so that DEBUG logging never records prompts."""
    for name in _HTTP_LOGGERS:
        http_logger = logging.getLogger(name)
        if http_logger.getEffectiveLevel() < logging.INFO:
            http_logger.setLevel(logging.INFO)


def _retry_after_seconds(error: Exception) -> float | None:
    """Return the Retry-After delay of an HTTP error in seconds, if the server sent one as a number."""
    response = getattr(error, "response", None)
    if response is None:
        return None
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date; fall back to exponential backoff


class RequestFailedError(Exception):
    """A request that failed for good, with the last error and the number of attempts made."""

    def __init__(self, error: Exception, attempts: int) -> None:
        super().__init__(f"{type(error).__name__} after {attempts} attempt(s)")
        self.error = error
        self.attempts = attempts


@register_backend("openai")
class OpenAIBackend(Backend):
    """Chat completions from an OpenAI-compatible server, with bounded concurrency and retries.

    Args:
        model: the provider's model id (``hub_id`` in the registry).
        base_url: endpoint URL, for example ``https://api.openai.com/v1``.
        api_key_env: name of the environment variable containing the API key.
        decoding: decoding settings (greedy maps to temperature 0).
        max_concurrency: maximum number of requests in flight.
        max_retries: retries per request after the first attempt.
        timeout_s: per-request timeout in seconds.
        backoff_s: first backoff delay in seconds, doubled on each retry.
        max_tokens_param: ``"max_tokens"`` or ``"max_completion_tokens"`` (OpenAI reasoning models).
        reasoning: a reasoning model; temperature, top_p and stop are left out of
            the request because OpenAI's o-series models reject them.
    """

    remote = True

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        decoding: DecodingParams | None = None,
        max_concurrency: int = 4,
        max_retries: int = 5,
        timeout_s: float = 60.0,
        backoff_s: float = 1.0,
        max_tokens_param: str = "max_tokens",
        reasoning: bool = False,
        **_: Any,
    ) -> None:
        import openai

        super().__init__()
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise RuntimeError(
                f"environment variable {api_key_env} is not set; export the API key for {model} there "
                "(keys are read only from the environment)"
            )
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self.model_id, self.model_revision = model, base_url or "default"
        self.decoding = decoding or DecodingParams()
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_tokens_param = max_tokens_param
        self.reasoning = reasoning
        quiet_http_loggers()
        # The client's own retries are off so that every retry goes through _call_with_retries.
        self.client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0)
        self._openai = openai

    def generate(self, requests: list[GenerationRequest]) -> list[GenerationOutput]:
        """Send all requests, at most ``max_concurrency`` at a time; return outputs in request order."""
        with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
            return list(pool.map(self._complete, requests))

    def _body(self, request: GenerationRequest) -> dict[str, Any]:
        messages = request.prompt if request.chat else [{"role": "user", "content": str(request.prompt)}]
        body: dict[str, Any] = {
            "model": self.model_id,
            "messages": messages,
            self.max_tokens_param: self.decoding.max_new_tokens,
            "seed": self.decoding.seed,
        }
        if self.reasoning:
            return body
        if self.decoding.do_sample:
            body.update(temperature=self.decoding.temperature, top_p=self.decoding.top_p)
        else:
            body["temperature"] = 0.0
        if request.stop:
            body["stop"] = list(request.stop)[:4]  # the OpenAI API accepts at most 4 stop sequences
        return body

    def _complete(self, request: GenerationRequest) -> GenerationOutput:
        started = time.perf_counter()
        try:
            response = self._call_with_retries(request)
        except RequestFailedError as failure:
            error = failure.error
            status = getattr(error, "status_code", None)
            # The provider's message is not logged, because some gateways echo the API key in it.
            logger.error("request %s to %s failed after %d attempt(s): %s%s", request.id, self.model_id,
                         failure.attempts, type(error).__name__, f" (HTTP {status})" if status else "")
            return finish_output(request.id, "", FINISH_ERROR, latency_s=time.perf_counter() - started,
                                 error=f"{type(error).__name__}: {status or ''}".rstrip(": "))
        latency = time.perf_counter() - started

        choice = response.choices[0] if response.choices else None
        content = (choice.message.content if choice is not None and choice.message is not None else None) or ""
        finish_reason = (choice.finish_reason if choice is not None else None) or "unknown"
        usage = response.usage
        if not content.strip():
            logger.warning("request %s: %s returned empty content (finish_reason %s)", request.id, self.model_id, finish_reason)
        return finish_output(
            request.id, content, finish_reason,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            latency_s=latency,
        )

    def _call_with_retries(self, request: GenerationRequest) -> Any:
        """Send one request and retry transient errors. Raise RequestFailedError when it fails for good."""
        body = self._body(request)
        for attempt in range(self.max_retries + 1):
            try:
                return self.client.chat.completions.create(**body)
            except (self._openai.RateLimitError, self._openai.InternalServerError,
                    self._openai.APITimeoutError, self._openai.APIConnectionError) as error:
                if attempt == self.max_retries:
                    raise RequestFailedError(error, attempt + 1) from error
                delay = self._backoff(attempt, error)
                logger.warning("request %s: %s (attempt %d of %d); retrying in %.2f s", request.id,
                               type(error).__name__, attempt + 1, self.max_retries + 1, delay)
                time.sleep(delay)
            except self._openai.APIStatusError as error:
                if error.status_code < 500 or attempt == self.max_retries:
                    raise RequestFailedError(error, attempt + 1) from error
                delay = self._backoff(attempt, error)
                logger.warning("request %s: HTTP %d (attempt %d); retrying in %.2f s", request.id, error.status_code, attempt + 1, delay)
                time.sleep(delay)
            except self._openai.APIError as error:  # an invalid response body, for example
                raise RequestFailedError(error, attempt + 1) from error
        raise AssertionError("unreachable: the loop returns or raises")

    def _backoff(self, attempt: int, error: Exception) -> float:
        exponential = self.backoff_s * (2 ** attempt) * (1 + 0.1 * random.random())
        retry_after = _retry_after_seconds(error)
        return min(MAX_BACKOFF_S, max(exponential, retry_after or 0.0))
