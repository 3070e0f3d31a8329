"""BERTScore (greedy cosine matching of contextual token embeddings), per language.

The computation follows bert-score 0.3.13 without idf weighting. Each text is
encoded with special tokens and the hidden states of one layer are
L2-normalised. Precision matches every candidate token to its most similar
reference token, and recall matches every reference token to its most similar
candidate token. Special tokens take part in the matching but carry weight 0, as
bert-score's idf dictionary sets for ``[CLS]`` and ``[SEP]``. With the same
encoder and layer the values equal ``bert_score.BERTScorer``'s.

Beyond the library:

* Empty predictions (or references) score 0.0 and are flagged; they are never
  rescaled, so an empty text cannot add bert-score's rescaled -1.21 to a mean.
* Texts longer than the encoder's ``model_max_length`` are flagged and counted.
  By default they are truncated as bert-score does; ``chunked=True`` instead
  splits each text's tokens into consecutive windows within the limit, encodes
  each window separately with its own special tokens, and matches the
  concatenated token embeddings of all windows of the two texts, so every token
  of both texts takes part in precision and recall.
* Encoders: the published defaults (roberta-large layer 17 for English,
  bert-base-chinese layer 8 for Chinese) when they are in the local Hugging Face
  cache, otherwise the packaged all-MiniLM-L6-v2 (layer 6) for English and the
  converted Gemma 3 270M folder (layer 12) for Chinese. Scores from other
  encoders than the published ones are labelled not comparable with published
  BERTScore numbers, in the signature and in a logged warning.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from petf2i_core.metrics.base import Metric, Signature, check_lengths
from petf2i_core.metrics.registry import register_metric
from petf2i_core.provenance import package_version

logger = logging.getLogger(__name__)

# Published bert-score defaults (bert_score.utils.lang2model and model2layers in 0.3.13).
PUBLISHED_ENCODERS = {"en": ("roberta-large", 17), "zh": ("bert-base-chinese", 8)}
FALLBACK_LAYERS = {"en": 6, "zh": 12}
# A tokenizer without a real limit reports about 1e30; such encoders get this limit instead.
DEFAULT_MAX_LENGTH = 512
STAT_COLUMNS = ("precision", "recall", "f1", "empty", "too_long", "pred_tokens", "ref_tokens")


@dataclass(frozen=True)
class EncoderSpec:
    """The encoder and layer of a BERTScore.

    Fields:
        name: the hub id of a published encoder, or the folder name of a local one.
        path: what ``from_pretrained`` loads: a hub id found in the local cache or a folder.
        layer: the hidden-state layer used (0 is the embedding output).
        published: whether ``name`` is the published bert-score default for the language,
            so scores are comparable with published numbers.
    """

    name: str
    path: str
    layer: int
    published: bool


def _hub_cached(repo_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)


def encoder_name(path: str) -> str:
    """Return a readable encoder name: a hub id as is, a folder as its last two path parts."""
    folder = Path(path)
    if not folder.exists():
        return path
    return "/".join(folder.resolve().parts[-2:])


def _fallback_encoder_dir(language: str) -> Path:
    from petf2i_core.models import packaged

    if language == "en":
        return packaged.packaged_encoder_dir("minilm")
    folder = packaged.packaged_model_dir("gemma3-270m")
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"no Chinese BERTScore encoder: bert-base-chinese is not in the Hugging Face cache and "
            f"{folder} does not exist; run `petf2i models prepare` to convert Gemma 3 270M, "
            "or pass metric option model=<folder> with layer=<n>"
        )
    return folder


def resolve_encoder(language: str, model: str | None = None, layer: int | None = None) -> EncoderSpec:
    """Pick the encoder and layer for ``language``: ``model`` if given, else published, else packaged."""
    if language not in PUBLISHED_ENCODERS:
        raise ValueError(f"unsupported language {language!r} for bertscore; use 'zh' or 'en'")
    published_name, published_layer = PUBLISHED_ENCODERS[language]

    if model is not None:
        is_published = model == published_name and layer in (None, published_layer)
        if layer is None and not is_published:
            raise ValueError(f"pass layer=<n> with model={model!r}; only {published_name} has a known default layer")
        return EncoderSpec(encoder_name(str(model)), str(model), published_layer if layer is None else layer, is_published)

    if _hub_cached(published_name):
        return EncoderSpec(published_name, published_name, layer or published_layer, layer in (None, published_layer))

    folder = _fallback_encoder_dir(language)
    return EncoderSpec(encoder_name(str(folder)), str(folder), layer or FALLBACK_LAYERS[language], False)


class _Encoder:
    """A tokenizer and model loaded once per (path, layer), with the token limit."""

    def __init__(self, spec: EncoderSpec) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        local_only = not Path(spec.path).exists()
        self.tokenizer = AutoTokenizer.from_pretrained(spec.path, local_files_only=local_only)
        self.model = AutoModel.from_pretrained(spec.path, local_files_only=local_only).eval()
        self.layer = spec.layer
        self.torch = torch

        n_layers = getattr(self.model.config, "num_hidden_layers", None)
        if n_layers is not None and not 0 <= spec.layer <= n_layers:
            raise ValueError(f"layer {spec.layer} is out of range for {spec.path}, which has {n_layers} layers")

        self._drop_unused_layers(spec.layer)

        self.max_length = int(self.tokenizer.model_max_length)
        if self.max_length > 100_000:
            # NOTE: the position limit of such a model is not checked; 512 is bert-score's usual limit.
            logger.warning("%s reports no token limit; using %d tokens", spec.path, DEFAULT_MAX_LENGTH)
            self.max_length = DEFAULT_MAX_LENGTH

        # RoBERTa and GPT-2 byte-level BPE need the leading space bert-score adds (add_prefix_space).
        # NOTE: this path is untested here because roberta-large is not in the offline cache.
        self.prefix_space = type(self.tokenizer).__name__.startswith(("Roberta", "GPT2"))
        self.prefix_ids, self.suffix_ids = self._special_affixes()
        self.n_special = len(self.prefix_ids) + len(self.suffix_ids)
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id or 0

    def _drop_unused_layers(self, layer: int) -> None:
        # Layers after ``layer`` + 1 cannot change hidden_states[layer], so drop them, as
        # bert-score does. One extra layer stays, because the last entry of hidden_states
        # has the final norm applied in decoder models such as Gemma.
        import torch.nn as nn

        for path in ("layers", "encoder.layer", "transformer.h", "decoder.layers"):
            parent, _, name = path.rpartition(".")
            owner = self.model
            for part in filter(None, parent.split(".")):
                owner = getattr(owner, part, None)
            layers = getattr(owner, name, None) if owner is not None else None
            if isinstance(layers, nn.ModuleList) and layer + 1 < len(layers):
                setattr(owner, name, layers[: layer + 1])
                return

    def _special_affixes(self) -> tuple[list[int], list[int]]:
        # transformers 5 tokenizers lack build_inputs_with_special_tokens, so the
        # special tokens around a text are read off the encoding of a probe word.
        probe = self.content_ids("a")
        full = self.tokenizer(" a" if self.prefix_space else "a", add_special_tokens=True)["input_ids"]
        for start in range(len(full) - len(probe) + 1):
            if full[start : start + len(probe)] == probe:
                return full[:start], full[start + len(probe) :]
        raise ValueError(f"cannot locate the text between the special tokens of {type(self.tokenizer).__name__}")

    def content_ids(self, text: str) -> list[int]:
        """Return the token ids of ``text`` without special tokens and without truncation."""
        text = text.strip()
        if self.prefix_space:
            text = " " + text
        return self.tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"]

    def with_specials(self, ids: list[int]) -> tuple[list[int], list[int]]:
        """Wrap content ids in special tokens; return the ids and their 0/1 matching weights."""
        full = self.prefix_ids + list(ids) + self.suffix_ids
        weights = [0] * len(self.prefix_ids) + [1] * len(ids) + [0] * len(self.suffix_ids)
        return full, weights

    def embed(self, sequences: list[list[int]], batch_size: int) -> list[Any]:
        """Return the normalised layer embeddings of each id sequence, batched by length."""
        torch = self.torch
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]), reverse=True)
        outputs: list[Any] = [None] * len(sequences)

        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            width = max(len(sequences[i]) for i in batch)
            input_ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
            attention = torch.zeros((len(batch), width), dtype=torch.long)
            for row, index in enumerate(batch):
                ids = sequences[index]
                input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
                attention[row, : len(ids)] = 1

            with torch.no_grad():
                hidden = self.model(input_ids=input_ids, attention_mask=attention, output_hidden_states=True)
            states = hidden.hidden_states[self.layer].float()
            for row, index in enumerate(batch):
                vectors = states[row, : len(sequences[index])]
                outputs[index] = vectors / vectors.norm(dim=-1, keepdim=True)
        return outputs


_ENCODER_CACHE: dict[tuple[str, int], _Encoder] = {}


def load_encoder(spec: EncoderSpec) -> _Encoder:
    """Return the encoder for ``spec``, loading it once per process."""
    key = (spec.path, spec.layer)
    if key not in _ENCODER_CACHE:
        logger.info("loading BERTScore encoder %s (layer %d)", spec.path, spec.layer)
        _ENCODER_CACHE[key] = _Encoder(spec)
    return _ENCODER_CACHE[key]


def _baseline(language: str, spec: EncoderSpec) -> np.ndarray | None:
    """Return bert-score's rescaling baseline (P, R, F) for a published encoder, else None."""
    if not spec.published:
        return None
    import bert_score

    path = Path(bert_score.__file__).parent / "rescale_baseline" / language / f"{spec.name}.tsv"
    if not path.is_file():
        return None
    table = np.genfromtxt(path, delimiter=",", skip_header=1)
    return table[spec.layer, 1:4]


