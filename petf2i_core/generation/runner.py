"""Generate impressions for a list of reports with any registry model, cached and resumable.

:func:`generate_predictions` is what the study notebooks and ``petf2i generate``
call. It builds one prompt per report, skips the requests already in the cache,
generates the rest batch by batch, and appends each finished batch to the cache
before starting the next, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any, Sequence

from petf2i_core.data.records import Report
from petf2i_core.generation.base import FINISH_ERROR, DecodingParams, GenerationOutput, GenerationRequest, get_backend
from petf2i_core.generation.cache import GenerationCache, request_key
from petf2i_core.generation.prompts import ExampleRetriever, build_prompt, get_template
from petf2i_core.models.registry import ModelEntry, check_remote_allowed, get_model

logger = logging.getLogger(__name__)

NO_TEMPLATE = "none"


def resolve_entry(entry_or_name: ModelEntry | str, registry: dict[str, ModelEntry] | None = None) -> ModelEntry:
    """Return a registry entry; a name not in the registry but naming a local model folder gets an ad hoc hf entry."""
    if isinstance(entry_or_name, ModelEntry):
        return entry_or_name
    try:
        return get_model(entry_or_name, registry)
    except KeyError:
        if Path(entry_or_name).expanduser().is_dir():
            return ModelEntry(name=Path(entry_or_name).name, family="open", backend="hf", hub_id=str(entry_or_name))
        raise


def build_requests(
    reports: Sequence[Report],
    template_name: str,
    train_reports: Sequence[Report] | None = None,
) -> list[GenerationRequest]:
    """Build one request per report; few-shot templates retrieve examples from ``train_reports``.

    A report never serves as its own example (examples with the same id are skipped).
    """
    if template_name == NO_TEMPLATE:
        return [GenerationRequest(r.id, r.findings, chat=False, findings=r.findings, language=r.language) for r in reports]

    template = get_template(template_name)
    retriever = None
    if template.k_shot > 0:
        if not train_reports:
            raise ValueError(f"template {template.name!r} is {template.k_shot}-shot and needs train_reports to retrieve examples from")
        retriever = ExampleRetriever(train_reports)

    requests = []
    for report in reports:
        examples = retriever.retrieve(report.findings, report.language, template.k_shot, exclude_ids=[report.id]) if retriever else []
        prompt = build_prompt(template, report.findings, report.language, examples)
        requests.append(GenerationRequest(report.id, prompt, chat=template.chat, stop=template.stop,
                                          findings=report.findings, language=report.language))
    return requests


def _model_revision(entry: ModelEntry, base_url: str | None) -> str:
    """Return the revision part of the cache key without loading the model."""
    if entry.is_baseline:
        return ""
    if entry.remote:
        # A local test server and the provider's endpoint must never share cached outputs.
        return f"{entry.revision or 'api'}@{base_url or entry.base_url or 'default'}"
    from petf2i_core.models.loading import resolve_model, weights_fingerprint

    return entry.revision or weights_fingerprint(resolve_model(entry.hub_id or entry.name))


def _build_backend(entry: ModelEntry, decoding: DecodingParams, batch_size: int, adapter: str | Path | None,
                   train_reports: Sequence[Report] | None, base_url: str | None, backend_name: str | None,
                   backend_options: dict[str, Any]) -> Any:
    name = backend_name or entry.backend
    if entry.is_baseline:
        backend = get_backend(name)
        if name == "retrieval":
            if not train_reports:
                raise ValueError("the retrieval baseline needs train_reports")
            backend.fit(train_reports)
        return backend
    if name == "openai":
        return get_backend(name, model=entry.hub_id, base_url=base_url or entry.base_url,
                           api_key_env=entry.api_key_env or "OPENAI_API_KEY", decoding=decoding,
                           max_tokens_param="max_completion_tokens" if entry.reasoning and entry.provider == "openai" else "max_tokens",
                           reasoning=entry.reasoning, **backend_options)
    if name == "hf" and entry.trust_remote_code:
        backend_options.setdefault("trust_remote_code", True)
    return get_backend(name, model=entry.hub_id or entry.name, adapter=adapter, decoding=decoding,
                       batch_size=batch_size, revision=entry.revision, **backend_options)


def generate_predictions(
    entry_or_name: ModelEntry | str,
    reports: list[Report],
    *,
    template: str | None = None,
    cache_dir: str | Path,
    train_reports: Sequence[Report] | None = None,
    adapter: str | Path | None = None,
    max_new_tokens: int = 256,
    batch_size: int = 8,
    seed: int = 0,
    private: bool = False,
    allow_remote: bool = False,
    base_url: str | None = None,
    backend: str | None = None,
    backend_options: dict[str, Any] | None = None,
    registry: dict[str, ModelEntry] | None = None,
    **decoding: Any,
) -> list[dict[str, Any]]:
    """Generate an impression for every report, reusing cached outputs; return one row per report.

    Each row has ``id``, ``prediction`` and the record fields (model, revision,
    adapter hash, template hash, decoding parameters, seed, finish reason, token
    counts, latency, empty and repetition flags, error). ``decoding`` takes the
    other :class:`DecodingParams` fields (do_sample, temperature, top_p,
    repetition_penalty, no_repeat_ngram_size). Outputs that failed with an error
    are returned but not cached, so a rerun retries them. Raise PrivateDataError
    when ``private`` data would reach a remote model without ``allow_remote``.
    """
    entry = resolve_entry(entry_or_name, registry)
    if backend and backend != entry.backend and not entry.is_baseline:
        # The backend that runs decides whether reports leave the machine and how the
        # cache names the model, so a local entry sent to --backend openai counts as remote.
        entry = dataclasses.replace(entry, backend=backend)
    check_remote_allowed(entry, private, allow_remote)
    template_name = NO_TEMPLATE if entry.is_baseline else (template or entry.template)
    template_hash = NO_TEMPLATE if template_name == NO_TEMPLATE else get_template(template_name).hash
    params = DecodingParams(max_new_tokens=max_new_tokens, seed=seed, **decoding)

    from petf2i_core.generation.hf import adapter_fingerprint

    adapter_hash = adapter_fingerprint(adapter) if adapter is not None else ""
    revision = _model_revision(entry, base_url)
    if entry.name == "retrieval" or (backend or entry.backend) == "retrieval":
        revision = _training_revision(train_reports)

    requests = build_requests(reports, template_name, train_reports)
    keys = [request_key(entry.hub_id or entry.name, revision, adapter_hash, template_hash,
                        json.dumps(request.prompt, ensure_ascii=False), params.to_dict(), seed) for request in requests]
    cache = GenerationCache(cache_dir)
    pending = [index for index, key in enumerate(keys) if key not in cache]
    logger.info("%s: %d of %d requests cached, %d to generate", entry.name, len(reports) - len(pending), len(reports), len(pending))

    context = {"model": entry.name, "model_id": entry.hub_id or entry.name, "model_revision": revision,
               "adapter": str(adapter) if adapter else None, "adapter_hash": adapter_hash, "backend": backend or entry.backend,
               "template": template_name, "template_hash": template_hash, "decoding": params.to_dict(), "seed": seed}
    failed: dict[str, dict[str, Any]] = {}
    if pending:
        engine = _build_backend(entry, params, batch_size, adapter, train_reports, base_url, backend, dict(backend_options or {}))
        failed = _generate_pending(engine, requests, keys, pending, batch_size, cache, context)

    rows = []
    for request, key in zip(requests, keys):
        record = cache.get(key) or failed[key]
        rows.append({**record, "id": request.id})
    return rows


def _training_revision(train_reports: Sequence[Report] | None) -> str:
    import hashlib

    ids = "\n".join(sorted(report.id for report in train_reports or ()))
    return "train-" + hashlib.sha256(ids.encode("utf-8")).hexdigest()[:16]


def _generate_pending(engine: Any, requests: list[GenerationRequest], keys: list[str], pending: list[int],
                      batch_size: int, cache: GenerationCache, context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Generate pending requests longest first, appending each batch to the cache; return the failed records."""
    from tqdm.auto import tqdm

    order = sorted(pending, key=lambda index: (-len(json.dumps(requests[index].prompt, ensure_ascii=False)), index))
    failed: dict[str, dict[str, Any]] = {}
    for start in tqdm(range(0, len(order), batch_size), desc=f"generate {context['model']}", unit="batch"):
        batch = order[start: start + batch_size]
        started = time.perf_counter()
        outputs = engine.generate([requests[index] for index in batch])
        batch_seconds = time.perf_counter() - started
        records = [_record(output, keys[index], context, len(batch), batch_seconds) for index, output in zip(batch, outputs)]

        done = [record for record in records if record["finish_reason"] != FINISH_ERROR]
        failed.update({record["key"]: record for record in records if record["finish_reason"] == FINISH_ERROR})
        cache.append(done)
    if failed:
        logger.error("%s: %d requests failed and were not cached; rerun to retry them", context["model"], len(failed))
    return failed


