"""The language-independent recognisers (melo.text.entities): what is found, and what is left alone."""

from __future__ import annotations

import pytest

from melo.text.entities import (
    Address,
    Fraction,
    Measure,
    Number,
    Phone,
    Power,
    Range,
    SlashDate,
    find_entities,
)
from melo.text.normalize import clean_text


def found(text: str) -> list[tuple[str, str]]:
    return [(text[e.start : e.end], type(e.value).__name__) for e in find_entities(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("약 400km예요", [("400km", "Measure")]),
        ("气温-5°C", [("-5°C", "Measure")]),
        ("8,849 m high", [("8,849 m", "Measure")]),
        ("2x faster", [("2x", "Measure")]),
        ("84m^2", [("84m^2", "Measure")]),
        ("100km/h", [("100km/h", "Measure")]),
        ("kim@naver.com으로", [("kim@naver.com", "Address")]),
        ("https://www.korea.kr/news, then", [("https://www.korea.kr/news", "Address")]),
        ("naver.com에서", [("naver.com", "Address")]),
        ("010-1234-5678", [("010-1234-5678", "Phone")]),
        ("(415) 555-2671", [("(415) 555-2671", "Phone")]),
        ("+82 10-1234-5678", [("+82 10-1234-5678", "Phone")]),
        ("1588-1234", [("1588-1234", "Phone")]),
        ("0120-123-456", [("0120-123-456", "Phone")]),
        ("13812345678", [("13812345678", "Phone")]),
        ("3~5명", [("3~5", "Range")]),
        ("20-25°C", [("20-25°C", "Range")]),
        ("1500-2000원", [("1500-2000", "Range")]),  # round numbers: a range, not a phone number
        ("1/2컵", [("1/2", "Fraction")]),
        ("1 1⁄2 cups", [("1 1⁄2", "Fraction")]),
        ("3/15(금)", [("3/15", "SlashDate")]),
        ("2^10", [("2^10", "Power")]),
    ],
)
def test_found(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2024-03-01", "10:30-11:00", "5-3", "24/7", "192.168.0.1", "3.14", "v1.2.3", "e.g. this", "Node.js",
     "I have 5 more", "3x4", "COVID-19", "Q3", "2024.3.15", "1,000 people", "at 3pm"],
)
def test_left_alone(text):
    assert found(text) == []


def test_values():
    (measure,) = find_entities("-1.5 kg")
    assert measure.value == Measure(Number(True, "1", "5"), measure.value.unit) and measure.value.unit.symbol == "kg"
    (rng,) = find_entities("10~30%")
    assert isinstance(rng.value, Range) and (rng.value.low.integer, rng.value.high.integer, rng.value.unit.symbol) == ("10", "30", "%")
    (frac,) = find_entities("2 1/2")
    assert frac.value == Fraction("2", "1", "2", None)
    (date,) = find_entities("12/25")
    assert date.value == SlashDate(12, 25)
    (power,) = find_entities("x^2")
    assert power.value == Power("x", "2")
    (phone,) = find_entities("+82 10-1234-5678")
    assert phone.value == Phone("82", ("10", "1234", "5678"))
    (address,) = find_entities("a.b@c.kr")
    assert address.value == Address("email", (("word", "a"), ("sep", "."), ("word", "b"), ("sep", "@"),
                                              ("word", "c"), ("sep", "."), ("word", "kr")))


def test_the_final_full_stop_is_not_part_of_an_address():
    (address,) = find_entities("Visit www.python.org.")
    assert address.end == len("Visit www.python.org")


@pytest.mark.parametrize(
    "raw, cleaned",
    [("1½", "1 1⁄2"), ("½", "1⁄2"), ("m²", "m^2"), ("10¹²", "10^12"), ("㎏", "kg"), ("30℃", "30°C"), ("84㎡", "84m2")],
)
def test_cleaning_keeps_mixed_numbers_and_superscripts_apart(raw, cleaned):
    assert clean_text(raw) == cleaned
