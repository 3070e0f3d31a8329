"""An ESTIMATE of peak GPU memory for LoRA fine-tuning, with its formula and assumptions.

peak = frozen weights + LoRA trainable state + activations + logits, where

* frozen weights = N_params x bytes per weight (bf16/fp16: 2, fp32: 4, int4: 0.5);
* LoRA state = N_lora x 16 bytes: fp32 weight (4), fp32 gradient (4) and the two
  AdamW moments (8). peft keeps adapter weights in fp32 by default;
* N_lora = layers x rank x sum over the targeted linear layers of (in + out);
* activations per decoder layer = s x b x h x (34 + 5 x a x s / h) bytes for 16-bit
  activations (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large
  Transformer Models", arXiv 2205.05198, with no tensor or sequence parallelism),
  doubled for fp32.
  The 5as/h term (attention scores) is dropped with flash or memory-efficient
  attention. With gradient checkpointing only each layer's input (2sbh bytes in
  16-bit) is kept, plus one layer's full activations during recomputation;
* logits = s x b x vocab x 4 bytes x 2 (fp32 logits and their gradient in the loss).

NOTE: the formula was derived for GPT-style blocks with a 4h MLP. Qwen2.5's SwiGLU MLP
is wider (18944 = 5.3h for 7B), so activations are underestimated by some tens of
percent. Framework overhead (CUDA context, allocator fragmentation, about 1-2 GiB) is
not included. Nothing here was measured on a GPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

GIB = 1024**3
WEIGHT_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "int4": 0.5}
ACTIVATION_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "int4": 2.0}  # int4 (QLoRA) computes in bf16
LORA_BYTES_PER_PARAM = 16.0


@dataclass(frozen=True)
class ModelShape:
    """Sizes of a decoder-only transformer.

    Fields:
        params: total parameter count.
        hidden: hidden size h.
        layers: decoder layers L.
        heads: attention heads a.
        kv_heads: key-value heads (grouped-query attention).
        intermediate: MLP intermediate size.
        vocab: vocabulary size.
    """

    params: int
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    vocab: int

    def lora_params(self, rank: int, targets: tuple[str, ...] = ("q", "k", "v", "o", "gate", "up", "down")) -> int:
        """Trainable LoRA parameters: layers x rank x sum of (in + out) over the targeted linear layers."""
        head_dim = self.hidden // self.heads
        kv = self.kv_heads * head_dim
        in_plus_out = {
            "q": self.hidden + self.hidden,
            "k": self.hidden + kv,
            "v": self.hidden + kv,
            "o": self.hidden + self.hidden,
            "gate": self.hidden + self.intermediate,
            "up": self.hidden + self.intermediate,
            "down": self.intermediate + self.hidden,
        }
        return self.layers * rank * sum(in_plus_out[name] for name in targets)


# Qwen2.5-7B-Instruct sizes as published in its config.json on the Hugging Face hub (7.62e9
# parameters). NOTE: typed in from the model card, not read from a file on this machine.
QWEN25_7B = ModelShape(
    params=7_615_616_512, hidden=3584, layers=28, heads=28, kv_heads=4, intermediate=18944, vocab=152_064,
)


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated peak memory, in GiB, by component."""

    precision: str
    weights_gib: float
    lora_state_gib: float
    activations_gib: float
    logits_gib: float
    total_gib: float
    lora_params: int

    def to_dict(self) -> dict:
        """Return the estimate as a dict."""
        return asdict(self)


def estimate_lora_memory(
    shape: ModelShape,
    precision: str,
    rank: int,
    seq_length: int,
    batch_size: int,
    gradient_checkpointing: bool = True,
    flash_attention: bool = True,
) -> MemoryEstimate:
    """Return the peak-memory ESTIMATE of LoRA training (formula in the module docstring)."""
    if precision not in WEIGHT_BYTES:
        raise ValueError(f"invalid precision {precision!r}; use one of {sorted(WEIGHT_BYTES)}")
    s, b, h, a = seq_length, batch_size, shape.hidden, shape.heads
    activation_scale = ACTIVATION_BYTES[precision] / 2.0

    lora_params = shape.lora_params(rank)
    weights = shape.params * WEIGHT_BYTES[precision]
    lora_state = lora_params * LORA_BYTES_PER_PARAM

    attention_term = 0.0 if flash_attention else 5.0 * a * s / h
    per_layer = s * b * h * (34.0 + attention_term) * activation_scale
    if gradient_checkpointing:
        activations = shape.layers * 2.0 * s * b * h * activation_scale + per_layer
    else:
        activations = shape.layers * per_layer
    logits = s * b * shape.vocab * 4.0 * 2.0

    total = weights + lora_state + activations + logits
    return MemoryEstimate(
        precision=precision,
        weights_gib=weights / GIB,
        lora_state_gib=lora_state / GIB,
        activations_gib=activations / GIB,
        logits_gib=logits / GIB,
        total_gib=total / GIB,
        lora_params=lora_params,
    )
