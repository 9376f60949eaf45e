"""FHIR R4 views of the directory: pure functions from our models to resources as dicts.

The shapes follow the French Annuaire Santé implementation guide (ANS, ``as-*`` profiles
over FR Core), whose official examples are the reference of the tests:

- Practitioner: two identifiers, as in the Annuaire Santé examples: IDNPS (system
  ``urn:oid:1.2.250.1.71.4.2.1``, value "8" + RPPS) and RPPS (system
  ``https://rpps.esante.gouv.fr``, value the 11-digit RPPS); the profession (TRE_G15) and
  the savoir-faire (TRE_R38) in ``qualification``; spoken languages (TRE_G00) in
  ``communication``.
- PractitionerRole: one per practice situation; the profession (TRE_G15) in ``code`` as
  in the cahier de liaison examples, the mode d'exercice (TRE_R23) in ``code`` as in the
  Annuaire Santé examples, the savoir-faire (TRE_R38) in ``specialty``.
- Organization: IDNST (system ``urn:oid:1.2.250.1.71.4.2.2``, value "1" + FINESS, or
  "3" + SIRET without FINESS) and FINEG / FINEJ (system ``https://finess.esante.gouv.fr``,
  value the FINESS number).
- Location: address (line, postalCode, city, country FR, INSEE code extension) and
  position (WGS84 latitude/longitude).
- HealthcareService: a service of the organisation's directory.

Only public contact points are exported: a phone or e-mail whose ``*_public`` flag is off
never leaves the instance this way.
"""

import re
from collections.abc import Iterable

from django.conf import settings

from parcours.directory.models import (
    PracticeSituation,
    Professional,
    Service,
    Structure,
)

# Identifier systems and type codes (FR Core, Annuaire Santé examples).
IDENTIFIER_TYPE_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"  # national identifier of health professionals
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
IDNST_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"  # national identifier of structures
FINESS_SYSTEM = "https://finess.esante.gouv.fr"

# Nomenclatures des objets de santé (NOS).
NOS = "https://mos.esante.gouv.fr/NOS"
PROFESSION_SYSTEM = f"{NOS}/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
SPECIALTY_SYSTEM = f"{NOS}/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
MODE_SYSTEM = f"{NOS}/TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice"
LANGUAGE_SYSTEM = f"{NOS}/TRE_G00-Langue/FHIR/TRE-G00-Langue"
COMMUNE_SYSTEM = f"{NOS}/TRE_R13-Commune/FHIR/TRE-R13-Commune"
INSEE_CODE_EXTENSION = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"

# Savoir-faire codes of the spécialités ordinales (SM54, SCD01…); the other kinds of
# savoir-faire (capacités, qualifications PAC…) belong to other tables: text only.
SPECIALITE_ORDINALE = re.compile(r"^S[A-Z]{0,2}\d{2}$")

GENDERS = {Professional.Sex.FEMALE: "female", Professional.Sex.MALE: "male"}


def practitioner_id(professional: Professional) -> str:
    return str(professional.pk)


def practitioner_role_id(situation: PracticeSituation) -> str:
    return str(situation.pk)


def organization_id(structure: Structure) -> str:
    return str(structure.pk)


def healthcare_service_id(service: Service) -> str:
    return str(service.pk)


def location_id(place: PracticeSituation | Structure | Service) -> str:
    """Locations come from three models: the id says which (``situation-12``)."""
    kind = {PracticeSituation: "situation", Structure: "structure", Service: "service"}
    return f"{kind[type(place)]}-{place.pk}"


def _identifier(type_code: str, system: str, value: str) -> dict:
    return {
        "use": "official",
        "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": type_code}]},
        "system": system,
        "value": value,
    }


def _concept(system: str, code: str, display: str = "") -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _public_telecom(contactable) -> list[dict]:
    """Phone and e-mail, only those marked public."""
    telecom = []
    if contactable.phone and contactable.phone_public:
        telecom.append({"system": "phone", "value": contactable.phone, "use": "work"})
    if contactable.email and contactable.email_public:
        telecom.append({"system": "email", "value": contactable.email, "use": "work"})
    return telecom


