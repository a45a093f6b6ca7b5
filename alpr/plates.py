"""Plate grammars for Germany (DE), Spain (ES) and a generic EU alphabet: alphabets, validation,
random valid plates, and the slot templates that grammar-aware decoding searches.

Plate text is handled in two spellings: ``text`` (characters only, ``"DÜWAS870"``) and
``formatted`` (groups separated by spaces, ``"DÜW AS 870"``). For German plates only the groups
tell "UE MA 123" from "UEM A 123", so functions accept either and use groups when present.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import numpy as np

DIGITS = "0123456789"
LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
UMLAUTS = "ÄÖÜ"
ES_LETTERS = "BCDFGHJKLMNPRSTVWXYZ"  # no vowels, no Ñ, no Q

#: Characters each bundled model reads, in logit order.
ALPHABETS = {
    "de": DIGITS + LATIN + UMLAUTS,
    "es": DIGITS + ES_LETTERS,
    "eu": DIGITS + LATIN,
}
COUNTRIES = tuple(ALPHABETS)
#: Letter printed in the EU band.
BAND_LETTER = {"de": "D", "es": "E"}

# Provincial codes of the Spanish plates issued 1971-2000 ("M 1234 AB").
ES_PROVINCES = (
    "A AB AL AV B BA BI BU C CA CC CE CO CR CS CU GC GE GI GR GU H HU IB J L LE LO LU M MA ML MU "
    "NA O OR OU P PM PO S SA SE SG SO SS T TE TF TO V VA VI Z ZA"
).split()
ES_OLD_LETTERS = LATIN.replace("Q", "")
#: Share of Spanish plates in the provincial format that the renderer draws (the training data)
#: and that decoding assumes: a provincial reading pays ``ES_PROVINCIAL_COST`` = log(0.9 / 0.1)
#: = 2.2 nats, the prior odds against its format. Without it a digit read a little like a letter
#: (a 1 as I or T, a 5 as S) turns today's plate into a provincial one ("5?13?BR" read
#: "S131BR"): 61 of the UC3M-LP crops misread were such readings. The value is the renderer's
#: share, not fitted to UC3M-LP: on the rendered crops of ``scripts/eval_synthetic_crops.py``
#: costs 0, 2.2 and 4 read the same, and on UC3M-LP costs 1 to 6 all gain 4-8 crops of 2056.
ES_PROVINCIAL_SHARE = 0.1
ES_PROVINCIAL_COST = float(np.log((1.0 - ES_PROVINCIAL_SHARE) / ES_PROVINCIAL_SHARE))

DE_MAX_CHARS = 8
_SEPARATORS = re.compile(r"[\s\-·.:]+")
_DE_DISTRICT = re.compile(r"[A-ZÄÖÜ]{1,3}")
_DE_LETTERS = re.compile(r"[A-Z]{1,2}")
_DE_TAIL = re.compile(r"[1-9][0-9]{0,3}[EH]?")
#: German plates whose number follows the district directly and starts with 0 and a digit telling
#: the kind (Fahrzeug-Zulassungsverordnung): 03 and 04 short-term plates, 06 red dealer plates,
#: 07 red plates of historic cars ("HB 06199", "BC 07129"); the red plates are the only German
#: plates written in red.
_DE_SHORT_TERM_KINDS, DE_RED_KINDS = "34", "67"
_DE_SPECIAL_KINDS = _DE_SHORT_TERM_KINDS + DE_RED_KINDS
_DE_SPECIAL = re.compile(rf"0[{_DE_SPECIAL_KINDS}][0-9]{{1,4}}")
_ES_RE = re.compile(rf"^([0-9]{{4}})([{ES_LETTERS}]{{3}})$")
_ES_OLD_RE = re.compile(rf"^([A-Z]{{1,2}})([0-9]{{4}})([{ES_OLD_LETTERS}]{{1,2}})$")
_EU_RE = re.compile(r"^[0-9A-Z]{2,10}$")


@dataclass(frozen=True)
class PlateText:
    """A plate's characters split into printed groups, e.g. ``("DÜW", "AS", "870")``."""

    country: str
    groups: tuple[str, ...]

    @property
    def text(self) -> str:
        """Characters without separators."""
        return "".join(self.groups)

    @property
    def formatted(self) -> str:
        """Groups separated by single spaces."""
        return " ".join(self.groups)


