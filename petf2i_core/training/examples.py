"""Training examples built with the same prompt code and chat template as inference.

An example is the prompt ids (chat template applied once, so at most one BOS),
then the response ids, then the end-of-turn and EOS ids. Labels are -100 on every
prompt position and equal to the input ids on the response and end tokens, so the
model learns to stop even when the tokenizer's pad token is its EOS token.
Labels are assigned by position, never by comparing a token with the pad id.
"""

from __future__ import annotations

import logging
import random
from dataclasses import asdict, dataclass
from typing import Any, Sequence

from petf2i_core.data.records import Report
from petf2i_core.generation.prompts import build_prompt, encode_prompt, get_template

logger = logging.getLogger(__name__)

IGNORE_INDEX = -100
_RESPONSE_MARKER = "PETF2I_RESPONSE_MARKER"


@dataclass
class TrainExample:
    """One tokenized training example.

    Fields:
        input_ids: prompt, response and end-token ids.
        labels: -100 on prompt positions, the token id on supervised positions.
        report_id: id of the source report.
        truncated: whether the findings were shortened to fit ``max_seq_length``.
    """

    input_ids: list[int]
    labels: list[int]
    report_id: str = ""
    truncated: bool = False

    @property
    def num_supervised(self) -> int:
        """Number of positions that contribute to the loss."""
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


@dataclass
class ExampleCounts:
    """Counts of reports kept, truncated, dropped and rejected while building examples.

    Fields:
        reports: reports received.
        kept: examples built.
        truncated: kept examples whose findings were shortened.
        dropped_too_long: reports longer than ``max_seq_length`` that were skipped,
            either by the ``drop`` policy or because the impression alone does not fit.
        rejected_no_supervised: reports whose response has no token (empty impression).
    """

    reports: int = 0
    kept: int = 0
    truncated: int = 0
    dropped_too_long: int = 0
    rejected_no_supervised: int = 0

    def to_dict(self) -> dict[str, int]:
        """Return the counts as a dict."""
        return asdict(self)


def label_example(prompt_ids: Sequence[int], response_ids: Sequence[int], end_ids: Sequence[int]) -> TrainExample:
    """Concatenate prompt, response and end ids and label every non-prompt position.

    >>> label_example([11, 12, 13], [21, 22], [2]).labels
    [-100, -100, -100, 21, 22, 2]
    """
    input_ids = list(prompt_ids) + list(response_ids) + list(end_ids)
    labels = [IGNORE_INDEX] * len(prompt_ids) + list(response_ids) + list(end_ids)
    return TrainExample(input_ids=input_ids, labels=labels)


def end_of_turn_ids(tokenizer: Any, chat: bool) -> list[int]:
    """Return the ids that close an assistant turn, ending with the EOS id.

    For a chat template these are the special tokens the template writes right
    after the assistant's text (``<|im_end|>`` for ChatML, ``<end_of_turn>`` for
    Gemma), trailing newlines left out; EOS is appended when it is not already the
    last of them. Base-style prompts end with EOS only.
    """
    eos_id = tokenizer.eos_token_id
    if eos_id is None:
        raise ValueError(
            f"tokenizer of {getattr(tokenizer, 'name_or_path', '?')!r} has no EOS token; "
            "set tokenizer.eos_token before training"
        )
    ids: list[int] = []
    if chat:
        ids = _template_turn_end(tokenizer)
    if not ids or ids[-1] != eos_id:
        ids.append(eos_id)
    return ids


def _template_turn_end(tokenizer: Any) -> list[int]:
    messages = [{"role": "user", "content": "x"}, {"role": "assistant", "content": _RESPONSE_MARKER}]
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    suffix = text.split(_RESPONSE_MARKER, 1)[1]
    suffix_ids = list(tokenizer(suffix, add_special_tokens=False)["input_ids"])

    special = set(tokenizer.all_special_ids)
    last_special = max((i for i, token in enumerate(suffix_ids) if token in special), default=-1)
    return suffix_ids[: last_special + 1]


def encode_example(
    tokenizer: Any,
    template_name: str,
    findings: str,
    impression: str,
    language: str,
    max_length: int,
    truncation: str = "truncate_findings",
    end_ids: Sequence[int] | None = None,
) -> tuple[TrainExample | None, str]:
    """Tokenize one findings-impression pair; return ``(example, status)``.

    ``status`` is ``"kept"``, ``"truncated"``, ``"dropped_too_long"`` or
    ``"rejected_no_supervised"`` (then the example is None). Truncation only cuts
    the end of the findings text, never the impression.
    """
    template = get_template(template_name)
    response_ids = list(tokenizer(impression.strip(), add_special_tokens=False)["input_ids"])
    if not response_ids:
        return None, "rejected_no_supervised"
    if end_ids is None:
        end_ids = end_of_turn_ids(tokenizer, template.chat)

    def prompt_ids_for(text: str) -> list[int]:
        prompt = build_prompt(template, text, language)
        return encode_prompt(tokenizer, prompt, chat=template.chat)

    prompt_ids = prompt_ids_for(findings)
    response_length = len(response_ids) + len(end_ids)
    if len(prompt_ids) + response_length <= max_length:
        return label_example(prompt_ids, response_ids, end_ids), "kept"
    if truncation == "drop":
        return None, "dropped_too_long"

    findings_ids = list(tokenizer(findings, add_special_tokens=False)["input_ids"])
    keep = len(findings_ids) - (len(prompt_ids) + response_length - max_length)
    while keep > 0:
        # A cut inside a multi-byte character decodes to U+FFFD, so it is removed.
        shortened = tokenizer.decode(findings_ids[:keep]).rstrip("\ufffd")
        prompt_ids = prompt_ids_for(shortened)
        overflow = len(prompt_ids) + response_length - max_length
        if overflow <= 0:
            example = label_example(prompt_ids, response_ids, end_ids)
            example.truncated = True
            return example, "truncated"
        keep -= max(overflow, 1)
    return None, "dropped_too_long"


def select_fraction(reports: Sequence[Report], fraction: float, seed: int) -> list[Report]:
    """Return a seeded random subset of ``fraction`` of the reports (at least one), in input order."""
    if fraction >= 1.0:
        return list(reports)
    count = max(1, round(len(reports) * fraction))
    chosen = sorted(random.Random(seed).sample(range(len(reports)), count))
    return [reports[index] for index in chosen]


def build_examples(
    reports: Sequence[Report],
    tokenizer: Any,
    template_name: str,
    max_length: int,
    prompt_language: str = "report",
    truncation: str = "truncate_findings",
) -> tuple[list[TrainExample], ExampleCounts]:
    """Tokenize reports into training examples and count the truncated, dropped and rejected ones."""
    template = get_template(template_name)
    end_ids = end_of_turn_ids(tokenizer, template.chat)
    counts = ExampleCounts(reports=len(reports))
    examples: list[TrainExample] = []

    for report in reports:
        language = report.language if prompt_language == "report" else prompt_language
        example, status = encode_example(
            tokenizer, template_name, report.findings, report.impression, language,
            max_length, truncation, end_ids,
        )
        if example is None:
            setattr(counts, status, getattr(counts, status) + 1)
            continue
        example.report_id = report.id
        counts.truncated += int(example.truncated)
        examples.append(example)

    counts.kept = len(examples)
    if counts.kept < counts.reports:
        logger.warning(
            "built %d examples from %d reports: %d dropped as too long, %d rejected with no supervised token",
            counts.kept, counts.reports, counts.dropped_too_long, counts.rejected_no_supervised,
        )
    return examples, counts
