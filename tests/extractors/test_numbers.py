"""Numbers: conventions, scale words, mixed and spelled-out forms, units; format/parse round-trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extractors.numbers import Convention, detect_convention, find_quantities, format_number, parse_number


@pytest.mark.parametrize(
    ("token", "convention", "expected"),
    [
        ("1.234,5", "vi", Decimal("1234.5")),
        ("1,234.5", "vi", Decimal("1234.5")),
        ("1,234.5", "en", Decimal("1234.5")),
        ("1.234.567", "vi", Decimal("1234567")),
        ("1,234,567", "en", Decimal("1234567")),
        ("3,5", "vi", Decimal("3.5")),
        ("3.5", "vi", Decimal("3.5")),
        ("1.234", "vi", Decimal("1234")),
        ("1.234", "en", Decimal("1.234")),
        ("1,234", "en", Decimal("1234")),
        ("1,234", "vi", Decimal("1.234")),
        ("2 700 000", "vi", Decimal("2700000")),
    ],
)
def test_parse_number_follows_the_convention_only_where_the_token_is_ambiguous(
    token: str, convention: Convention, expected: Decimal
) -> None:
    assert parse_number(token, convention) == expected


@pytest.mark.parametrize("token", ["1.234", "1,234"])
def test_parse_number_refuses_an_ambiguous_token_without_a_convention(token: str) -> None:
    assert parse_number(token, None) is None


@pytest.mark.parametrize("token", ["1,23,4", "12.34.56", "1.2345,6"])
def test_parse_number_rejects_malformed_groups(token: str) -> None:
    assert parse_number(token, "vi") is None


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Tổng vốn 1.234,5 tỷ đồng và 2.000 ha.", "vi", "vi"),
        ("Revenue was 1,234.5 million and 3.25 percent.", "en", "en"),
        ("Kim ngạch đạt 1.234 tỷ đồng.", "vi", "vi"),
        ("Exports were 1,234 million.", "en", "en"),
        ("Values 12 and 13.", None, None),
    ],
)
def test_document_convention_comes_from_unambiguous_numbers_then_language(
    text: str, lang: str | None, expected: str | None
) -> None:
    assert detect_convention(text, lang) == expected


@pytest.mark.parametrize(
    ("text", "lang", "value", "unit"),
    [
        ("3,5 tỷ USD", "vi", Decimal("3500000000"), "USD"),
        ("172 triệu đồng/người/năm", "vi", Decimal("172000000"), "VND/person/year"),
        ("40 tỷ 541 triệu USD", "vi", Decimal("40541000000"), "USD"),
        ("400 nghìn tỷ đồng", "vi", Decimal("400000000000000"), "VND"),
        ("450 ngàn tỉ đồng", "vi", Decimal("450000000000000"), "VND"),
        ("hai tỷ rưỡi USD", "vi", Decimal("2500000000"), "USD"),
        ("ba trăm triệu USD", "vi", Decimal("300000000"), "USD"),
        ("95%", "vi", Decimal("95"), "%"),
        ("2.694 km2", "vi", Decimal("2694"), "km2"),
        ("US$3.5 billion", "en", Decimal("3500000000"), "USD"),
        ("$3.9bn", "en", Decimal("3900000000"), "USD"),
        ("VND 400 trillion", "en", Decimal("400000000000000"), "VND"),
        ("two billion USD", "en", Decimal("2000000000"), "USD"),
        ("twenty-one thousand people", "en", Decimal("21000"), "persons"),
        ("3,5 milliards de dollars", "fr", Decimal("3500000000"), "USD"),
        ("deux milliards de dollars", "fr", Decimal("2000000000"), "USD"),
        ("2 700 000 habitants", "fr", Decimal("2700000"), "persons"),
    ],
)
def test_find_quantities_converts_to_base_units(text: str, lang: str, value: Decimal, unit: str) -> None:
    q = find_quantities(text, lang=lang, convention=detect_convention(text, lang))
    assert [(x.value, x.unit) for x in q] == [(value, unit)]
    assert (q[0].start, q[0].end) == (0, len(text))


def test_spelled_number_words_need_a_scale_word() -> None:
    assert find_quantities("một trong những tỉnh dẫn đầu", lang="vi", convention="vi") == []


@given(
    st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from(["vi", "en"]),
)
def test_format_then_parse_round_trips_in_both_conventions(value: Decimal, convention: Convention) -> None:
    text = format_number(value, convention, decimals=2)
    assert parse_number(text, convention) == value


@given(st.integers(min_value=1000, max_value=10**12), st.sampled_from(["vi", "en"]))
def test_grouped_integers_round_trip_in_both_conventions(value: int, convention: Convention) -> None:
    text = format_number(Decimal(value), convention, decimals=0)
    assert parse_number(text, convention) == value


@given(st.integers(min_value=1, max_value=999), st.integers(min_value=1, max_value=999))
def test_mixed_scales_add_up(billions: int, millions: int) -> None:
    q = find_quantities(f"{billions} tỷ {millions} triệu USD", lang="vi", convention="vi")
    assert q[0].value == billions * 10**9 + millions * 10**6