def normalize(text: str) -> str:
    """Upper-case and drop separators (spaces, hyphens, dots)."""
    return _SEPARATORS.sub("", text.upper())


def split_groups(text: str) -> list[str]:
    """Groups of a formatted plate: ``"DÜW-AS 870"`` -> ``["DÜW", "AS", "870"]``."""
    return [g for g in _SEPARATORS.split(text.upper().strip()) if g]


def parse(text: str, country: str) -> PlateText | None:
    """Return the plate's groups if ``text`` is a valid plate of ``country``, else ``None``.

    Separators in ``text`` are honoured as group boundaries (needed to tell "UE MA 1" from
    "UEM A 1"); without them the first valid split is returned.
    """
    _check_country(country)
    if not isinstance(text, str):
        return None
    groups = split_groups(text)
    flat = "".join(groups)
    if not flat:
        return None
    if country == "eu":  # no grammar beyond the alphabet: the written groups stand
        return PlateText(country, tuple(groups)) if _EU_RE.match(flat) else None
    for candidate in _candidate_splits(flat, country):
        if len(groups) > 1 and not _respects(candidate, groups):
            continue
        return PlateText(country, candidate)
    return None


def is_valid(text: str, country: str) -> bool:
    """True if ``text`` (with or without separators) is a valid plate of ``country``."""
    return parse(text, country) is not None


def _check_country(country: str) -> None:
    if country not in ALPHABETS:
        raise ValueError(f"unknown country {country!r}; expected one of {', '.join(COUNTRIES)}")


def _respects(candidate: tuple[str, ...], groups: list[str]) -> bool:
    """Every boundary the user wrote is a boundary of ``candidate`` (the suffix E/H may be glued)."""
    def cuts(parts):
        positions, total = set(), 0
        for part in parts[:-1]:
            total += len(part)
            positions.add(total)
        return positions

    return cuts(groups) <= cuts(candidate)


def _candidate_splits(flat: str, country: str):
    """All group splits of ``flat`` that satisfy the country's grammar."""
    if country == "de":
        if len(flat) > DE_MAX_CHARS:
            return
        for d in range(1, 4):
            for letters in range(1, 3):
                district, second, tail = flat[:d], flat[d : d + letters], flat[d + letters :]
                if _DE_DISTRICT.fullmatch(district) and _DE_LETTERS.fullmatch(second) and _DE_TAIL.fullmatch(tail):
                    yield (district, second, tail)
            if _DE_DISTRICT.fullmatch(flat[:d]) and _DE_SPECIAL.fullmatch(flat[d:]):
                yield (flat[:d], flat[d:])
    elif country == "es":
        m = _ES_RE.match(flat)
        if m:
            yield m.groups()
        m = _ES_OLD_RE.match(flat)
        if m and m.group(1) in ES_PROVINCES:
            yield m.groups()


# ---------------------------------------------------------------- random plates


def random_plate(country: str, rng: np.random.Generator, *, old_es_rate: float = 0.0) -> PlateText:
    """A random valid plate of ``country``. German districts contain an umlaut ~10 % of the time.

    ``old_es_rate`` is the share of Spanish plates drawn in the pre-2000 provincial format.
    """
    _check_country(country)
    pick = lambda alphabet, n: "".join(rng.choice(list(alphabet), size=n))  # noqa: E731
    if country == "de":
        while True:
            d = int(rng.integers(1, 4))
            district = pick(LATIN, d)
            if rng.random() < 0.1:
                i = int(rng.integers(0, d))
                district = district[:i] + rng.choice(list(UMLAUTS)) + district[i + 1 :]
            letters = pick(LATIN, int(rng.integers(1, 3)))
            n_digits = int(rng.integers(1, 5))
            digits = pick("123456789", 1) + pick(DIGITS, n_digits - 1)
            suffix = "" if rng.random() > 0.06 else rng.choice(["E", "H"])
            plate = PlateText("de", (district, letters, digits + suffix))
            if len(plate.text) <= DE_MAX_CHARS:
                return plate
    if country == "es":
        if rng.random() < old_es_rate:
            return PlateText("es", (str(rng.choice(ES_PROVINCES)), pick(DIGITS, 4), pick(ES_OLD_LETTERS, int(rng.integers(1, 3)))))
        return PlateText("es", (pick(DIGITS, 4), pick(ES_LETTERS, 3)))
    n_groups = int(rng.integers(1, 4))
    sizes = rng.integers(1, 4, size=n_groups)
    groups = tuple(pick(DIGITS + LATIN, int(s)) for s in sizes)
    if sum(len(g) for g in groups) < 2:
        groups = groups + (pick(DIGITS, 2),)
    return PlateText("eu", groups)


