"""Grammar-aware decoding: choose the most probable *valid* plate from per-character probabilities.

Each segmented box comes with a probability row over the model's alphabet. For every slot
template of the country (``alpr.plates.templates``) the best character per slot is the most
probable one the slot allows; a template's score is the sum of those log-probabilities, minus a
small penalty for every wide segmentation gap the template's groups do not explain and for a
template whose main gap (after the German district, after the Spanish digits) the segmenter did
not see: the German sticker gap is what separates "UE MA 123" from "UEM A 123". A reading of a
rarer format pays the prior odds against it (``Template.cost``: a Spanish provincial plate,
``plates.ES_PROVINCIAL_COST``). Narrow spaces
(German letters/digits) are unreliable on real plates and are not used. Up to ``max_drop``
boxes at the ends may be dropped (screws, frame text, the band letter), at a fixed cost; a German
plate's registration stickers, which blur may join into one character-like box, may be skipped
inside the row at a lower one when the segmenter points that box out: the space they leave is
then the wide sticker gap. When no complete reading is confident, up to
``max_missing`` template slots may stay unseen (a covered, dirty or anonymised character): the
plate is then reported with ``?`` in those slots of its groups and without them in its text.

The generic ``eu`` grammar has no slot classes, but European plates are written in runs of
letters and runs of digits: there, each change between a letter and a digit inside a group
(no wide gap before it) costs ``KIND_SWITCH_COST``, and the best letter/digit sequence is found
by a two-state Viterbi pass. Most European fonts draw O and 0 alike (FE-Schrift is the exception),
so for ``eu`` the two share their probability mass, the run decides which one is read, and the
CNN's preference only breaks ties; the reported confidence is the pair's mass. Other readings
change only when the CNN is unsure (within ``KIND_SWITCH_COST`` nats). German plates keep the
CNN's O or 0 where the grammar allows it, but a slot that needs the other one may read it at
``DE_ALIKE_COST`` rather than the box being dropped (a sheared or blurred O loses FE-Schrift's
wider shape, its one cue, and the CNN then reads it 0 at 0.999 or more).
"""

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np

from alpr import plates

GAP_MISMATCH_COST = 2.0  # nats per wide gap the template does not explain, or main cut not seen
DROP_COST = 5.0  # nats per dropped box (a fixed price: real characters are often read unsurely)
STICKER_COST = 1.0  # nats for skipping a box the segmenter took for German registration stickers
#: nats for a German reading that is not a red plate when the lettering is red (``red_ink``): only
#: red plates are written in red, but the CNN reads grey crops and may read their blurred 0 as a
#: D at 0.995-0.999 (de-samples' HB 06199 and BC 07129, 5-7 nats); a reading that must change two
#: characters to become a red plate costs more, and keeps its own text.
RED_INK_COST = 10.0
#: What a red plate's 0 (the one before its kind digit) is reported with when the lettering is red:
#: the CNN's probability of any of these, which is what FE-Schrift's 0 blurs into.
RED_ZERO_ALIKE = "0DO"
MISSING_COST = 3.0  # nats per template slot with no box (an occluded character)
KIND_SWITCH_COST = 1.0  # eu: nats per letter↔digit change inside a group
EU_ALIKE = ("O", "0")  # eu: one glyph in most European fonts
#: de: nats at most between O and 0 (below DROP_COST: a letter O the CNN reads 0 is read O, not
#: dropped); on rendered German plates read from their true outlines, wrong readings 58 / 59 / 67
#: -> 55 / 56 / 64 of 300 (seeds 5000 / 6000 / 7000, none lost; 2 and 4 read the same), while
#: sharing the pair's mass as ``eu`` does lost a Q the CNN reads 0 (QLJ7 read OLJ7).
DE_ALIKE_COST = 3.0
_TIE_BREAK = 0.05  # eu: share of the CNN's O/0 log-odds kept (capped below the switch cost)
FALLBACK_CONFIDENCE = 0.5  # below this, readings with unseen slots are searched too
MISSING = "?"
_EPS = 1e-9


