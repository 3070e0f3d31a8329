"""Crash-safe, append-only JSONL cache of generation records, keyed by a hash of the request.

Each completed batch is appended with one ``write`` call followed by ``flush`` and
``os.fsync``. A process killed at any moment can leave at most one torn last
line, from the batch in flight. :meth:`GenerationCache.load` ignores that line
and truncates the file back to the last complete record, so the next append
starts on a clean line. A key already stored is never appended again, so
a rerun skips finished requests and never duplicates a record.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Iterable

logger = logging.getLogger(__name__)

CACHE_FILE = "generations.jsonl"


def request_key(
    model_id: str,
    model_revision: str,
    adapter_hash: str,
    template_hash: str,
    prompt_text: str,
    decoding: dict[str, Any],
    seed: int,
) -> str:
    """Return the SHA-256 (hex) identifying one request; the seed is included so sampled outputs are never shared."""
    payload = json.dumps(
        {
            "model": model_id,
            "revision": model_revision,
            "adapter": adapter_hash,
            "template": template_hash,
            "prompt": prompt_text,
            "decoding": decoding,
            "seed": seed,
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class GenerationCache:
    """Generation records in ``<cache_dir>/generations.jsonl``, indexed by their ``key`` field."""

    def __init__(self, cache_dir: str | Path):
        self.path = Path(cache_dir) / CACHE_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.records: dict[str, dict[str, Any]] = {}
        self.load()

    def load(self) -> None:
        """Read every complete record; truncate a torn last line left by a killed writer.

        Raise ValueError naming the line when a record before the last one is
        invalid, because that is damage a crash cannot cause.
        """
        self.records.clear()
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        valid_bytes = 0
        for line_number, line in enumerate(lines, start=1):
            is_last = line_number == len(lines)
            if is_last and not line:
                break  # the file ends with a newline
            record = self._parse(line, line_number, torn_allowed=is_last)
            if record is None:
                break
            self.records.setdefault(record["key"], record)
            valid_bytes += len(line) + 1

        if valid_bytes < len(data):
            logger.warning("truncating a torn last record in %s (%d bytes)", self.path, len(data) - valid_bytes)
            with self.path.open("r+b") as handle:
                handle.truncate(valid_bytes)
                handle.flush()
                os.fsync(handle.fileno())

    def _parse(self, line: bytes, line_number: int, torn_allowed: bool) -> dict[str, Any] | None:
        try:
            record = json.loads(line.decode("utf-8"))
            if not isinstance(record, dict) or "key" not in record:
                raise ValueError("not a record with a 'key' field")
            return record
        except (UnicodeDecodeError, ValueError) as error:
            if torn_allowed:
                return None
            raise ValueError(
                f"{self.path}:{line_number}: invalid cache record ({error}); "
                "the file is damaged beyond a torn last line; move it away to regenerate"
            ) from error

    def get(self, key: str) -> dict[str, Any] | None:
        """Return the stored record for ``key``, or None."""
        return self.records.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def __len__(self) -> int:
        return len(self.records)

    def append(self, records: Iterable[dict[str, Any]]) -> int:
        """Append the records whose key is new, durably (write, flush, fsync); return how many were written."""
        new = []
        for record in records:
            if record["key"] in self.records or any(record["key"] == other["key"] for other in new):
                continue
            new.append(record)
        if not new:
            return 0

        payload = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in new).encode("utf-8")
        with self.path.open("ab") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        for record in new:
            self.records[record["key"]] = record
        return len(new)
