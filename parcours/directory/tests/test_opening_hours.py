import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from parcours.directory.hours import format_opening_hours, parse_opening_hours


def test_it_reads_days_ranges_and_french_hours():
    slots = parse_opening_hours("lundi 09:00-12:00, 14:00-17:00\nmardi au jeudi 9h-12h30\n")
    assert slots[:2] == [
        {"day": 1, "opens": "09:00", "closes": "12:00"},
        {"day": 1, "opens": "14:00", "closes": "17:00"},
    ]
    assert [s["day"] for s in slots[2:]] == [2, 3, 4]
    assert slots[-1]["closes"] == "12:30"


@pytest.mark.parametrize(
    "text, message",
    [
        ("lundy 9h-12h", "jour inconnu"),
        ("lundi 9h", "horaire invalide"),
        ("lundi 12h-9h", "fermeture"),
        ("lundi 25h-26h", "heure invalide"),
        ("n'importe quoi", "Ligne 1"),
    ],
)
def test_it_names_the_bad_line_in_french(text, message):
    with pytest.raises(ValidationError, match=message):
        parse_opening_hours(text)


slot = st.builds(
    lambda day, start, length: {
        "day": day,
        "opens": f"{start:02d}:00",
        "closes": f"{start + length:02d}:00",
    },
    st.integers(1, 7),
    st.integers(0, 20),
    st.integers(1, 3),
)


@given(st.lists(slot, max_size=10, unique_by=lambda s: (s["day"], s["opens"])))
def test_the_text_form_reads_back_to_the_same_slots(slots):
    assert parse_opening_hours(format_opening_hours(slots)) == sorted(
        slots, key=lambda s: (s["day"], s["opens"])
    )
