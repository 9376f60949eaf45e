"""The complexity screening: seven dimensions scored 0/1/2, a level from the scores alone."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parcours.saisines.complexity import (
    COMPLEX,
    DIMENSION_CODES,
    DIMENSIONS,
    SIMPLE,
    TO_WATCH,
    complexity_level,
    complexity_level_label,
    complexity_scores,
    complexity_summary,
)


def test_it_has_the_seven_dimensions_of_the_product_with_french_labels_and_examples():
    assert DIMENSION_CODES == (
        "health",
        "autonomy",
        "psychological",
        "social",
        "housing",
        "rights",
        "entourage",
    )
    assert [str(d.label) for d in DIMENSIONS] == [
        "Santé",
        "Autonomie",
        "Psychologique",
        "Social",
        "Logement",
        "Droits",
        "Entourage",
    ]
    assert all(len(str(d.examples)) > 20 for d in DIMENSIONS)


@pytest.mark.parametrize(
    ("scores", "level"),
    [
        ({}, SIMPLE),
        ({"health": 1}, SIMPLE),
        ({"health": 1, "social": 1}, SIMPLE),
        ({"health": 1, "social": 1, "housing": 1}, TO_WATCH),  # total 3
        ({"housing": 2}, TO_WATCH),  # one severe
        ({"housing": 2, "rights": 1, "social": 1, "health": 1}, TO_WATCH),  # total 5
        ({"housing": 2, "rights": 2}, COMPLEX),  # two severe
        ({code: 1 for code in DIMENSION_CODES[:6]}, COMPLEX),  # total 6, none severe
        ({code: 2 for code in DIMENSION_CODES}, COMPLEX),
    ],
)
def test_it_gives_the_documented_level(scores, level):
    assert complexity_level(scores) == level


@given(st.fixed_dictionaries({code: st.sampled_from([0, 1, 2]) for code in DIMENSION_CODES}))
def test_the_level_follows_the_rule_for_every_combination(scores):
    severe = sum(score == 2 for score in scores.values())
    total = sum(scores.values())
    expected = 2 if severe >= 2 or total >= 6 else 1 if severe or total >= 3 else 0
    assert complexity_level(scores) == expected


@given(
    st.fixed_dictionaries({code: st.sampled_from([0, 1, 2]) for code in DIMENSION_CODES}),
    st.sampled_from(DIMENSION_CODES),
)
def test_a_worse_score_never_lowers_the_level(scores, code):
    worse = {**scores, code: min(scores[code] + 1, 2)}
    assert complexity_level(worse) >= complexity_level(scores)


@pytest.mark.parametrize(
    "scores", [{"unknown": 1}, {"health": 3}, {"health": -1}, {"health": "1"}, {"health": True}]
)
def test_it_refuses_what_is_not_a_screening(scores):
    with pytest.raises(ValueError):
        complexity_scores(scores)


def test_missing_dimensions_count_as_no_difficulty():
    assert complexity_scores({"health": 2}) == {
        code: (2 if code == "health" else 0) for code in DIMENSION_CODES
    }


def test_labels_and_summary_are_french():
    assert complexity_level_label(COMPLEX) == "Complexe"
    assert complexity_level_label(TO_WATCH) == "À surveiller"
    assert complexity_level_label(None) == ""
    assert complexity_summary({"housing": 2, "health": 1}) == [
        ("Santé", "Difficulté modérée"),
        ("Logement", "Difficulté importante"),
    ]
    assert complexity_summary({"bad": 9}) == []
