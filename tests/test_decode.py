"""Grammar-aware decoding picks the most probable valid plate."""

import itertools

import numpy as np
import pytest

from alpr import decode as dec
from alpr import plates
from alpr.decode import decode, decode_greedy


def one_hot_probs(text: str, alphabet: str, confidence: float = 0.9) -> np.ndarray:
    """Probability rows that favour each character of ``text``."""
    probs = np.full((len(text), len(alphabet)), (1 - confidence) / (len(alphabet) - 1))
    for i, c in enumerate(text):
        probs[i, alphabet.index(c)] = confidence
    return probs


def test_reads_a_clear_spanish_plate():
    alphabet = plates.ALPHABETS["es"]
    result = decode(one_hot_probs("1234BCD", alphabet), alphabet, "es", gaps={4})
    assert result.text == "1234BCD" and result.groups == ("1234", "BCD")
    assert 0.85 < result.confidence <= 0.9


def test_grammar_moves_a_confusion_to_the_allowed_class():
    alphabet = plates.ALPHABETS["eu"]
    probs = one_hot_probs("1234BCD", alphabet)
    # the model prefers "B" in the first digit slot, but "8" is a close second
    probs[0] = 0.001
    probs[0, alphabet.index("B")] = 0.5
    probs[0, alphabet.index("8")] = 0.4
    probs[0] /= probs[0].sum()
    assert decode_greedy(probs, alphabet)[0] == "B234BCD"
    assert decode(probs, alphabet, "es").text == "8234BCD"


def test_german_gap_decides_between_two_valid_splits():
    alphabet = plates.ALPHABETS["de"]
    probs = one_hot_probs("UEMA123", alphabet)
    assert decode(probs, alphabet, "de", gaps={2}).groups == ("UE", "MA", "123")
    assert decode(probs, alphabet, "de", gaps={3}).groups == ("UEM", "A", "123")


def test_german_stickers_taken_for_a_character_are_read_as_the_sticker_gap():
    alphabet = plates.ALPHABETS["de"]
    probs = one_hot_probs("QYKB9", alphabet)  # the stickers read as a confident Y, no wide gap seen
    assert decode(probs, alphabet, "de").text == "QYKB9"
    skipped = decode(probs, alphabet, "de", stickers={1})
    assert skipped.text == "QKB9" and skipped.groups == ("Q", "KB", "9") and skipped.kept == (0, 2, 3, 4)
    # a box the segmenter points out is still read when the plate needs it as a character
    assert decode(one_hot_probs("UEMA123", alphabet), alphabet, "de", gaps={2}, stickers={2}).text == "UEMA123"
    # neither an end box nor another country's plate is read that way
    assert decode(probs, alphabet, "de", stickers={0}).text == "QYKB9"
    es = plates.ALPHABETS["es"]
    assert decode(one_hot_probs("1234BCD", es), es, "es", stickers={1}).text == "1234BCD"


def test_drops_a_doubtful_box_at_the_end():
    alphabet = plates.ALPHABETS["es"]
    probs = np.vstack([one_hot_probs("1234BCD", alphabet), np.full((1, len(alphabet)), 1 / len(alphabet))])
    result = decode(probs, alphabet, "es")
    assert result.text == "1234BCD" and result.kept == tuple(range(7))


def test_no_valid_plate_returns_none():
    alphabet = plates.ALPHABETS["es"]
    assert decode(one_hot_probs("12", alphabet), alphabet, "es") is None
    assert decode(np.zeros((0, len(alphabet))), alphabet, "es") is None


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="shape"):
        decode(np.ones((3, 5)), "0123", "eu")


def test_occluded_characters_leave_unseen_slots():
    alphabet = plates.ALPHABETS["es"]
    # "074?C?V": two characters hidden by anonymisation boxes, the wide gap after the digits seen
    probs = one_hot_probs("074CV", alphabet)
    assert decode(probs, alphabet, "es", gaps={3}) is None
    result = decode(probs, alphabet, "es", gaps={3}, max_missing=2)
    assert result.text == "074CV" and result.missing == 2
    assert len(result.groups) == 2 and result.groups[0].startswith("074") and "?" in result.groups[1]