@dataclass(frozen=True)
class Decoded:
    """A decoded plate: groups (``?`` where a slot was not seen), the observed characters'
    probabilities, which boxes were used, and a score."""

    country: str
    groups: tuple[str, ...]
    char_confidences: tuple[float, ...]
    kept: tuple[int, ...]  # indices of the input boxes read as characters, in reading order
    log_score: float
    missing: int = 0  # template slots with no box (covered, dirty or anonymised characters)

    @property
    def text(self) -> str:
        """The observed characters without separators (unseen slots left out)."""
        return "".join(self.groups).replace(MISSING, "")

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
    max_missing: int = 0,
    unknown: set[int] | frozenset[int] = frozenset(),
    stickers: set[int] | frozenset[int] = frozenset(),
    red_ink: bool = False,
) -> Decoded | None:
    """Most probable valid plate of ``country`` given per-box probabilities.

    Args:
        probs: (N, len(alphabet)) probabilities (rows sum to 1) of the N segmented boxes, in reading order.
        alphabet: the model's characters in probability-column order.
        country: "de", "es" or "eu".
        gaps: indices i of boxes preceded by a wide gap (the segmenter's ``wide_gaps``).
        max_drop: how many boxes may be dropped from the ends of the row.
        max_missing: how many template slots may have no box (occluded characters). Such
            readings are searched only when no complete reading is confident, and each unseen
            slot costs ``MISSING_COST``.
        unknown: indices of boxes known to hide a character (e.g. an anonymisation box): they
            fill a slot of any class at no cost and are reported as ``?``.
        stickers: indices of boxes that may be a German plate's registration stickers (the
            segmenter's ``stickers``): for ``de``, one of them inside the row may be skipped at
            ``STICKER_COST``, leaving a wide gap in its place. Ignored for other countries.
        red_ink: the lettering is red (``alpr._ink.red_ink``): for ``de``, every reading that is
            not a red plate costs ``RED_INK_COST``. Ignored for other countries.

    Returns:
        The best ``Decoded`` or ``None`` if no valid plate fits.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != len(alphabet):
        raise ValueError(f"probs must have shape (N, {len(alphabet)}), got {probs.shape}")
    if probs.size and (not np.isfinite(probs).all() or probs.min() < 0.0 or probs.max() > 1.0 + 1e-6):
        raise ValueError("probs must be probabilities: finite values in [0, 1]")
    stickers = frozenset(stickers) if country == "de" else frozenset()
    search = _Search(probs, alphabet, country, frozenset(gaps), max_drop, frozenset(unknown), stickers,
                     red_ink=red_ink and country == "de")
    best = search.run(missing=0)
    if max_missing > 0 and (best is None or best.confidence < FALLBACK_CONFIDENCE):
        for missing in range(1, max_missing + 1):
            candidate = search.run(missing=missing)
            if candidate is not None and (best is None or candidate.log_score > best.log_score):
                best = candidate
    return best


class _Search:
    """Scores slot templates against the boxes; the tables are shared between runs."""

    def __init__(self, probs, alphabet: str, country: str, gaps: frozenset[int], max_drop: int, unknown: frozenset[int],
                 stickers: frozenset[int] = frozenset(), *, red_ink: bool = False):
        self.probs, self.alphabet, self.country, self.gaps, self.max_drop = probs, alphabet, country, gaps, max_drop
        self.unknown, self.stickers, self.red_ink = unknown, stickers, red_ink
        self.n = len(probs)
        self.hidden = np.isin(np.arange(self.n), sorted(unknown))  # per box: known to hide its character
        self.log_probs = np.log(np.maximum(probs, _EPS))
        self.reported = probs  # the confidence reported for a chosen character
        if country == "eu" and all(c in alphabet for c in EU_ALIKE):
            self._merge_alike([alphabet.index(c) for c in EU_ALIKE])
        elif country == "de" and all(c in alphabet for c in EU_ALIKE):
            self._floor_alike([alphabet.index(c) for c in EU_ALIKE], DE_ALIKE_COST)
        self.log_probs[sorted(i for i in unknown if 0 <= i < self.n)] = 0.0  # fits every slot equally
        self.column = {c: i for i, c in enumerate(alphabet)}
        self.slot_cache: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
        self.scoring_cache: dict[int, _Scoring | None] = {}
        self.unseen_cache: dict[tuple, np.ndarray] = {}

    def _merge_alike(self, cols: list[int]) -> None:
        """Give the look-alike columns one shared mass, keeping a capped tie-break from the CNN."""
        a, b = cols
        mass = self.probs[:, a] + self.probs[:, b]
        odds = np.clip(_TIE_BREAK * (self.log_probs[:, a] - self.log_probs[:, b]), -0.4, 0.4)
        shared = np.log(np.maximum(mass / 2, _EPS))
        self.log_probs[:, a], self.log_probs[:, b] = shared + odds / 2, shared - odds / 2
        self._report_pair_mass(a, b)

    def _floor_alike(self, cols: list[int], cost: float) -> None:
        """Let each look-alike column cost at most ``cost`` nats more than the other."""
        a, b = cols
        la, lb = self.log_probs[:, a].copy(), self.log_probs[:, b].copy()
        self.log_probs[:, a], self.log_probs[:, b] = np.maximum(la, lb - cost), np.maximum(lb, la - cost)
        self._report_pair_mass(a, b)

    def _report_pair_mass(self, a: int, b: int) -> None:
        """Report the look-alike pair's summed probability as the confidence of either one."""
        self.reported = self.probs.copy()
        self.reported[:, a] = self.reported[:, b] = self.probs[:, a] + self.probs[:, b]

    def best_in_slot(self, allowed: str):
        """(best log-prob per box, best column per box) over the characters a slot allows."""
        if allowed not in self.slot_cache:
            cols = [self.column[c] for c in allowed if c in self.column]
            if not cols:
                self.slot_cache[allowed] = None
            else:
                sub = self.log_probs[:, cols]
                arg = sub.argmax(axis=1)
                self.slot_cache[allowed] = (sub[np.arange(self.n), arg], np.asarray(cols)[arg])
        return self.slot_cache[allowed]

    def scoring(self, slots: int, kept: tuple[int, ...]):
        """The templates of ``slots`` characters that this alphabet can read, as a ``_Scoring``
        (cached: fixed grammars do not depend on ``kept``), or None if there are none."""
        template_set = _template_set(self.country, slots)
        if not template_set.templates:
            return None
        if self.country == "eu":
            runs = self.kind_runs(kept)
            if runs is None:  # the alphabet has neither letters nor digits
                return None
            per_box, box_cols = runs
            return _Scoring(template_set.templates, template_set.slot_ids, template_set.spans, template_set.has_span,
                            template_set.red, template_set.cost, per_box[:, None], box_cols[:, None])
        if slots not in self.scoring_cache:
            self.scoring_cache[slots] = self._fixed_scoring(template_set)
        return self.scoring_cache[slots]

    def _fixed_scoring(self, template_set: "_TemplateSet"):
        """``scoring`` of a fixed grammar: the best log-prob and column of every box for each
        distinct set of allowed characters, and the templates none of whose slots is unreadable."""
        columns = [self.best_in_slot(allowed) for allowed in template_set.vocab]
        readable = np.array([c is not None for c in columns], dtype=bool)
        usable = np.flatnonzero(readable[template_set.slot_ids].all(axis=1))
        if len(usable) == 0:
            return None
        filler = (np.zeros(self.n), np.zeros(self.n, dtype=int))  # for sets no usable template needs
        columns = [c if c is not None else filler for c in columns]
        scores = np.array([c[0] for c in columns]).T  # (N, V), as np.stack(..., axis=1)
        cols = np.array([c[1] for c in columns]).T
        return _Scoring(tuple(template_set.templates[t] for t in usable), template_set.slot_ids[usable],
                        template_set.spans, template_set.has_span[usable], template_set.red[usable],
                        template_set.cost[usable], scores, cols)

    def kind_runs(self, kept: tuple[int, ...]):
        """Viterbi over letter/digit runs of the ``kept`` boxes: ``(N,)`` log-prob of each box's
        chosen character, minus ``KIND_SWITCH_COST`` where a run changes inside a group, and the
        ``(N,)`` chosen columns (zeros for boxes not kept)."""
        kinds = [self.best_in_slot(plates.LATIN), self.best_in_slot(plates.DIGITS)]
        if all(k is None for k in kinds):
            return None
        # a kind the alphabet lacks can never be chosen
        kinds = [k if k is not None else (np.full(self.n, -np.inf), np.zeros(self.n, dtype=int)) for k in kinds]
        rows = np.asarray(kept)
        lp = np.stack([k[0][rows] for k in kinds], axis=1)  # (m, 2)
        value, back = lp[0].copy(), np.zeros((len(rows), 2), dtype=int)
        for i in range(1, len(rows)):
            switch = 0.0 if kept[i] in self.gaps else KIND_SWITCH_COST
            stay, change = value, value[::-1] - switch
            back[i] = np.where(stay >= change, [0, 1], [1, 0])
            value = np.maximum(stay, change) + lp[i]
        path = [int(np.argmax(value))]
        for i in range(len(rows) - 1, 0, -1):
            path.append(int(back[i, path[-1]]))
        path.reverse()
        per_box, box_cols = np.zeros(self.n), np.zeros(self.n, dtype=int)
        for i, (box, kind) in enumerate(zip(kept, path)):
            switched = i > 0 and kind != path[i - 1] and box not in self.gaps
            per_box[box] = lp[i, kind] - KIND_SWITCH_COST * switched
            box_cols[box] = kinds[kind][1][box]
        return per_box, box_cols

    def run(self, *, missing: int) -> Decoded | None:
        """The best reading with ``missing`` unseen slots: over the kept subsets (in order),
        then the templates, then the placements of the kept boxes into the slots, the first
        reading with the highest score (each subset's templates are scored in one gather)."""
        best: Decoded | None = None
        # with every slot holding a box read as a character, the spans to see are seen
        check_spans = bool(missing) or bool(self.hidden.any())
        for kept, skipped in _with_skipped_stickers(_kept_subsets(self.n, self.max_drop), self.stickers):
            m = len(kept)
            scoring = self.scoring(m + missing, kept)
            if scoring is None:
                continue
            fixed_cost = DROP_COST * (self.n - m - len(skipped)) + STICKER_COST * len(skipped) + MISSING_COST * missing
            rows = np.asarray(kept)
            placements = _placements(m + missing, m)
            # each reading's log-probs in a C-ordered row, so they add up in the order (and to the
            # last bit) one template's (K, m) table did
            picked = np.ascontiguousarray(scoring.scores[rows, scoring.slot_ids[:, placements]])  # (T, K, m)
            totals = picked.sum(axis=-1) - fixed_cost
            if self.red_ink:
                totals[~scoring.red] -= RED_INK_COST
            if scoring.cost.any():
                totals -= scoring.cost[:, None]
            if check_spans and scoring.spans:
                unseen = self.unseen(scoring.spans, kept, m + missing)  # (S, K)
                totals[np.any(scoring.has_span[:, :, None] & unseen[None], axis=1)] = -np.inf
            # gap penalties only lower a total: one not above the best so far cannot win (exact
            # pruning); the rest are tried best first, until the next cannot reach the leader
            bound = -np.inf if best is None else best.log_score
            flat = totals.ravel()
            candidates = np.flatnonzero(flat > bound)
            if len(candidates) == 0:
                continue
            candidates = candidates[np.argsort(-flat[candidates], kind="stable")]
            kept_gaps = _gaps_after_dropping(kept, (self.gaps - skipped) | {s + 1 for s in skipped})
            top, top_at = -np.inf, -1
            for at in candidates.tolist():
                total = float(flat[at])
                if total < top:
                    break
                t, k = divmod(at, len(placements))
                observed = tuple(placements[k].tolist())
                total -= GAP_MISMATCH_COST * _gap_mismatches(scoring.templates[t], observed, kept_gaps)
                if total > top or (total == top and at < top_at):  # ties go to the earlier reading
                    top, top_at = total, at
            if top > bound:
                t, k = divmod(top_at, len(placements))
                best = self._decoded(scoring.templates[t], kept, tuple(placements[k].tolist()),
                                     scoring.cols[:, scoring.slot_ids[t]], top, missing)
        return best

    def unseen(self, spans: tuple[tuple[int, int], ...], kept: tuple[int, ...], slots: int) -> np.ndarray:
        """(S, K) whether each placement of the ``kept`` boxes into ``slots`` slots leaves the
        slots of each span (start, stop) without a box read as a character (unseen or known to
        be hidden)."""
        key = (spans, kept, slots)
        if key not in self.unseen_cache:
            placements = _placements(slots, len(kept))
            starts, stops = np.array(spans).T[:, :, None, None]
            inside = (placements >= starts) & (placements < stops)  # (S, K, m)
            self.unseen_cache[key] = ~np.any(inside & ~self.hidden[np.asarray(kept)], axis=2)
        return self.unseen_cache[key]

    def _decoded(self, template, kept, observed, cols, total, missing) -> Decoded:
        chars = [MISSING] * len(template.slots)
        confs, seen = [], []
        for box, slot in zip(kept, observed):
            if box in self.unknown:
                missing += 1
                continue
            seen.append(box)
            column = cols[box, slot]
            chars[slot] = self.alphabet[column]
            if self.red_ink and template.red and template.slots[slot] == "0":
                confs.append(min(1.0, sum(float(self.probs[box, self.column[c]]) for c in RED_ZERO_ALIKE
                                          if c in self.column)))
            else:
                confs.append(float(self.reported[box, column]))
        groups, start = [], 0
        for size in template.group_sizes:
            groups.append("".join(chars[start : start + size]))
            start += size
        return Decoded(self.country, tuple(groups), tuple(confs), tuple(seen), total, missing)


