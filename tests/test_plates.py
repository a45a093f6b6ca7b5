"""Plate grammars: validation, groups, random generation and decoding templates."""

import numpy as np
import pytest

from alpr import plates


@pytest.mark.parametrize(
    "text",
    ["DÜW AS 870", "DÜW-AS870", "ES EL 2399", "HD AD 89", "SOG AR 100", "M AB 1234E", "B X 1", "ÖHR A 12H", "LÖ AB 999"],
)
def test_valid_german(text):
    assert plates.is_valid(text, "de")


@pytest.mark.parametrize(
    "text",
    [
        "AB C 0123",  # digits never start with 0
        "ABCD E 12",  # district has at most 3 letters
        "AB CDE 12",  # 1-2 letters after the district
        "AB CD 12345",  # at most 4 digits
        "ABC DE 1234",  # 9 characters
        "AB CD 12X",  # suffix is only E or H
        "AB DÜ 12",  # umlauts only in the district
        "1B C 12",  # the district is letters only
        "",
        "   ",
    ],
)
def test_invalid_german(text):
    assert not plates.is_valid(text, "de")


@pytest.mark.parametrize("text, groups", [("HB 06199", ("HB", "06199")), ("BC07129", ("BC", "07129")),
                                          ("K 04511", ("K", "04511")), ("DÜW 031", ("DÜW", "031"))])
def test_german_short_term_and_red_plates(text, groups):
    # the number follows the district directly: 03/04 short-term, 06 red dealer, 07 red historic plates
    assert plates.parse(text, "de").groups == groups


@pytest.mark.parametrize("text", ["HB 05199", "HB 0612345", "HB 06", "HB 16199", "HB A 06199"])
def test_invalid_german_special_plates(text):
    assert not plates.is_valid(text, "de")


def test_german_groups_decide_the_split():
    assert plates.parse("UE MA 123", "de").groups == ("UE", "MA", "123")
    assert plates.parse("UEM A 123", "de").groups == ("UEM", "A", "123")
    # the same characters without groups are valid in both readings; the first split is returned
    assert plates.is_valid("UEMA123", "de")


@pytest.mark.parametrize("text", ["1234 BCD", "0000 ZZZ", "9876XYW", "M 1234 AB", "GR 0001 C", "B-5555-ZZ"])
def test_valid_spanish(text):
    assert plates.is_valid(text, "es")


@pytest.mark.parametrize(
    "text",
    [
        "1234 BAD",  # vowels are not used since 2000
        "1234 BCE",
        "1234 BQD",  # no Q
        "1234 BÑD",  # no Ñ
        "123 BCD",
        "12345 BCD",
        "1234 BCDF",
        "XX 1234 AB",  # not a province
        "M 123 AB",
    ],
)
def test_invalid_spanish(text):
    assert not plates.is_valid(text, "es")


def test_generic_eu():
    assert plates.is_valid("M5XSX", "eu")
    assert plates.is_valid("WOB VWMK4", "eu")
    assert not plates.is_valid("A", "eu")
    assert not plates.is_valid("ÄB12", "eu")


def test_unknown_country_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown country"):
        plates.is_valid("AB 12", "fr")


@pytest.mark.parametrize("country", plates.COUNTRIES)
def test_random_plates_are_valid_and_seeded(country):
    a = [plates.random_plate(country, np.random.default_rng(7), old_es_rate=0.3) for _ in range(3)]
    b = [plates.random_plate(country, np.random.default_rng(7), old_es_rate=0.3) for _ in range(3)]
    assert a == b
    rng = np.random.default_rng(1)
    for _ in range(500):
        plate = plates.random_plate(country, rng, old_es_rate=0.3)
        assert plates.is_valid(plate.formatted, country), plate
        assert set(plate.text) <= set(plates.ALPHABETS[country]) | set(plates.ES_OLD_LETTERS)


def test_random_german_plates_use_umlauts_and_respect_the_length_limit():
    rng = np.random.default_rng(3)
    texts = [plates.random_plate("de", rng).text for _ in range(2000)]
    assert any(set(t) & set(plates.UMLAUTS) for t in texts)
    assert max(len(t) for t in texts) <= plates.DE_MAX_CHARS


@pytest.mark.parametrize("country", plates.COUNTRIES)
def test_templates_generate_only_valid_plates(country):
    rng = np.random.default_rng(0)
    for n in range(1, 11):
        for template in plates.templates(country, n):
            assert len(template.slots) == n == sum(template.group_sizes)
            text = "".join(rng.choice(list(slot)) for slot in template.slots)
            groups, i = [], 0
            for size in template.group_sizes:
                groups.append(text[i : i + size])
                i += size
            assert plates.is_valid(" ".join(groups), country), (template, groups)


def test_templates_cover_real_examples():
    assert any(t.group_sizes == (3, 2, 3) for t in plates.templates("de", 8))
    assert any(t.group_sizes == (4, 3) for t in plates.templates("es", 7))