def test_a_german_reading_sees_every_group():
    """Unseen slots are allowed, but not a whole German group: "I W ?" (district I, letters W,
    no digit seen) is what two junk boxes in a photo give."""
    alphabet = plates.ALPHABETS["de"]
    result = decode(one_hot_probs("IW", alphabet), alphabet, "de", max_missing=2)
    # only a reading that takes a box for something it hardly looks like is left ("I 0??")
    assert result is None or (result.confidence < 0.1 and all(g.strip("?") for g in result.groups)), result
    # nor the 0 and kind digit that are the only signs of a short-term or red plate ("W ?385")
    result = decode(one_hot_probs("W385", alphabet), alphabet, "de", max_missing=2)
    assert result is None or "?" not in result.groups[1][:2], result
    result = decode(one_hot_probs("HDAD8", alphabet), alphabet, "de", gaps={2}, max_missing=1)
    assert result.text == "HDAD8" and result.missing == 0
    partial = decode(one_hot_probs("HDA8", alphabet), alphabet, "de", gaps={2}, max_missing=1)
    assert partial is not None and all(g.strip("?") for g in partial.groups)


def test_complete_readings_win_over_partial_ones():
    alphabet = plates.ALPHABETS["es"]
    result = decode(one_hot_probs("1234BCD", alphabet), alphabet, "es", gaps={4}, max_missing=2)
    assert result.text == "1234BCD" and result.missing == 0


def test_known_occluders_fill_their_slot():
    alphabet = plates.ALPHABETS["es"]
    probs = one_hot_probs("0740CXV", alphabet)  # boxes 3 and 5 are grey boxes, whatever the CNN says
    result = decode(probs, alphabet, "es", gaps={4}, unknown={3, 5})
    assert result.groups == ("074?", "C?V") and result.text == "074CV"
    assert result.missing == 2 and result.kept == (0, 1, 2, 4, 6) and len(result.char_confidences) == 5


def test_eu_reads_o_and_zero_from_their_run():
    alphabet = plates.ALPHABETS["eu"]
    # the CNN is sure of "0" at the end and of "O" inside the digits (a font where they look alike)
    result = decode(one_hot_probs("RK3O4A0", alphabet, 0.99), alphabet, "eu")
    assert result.text == "RK304AO"
    assert result.char_confidences[-1] > 0.99  # the pair's mass is reported, not the O alone


def test_eu_switch_is_free_at_a_wide_gap_and_confident_readings_stand():
    alphabet = plates.ALPHABETS["eu"]
    probs = one_hot_probs("M5XSX", alphabet, 0.99)
    assert decode(probs, alphabet, "eu").text == "M5XSX"  # a sure mix is not "corrected"
    unsure = one_hot_probs("AB1CD", alphabet, 0.99)
    unsure[2] = 0.0005
    unsure[2, alphabet.index("1")], unsure[2, alphabet.index("I")] = 0.55, 0.43
    unsure[2] /= unsure[2].sum()
    assert decode(unsure, alphabet, "eu").text == "ABICD"  # the run outweighs a slight preference
    assert decode(unsure, alphabet, "eu", gaps={2, 3}).text == "AB1CD"  # ... unless wide gaps set it apart


def test_german_o_and_zero_keep_the_cnn_reading_where_the_grammar_allows_it():
    alphabet = plates.ALPHABETS["de"]
    result = decode(one_hot_probs("KAO1", alphabet, 0.99), alphabet, "de", gaps={2})
    assert result.text == "KAO1"


def test_german_o_read_as_zero_is_read_as_the_letter_the_slot_needs():
    """The CNN reads a sheared, blurred O as 0 (its one cue, FE-Schrift's wider O, gone): rather
    than drop the box (DROP_COST) the decoder reads the look-alike, at DE_ALIKE_COST, and reports
    the pair's mass; the same for an O where the grammar needs a digit."""
    alphabet = plates.ALPHABETS["de"]
    assert dec.DE_ALIKE_COST < dec.DROP_COST
    result = decode(one_hot_probs("0RLJ3", alphabet, 0.999), alphabet, "de", gaps={2})
    assert result.text == "ORLJ3" and result.groups == ("OR", "LJ", "3")
    assert result.char_confidences[0] > 0.999
    assert decode(one_hot_probs("MAB1O2", alphabet, 0.999), alphabet, "de", gaps={1, 3}).text == "MAB102"
    # the other look-alike is only a fallback: a Q the CNN gives a fair chance stays a Q
    probs = one_hot_probs("0LJ7", alphabet, 0.9)
    probs[0, alphabet.index("Q")] = 0.09
    assert decode(probs, alphabet, "de", gaps={1}).text == "QLJ7"