@dataclass(frozen=True)
class _TemplateSet:
    """The templates of one country and length as arrays: ``slot_ids[t, s]`` indexes in ``vocab``
    the characters template ``t`` allows in slot ``s``; ``has_span[t, j]``: template ``t`` has
    the seen span ``spans[j]`` (see ``Template.seen_spans``); ``red[t]``: template ``t`` is a
    German red plate (``Template.red``); ``cost[t]``: its format's cost (``Template.cost``)."""

    templates: tuple[plates.Template, ...]
    vocab: tuple[str, ...]
    slot_ids: np.ndarray  # (T, L)
    spans: tuple[tuple[int, int], ...]
    has_span: np.ndarray  # (T, S) bool
    red: np.ndarray  # (T,) bool
    cost: np.ndarray  # (T,) nats


@lru_cache(maxsize=None)
def _template_set(country: str, n: int) -> _TemplateSet:
    """``plates.templates(country, n)`` as a ``_TemplateSet`` (built once)."""
    templates = plates.templates(country, n)
    vocab = tuple(dict.fromkeys(allowed for t in templates for allowed in t.slots))
    index = {allowed: i for i, allowed in enumerate(vocab)}
    slot_ids = np.array([[index[a] for a in t.slots] for t in templates], dtype=np.intp).reshape(len(templates), n)
    spans = tuple(dict.fromkeys(span for t in templates for span in t.seen_spans))
    has_span = np.array([[span in t.seen_spans for span in spans] for t in templates], dtype=bool)
    has_span = has_span.reshape(len(templates), len(spans))
    red = np.array([t.red for t in templates], dtype=bool)
    cost = np.array([t.cost for t in templates], dtype=np.float64)
    for shared in (slot_ids, has_span, red, cost):
        shared.flags.writeable = False  # shared by every search
    return _TemplateSet(templates, vocab, slot_ids, spans, has_span, red, cost)