def _address(place) -> dict | None:
    """A FR Core-shaped postal address, or None when there is nothing to say."""
    if not (place.address or place.postal_code or place.commune_id):
        return None
    address: dict = {"use": "work", "type": "physical"}
    if place.commune_id:
        address["extension"] = [
            {
                "url": INSEE_CODE_EXTENSION,
                "valueCoding": {"system": COMMUNE_SYSTEM, "code": place.commune_id},
            }
        ]
    if place.address:
        address["line"] = [place.address]
    if place.commune_id:
        address["city"] = place.commune.name
    if place.postal_code:
        address["postalCode"] = place.postal_code
    address["country"] = "FR"
    return address


def _without_empty(resource: dict) -> dict:
    """FHIR forbids empty strings, lists and objects: drop them."""
    return {key: value for key, value in resource.items() if value not in ("", [], {}, None)}


def practitioner_to_fhir(professional: Professional) -> dict:
    name = {"use": "usual", "family": professional.last_name}
    if professional.first_name:
        name["given"] = [professional.first_name]
    if professional.civility_code:
        name["prefix"] = [professional.civility_code]
    qualification = [
        {"code": _concept(PROFESSION_SYSTEM, professional.profession_code, professional.profession)}
    ]
    if professional.savoir_faire_code:
        qualification.append({"code": _savoir_faire(professional)})
    return _without_empty(
        {
            "resourceType": "Practitioner",
            "id": practitioner_id(professional),
            "language": "fr",
            "identifier": [
                _identifier("IDNPS", IDNPS_SYSTEM, "8" + professional.rpps),
                _identifier("RPPS", RPPS_SYSTEM, professional.rpps),
            ],
            "active": professional.is_active,
            "name": [name],
            "gender": GENDERS.get(professional.sex),
            "qualification": qualification,
            "communication": [_concept(LANGUAGE_SYSTEM, code) for code in professional.languages],
        }
    )


def _savoir_faire(professional: Professional) -> dict:
    code, label = professional.savoir_faire_code, professional.savoir_faire
    if SPECIALITE_ORDINALE.match(code):
        concept = _concept(SPECIALTY_SYSTEM, code, label)
        if label:
            concept["text"] = label
        return concept
    return {"text": label or code}


def practitioner_role_to_fhir(situation: PracticeSituation) -> dict:
    professional = situation.professional
    code = [_concept(PROFESSION_SYSTEM, professional.profession_code, professional.profession)]
    if situation.mode:
        code.append(_concept(MODE_SYSTEM, situation.mode, situation.get_mode_display()))
    role = {
        "resourceType": "PractitionerRole",
        "id": practitioner_role_id(situation),
        "language": "fr",
        "active": situation.is_active,
        "practitioner": {
            "reference": f"Practitioner/{practitioner_id(professional)}",
            "display": str(professional),
        },
        "code": code,
        "specialty": [_savoir_faire(professional)] if professional.savoir_faire_code else [],
        "telecom": _public_telecom(situation),
    }
    if situation.structure_id:
        role["organization"] = {
            "reference": f"Organization/{organization_id(situation.structure)}",
            "display": situation.structure.name,
        }
    if _has_place(situation):
        role["location"] = [{"reference": f"Location/{location_id(situation)}"}]
    return _without_empty(role)


def organization_to_fhir(structure: Structure) -> dict:
    # The national structure identifier (IDNST) is a prefix then the number it comes
    # from: 1 for FINESS, 3 for SIRET (CI-SIS; "1754567860" in the Annuaire examples).
    identifier = []
    if structure.finess_et:
        identifier.append(_identifier("IDNST", IDNST_SYSTEM, "1" + structure.finess_et))
    elif structure.siret:
        identifier.append(_identifier("IDNST", IDNST_SYSTEM, "3" + structure.siret))
    if structure.finess_et:
        identifier.append(_identifier("FINEG", FINESS_SYSTEM, structure.finess_et))
    if structure.finess_ej:
        identifier.append(_identifier("FINEJ", FINESS_SYSTEM, structure.finess_ej))
    kind = []
    if structure.category_code:
        kind.append({"text": structure.category or structure.category_code})
    return _without_empty(
        {
            "resourceType": "Organization",
            "id": organization_id(structure),
            "language": "fr",
            "identifier": identifier,
            "active": structure.is_active,
            "type": kind,
            "name": structure.name,
            "alias": [structure.long_name] if structure.long_name else [],
            "telecom": _public_telecom(structure),
            "address": [address] if (address := _address(structure)) else [],
        }
    )


