"""A tiny randomly initialised Qwen2 chat model for fast tests and benchmarks.

The model has the architecture of Qwen2.5 (so LoRA target names, the chat template
and generation code paths match the real 7B model) but only two layers of width 64.
Its byte-level BPE tokenizer is trained on built-in PET/CT-like report lines in
Chinese and English, so Chinese text becomes a few tokens per character and
round-trips exactly, full-width punctuation included.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Iterable

logger = logging.getLogger(__name__)

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")

# Qwen2.5's ChatML layout without the default system message: each turn is
# "<|im_start|>{role}\n{content}<|im_end|>\n".
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

_ZH_SITES = ("右肺上叶", "左肺下叶", "纵隔", "肝脏", "左侧颈部", "右侧腋窝", "胰腺", "胃窦", "骶骨", "双肺")
_ZH_FINDINGS = (
    "见一结节，大小约1.2×0.9cm，放射性摄取增高，SUVmax 5.2。",
    "未见明显异常放射性摄取。",
    "见多发淋巴结，部分肿大，代谢增高，SUVmax：8.7。",
    "可见软组织密度影，边界欠清，FDG摄取增高。",
    "见磨玻璃影，未见代谢增高。",
)
_ZH_IMPRESSIONS = (
    "考虑恶性病变，建议病理活检。",
    "考虑炎性病变可能，建议随访。",
    "考虑淋巴结转移。",
    "未见明显异常。",
)
_EN_SITES = ("right upper lobe", "left lower lobe", "mediastinum", "liver", "left neck",
             "right axilla", "pancreas", "gastric antrum", "sacrum", "both lungs")
_EN_FINDINGS = (
    "a 1.2 x 0.9 cm nodule with increased FDG uptake, SUVmax 5.2.",
    "no abnormal FDG uptake.",
    "multiple enlarged lymph nodes with increased metabolism, SUVmax 8.7.",
    "an ill-defined soft tissue mass with intense uptake.",
    "a ground-glass opacity without increased uptake.",
)
_EN_IMPRESSIONS = (
    "Findings are suspicious for malignancy; biopsy is recommended.",
    "Likely inflammatory; follow-up is advised.",
    "Consistent with nodal metastasis.",
    "No evidence of hypermetabolic disease.",
)


def default_report_lines() -> list[str]:
    """Return the built-in PET/CT-like lines (Chinese and English) used to train the tokenizer."""
    lines = []
    for site, finding in itertools.product(_ZH_SITES, _ZH_FINDINGS):
        lines.append(f"所见：{site}{finding}")
    for site, finding in itertools.product(_EN_SITES, _EN_FINDINGS):
        lines.append(f"Findings: In the {site}, {finding}")
    for index, impression in enumerate(_ZH_IMPRESSIONS * 10):
        lines.append(f"印象：{_ZH_SITES[index % len(_ZH_SITES)]}病变，{impression}")
    for index, impression in enumerate(_EN_IMPRESSIONS * 10):
        lines.append(f"Impression: {_EN_SITES[index % len(_EN_SITES)]} lesion. {impression}")
    for index, (site, finding) in enumerate(itertools.product(_ZH_SITES, _ZH_FINDINGS)):
        lines.append(f"{site}{finding}\n{_ZH_IMPRESSIONS[index % len(_ZH_IMPRESSIONS)]}")
    for index, (site, finding) in enumerate(itertools.product(_EN_SITES, _EN_FINDINGS)):
        lines.append(f"The {site} shows {finding}\n{_EN_IMPRESSIONS[index % len(_EN_IMPRESSIONS)]}")
    return lines


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024):
    """Train a byte-level BPE tokenizer and wrap it as a transformers fast tokenizer.

    The pipeline is Qwen2's own (NFC, Qwen2's split regex, byte-level), because
    ``AutoTokenizer`` rebuilds a ``qwen2`` model's tokenizer with that pipeline from
    the saved vocabulary and merges. NFC keeps full-width punctuation; NFKC would
    rewrite it (``，`` to ``,``) and break exact round-trips, so it is never used.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(list(texts), trainer=trainer)

    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
        model_max_length=2048,
        padding_side="right",
    )
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def build_tiny_qwen2(
    out_dir: str | Path,
    texts: Iterable[str] | None = None,
    seed: int = 0,
    vocab_size: int = 1024,
    pad_is_eos: bool = False,
) -> Path:
    """Write a tiny random Qwen2ForCausalLM and its tokenizer to ``out_dir`` and return the path.

    ``texts`` trains the tokenizer (default: :func:`default_report_lines`). The same
    ``seed`` and texts give the same weights and vocabulary. ``eos`` is ``<|im_end|>``;
    ``pad`` is ``<|endoftext|>``, or ``<|im_end|>`` when ``pad_is_eos`` is true (the
    set-up that breaks collators which mask labels by ``token == pad``).
    """
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    tokenizer = train_tokenizer(texts if texts is not None else default_report_lines(), vocab_size)
    if pad_is_eos:
        tokenizer.pad_token = tokenizer.eos_token
    eos_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad_id = tokenizer.pad_token_id

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
        bos_token_id=None,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=eos_id, pad_token_id=pad_id)

    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    logger.info("wrote tiny Qwen2 model (vocab %d, seed %d) to %s", len(tokenizer), seed, out_dir)
    return out_dir
