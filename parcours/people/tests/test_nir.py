"""NIR validation: key = 97 − (body mod 97), Corsica 2A/2B, foreign-born 99, typing."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from parcours.lib.nir import nir_error, nir_format, nir_is_valid, nir_key, nir_normalise

SEX = st.sampled_from("123478")
YEAR = st.integers(0, 99).map("{:02d}".format)
MONTH = st.sampled_from([*range(1, 13), *range(20, 43), *range(50, 100)]).map("{:02d}".format)
ORDER = st.integers(1, 999).map("{:03d}".format)
MAINLAND = st.tuples(
    st.integers(1, 95).map("{:02d}".format), st.integers(1, 999).map("{:03d}".format)
).map("".join)
CORSICA = st.tuples(st.sampled_from(["2A", "2B"]), st.integers(1, 999).map("{:03d}".format)).map(
    "".join
)
OVERSEAS = st.tuples(
    st.sampled_from(["971", "972", "973", "974", "976", "987", "988"]),
    st.integers(1, 99).map("{:02d}".format),
).map("".join)
ABROAD = st.integers(100, 999).map("99{:03d}".format)
BODY = st.tuples(SEX, YEAR, MONTH, st.one_of(MAINLAND, CORSICA, OVERSEAS, ABROAD), ORDER).map(
    "".join
)


def with_key(body: str) -> str:
    return f"{body}{nir_key(body):02d}"


@given(BODY)
def test_it_accepts_any_valid_body_with_its_computed_key(body):
    assert nir_error(with_key(body)) is None
    assert nir_is_valid(with_key(body))


@given(BODY, st.integers(0, 99))
def test_it_refuses_any_other_key(body, key):
    assume(key != nir_key(body))
    message = nir_error(f"{body}{key:02d}")
    assert message is not None and "clé" in message


@given(BODY)
def test_it_accepts_the_nir_typed_with_spaces_dots_or_dashes_and_lower_case(body):
    nir = with_key(body)
    grouped = nir_format(nir)
    assert nir_is_valid(grouped)
    assert nir_is_valid(grouped.replace(" ", ".").lower())
    assert nir_is_valid("  " + grouped.replace(" ", "-") + "\u00a0")
    assert nir_normalise(grouped) == nir


@given(BODY)
def test_a_single_changed_digit_is_caught(body):
    nir = with_key(body)
    position = 12  # the order number's last digit: always a digit
    changed = nir[:position] + str((int(nir[position]) + 1) % 10) + nir[position + 1 :]
    assume(changed[10:13] != "000")
    assert not nir_is_valid(changed)


def test_a_known_nir_is_valid_and_shown_grouped():
    assert nir_key("2550814168025") == 38
    assert nir_is_valid("2 55 08 14 168 025 38")
    assert nir_format("255081416802538") == "2 55 08 14 168 025 38"


def test_corsica_replaces_2a_by_19_and_2b_by_18_for_the_key():
    assert nir_key("1841219451089") == nir_key("184122A451089")
    assert nir_key("1841218451089") == nir_key("184122B451089")
    # The standard's wording: subtract 1 000 000 (2A) or 2 000 000 (2B) after A/B → 0.
    assert nir_key("184122A451089") == 97 - (1841220451089 - 1_000_000) % 97
    assert nir_key("184122B451089") == 97 - (1841220451089 - 2_000_000) % 97
    assert nir_is_valid(with_key("2 65 05 2A 004 123".replace(" ", "")))
    assert nir_is_valid(with_key("165052b033007".upper()))


def test_corsica_keys_differ_from_the_plain_digits():
    body = "184122A451089"
    assert not nir_is_valid(body + f"{97 - 1841220451089 % 97:02d}")


@pytest.mark.parametrize("country", ["352", "100", "134", "212", "350"])
def test_people_born_abroad_have_99_and_the_country_code(country):
    body = f"17803 99{country} 045".replace(" ", "")
    assert nir_is_valid(with_key(body))


def test_born_abroad_needs_a_country_code():
    assert "pays" in nir_error(with_key("1780399000045"))


@pytest.mark.parametrize(
    "nir, expected",
    [
        ("", "vide"),
        ("2550814168025", "15 caractères"),
        ("25508141680253800", "15 caractères"),
        ("2550814168025AB", "chiffres"),
        ("25508X416802538", "chiffres"),
        ("2550814168O2538", "chiffres"),
        ("255082C168025 38", "chiffres"),
        ("555081416802538", "premier chiffre"),
        ("055081416802538", "premier chiffre"),
        ("255131416802538", "mois"),
        ("255001416802538", "mois"),
        ("255450014168025", "mois"),
        ("255080016802538", "département"),
        ("255081400002538", "commune"),
        ("255081416800038", "ordre"),
        ("255081416802539", "clé"),
    ],
)
def test_it_says_in_french_what_is_wrong(nir, expected):
    message = nir_error(nir)
    assert message is not None and expected in message


def test_the_message_never_repeats_the_number():
    nir = "255081416802539"
    assert nir not in nir_error(nir) and "16802539" not in nir_error(nir)


@pytest.mark.parametrize("month", ["01", "12", "20", "30", "42", "50", "99"])
def test_months_of_unknown_birth_month_are_accepted(month):
    assert nir_is_valid(with_key(f"155{month}75056123"))


@pytest.mark.parametrize("month", ["00", "13", "19", "43", "49"])
def test_other_months_are_refused(month):
    assert not nir_is_valid(with_key(f"155{month}75056123"))


def test_the_key_needs_a_13_character_body():
    with pytest.raises(ValueError):
        nir_key("12345")
    with pytest.raises(ValueError):
        nir_key("25508141680X5")