def _has_place(place) -> bool:
    return bool(
        place.address
        or place.postal_code
        or place.commune_id
        or (place.latitude is not None and place.longitude is not None)
    )


def _location_name(place) -> str:
    if isinstance(place, PracticeSituation):
        if place.place_name:
            return place.place_name
        if place.structure_id:
            return place.structure.name
        return f"Cabinet {place.professional}"
    return place.name


def location_to_fhir(place: PracticeSituation | Structure | Service) -> dict:
    """The place of a practice situation, of a structure or of a service."""
    location = {
        "resourceType": "Location",
        "id": location_id(place),
        "language": "fr",
        "status": "active" if place.is_active else "inactive",
        "name": _location_name(place),
        "mode": "instance",
        "telecom": _public_telecom(place),
        "address": _address(place),
    }
    if place.latitude is not None and place.longitude is not None:
        location["position"] = {"latitude": place.latitude, "longitude": place.longitude}
    structure = place if isinstance(place, Structure) else place.structure
    if structure is not None:
        location["managingOrganization"] = {
            "reference": f"Organization/{organization_id(structure)}"
        }
    return _without_empty(location)


def healthcare_service_to_fhir(service: Service) -> dict:
    resource = {
        "resourceType": "HealthcareService",
        "id": healthcare_service_id(service),
        "language": "fr",
        "active": service.is_active,
        "providedBy": (
            {"reference": f"Organization/{organization_id(service.structure)}"}
            if service.structure_id
            else {"display": service.organisation.name}
        ),
        "category": [{"text": service.category}] if service.category else [],
        "type": [{"text": thematique} for thematique in service.thematiques],
        "name": service.name,
        "comment": service.description,
        "telecom": _public_telecom(service),
        "eligibility": [{"comment": service.eligibility}] if service.eligibility else [],
        "communication": [_concept(LANGUAGE_SYSTEM, code) for code in service.languages],
        "availableTime": _available_time(service.opening_hours),
    }
    if service.website:
        resource["telecom"].append({"system": "url", "value": service.website})
    if _has_place(service):
        resource["location"] = [{"reference": f"Location/{location_id(service)}"}]
    return _without_empty(resource)


FHIR_DAYS = {1: "mon", 2: "tue", 3: "wed", 4: "thu", 5: "fri", 6: "sat", 7: "sun"}


def _available_time(opening_hours: list[dict]) -> list[dict]:
    return [
        {
            "daysOfWeek": [FHIR_DAYS[slot["day"]]],
            "availableStartTime": f"{slot['opens']}:00",
            "availableEndTime": f"{slot['closes']}:00",
        }
        for slot in opening_hours
    ]


def directory_bundle(
    *,
    professionals: Iterable[Professional],
    structures: Iterable[Structure],
    services: Iterable[Service],
    base_url: str | None = None,
) -> dict:
    """A Bundle of type collection: each resource once, every reference resolved inside.

    ``fullUrl`` is ``<base_url>/<type>/<id>`` so the relative references (``Location/…``)
    resolve against it, as the FHIR rules on references inside a bundle say.
    """
    base = (base_url or f"{settings.SITE_URL}/fhir").rstrip("/")
    resources: dict[tuple[str, str], dict] = {}

    def add(resource: dict) -> None:
        resources.setdefault((resource["resourceType"], resource["id"]), resource)

    def add_structure(structure: Structure) -> None:
        add(organization_to_fhir(structure))
        if _has_place(structure):
            add(location_to_fhir(structure))

    for professional in professionals:
        add(practitioner_to_fhir(professional))
        for situation in professional.situations.select_related("structure", "commune"):
            add(practitioner_role_to_fhir(situation))
            if _has_place(situation):
                add(location_to_fhir(situation))
            if situation.structure_id:
                add_structure(situation.structure)
    for structure in structures:
        add_structure(structure)
    for service in services:
        add(healthcare_service_to_fhir(service))
        if _has_place(service):
            add(location_to_fhir(service))
        if service.structure_id:
            add_structure(service.structure)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"{base}/{kind}/{rid}", "resource": resource}
            for (kind, rid), resource in resources.items()
        ],
    }
