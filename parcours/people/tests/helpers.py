"""Shared by the people tests: a complete person form, reading rows outside any scope."""

from django_scopes import scopes_disabled

from parcours.audit.models import AuditEvent
from parcours.people.models import Consent, Person


def person_form(**overrides) -> dict:
    data = {
        "birth_name": "Benali",
        "used_name": "",
        "first_names": "Fatima Zohra",
        "used_first_name": "",
        "birth_date": "1961-04-23",
        "sex": "F",
        "birth_place_code": "99352",
        "nir": "2 61 04 99 352 017 ",
        "identity_status": "provisoire",
        "phone": "06 12 34 56 78",
        "phone_2": "",
        "email": "",
        "address": "12 rue Gambetta",
        "postal_code": "69200",
        "commune": "",
        "languages": "arabe, français",
        "medecin_traitant_status": "none",
        "medecin_traitant_rpps": "",
        "regime": "general",
        "c2s": "free",
        "ame": "false",
        "mutuelle": "unknown",
        "ald": "8, 15",
        "lives_alone": "true",
        "housing": "social_housing",
        "resources": "aah",
        "children_in_charge": "",
        "single_parent": "unknown",
        "social_worker": "true",
        "hospitalised_last_4_years": "unknown",
    }
    data["nir"] = valid_nir(data["nir"])
    data.update(overrides)
    return data


def valid_nir(body: str) -> str:
    """``body`` (13 characters, spaces allowed) followed by its key, grouped."""
    from parcours.lib.nir import nir_format, nir_key, nir_normalise

    body = nir_normalise(body)
    return nir_format(f"{body}{nir_key(body):02d}")


def people() -> list[Person]:
    with scopes_disabled():
        return list(Person.objects.order_by("pk"))


def consents() -> list[Consent]:
    with scopes_disabled():
        return list(Consent.objects.order_by("pk"))


def events(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("pk"))