def _record(output: GenerationOutput, key: str, context: dict[str, Any], batch_size: int, batch_seconds: float) -> dict[str, Any]:
    return {
        "key": key,
        "id": output.id,
        "prediction": output.text,
        **context,
        "finish_reason": output.finish_reason,
        "prompt_tokens": output.prompt_tokens,
        "output_tokens": output.output_tokens,
        "latency_s": round(output.latency_s, 4),
        "batch_size": batch_size,
        "batch_latency_s": round(batch_seconds, 4),
        "empty": output.empty,
        "repetition": output.repetition,
        "error": output.error,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def summarize_run(rows: list[dict[str, Any]], entry: ModelEntry | None = None) -> dict[str, Any]:
    """Summarize a run: counts, token totals, throughput and (for API models with prices) cost in USD.

    Throughput is output tokens per second of generation wall time, where each
    batch's wall time (``batch_latency_s``) is counted once.
    """
    prompt_tokens = sum(row.get("prompt_tokens", 0) for row in rows)
    output_tokens = sum(row.get("output_tokens", 0) for row in rows)
    seconds = sum(row.get("batch_latency_s", 0.0) / max(1, row.get("batch_size", 1)) for row in rows)
    model = entry.name if entry is not None else None
    if rows:
        model = rows[0]["model"]
    summary = {
        "model": model,
        "n": len(rows),
        "empty": sum(bool(row.get("empty")) for row in rows),
        "repetition": sum(bool(row.get("repetition")) for row in rows),
        "errors": sum(row.get("finish_reason") == FINISH_ERROR for row in rows),
        "finish_reasons": _count(row.get("finish_reason") for row in rows),
        "prompt_tokens": prompt_tokens,
        "output_tokens": output_tokens,
        "generation_seconds": round(seconds, 3),
        "output_tokens_per_second": round(output_tokens / seconds, 3) if seconds > 0 else None,
        "cost_usd": None,
    }
    if entry is not None and entry.remote:
        summary["cost_usd"] = entry.cost_usd(prompt_tokens, output_tokens)
        summary["price_date"] = entry.price_date
    return summary


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return counts