def _greedy_match(candidate, candidate_weights, reference, reference_weights) -> tuple[float, float, float]:
    torch = __import__("torch")
    similarity = candidate @ reference.T
    cand_w = torch.tensor(candidate_weights, dtype=similarity.dtype)
    ref_w = torch.tensor(reference_weights, dtype=similarity.dtype)
    precision = float((similarity.max(dim=1).values * cand_w).sum() / cand_w.sum())
    recall = float((similarity.max(dim=0).values * ref_w).sum() / ref_w.sum())
    f1 = 2 * precision * recall / (precision + recall) if precision + recall != 0 else 0.0
    return precision, recall, f1 if not math.isnan(f1) else 0.0


@register_metric("bertscore")
class BertScore(Metric):
    """BERTScore F1 on a 0-1 scale (with baseline rescaling it can fall below 0).

    Args:
        language: "zh" or "en".
        model: a hub id in the local cache or a model folder; None picks the
            published default if cached, else the packaged encoder.
        layer: hidden-state layer; required with a ``model`` that is not published.
        rescale_with_baseline: None rescales with bert-score's baseline file when the
            encoder is published and leaves scores raw otherwise; True raises if no
            baseline exists; False never rescales.
        chunked: score texts longer than the token limit in windows instead of truncating.
        batch_size: sequences per forward pass (sorted by length).
        max_length: token limit including special tokens; None takes the tokenizer's.
    """

    name = "bertscore"

    def __init__(
        self,
        language: str,
        model: str | None = None,
        layer: int | None = None,
        rescale_with_baseline: bool | None = None,
        chunked: bool = False,
        batch_size: int = 32,
        max_length: int | None = None,
    ) -> None:
        self.language = language
        self.spec = resolve_encoder(language, model, layer)
        self.chunked = chunked
        self.batch_size = batch_size
        self._max_length_option = max_length

        baseline = _baseline(language, self.spec)
        if rescale_with_baseline and baseline is None:
            raise ValueError(
                f"no bert-score baseline for encoder {self.spec.name!r} layer {self.spec.layer} in language "
                f"{language!r}; baselines exist only for published encoders, so pass rescale_with_baseline=False"
            )
        self.baseline = baseline if rescale_with_baseline in (None, True) else None

        if not self.spec.published:
            logger.warning(
                "BERTScore with encoder %s layer %d is not comparable with published BERTScore numbers "
                "(%s layer %d)", self.spec.name, self.spec.layer, *PUBLISHED_ENCODERS[language],
            )

    @property
    def encoder(self) -> _Encoder:
        """The loaded encoder (loaded on first use, once per process)."""
        return load_encoder(self.spec)

    @property
    def max_length(self) -> int:
        """Token limit per encoded sequence, special tokens included."""
        return self._max_length_option or self.encoder.max_length

    def _segments(self, text: str) -> tuple[list[tuple[list[int], list[int]]], int, bool]:
        # Return (ids, weights) per encoded window, the content token count and the too-long flag.
        encoder = self.encoder
        content = encoder.content_ids(text)
        room = self.max_length - encoder.n_special
        too_long = len(content) > room
        if not too_long:
            return [encoder.with_specials(content)], len(content), False
        if not self.chunked:
            return [encoder.with_specials(content[:room])], len(content), True
        windows = [content[start : start + room] for start in range(0, len(content), room)]
        return [encoder.with_specials(window) for window in windows], len(content), True

    def statistics(
        self,
        predictions: Sequence[str],
        references: Sequence[str],
        findings: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Return P, R, F1, empty flag, too-long flag and token counts per sample, shape (n, 7)."""
        check_lengths(predictions, references, findings)
        torch = __import__("torch")

        texts = [str(t) for t in predictions] + [str(t) for t in references]
        segmented = [self._segments(text) if text.strip() else ([], 0, False) for text in texts]
        sequences = [ids for windows, _, _ in segmented for ids, _ in windows]
        embeddings = iter(self.encoder.embed(sequences, self.batch_size))

        per_text = []
        for windows, _, _ in segmented:
            parts = [next(embeddings) for _ in windows]
            weights = [w for _, window_weights in windows for w in window_weights]
            per_text.append((torch.cat(parts) if parts else None, weights))

        n = len(predictions)
        rows = []
        for i in range(n):
            (cand, cand_w), (ref, ref_w) = per_text[i], per_text[n + i]
            empty = cand is None or ref is None or sum(cand_w) == 0 or sum(ref_w) == 0
            too_long = segmented[i][2] or segmented[n + i][2]
            scores = (0.0, 0.0, 0.0) if empty else self._rescale(_greedy_match(cand, cand_w, ref, ref_w))
            rows.append((*scores, float(empty), float(too_long), segmented[i][1], segmented[n + i][1]))
        self._log_flags(rows)
        return np.asarray(rows, dtype=np.float64).reshape(n, len(STAT_COLUMNS))

    def _rescale(self, scores: tuple[float, float, float]) -> tuple[float, float, float]:
        if self.baseline is None:
            return scores
        return tuple(float((s - b) / (1 - b)) for s, b in zip(scores, self.baseline))

    def _log_flags(self, rows: list[tuple]) -> None:
        n_empty = sum(int(row[3]) for row in rows)
        n_long = sum(int(row[4]) for row in rows)
        if n_empty:
            logger.warning("%d of %d pairs have an empty text; they score 0 and are flagged", n_empty, len(rows))
        if n_long:
            action = "scored in windows" if self.chunked else "truncated (pass chunked=True to score all tokens)"
            logger.warning("%d of %d pairs exceed %d tokens and were %s", n_long, len(rows), self.max_length, action)

    def aggregate(self, stats: np.ndarray) -> float:
        """Return the mean F1 of the rows; empty pairs count as 0."""
        stats = np.asarray(stats)
        return float(stats[:, 2].mean()) if len(stats) else 0.0

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Return mean precision and recall, the empty and too-long counts and the comparability label."""
        stats = np.asarray(stats)
        return {
            "precision": float(stats[:, 0].mean()) if len(stats) else 0.0,
            "recall": float(stats[:, 1].mean()) if len(stats) else 0.0,
            "n_empty": int(stats[:, 3].sum()),
            "n_too_long": int(stats[:, 4].sum()),
            "max_length": self.max_length,
            "long_inputs": "chunked" if self.chunked else "truncated",
            "comparable_with_published": self.spec.published,
            "n_samples": int(len(stats)),
        }

    def flagged_rows(self, stats: np.ndarray) -> dict[str, list[int]]:
        """Return the row indices of empty pairs and of pairs over the token limit."""
        stats = np.asarray(stats)
        return {
            "empty": [int(i) for i in np.flatnonzero(stats[:, 3])],
            "too_long": [int(i) for i in np.flatnonzero(stats[:, 4])],
        }

    def signature(self) -> Signature:
        """Return the encoder, layer, rescaling and length handling a BERTScore depends on."""
        return Signature.build(
            self.name,
            lang=self.language,
            encoder=self.spec.name,
            layer=self.spec.layer,
            idf="no",
            rescaled="yes" if self.baseline is not None else "no",
            long="chunked" if self.chunked else "truncated",
            comparable="published" if self.spec.published else "no-not-comparable-with-published",
            bert_score=package_version("bert-score"),
            transformers=package_version("transformers"),
            torch=package_version("torch"),
        )
