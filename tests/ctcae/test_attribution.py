"""The 5-level attribution scale: normalisation of CRF wordings and the "related" decision."""

from __future__ import annotations

import math

import pytest

from ctcae.attribution import (
    ATTRIBUTION_LEVELS,
    attribution_rank,
    is_related,
    normalise_attribution,
    validate_related_levels,
)


def test_scale_order():
    assert ATTRIBUTION_LEVELS == ("unrelated", "unlikely", "possible", "probable", "definite")
    assert [attribution_rank(level) for level in ATTRIBUTION_LEVELS] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("unrelated", "unrelated"),
        ("Unrelated", "unrelated"),
        ("NOT RELATED", "unrelated"),
        ("not_related", "unrelated"),
        ("Unlikely", "unlikely"),
        ("unlikely related", "unlikely"),
        ("Possible", "possible"),
        ("possibly related", "possible"),
        ("Possibly related to study drug", "possible"),
        ("probable", "probable"),
        ("Probably Related", "probable"),
        ("DEFINITE", "definite"),
        ("definitely related", "definite"),
        ("  possible  ", "possible"),
    ],
)
def test_wordings_of_the_five_levels(value, level):
    assert normalise_attribution(value) == level


@pytest.mark.parametrize("value", ["related", "Related", "Y", "N", "yes", "no", "", None, math.nan, "maybe", "3"])
def test_binary_or_unknown_values_are_left_for_a_query(value):
    assert normalise_attribution(value) is None


def test_is_related_with_the_default_levels():
    assert [is_related(level) for level in ATTRIBUTION_LEVELS] == [False, False, True, True, True]
    assert is_related("Possibly related") is True
    assert is_related("not related") is False


def test_is_related_with_a_stricter_choice():
    strict = ("probable", "definite")
    assert is_related("possible", strict) is False
    assert is_related("probable", strict) is True


def test_is_related_refuses_to_guess_a_binary_answer():
    with pytest.raises(ValueError, match="'related'.*query"):
        is_related("related")


def test_validate_related_levels_returns_them_in_scale_order():
    assert validate_related_levels(["Definite", "possible", "probable"]) == ("possible", "probable", "definite")
    assert validate_related_levels("definite") == ("definite",)


def test_validate_related_levels_names_the_bad_values():
    with pytest.raises(ValueError) as caught:
        validate_related_levels(["possible", "related", "likely-ish"])
    message = str(caught.value)
    assert "'related'" in message and "'likely-ish'" in message
    assert "'possible'" not in message.split(";")[0]
    assert "unrelated, unlikely, possible, probable, definite" in message


def test_validate_related_levels_rejects_an_empty_choice():
    with pytest.raises(ValueError, match="empty"):
        validate_related_levels([])