# ---------------------------------------------------------------- decoding templates


@dataclass(frozen=True)
class Template:
    """One way ``n`` characters can form a valid plate: the allowed characters per slot and the
    group lengths (so a segmenter's gaps can be matched)."""

    slots: tuple[str, ...]
    group_sizes: tuple[int, ...]
    #: slot spans (start, stop) of which a reading must see at least one character: the Spanish
    #: provincial code and the 0 and kind digit of a German short-term or red plate, the only
    #: signs of those formats (a reading that leaves them unseen or hidden only guesses the format
    #: from where the other characters fall); and every German group, as German plates are not
    #: anonymised, and a German reading of one or two boxes with a group left wholly unseen
    #: ("I W ?") is what windows and grilles in a photo give
    seen_spans: tuple[tuple[int, int], ...] = ()
    #: a German red plate (``DE_RED_KINDS``), the only kind written in red
    red: bool = False
    #: nats a reading of this template pays for its format's rarity (``ES_PROVINCIAL_COST``)
    cost: float = 0.0

    @property
    def primary_cut(self) -> int | None:
        """Where the widest printed gap falls: after the German district, after the Spanish digits."""
        return self.group_sizes[0] if len(self.group_sizes) > 1 else None

    @property
    def cuts(self) -> frozenset[int]:
        """Indices at which a new group starts (excluding 0)."""
        out, total = set(), 0
        for size in self.group_sizes[:-1]:
            total += size
            out.add(total)
        return frozenset(out)


@lru_cache(maxsize=None)
def templates(country: str, n: int) -> tuple[Template, ...]:
    """Every slot template of ``country`` with exactly ``n`` characters."""
    _check_country(country)
    out = []
    if country == "de":
        for d, l, k, s in product(range(1, 4), range(1, 3), range(1, 5), range(2)):
            if d + l + k + s == n and n <= DE_MAX_CHARS:
                slots = (LATIN + UMLAUTS,) * d + (LATIN,) * l + ("123456789",) + (DIGITS,) * (k - 1) + ("EH",) * s
                out.append(Template(slots, (d, l, k + s), seen_spans=((0, d), (d, d + l), (d + l, n))))
        # short-term and red plates: district, 0[34] or 0[67] and digits
        for d, k, kinds in product(range(1, 4), range(1, 5), (_DE_SHORT_TERM_KINDS, DE_RED_KINDS)):
            if d + 2 + k == n and n <= DE_MAX_CHARS:
                out.append(Template((LATIN + UMLAUTS,) * d + ("0", kinds) + (DIGITS,) * k, (d, 2 + k),
                                    seen_spans=((0, d), (d, d + 1), (d + 1, d + 2)), red=kinds == DE_RED_KINDS))
    elif country == "es":
        if n == 7:
            out.append(Template((DIGITS,) * 4 + (ES_LETTERS,) * 3, (4, 3)))
        for province, l in product(ES_PROVINCES, range(1, 3)):
            if len(province) + 4 + l == n:
                slots = tuple(province) + (DIGITS,) * 4 + (ES_OLD_LETTERS,) * l
                out.append(Template(slots, (len(province), 4, l), seen_spans=((0, len(province)),),
                                    cost=ES_PROVINCIAL_COST))
    elif 2 <= n <= 10:
        out.append(Template((DIGITS + LATIN,) * n, (n,)))
    return tuple(out)
