"""Versioned prompt templates for impression generation, shared by generation and training.

A template exists in Chinese and English and comes in one of two styles:

* ``chat``: a list of messages (system, then the few-shot examples as user and
  assistant turns, then the query) that the model's chat template renders.
* ``base``: plain text for base models, ``Findings: ...\\nImpression: ...`` blocks
  separated by a blank line. Generation stops at the blank line or at the next
  findings label.

Every template has a :attr:`PromptTemplate.hash` over all of its texts, so a
stored prediction names the exact prompt wording that produced it. Change a text
and bump ``version``; the hash changes either way.

:func:`encode_prompt` tokenizes a prompt so that it starts with exactly one BOS
token: a chat template is applied once with ``tokenize=True``, and plain text is
tokenized with ``add_special_tokens=False`` (a chat template that emits BOS itself,
tokenized again with special tokens on, would give two).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from petf2i_core.data.records import Report

logger = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class PromptTemplate:
    """A named, versioned prompt in Chinese and English.

    Fields:
        name: registry name, for example ``"zero-shot"``.
        version: bumped whenever a text changes.
        style: ``"chat"`` (messages for a chat template) or ``"base"`` (plain text).
        k_shot: number of training examples to retrieve; 0 for zero-shot.
        system: system message per language (chat style; empty for none).
        instruction: user-turn text per language with a ``{findings}`` placeholder.
        findings_label: label before the findings per language (base style).
        impression_label: label before the impression per language (base style).
        stop: strings that end a base-style completion; the hf backend cuts the
            output at the first one.
    """

    name: str
    version: str
    style: str
    k_shot: int
    system: dict[str, str] = field(default_factory=dict)
    instruction: dict[str, str] = field(default_factory=dict)
    findings_label: dict[str, str] = field(default_factory=dict)
    impression_label: dict[str, str] = field(default_factory=dict)
    stop: tuple[str, ...] = ()

    @property
    def chat(self) -> bool:
        """Whether the template produces chat messages rather than plain text."""
        return self.style == "chat"

    @property
    def hash(self) -> str:
        """First 16 hex digits of the SHA-256 of every field, in canonical JSON."""
        payload = json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def check_language(self, language: str) -> str:
        """Return ``language`` if the template has texts for it, else raise ValueError."""
        if language not in LANGUAGES:
            raise ValueError(
                f"unsupported report language {language!r} for template {self.name!r}; "
                f"set Report.language to one of {LANGUAGES}"
            )
        return language


_SYSTEM = {
    "zh": "你是一名经验丰富的核医学科医师，负责根据PET/CT检查所见撰写诊断意见。",
    "en": "You are an experienced nuclear medicine physician who writes the impression of PET/CT reports.",
}
_INSTRUCTION = {
    "zh": "请根据以下PET/CT检查所见，写出简明的诊断意见（印象），只输出诊断意见。\n\n检查所见：\n{findings}",
    "en": (
        "Write a concise impression for the following PET/CT findings. "
        "Output only the impression.\n\nFindings:\n{findings}"
    ),
}
_FINDINGS_LABEL = {"zh": "检查所见：", "en": "Findings:"}
_IMPRESSION_LABEL = {"zh": "诊断意见：", "en": "Impression:"}
_BASE_STOP = ("\n\n", "检查所见：", "Findings:")

TEMPLATES: dict[str, PromptTemplate] = {
    template.name: template
    for template in (
        PromptTemplate(
            name="zero-shot", version="1", style="chat", k_shot=0,
            system=_SYSTEM, instruction=_INSTRUCTION,
        ),
        PromptTemplate(
            name="few-shot", version="1", style="chat", k_shot=3,
            system=_SYSTEM, instruction=_INSTRUCTION,
        ),
        PromptTemplate(
            name="base-few-shot", version="1", style="base", k_shot=3,
            findings_label=_FINDINGS_LABEL, impression_label=_IMPRESSION_LABEL, stop=_BASE_STOP,
        ),
        # One retrieved example keeps base-model prompts short enough for CPU runs.
        PromptTemplate(
            name="base-one-shot", version="1", style="base", k_shot=1,
            findings_label=_FINDINGS_LABEL, impression_label=_IMPRESSION_LABEL, stop=_BASE_STOP,
        ),
        PromptTemplate(
            name="base-zero-shot", version="1", style="base", k_shot=0,
            findings_label=_FINDINGS_LABEL, impression_label=_IMPRESSION_LABEL, stop=_BASE_STOP,
        ),
    )
}


def get_template(name: str) -> PromptTemplate:
    """Return the registered template called ``name``; raise KeyError listing the known names."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise KeyError(f"unknown prompt template {name!r}; known templates: {sorted(TEMPLATES)}") from None


