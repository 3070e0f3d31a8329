"""Micro-batch planning (length grouping, packing) and collation into tensors.

Padding goes on the right for training. Padded positions get label -100 and
attention mask 0 by position, so a real EOS equal to the pad id stays supervised.

In packing mode several examples share one row. Position ids restart at 0 for
each example and no attention mask is passed, so transformers (5.x,
``masking_utils.find_packed_sequence_indices``) builds a block-diagonal causal
mask for eager and SDPA attention, and flash-attention uses the same position ids
for its variable-length kernel. Attention therefore never crosses an example
boundary.
"""

from __future__ import annotations

import random
from typing import Sequence

import torch

from petf2i_core.training.examples import IGNORE_INDEX, TrainExample

Unit = list[int]  # indices of the examples in one row: one index, or several when packing


def plan_rows(lengths: Sequence[int], max_length: int, packing: bool, seed: int) -> list[Unit]:
    """Group example indices into rows: one example per row, or packed first-fit to ``max_length``."""
    if not packing:
        return [[index] for index in range(len(lengths))]

    order = list(range(len(lengths)))
    random.Random(seed).shuffle(order)
    order.sort(key=lambda index: -lengths[index])  # stable: ties keep the seeded order

    rows: list[Unit] = []
    row_lengths: list[int] = []
    for index in order:
        for row_index, used in enumerate(row_lengths):
            if used + lengths[index] <= max_length:
                rows[row_index].append(index)
                row_lengths[row_index] += lengths[index]
                break
        else:
            rows.append([index])
            row_lengths.append(lengths[index])
    return rows


def plan_batches(
    row_lengths: Sequence[int],
    batch_size: int,
    seed: int,
    epoch: int,
    group_by_length: bool,
    mega_batch_factor: int = 50,
) -> list[list[int]]:
    """Return the micro-batches (lists of row indices) of one epoch, deterministic for ``(seed, epoch)``.

    With ``group_by_length`` the shuffled rows are cut into mega-batches of
    ``batch_size * mega_batch_factor``, each sorted by length before it is split into
    micro-batches, and the micro-batch order is shuffled again. Rows of similar
    length then share a micro-batch, so less compute goes to padding.
    """
    generator = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(row_lengths)))
    generator.shuffle(order)

    if group_by_length:
        size = batch_size * mega_batch_factor
        mega_batches = [order[start:start + size] for start in range(0, len(order), size)]
        order = [i for mega in mega_batches for i in sorted(mega, key=lambda i: -row_lengths[i])]

    batches = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
    if group_by_length:
        generator.shuffle(batches)
    return batches


def collate_rows(rows: Sequence[Sequence[TrainExample]], pad_id: int, packing: bool) -> dict[str, torch.Tensor]:
    """Right-pad rows of examples into ``input_ids``, ``labels`` and either masks or position ids.

    Without packing each row contains one example and the batch has an
    ``attention_mask``. With packing the batch has ``position_ids`` that restart
    at 0 for each example (and for the padding tail) and no attention mask.
    """
    width = max(sum(len(example.input_ids) for example in row) for row in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE_INDEX, dtype=torch.long)
    position_ids = torch.zeros((len(rows), width), dtype=torch.long)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)

    for row_index, row in enumerate(rows):
        start = 0
        for example in row:
            end = start + len(example.input_ids)
            input_ids[row_index, start:end] = torch.tensor(example.input_ids)
            labels[row_index, start:end] = torch.tensor(example.labels)
            position_ids[row_index, start:end] = torch.arange(end - start)
            attention_mask[row_index, start:end] = 1
            start = end
        position_ids[row_index, start:] = torch.arange(width - start)

    if packing:
        return {"input_ids": input_ids, "labels": labels, "position_ids": position_ids}
    return {"input_ids": input_ids, "labels": labels, "attention_mask": attention_mask}


def count_supervised(batch: dict[str, torch.Tensor]) -> int:
    """Number of positions whose next token is supervised (labels shifted by one)."""
    return int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
