"""Grammar-aware decoding: choose the most probable *valid* plate from per-character probabilities.

Each segmented box comes with a probability row over the model's alphabet. For every slot
template of the country (``alpr.plates.templates``) the best character per slot is the most
probable one the slot allows; a template's score is the sum of those log-probabilities, minus a
small penalty for every wide segmentation gap the template's groups do not explain and for a
template whose main gap (after the German district, after the Spanish digits) the segmenter did
not see: the German sticker gap is what separates "UE MA 123" from "UEM A 123". Narrow spaces
(German letters/digits) are unreliable on real plates and are not used. Up to ``max_drop``
boxes at the ends may be dropped (screws, frame text, the band letter), at a cost that grows
with how confidently they looked like a character.
"""

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from alpr import plates

GAP_MISMATCH_COST = 2.0  # nats per wide gap the template does not explain, or main cut not seen
DROP_COST = 3.0  # nats for dropping a box that the model read with probability 1
_EPS = 1e-9


@dataclass(frozen=True)
class Decoded:
    """A decoded plate: groups, per-character probabilities, which boxes were used, and a score."""

    country: str
    groups: tuple[str, ...]
    char_confidences: tuple[float, ...]
    kept: tuple[int, ...]  # indices of the input boxes that became characters
    log_score: float

    @property
    def text(self) -> str:
        return "".join(self.groups)

    @property
    def confidence(self) -> float:
        """Geometric mean of the chosen characters' probabilities (comparable across lengths)."""
        if not self.char_confidences:
            return 0.0
        return float(np.exp(np.mean(np.log(np.maximum(self.char_confidences, _EPS)))))


def decode(
    probs: np.ndarray,
    alphabet: str,
    country: str,
    *,
    gaps: set[int] | frozenset[int] = frozenset(),
    max_drop: int = 2,
) -> Decoded | None:
    """Most probable valid plate of ``country`` given per-box probabilities.

    Args:
        probs: (N, len(alphabet)) probabilities (rows sum to 1) of the N segmented boxes, in reading order.
        alphabet: the model's characters in probability-column order.
        country: "de", "es" or "eu".
        gaps: indices i of boxes preceded by a wide gap (the segmenter's ``wide_gaps``).
        max_drop: how many boxes may be dropped from the ends of the row.

    Returns:
        The best ``Decoded`` or ``None`` if no valid plate fits.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != len(alphabet):
        raise ValueError(f"probs must have shape (N, {len(alphabet)}), got {probs.shape}")
    n = len(probs)
    log_probs = np.log(np.maximum(probs, _EPS))
    column = {c: i for i, c in enumerate(alphabet)}
    slot_cache: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}

    def best_in_slot(allowed: str):
        """(best log-prob per box, best column per box) over the characters a slot allows."""
        if allowed not in slot_cache:
            cols = [column[c] for c in allowed if c in column]
            if not cols:
                slot_cache[allowed] = None
            else:
                sub = log_probs[:, cols]
                arg = sub.argmax(axis=1)
                slot_cache[allowed] = (sub[np.arange(n), arg], np.asarray(cols)[arg])
        return slot_cache[allowed]

    best: Decoded | None = None
    max_prob = probs.max(axis=1) if n else np.zeros(0)
    for kept in _kept_subsets(n, max_drop):
        dropped = sorted(set(range(n)) - set(kept))
        drop_cost = DROP_COST * float(max_prob[dropped].sum()) if dropped else 0.0
        kept_gaps = _gaps_after_dropping(kept, gaps)
        for template in plates.templates(country, len(kept)):
            total, chars, confs = -drop_cost, [], []
            for slot_index, allowed in enumerate(template.slots):
                slot = best_in_slot(allowed)
                if slot is None:
                    break
                box = kept[slot_index]
                total += slot[0][box]
                chars.append(alphabet[slot[1][box]])
                confs.append(float(probs[box, slot[1][box]]))
            else:
                unexplained = len(kept_gaps - template.cuts)
                unseen = template.primary_cut is not None and template.primary_cut not in kept_gaps
                total -= GAP_MISMATCH_COST * (unexplained + unseen)
                if best is None or total > best.log_score:
                    groups, start = [], 0
                    for size in template.group_sizes:
                        groups.append("".join(chars[start : start + size]))
                        start += size
                    best = Decoded(country, tuple(groups), tuple(confs), tuple(kept), total)
    return best


def _kept_subsets(n: int, max_drop: int):
    """Index tuples keeping all boxes but up to ``max_drop`` taken from the two ends of the row."""
    seen = set()
    for drop in range(0, min(max_drop, n) + 1):
        for head in range(drop + 1):
            kept = tuple(range(head, n - (drop - head)))
            if kept and kept not in seen:
                seen.add(kept)
                yield kept


def _gaps_after_dropping(kept: tuple[int, ...], gaps) -> frozenset[int]:
    """Gap indices renumbered to the kept boxes (a gap before the first kept box is no gap)."""
    return frozenset(i for i, box in enumerate(kept) if i > 0 and box in gaps)


def decode_greedy(probs: np.ndarray, alphabet: str) -> tuple[str, tuple[float, ...]]:
    """Arg-max reading without any grammar (for diagnostics and unknown layouts)."""
    probs = np.asarray(probs)
    idx = probs.argmax(axis=1) if len(probs) else np.zeros(0, dtype=int)
    return "".join(alphabet[i] for i in idx), tuple(float(probs[k, i]) for k, i in enumerate(idx))