def _as_template(template: PromptTemplate | str) -> PromptTemplate:
    return get_template(template) if isinstance(template, str) else template


def build_messages(
    template: PromptTemplate | str,
    findings: str,
    language: str,
    examples: Sequence[Report] = (),
) -> list[dict[str, str]]:
    """Build the chat messages for one report: system, example turns, then the query.

    Each example becomes a user turn with its findings and an assistant turn with
    its impression. Raise ValueError for a base-style template (use
    :func:`build_prompt_text`).
    """
    template = _as_template(template)
    if not template.chat:
        raise ValueError(f"template {template.name!r} is base-style; call build_prompt_text instead")
    language = template.check_language(language)

    messages: list[dict[str, str]] = []
    if template.system.get(language):
        messages.append({"role": "system", "content": template.system[language]})

    instruction = template.instruction[language]
    for example in examples:
        messages.append({"role": "user", "content": instruction.format(findings=example.findings.strip())})
        messages.append({"role": "assistant", "content": example.impression.strip()})

    messages.append({"role": "user", "content": instruction.format(findings=findings.strip())})
    return messages


def build_prompt_text(
    template: PromptTemplate | str,
    findings: str,
    language: str,
    examples: Sequence[Report] = (),
) -> str:
    """Build the plain-text prompt of a base-style template, ending with the impression label.

    Findings and impressions are flattened to one line each, because a blank line
    ends a completion.
    """
    template = _as_template(template)
    if template.chat:
        raise ValueError(f"template {template.name!r} is chat-style; call build_messages instead")
    language = template.check_language(language)

    findings_label = template.findings_label[language]
    impression_label = template.impression_label[language]
    blocks = [
        f"{findings_label}{_one_line(example.findings)}\n{impression_label}{_one_line(example.impression)}"
        for example in examples
    ]
    blocks.append(f"{findings_label}{_one_line(findings)}\n{impression_label}")
    return "\n\n".join(blocks)


def build_prompt(
    template: PromptTemplate | str,
    findings: str,
    language: str,
    examples: Sequence[Report] = (),
) -> list[dict[str, str]] | str:
    """Build messages for a chat template or text for a base template."""
    template = _as_template(template)
    if template.chat:
        return build_messages(template, findings, language, examples)
    return build_prompt_text(template, findings, language, examples)


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.strip().splitlines() if part.strip())


def render_prompt(tokenizer: Any, messages_or_text: list[dict[str, str]] | str, chat: bool) -> str:
    """Return the prompt as text (for caching and logging), the chat template applied once."""
    if not chat:
        return str(messages_or_text)
    return _apply_chat_template(tokenizer, messages_or_text, tokenize=False)


def encode_prompt(tokenizer: Any, messages_or_text: list[dict[str, str]] | str, chat: bool) -> list[int]:
    """Tokenize a prompt so that it starts with exactly one BOS token.

    Chat prompts go through ``apply_chat_template(tokenize=True,
    add_generation_prompt=True)`` once. Plain text is tokenized with
    ``add_special_tokens=False`` and gets one BOS in front when the tokenizer
    normally adds one (Gemma, Llama). Leading duplicate BOS tokens are removed in
    both cases.
    """
    if chat:
        ids = _apply_chat_template(tokenizer, messages_or_text, tokenize=True)
    else:
        ids = list(tokenizer(str(messages_or_text), add_special_tokens=False)["input_ids"])
        bos_id = tokenizer.bos_token_id
        if bos_id is not None and _tokenizer_adds_bos(tokenizer) and (not ids or ids[0] != bos_id):
            ids = [bos_id] + ids
    return collapse_leading_bos(ids, tokenizer.bos_token_id)


