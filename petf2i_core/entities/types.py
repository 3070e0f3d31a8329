"""Clinical entities: what the extractor returns and the synthetic corpus records as truth."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ENTITY_TYPES = ("anatomy", "finding", "diagnosis")
LATERALITIES = ("left", "right", "bilateral")
POLARITIES = ("positive", "negative", "uncertain")


@dataclass(frozen=True)
class Entity:
    """One clinical entity mention.

    ``concept`` is a language-independent id from the lexicon, so a Chinese and an
    English mention of the same thing compare equal. ``site`` is the concept id of
    the anatomy a finding or diagnosis is attached to, when the text says where.
    ``polarity`` is ``negative`` for negated statements (未见, no evidence of) and
    ``uncertain`` for hedged ones (考虑, 不除外, suspicious for). ``suvmax`` and
    ``size_cm`` (largest dimension first) are read from the same statement.
    ``start`` and ``end`` are character offsets in the text that was analysed.
    """

    concept: str
    type: str
    laterality: str | None = None
    polarity: str = "positive"
    site: str | None = None
    suvmax: float | None = None
    size_cm: tuple[float, ...] | None = None
    text: str = ""
    start: int = -1
    end: int = -1

    def key(self) -> tuple[str, str, str | None, str]:
        """Return the identity used for set comparison: type, concept, laterality, polarity."""
        return (self.type, self.concept, self.laterality, self.polarity)

    def to_dict(self) -> dict[str, Any]:
        row = asdict(self)
        if self.size_cm is not None:
            row["size_cm"] = list(self.size_cm)
        return row

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> "Entity":
        row = dict(row)
        if row.get("size_cm") is not None:
            row["size_cm"] = tuple(row["size_cm"])
        return cls(**row)
