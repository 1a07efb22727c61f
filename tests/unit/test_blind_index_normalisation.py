"""How the blind index compares what a caller types with what the ledger stored."""

from __future__ import annotations

import pytest

from ledger_store.privacy.vault import normalised

TYPED_AND_STORED = [
    ("13800138000", "+8613800138000"),
    ("+86 138 0013 8000", "+8613800138000"),
    ("０８９８－６８５１６６５２", "+8689868516652"),  # full-width, as an IME types it
    ("(0898) 6520 3123", "+8689865203123"),
]


@pytest.mark.parametrize(("typed", "stored"), TYPED_AND_STORED)
def test_a_phone_as_typed_finds_the_phone_as_stored(typed: str, stored: str) -> None:
    assert normalised("phone", typed) == normalised("phone", stored) == stored


@pytest.mark.parametrize("text", ["+8619999999999", "+86123", "12345"])
def test_a_number_the_phone_rules_refuse_is_compared_by_its_digits(text: str) -> None:
    assert normalised("phone", f" {text} ") == text


def test_id_numbers_compare_upper_case_and_names_by_their_words() -> None:
    assert normalised("id_number", "46010019900101123x") == "46010019900101123X"
    assert normalised("name", "  王  小明 ") == "王 小明"