@dataclass(frozen=True)
class _Scoring:
    """What ``_Search.run`` scores the readable templates of one length with: their
    ``slot_ids`` into the (N, V) ``scores`` (each box's best log-prob among a slot's allowed
    characters) and ``cols`` (that character's column), and their seen spans, red plates and
    costs (as ``_TemplateSet``)."""

    templates: tuple[plates.Template, ...]
    slot_ids: np.ndarray  # (T, L)
    spans: tuple[tuple[int, int], ...]
    has_span: np.ndarray  # (T, S) bool
    red: np.ndarray  # (T,) bool
    cost: np.ndarray  # (T,) nats
    scores: np.ndarray  # (N, V)
    cols: np.ndarray  # (N, V)


def _gap_mismatches(template: plates.Template, observed: tuple[int, ...], kept_gaps: frozenset[int]) -> int:
    """Wide gaps the reading does not explain, plus one if the template's main cut was not seen,
    plus one per unseen slot placed between two boxes with no wide gap between them.

    A wide gap is explained by a group cut or by an unseen slot (a hidden character leaves a
    character-wide space); an unseen slot squeezed between two close boxes has no room."""
    cuts = template.cuts
    hides = {i for i in range(1, len(observed)) if observed[i] - observed[i - 1] > 1}
    explained = hides | {i for i in range(1, len(observed)) if any(observed[i - 1] < c <= observed[i] for c in cuts)}
    primary = template.primary_cut
    unseen = primary is not None and not any(
        i in kept_gaps and observed[i - 1] < primary <= observed[i] for i in range(1, len(observed))
    )
    return len(kept_gaps - explained) + unseen + len(hides - kept_gaps)


