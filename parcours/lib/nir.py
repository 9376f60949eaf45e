"""The NIR (numéro d'inscription au répertoire, "numéro de sécurité sociale").

15 characters: a 13-character body and a 2-digit key, key = 97 − (body mod 97).

    position  1     sex: 1 man, 2 woman; 3, 4 (people being registered), 7, 8 (temporary
                    numbers, NIA) follow the same layout
              2-3   year of birth (two digits)
              4-5   month of birth: 01-12; 20, 30-42 or 50-99 when the civil status gives
                    no month (accepted: 01-12, 20-42, 50-99)
              6-10  place of birth: département (01-95, 2A/2B for Corsica, 20 before 1976,
                    96) and commune (3 digits); overseas 97x/98x and commune (2 digits);
                    99 and the INSEE country code (3 digits) for people born abroad
              11-13 order number in the month's register (001-999)
              14-15 key

Corsica: the key is computed after replacing 2A by 19 and 2B by 18 (the standard's
"subtract 1 000 000 / 2 000 000 after replacing the letter by 0").

The messages say what is wrong without repeating the number (it may end up in a log).
"""

import re

from django.utils.translation import gettext as _

NIR_LENGTH = 15
_SEPARATORS = re.compile(r"[\s.\-_/]+")
_SHAPE = re.compile(r"^[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}$")
_CORSICA = {"2A": "19", "2B": "18"}
SEX_DIGITS = frozenset("123478")


def nir_normalise(text: str | None) -> str:
    """Without spaces, dots, dashes; upper case: '1 84 12 2a 451 089 46' → '184122A45108946'."""
    return _SEPARATORS.sub("", text or "").upper()


def _numeric(nir13: str) -> int:
    department = nir13[5:7]
    return int(nir13[:5] + _CORSICA.get(department, department) + nir13[7:13])


def nir_key(nir13: str) -> int:
    """The key (1 to 97) of a 13-character body (Corsican 2A/2B accepted)."""
    body = nir_normalise(nir13)
    if len(body) != 13 or not _SHAPE.match(body + "00"):
        raise ValueError("a NIR body has 13 characters: digits, or 2A/2B as département")
    return 97 - _numeric(body) % 97


def _valid_month(month: int) -> bool:
    return 1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99


def _place_error(nir: str) -> str | None:
    department = nir[5:7]
    if department == "00":
        return _("Le département de naissance (6e et 7e caractères du NIR) ne peut pas être 00.")
    if department in ("97", "98"):
        commune = nir[8:10]
        return (
            _("La commune de naissance (9e et 10e chiffres du NIR) ne peut pas être 00.")
            if commune == "00"
            else None
        )
    if nir[7:10] == "000":
        if department == "99":
            return _(
                "Le code du pays de naissance (8e à 10e chiffres du NIR) ne peut pas être 000."
            )
        return _("La commune de naissance (8e à 10e chiffres du NIR) ne peut pas être 000.")
    return None


def nir_error(nir: str | None) -> str | None:
    """What is wrong with ``nir`` (typed with or without spaces), in French; None if valid."""
    value = nir_normalise(nir)
    if not value:
        return _("Le NIR est vide.")
    if len(value) != NIR_LENGTH:
        return _(
            "Le NIR doit compter 15 caractères (13 chiffres puis la clé de 2 chiffres) : "
            "%(count)d saisi(s)."
        ) % {"count": len(value)}
    if not _SHAPE.match(value):
        return _(
            "Le NIR ne contient que des chiffres, sauf 2A ou 2B (Corse) aux 6e et 7e caractères."
        )
    if value[0] not in SEX_DIGITS:
        return _(
            "Le premier chiffre du NIR doit être 1 (homme) ou 2 (femme), ou 3, 4, 7, 8 pour "
            "un numéro provisoire."
        )
    if not _valid_month(int(value[3:5])):
        return _(
            "Le mois de naissance du NIR (4e et 5e chiffres) doit être entre 01 et 12 "
            "(ou 20 à 42, 50 à 99 quand le mois n'est pas connu)."
        )
    place_error = _place_error(value)
    if place_error:
        return place_error
    if value[10:13] == "000":
        return _("Le numéro d'ordre du NIR (11e à 13e chiffres) ne peut pas être 000.")
    if int(value[13:]) != nir_key(value[:13]):
        return _(
            "La clé du NIR (2 derniers chiffres) ne correspond pas aux 13 premiers : "
            "vérifiez chaque chiffre."
        )
    return None


def nir_is_valid(nir: str | None) -> bool:
    return nir_error(nir) is None


def nir_format(nir: str | None) -> str:
    """Grouped as on the carte Vitale: '1 84 12 76 451 089 46' (unchanged if not 15 long)."""
    value = nir_normalise(nir)
    if len(value) != NIR_LENGTH:
        return nir or ""
    groups = (value[0], value[1:3], value[3:5], value[5:7], value[7:10], value[10:13], value[13:])
    return " ".join(groups)