def test_hidden_characters_go_where_the_wide_spaces_are():
    alphabet = plates.ALPHABETS["es"]
    # "074?C?V" with both grey boxes missed: the spaces they leave are the wide gaps before boxes
    # 3 and 4; box 3 looks nearly as much like "0" as like "C"
    probs = one_hot_probs("074CV", alphabet)
    probs[3] = 0.001
    probs[3, alphabet.index("C")], probs[3, alphabet.index("0")] = 0.5, 0.45
    probs[3] /= probs[3].sum()
    result = decode(probs, alphabet, "es", gaps={3, 4}, max_missing=2)
    assert result.groups == ("074?", "C?V") and result.missing == 2
    # with no room between the boxes a hidden slot is not squeezed in there
    tight = decode(one_hot_probs("074CV", alphabet), alphabet, "es", gaps={3}, max_missing=2)
    assert tight.groups == ("074?", "CV?")


def test_a_provincial_reading_must_see_its_province():
    alphabet = plates.ALPHABETS["es"]
    # "55?3 JT" whose last letter was lost: "? 55?3 J" (province unseen, one slot fewer) would
    # cost less than a new-format reading with its last letter unseen, but leaves the format a guess
    probs = one_hot_probs("5503J", alphabet, 0.99)
    result = decode(probs, alphabet, "es", gaps={4}, max_missing=2, unknown={2})
    assert result.groups == ("55?3", "J??")
    # a seen province, or one partly hidden by a grey box, is provincial evidence
    assert decode(one_hot_probs("M1234B", alphabet, 0.99), alphabet, "es", gaps={1, 5}).groups == ("M", "1234", "B")
    partly = decode(one_hot_probs("0R2202BV", alphabet, 0.99), alphabet, "es", gaps={2, 6}, unknown={0, 4})
    assert partly.groups == ("?R", "22?2", "BV")


def test_a_provincial_reading_pays_the_prior_odds_against_its_format():
    """UC3M-LP's "5?13?BR" read "S131BR": a 5 read a little more like an S made today's plate a
    provincial one (province S, digits ?13?, letters BR) that fits the same boxes."""
    alphabet = plates.ALPHABETS["es"]

    def read(s_probability, five_probability):
        probs = one_hot_probs("5013000", alphabet, 0.95)
        probs[0] = (1 - s_probability - five_probability) / (len(alphabet) - 2)
        probs[0, alphabet.index("S")], probs[0, alphabet.index("5")] = s_probability, five_probability
        probs[5:] = one_hot_probs("BR", alphabet, 0.95)
        return decode(probs, alphabet, "es", unknown={1, 4})

    assert plates.ES_PROVINCIAL_COST == pytest.approx(np.log(9.0))
    assert read(0.6, 0.35).groups == ("5?13", "?BR")  # odds of 1.7 for the S: under the prior's 9
    assert read(0.95, 0.04).groups == ("S", "?13?", "BR")  # odds of 24: a provincial plate after all
    assert {t.cost for t in plates.templates("es", 7)} == {0.0, plates.ES_PROVINCIAL_COST}
    assert all(t.cost == 0.0 for t in plates.templates("de", 7))


def test_template_seen_spans():
    provincial = plates.templates("es", 8)[1]
    assert provincial.group_sizes == (2, 4, 2) and provincial.seen_spans == ((0, 2),)
    german = next(t for t in plates.templates("de", 7) if t.group_sizes == (2, 2, 3))
    assert german.seen_spans == ((0, 2), (2, 4), (4, 7))
    short_term, red = [t for t in plates.templates("de", 7) if t.group_sizes == (2, 5)]
    assert short_term.seen_spans == red.seen_spans == ((0, 2), (2, 3), (3, 4))
    assert short_term.slots[2:4] == ("0", "34") and not short_term.red
    assert red.slots[2:4] == ("0", "67") and red.red