def collapse_leading_bos(ids: list[int], bos_id: int | None) -> list[int]:
    """Drop repeated BOS tokens at the start of ``ids`` so that at most one remains."""
    if bos_id is None:
        return list(ids)
    start = 0
    while start + 1 < len(ids) and ids[start] == bos_id and ids[start + 1] == bos_id:
        start += 1
    return list(ids[start:])


def _tokenizer_adds_bos(tokenizer: Any) -> bool:
    with_special = tokenizer("a", add_special_tokens=True)["input_ids"]
    return bool(with_special) and with_special[0] == tokenizer.bos_token_id


def _apply_chat_template(tokenizer: Any, messages: list[dict[str, str]], tokenize: bool) -> Any:
    """Apply the chat template; fold the system message into the first user turn if rejected."""
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(
            f"tokenizer of {getattr(tokenizer, 'name_or_path', '?')!r} has no chat template; "
            "use a base-style prompt template such as 'base-few-shot'"
        )
    try:
        rendered = tokenizer.apply_chat_template(messages, tokenize=tokenize, add_generation_prompt=True)
    except Exception as error:  # jinja2 raises TemplateError from raise_exception(); some templates forbid system turns
        if not messages or messages[0]["role"] != "system":
            raise
        logger.debug("chat template rejected a system message (%s); folding it into the first user turn", error)
        rendered = tokenizer.apply_chat_template(
            fold_system_message(messages), tokenize=tokenize, add_generation_prompt=True
        )
    if tokenize:
        # transformers 5 returns a BatchEncoding; 4.x returns the list of ids.
        if hasattr(rendered, "keys") and "input_ids" in rendered:
            rendered = rendered["input_ids"]
        return list(rendered)
    return rendered


def fold_system_message(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """Merge a leading system message into the first user message (for templates without a system role)."""
    if not messages or messages[0]["role"] != "system":
        return list(messages)
    system, rest = messages[0]["content"], [dict(message) for message in messages[1:]]
    for message in rest:
        if message["role"] == "user":
            message["content"] = f"{system}\n\n{message['content']}"
            break
    return rest


class ExampleRetriever:
    """TF-IDF nearest neighbours over the findings of training reports, for few-shot examples.

    Chinese uses character 1-3-grams (no word segmentation needed); English uses
    word unigrams and bigrams. Reports are grouped by language, and a query is
    matched only against training reports of its own language.
    """

    def __init__(self, train_reports: Sequence[Report]):
        from sklearn.feature_extraction.text import TfidfVectorizer

        if not train_reports:
            raise ValueError("ExampleRetriever needs at least one training report")
        self._reports: dict[str, list[Report]] = {}
        for report in train_reports:
            self._reports.setdefault(report.language, []).append(report)

        self._vectorizers: dict[str, Any] = {}
        self._matrices: dict[str, Any] = {}
        for language, reports in self._reports.items():
            if language == "zh":
                vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
            else:
                vectorizer = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True)
            self._matrices[language] = vectorizer.fit_transform([_normalized(r.findings) for r in reports])
            self._vectorizers[language] = vectorizer

    def retrieve(self, findings: str, language: str, k: int, exclude_ids: Sequence[str] = ()) -> list[Report]:
        """Return up to ``k`` training reports most similar to ``findings``, most similar first.

        Ties are broken by training order, so the result is deterministic. Reports
        whose id is in ``exclude_ids`` (the query itself during training) are skipped.
        """
        if k <= 0:
            return []
        if language not in self._reports:
            raise ValueError(
                f"no training reports in language {language!r} to retrieve examples from; "
                f"training languages: {sorted(self._reports)}"
            )
        query = self._vectorizers[language].transform([_normalized(findings)])
        scores = (self._matrices[language] @ query.T).toarray().ravel()
        order = sorted(range(len(scores)), key=lambda index: (-scores[index], index))

        excluded = set(exclude_ids)
        chosen = [self._reports[language][index] for index in order if self._reports[language][index].id not in excluded]
        return chosen[:k]


def _normalized(text: str) -> str:
    from petf2i_core.text.normalize import normalize

    return normalize(text)