@lru_cache(maxsize=None)
def _placements(slots: int, boxes: int) -> np.ndarray:
    """Every way to put ``boxes`` boxes in order into ``slots`` slots, as a read-only
    ``(K, boxes)`` array of slot indices in ``itertools.combinations`` order."""
    out = np.array(list(combinations(range(slots), boxes)), dtype=np.intp).reshape(-1, boxes)
    out.flags.writeable = False
    return out


def _kept_subsets(n: int, max_drop: int):
    """Index tuples keeping all boxes but up to ``max_drop`` taken from the two ends of the row."""
    seen = set()
    for drop in range(0, min(max_drop, n) + 1):
        for head in range(drop + 1):
            kept = tuple(range(head, n - (drop - head)))
            if kept and kept not in seen:
                seen.add(kept)
                yield kept


def _with_skipped_stickers(subsets, stickers: frozenset[int]):
    """``(kept, frozenset())`` for every subset of ``subsets``, each followed by the subsets
    without one of the ``stickers`` boxes inside it (neither its first nor its last box), as
    ``(kept, {that box})``."""
    for kept in subsets:
        yield kept, frozenset()
        for box in kept[1:-1]:
            if box in stickers:
                yield tuple(k for k in kept if k != box), frozenset({box})


def _gaps_after_dropping(kept: tuple[int, ...], gaps) -> frozenset[int]:
    """Gap indices renumbered to the kept boxes (a gap before the first kept box is no gap)."""
    return frozenset(i for i, box in enumerate(kept) if i > 0 and box in gaps)


def decode_greedy(probs: np.ndarray, alphabet: str) -> tuple[str, tuple[float, ...]]:
    """Arg-max reading without any grammar (for diagnostics and unknown layouts)."""
    probs = np.asarray(probs)
    idx = probs.argmax(axis=1) if len(probs) else np.zeros(0, dtype=int)
    return "".join(alphabet[i] for i in idx), tuple(float(probs[k, i]) for k, i in enumerate(idx))