def _exhaustive(probs, alphabet, country, gaps, unknown, stickers, missing, red_ink=False):
    """Every reading of ``decode``'s search with ``missing`` unseen slots, scored plainly (each
    subset, template and placement, no pruning): ``(log_score, groups, boxes read)`` tuples."""
    n = len(probs)
    log_probs = np.log(np.maximum(probs, 1e-9))
    if country == "de":  # O and 0 cost at most DE_ALIKE_COST more than each other
        o, zero = alphabet.index("O"), alphabet.index("0")
        lo, lz = log_probs[:, o].copy(), log_probs[:, zero].copy()
        log_probs[:, o], log_probs[:, zero] = np.maximum(lo, lz - dec.DE_ALIKE_COST), np.maximum(lz, lo - dec.DE_ALIKE_COST)
    log_probs[sorted(unknown)] = 0.0
    hidden = set(unknown)
    out = []
    for kept, skipped in dec._with_skipped_stickers(dec._kept_subsets(n, 2), frozenset(stickers)):
        m = len(kept)
        kept_gaps = dec._gaps_after_dropping(kept, (frozenset(gaps) - skipped) | {s + 1 for s in skipped})
        fixed = dec.DROP_COST * (n - m - len(skipped)) + dec.STICKER_COST * len(skipped) + dec.MISSING_COST * missing
        for template in plates.templates(country, m + missing):
            allowed = [[c for c in slot if c in alphabet] for slot in template.slots]
            if not all(allowed):
                continue
            for observed in itertools.combinations(range(m + missing), m):
                by_slot = dict(zip(observed, kept))
                if any(all(by_slot.get(s) in (None, *hidden) for s in range(*span)) for span in template.seen_spans):
                    continue
                chars, total = ["?"] * len(template.slots), -fixed
                for slot, box in by_slot.items():
                    best = max(allowed[slot], key=lambda c: log_probs[box, alphabet.index(c)])
                    total += log_probs[box, alphabet.index(best)]
                    chars[slot] = "?" if box in hidden else best
                total -= dec.GAP_MISMATCH_COST * dec._gap_mismatches(template, observed, kept_gaps)
                total -= dec.RED_INK_COST if red_ink and not template.red else 0.0
                total -= template.cost
                sizes = np.cumsum((0,) + template.group_sizes)
                seen = tuple(box for box in kept if box not in hidden)
                out.append((total, tuple("".join(chars[a:b]) for a, b in zip(sizes, sizes[1:])), seen))
    return out


@pytest.mark.parametrize("country, extra, red_ink", [("de", "", False), ("de", "", True), ("es", "", False),
                                                      ("es", "AEIOU", False)])
def test_search_finds_the_best_reading_of_an_exhaustive_one(country, extra, red_ink):
    """The search's pruning and its scoring of all templates at once change nothing: on random
    boxes it returns a best reading of the plain enumeration of every reading."""
    alphabet = plates.ALPHABETS[country] + extra
    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(2, 9))
        logits = rng.normal(size=(n, len(alphabet))) * rng.choice([0.5, 2.0, 6.0])
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        gaps = {int(i) for i in rng.choice(np.arange(1, n), size=int(rng.integers(0, 3)))}
        unknown = {int(i) for i in rng.choice(n, size=int(rng.integers(0, 2)))}
        stickers = {int(i) for i in rng.choice(n, size=int(rng.integers(0, 2)))} if country == "de" else set()
        for missing in (0, 1):
            result = dec._Search(probs, alphabet, country, frozenset(gaps), 2, frozenset(unknown),
                                 frozenset(stickers), red_ink=red_ink).run(missing=missing)
            readings = _exhaustive(probs, alphabet, country, gaps, unknown, stickers, missing, red_ink)
            if not readings:
                assert result is None
                continue
            top = max(r[0] for r in readings)
            assert result.log_score == pytest.approx(top, abs=1e-9)
            assert (result.groups, result.kept) in {(g, k) for s, g, k in readings if s >= top - 1e-9}


def _hb_d_6199(d_probability: float) -> tuple[np.ndarray, str]:
    """A red plate HB 06199 as the CNN reads de-samples' photo of it: its blurred 0 a D."""
    alphabet = plates.ALPHABETS["de"]
    probs = one_hot_probs("HBD6199", alphabet, 0.999)
    probs[2] = (1 - d_probability - 0.001) / (len(alphabet) - 2)
    probs[2, alphabet.index("D")], probs[2, alphabet.index("0")] = d_probability, 0.001
    return probs, alphabet


def test_red_lettering_reads_a_red_plate():
    """Only German red plates (06, 07) are written in red: with red lettering a reading that is
    not one costs RED_INK_COST, and the red plate's 0 is reported with its look-alikes' mass."""
    probs, alphabet = _hb_d_6199(0.995)
    assert decode(probs, alphabet, "de", gaps={2}).groups == ("HB", "D", "6199")
    red = decode(probs, alphabet, "de", gaps={2}, red_ink=True)
    assert red.groups == ("HB", "06199") and red.confidence > 0.99
    assert decode(probs, alphabet, "eu", red_ink=True).text == "HBD6199"  # German plates only


def test_red_lettering_does_not_rewrite_a_plate_that_cannot_be_red():
    """A reading two confident characters away from any red plate keeps its own text."""
    alphabet = plates.ALPHABETS["de"]
    probs = one_hot_probs("MDT6342", alphabet, 0.999)
    assert decode(probs, alphabet, "de", gaps={1, 3}, red_ink=True).groups == ("M", "DT", "6342")
