"""HSDS 3.0 (Open Referral): the organisation's services out, and services from others in.

Export: ``service_to_hsds`` gives the HSDS 3 "service" JSON object with its nested
organization, service_at_locations (location, addresses, accessibility), phones,
schedules, languages and attributes; ``services_to_hsds`` flattens them into the HSDS
tables (table name → rows, as the CSV files of the tabular format). Identifiers are UUIDs
stable per object: uuid5 of ``HSDS_NAMESPACE`` and "<model label>:<pk>[/<part>]". As in
the official example, foreign keys (organization_id, taxonomy_term_id…) appear in the
tables only: in the JSON, nesting says it.
Only public contact points are exported (``phone_public``/``email_public``).

What HSDS has no field for travels as attributes (taxonomy terms), by taxonomy:
``data-inclusion:thematiques`` and ``data-inclusion:publics`` (the data·inclusion
vocabularies), ``parcours:cercle`` (our circle) and ``parcours:categorie``.

Opening hours: one schedule per slot, ``freq`` WEEKLY, ``byday`` MO…SU, ``opens_at`` and
``closes_at`` as HH:MM in local (Europe/Paris) time: a fixed UTC offset would be wrong half
of the year, so none is given.

Import (``hsds_import_services``): a JSON file (a list of services, one service, or a page
with ``contents``) or a directory of HSDS CSV tables. Services of the given organisation
are created or updated, keyed by ``external_id`` = the HSDS service id; a second run
changes nothing. The circle is the ``parcours:cercle`` attribute when present, otherwise
inferred from the data·inclusion thématiques (``CIRCLE_BY_THEME``, first mapped thématique
wins), otherwise coordination. Schedules other than weekly (MONTHLY, "2MO"…) have no
equivalent in our opening hours and are left out; a postal code that is not five digits
(a foreign one) is left out; communes served are not imported.
"""

import csv
import datetime
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import translation
from django_scopes import scope

from parcours.directory.importing import ImportReport, batches
from parcours.directory.models import (
    Circle,
    LocationPrecision,
    Service,
    Source,
    Structure,
)
from parcours.territory.models import Commune

HSDS_NAMESPACE = uuid.UUID("6f1c2a4e-8d53-4b7e-9a0f-3c5d8e2b1a47")

THEMATIQUES = "data-inclusion:thematiques"
PUBLICS = "data-inclusion:publics"
CIRCLE = "parcours:cercle"
CATEGORY = "parcours:categorie"

# data·inclusion thématique (its part before "--") → circle of the cercle de soins.
CIRCLE_BY_THEME = {
    "logement-hebergement": Circle.HOUSING,
    "acces-aux-droits-et-citoyennete": Circle.RIGHTS,
    "difficultes-administratives-ou-juridiques": Circle.RIGHTS,
    "difficultes-financieres": Circle.RIGHTS,
    "sante": Circle.CARE,
}

DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
STATUSES = ("active", "inactive", "defunct", "temporarily closed")
LANGUAGE_NAMES = {
    "fr": "français",
    "en": "anglais",
    "ar": "arabe",
    "es": "espagnol",
    "pt": "portugais",
    "it": "italien",
    "de": "allemand",
    "ru": "russe",
    "uk": "ukrainien",
    "tr": "turc",
    "ro": "roumain",
    "zh": "chinois",
    "fa": "persan",
    "ps": "pachto",
    "ber": "berbère",
    "wo": "wolof",
    "fse": "langue des signes française",
}

# Tables of the tabular format, in the order a reader loads them.
TABLES = (
    "organizations",
    "organization_identifiers",
    "services",
    "locations",
    "addresses",
    "accessibility",
    "service_at_location",
    "phones",
    "schedules",
    "languages",
    "taxonomy_terms",
    "attributes",
)


def hsds_id(obj: models.Model, part: str = "") -> str:
    """A UUID stable for an object (and a part of it: ``/location``, ``/schedule/2``)."""
    return str(uuid.uuid5(HSDS_NAMESPACE, f"{obj._meta.label_lower}:{obj.pk}{part}"))


def _term_id(taxonomy: str, code: str) -> str:
    return str(uuid.uuid5(HSDS_NAMESPACE, f"taxonomy:{taxonomy}:{code}"))


def _clean(row: dict) -> dict:
    return {key: value for key, value in row.items() if value not in ("", None, [])}


# --- Export -----------------------------------------------------------------------------


def service_to_hsds(service: Service) -> dict:
    """The HSDS 3 service object, nested."""
    organization = _organization(service)
    return _clean(
        {
            "id": hsds_id(service),
            "name": service.name,
            "description": service.description,
            "url": service.website,
            "email": service.email if service.email_public else "",
            "status": "active" if service.is_active else "inactive",
            "fees_description": service.fees,
            "eligibility_description": service.eligibility,
            "assured_date": service.checked_on.isoformat() if service.checked_on else "",
            "phones": _phones(service),
            "schedules": _schedules(service),
            "languages": _languages(service),
            "organization": organization,
            "service_at_locations": _service_at_locations(service),
            "attributes": _attributes(service),
        }
    )


def _organization(service: Service) -> dict:
    structure = service.structure
    if structure is None:
        owner = service.organisation
        return {"id": hsds_id(owner), "name": owner.name, "description": owner.name}
    identifiers = [
        (kind, value)
        for kind, value in (
            ("FINESS ET", structure.finess_et),
            ("FINESS EJ", structure.finess_ej),
            ("SIRET", structure.siret),
        )
        if value
    ]
    return _clean(
        {
            "id": hsds_id(structure),
            "name": structure.name,
            "alternate_name": structure.long_name,
            "description": structure.category or structure.name,
            "organization_identifiers": [
                {
                    "id": hsds_id(structure, f"/identifier/{kind}"),
                    "identifier_type": kind,
                    "identifier": value,
                }
                for kind, value in identifiers
            ],
        }
    )


def _phones(service: Service) -> list[dict]:
    if not (service.phone and service.phone_public):
        return []
    return [{"id": hsds_id(service, "/phone"), "number": service.phone, "type": "voice"}]


def _schedules(service: Service) -> list[dict]:
    return [
        {
            "id": hsds_id(service, f"/schedule/{index}"),
            "freq": "WEEKLY",
            "wkst": "MO",
            "byday": DAYS[slot["day"] - 1],
            "opens_at": slot["opens"],
            "closes_at": slot["closes"],
        }
        for index, slot in enumerate(service.opening_hours)
    ]


def _languages(service: Service) -> list[dict]:
    return [
        {
            "id": hsds_id(service, f"/language/{code}"),
            "name": LANGUAGE_NAMES.get(code, code),
            "code": code,
        }
        for code in service.languages
    ]


def _has_place(service: Service) -> bool:
    located = service.latitude is not None and service.longitude is not None
    return bool(service.address or service.postal_code or service.commune_id or located)


def _service_at_locations(service: Service) -> list[dict]:
    if not _has_place(service):
        return []
    location = {
        "id": hsds_id(service, "/location"),
        "location_type": "physical",
        "name": service.name,
        "latitude": service.latitude,
        "longitude": service.longitude,
        "addresses": [_address(service)] if service.address else [],
        "accessibility": (
            [{"id": hsds_id(service, "/accessibility"), "description": service.accessibility}]
            if service.accessibility
            else []
        ),
    }
    return [{"id": hsds_id(service, "/service_at_location"), "location": _clean(location)}]


def _address(service: Service) -> dict:
    commune = service.commune
    return {
        "id": hsds_id(service, "/address"),
        "address_1": service.address,
        "city": commune.name if commune else "",
        "state_province": commune.departement if commune else service.postal_code[:2],
        "postal_code": service.postal_code,
        "country": "FR",
        "address_type": "physical",
    }


def _attributes(service: Service) -> list[dict]:
    terms = [(CIRCLE, service.circle)]
    terms += [(CATEGORY, service.category)] if service.category else []
    terms += [(THEMATIQUES, code) for code in service.thematiques]
    terms += [(PUBLICS, code) for code in service.public_served]
    return [
        {
            "id": hsds_id(service, f"/attribute/{taxonomy}/{code}"),
            "link_type": taxonomy,
            "link_entity": "service",
            "taxonomy_term": {
                "id": _term_id(taxonomy, code),
                "code": code,
                "name": code,
                "taxonomy": taxonomy,
            },
        }
        for taxonomy, code in terms
    ]


def services_to_hsds(services: Iterable[Service]) -> dict[str, list[dict]]:
    """The HSDS tables (rows with foreign keys) of the services, each row once."""
    tables: dict[str, dict[str, dict]] = {name: {} for name in TABLES}
    for service in services:
        _flatten(service_to_hsds(service), tables)
    return {name: list(rows.values()) for name, rows in tables.items()}


def _flatten(nested: dict, tables: dict[str, dict[str, dict]]) -> None:
    def put(table: str, row: dict, **keys) -> None:
        flat = {k: v for k, v in row.items() if not isinstance(v, (list, dict))}
        tables[table].setdefault(row["id"], {**flat, **keys})

    service_id = nested["id"]
    organization = nested["organization"]
    put("organizations", organization)
    for identifier in organization.get("organization_identifiers", []):
        put("organization_identifiers", identifier, organization_id=organization["id"])
    put("services", nested, organization_id=organization["id"])
    for link in nested.get("service_at_locations", []):
        location = link["location"]
        put("locations", location, organization_id=organization["id"])
        for address in location.get("addresses", []):
            put("addresses", address, location_id=location["id"])
        for access in location.get("accessibility", []):
            put("accessibility", access, location_id=location["id"])
        put("service_at_location", link, service_id=service_id, location_id=location["id"])
    for table, key in (
        ("phones", "phones"),
        ("schedules", "schedules"),
        ("languages", "languages"),
    ):
        for row in nested.get(key, []):
            put(table, row, service_id=service_id)
    for attribute in nested.get("attributes", []):
        put("taxonomy_terms", attribute["taxonomy_term"])
        term_id = attribute["taxonomy_term"]["id"]
        put("attributes", attribute, link_id=service_id, taxonomy_term_id=term_id)


def hsds_write_csv(tables: dict[str, list[dict]], directory: Path) -> list[Path]:
    """One ``<table>.csv`` per non-empty table; columns in first-seen order."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in tables.items():
        if not rows:
            continue
        columns = list(dict.fromkeys(key for row in rows for key in row))
        path = directory / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        written.append(path)
    return written


def hsds_write_json(services: Iterable[Service], path: Path) -> None:
    """The services as one JSON document: a list of HSDS 3 service objects."""
    document = [service_to_hsds(service) for service in services]
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")


# --- Import -----------------------------------------------------------------------------


class Rejected(Exception):
    """A record that cannot become a service; the message says why, in French."""


def hsds_import_services(*, organisation, path: Path) -> ImportReport:
    """Create or update the organisation's services from an HSDS file or CSV directory."""
    report = ImportReport(source="HSDS")
    try:
        records = _read_csv_directory(path) if path.is_dir() else _read_json(path)
    except (OSError, ValueError, csv.Error) as error:
        report.reject(0, f"fichier illisible : {error}")
        return report
    seen: set[str] = set()
    with scope(organisation=organisation), translation.override("fr"):
        for batch in batches(records):
            with transaction.atomic():
                for position, record in batch:
                    report.read += 1
                    try:
                        outcome = _upsert(organisation, record, seen)
                    except Rejected as rejection:
                        report.reject(position, str(rejection))
                        continue
                    setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _read_json(path: Path) -> list[tuple[int, object]]:
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    if isinstance(data, dict):
        data = data["contents"] if isinstance(data.get("contents"), list) else [data]
    if not isinstance(data, list):
        raise ValueError("un service, une liste de services ou une page « contents » attendus")
    return list(enumerate(data, start=1))


def _read_table(directory: Path, name: str) -> list[dict]:
    path = directory / f"{name}.csv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [
            {k: v for k, v in row.items() if k and v not in ("", None)}
            for row in csv.DictReader(handle)
        ]


def _by(rows: list[dict], key: str) -> dict[str, list[dict]]:
    grouped = defaultdict(list)
    for row in rows:
        grouped[row.get(key, "")].append(row)
    return grouped


def _read_csv_directory(directory: Path) -> list[tuple[int, dict]]:
    """Rebuild nested service objects from the tables; position = line in services.csv."""
    if not (directory / "services.csv").exists():
        raise ValueError("services.csv absent du dossier")
    t = {name: _read_table(directory, name) for name in TABLES}
    organizations = {row["id"]: dict(row) for row in t["organizations"] if "id" in row}
    for org_id, identifiers in _by(t["organization_identifiers"], "organization_id").items():
        if org_id in organizations:
            organizations[org_id]["organization_identifiers"] = identifiers
    addresses, access = _by(t["addresses"], "location_id"), _by(t["accessibility"], "location_id")
    locations = {
        row["id"]: {**row, "addresses": addresses[row["id"]], "accessibility": access[row["id"]]}
        for row in t["locations"]
        if "id" in row
    }
    terms = {row["id"]: row for row in t["taxonomy_terms"] if "id" in row}
    links = _by(t["service_at_location"], "service_id")
    children = {name: _by(t[name], "service_id") for name in ("phones", "schedules", "languages")}
    attributes = _by(t["attributes"], "link_id")
    records = []
    for line, row in enumerate(t["services"], start=2):
        sid = row.get("id", "")
        record = {**row, **{name: rows[sid] for name, rows in children.items()}}
        record["organization"] = organizations.get(row.get("organization_id", ""), {})
        record["service_at_locations"] = [
            {**link, "location": locations.get(link.get("location_id", ""), {})}
            for link in links[sid]
        ]
        record["attributes"] = [
            {**a, "taxonomy_term": terms.get(a.get("taxonomy_term_id", ""), {})}
            for a in attributes[sid]
        ]
        records.append((line, record))
    return records


def _upsert(organisation, record, seen: set[str]) -> str:
    fields = _service_fields(record)
    external_id = fields.pop("external_id")
    if external_id in seen:
        raise Rejected(f"identifiant en double dans le fichier : {external_id}")
    seen.add(external_id)
    service = Service.objects.filter(organisation=organisation, external_id=external_id).first()
    created = service is None
    if created:
        service = Service(organisation=organisation, external_id=external_id)
    changed = [name for name, value in fields.items() if getattr(service, name) != value]
    if not created and not changed:
        return "unchanged"
    for name in changed:
        setattr(service, name, fields[name])
    try:
        service.full_clean(validate_unique=False)
    except ValidationError as error:
        raise Rejected(_validation_reason(error)) from error
    if not created:
        service.version = models.F("version") + 1  # an edit: older edit forms get refused
    service.save()
    return "created" if created else "updated"


def _validation_reason(error: ValidationError) -> str:
    parts = []
    for name, messages in error.message_dict.items():
        label = Service._meta.get_field(name).verbose_name if name != "__all__" else ""
        parts.append(f"{label} : {' '.join(messages)}" if label else " ".join(messages))
    return "; ".join(parts)


def _text(record: dict, key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)):
        raise Rejected(f"champ « {key} » : texte attendu")
    return str(value).strip()


def _service_fields(record) -> dict:
    if not isinstance(record, dict):
        raise Rejected("enregistrement qui n'est pas un objet service")
    external_id = _text(record, "id")
    if not external_id:
        raise Rejected("identifiant du service (id) manquant")
    if len(external_id) > 100:
        raise Rejected("identifiant du service (id) trop long (plus de 100 caractères)")
    name = _text(record, "name")
    if not name:
        raise Rejected("nom du service (name) manquant")
    status = _text(record, "status")
    if status not in STATUSES:
        raise Rejected(f"statut (status) manquant ou inconnu : « {status} »")
    terms = _terms(record)
    fields = {
        "external_id": external_id,
        "name": name,
        "description": _text(record, "description"),
        "website": _text(record, "url"),
        "email": _text(record, "email"),
        "email_public": bool(_text(record, "email")),
        "is_active": status == "active",
        "fees": _text(record, "fees_description") or _text(record, "fees"),
        "eligibility": _text(record, "eligibility_description"),
        "checked_on": _date(_text(record, "assured_date")),
        "source": Source.HSDS,
        "thematiques": terms[THEMATIQUES],
        "public_served": terms[PUBLICS],
        "category": (terms[CATEGORY] or [""])[0],
        "circle": _circle(terms),
        "languages": _language_codes(record),
        "opening_hours": _opening_hours(record),
        "structure": _structure(record.get("organization")),
    }
    fields.update(_phone(record))
    fields.update(_place(record))
    return fields


def _list(record: dict, key: str) -> list[dict]:
    value = record.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Rejected(f"champ « {key} » : liste d'objets attendue")
    return value


def _date(text: str) -> datetime.date | None:
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text[:10])
    except ValueError as error:
        raise Rejected(f"date de vérification (assured_date) invalide : « {text} »") from error


def _terms(record: dict) -> dict[str, list[str]]:
    """Codes of the attributes, by taxonomy (thématiques: any taxonomy so named)."""
    found: dict[str, list[str]] = defaultdict(list)
    for attribute in _list(record, "attributes"):
        term = attribute.get("taxonomy_term") or {}
        taxonomy = str(term.get("taxonomy") or attribute.get("link_type") or "")
        code = str(term.get("code") or attribute.get("value") or "").strip()
        if not code:
            continue
        if "thematique" in taxonomy.lower() or "thématique" in taxonomy.lower():
            taxonomy = THEMATIQUES
        if code not in found[taxonomy]:
            found[taxonomy].append(code)
    return found


def _circle(terms: dict[str, list[str]]) -> str:
    for code in terms[CIRCLE]:
        if code in Circle.values:
            return code
    for thematique in terms[THEMATIQUES]:
        circle = CIRCLE_BY_THEME.get(thematique.split("--")[0])
        if circle:
            return circle
    return Circle.COORDINATION


def _language_codes(record: dict) -> list[str]:
    codes = []
    for language in _list(record, "languages"):
        code = str(language.get("code") or "").strip().lower()
        if code and code not in codes:
            codes.append(code)
    return codes


_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?$")


def _time(text: str) -> str:
    match = _TIME.match(text)
    if not match or int(match[1]) > 24 or int(match[2]) > 59:
        raise Rejected(f"horaire invalide : « {text} »")
    return f"{int(match[1]):02d}:{match[2]}"


def _opening_hours(record: dict) -> list[dict]:
    """Weekly schedules to our slots; other recurrences have no equivalent (left out)."""
    slots = []
    for schedule in _list(record, "schedules"):
        freq = str(schedule.get("freq") or "WEEKLY").upper()
        opens, closes = _text(schedule, "opens_at"), _text(schedule, "closes_at")
        days = [day.strip().upper() for day in _text(schedule, "byday").split(",") if day.strip()]
        if freq != "WEEKLY" or not (opens and closes and days):
            continue
        if any(day not in DAYS for day in days):
            continue  # "2MO" and the like: monthly rules
        opens, closes = _time(opens), _time(closes)
        if opens >= closes:
            raise Rejected(f"horaire invalide : ouverture {opens} après fermeture {closes}")
        slots += [{"day": DAYS.index(day) + 1, "opens": opens, "closes": closes} for day in days]
    return sorted(slots, key=lambda slot: (slot["day"], slot["opens"]))


def _phone(record: dict) -> dict:
    for phone in _list(record, "phones"):
        number = _text(phone, "number")
        if number:
            return {"phone": number[:30], "phone_public": True}
    return {"phone": "", "phone_public": False}


def _structure(organization) -> Structure | None:
    if not isinstance(organization, dict):
        return None
    for identifier in _list(organization, "organization_identifiers"):
        if _text(identifier, "identifier_type").upper() == "FINESS ET":
            finess = _text(identifier, "identifier")
            return Structure.objects.filter(finess_et=finess).first() if finess else None
    return None


def _place(record: dict) -> dict:
    place = {
        "address": "",
        "postal_code": "",
        "commune": None,
        "latitude": None,
        "longitude": None,
        "location_precision": LocationPrecision.UNKNOWN,
        "accessibility": "",
    }
    links = _list(record, "service_at_locations")
    location = (links[0].get("location") if links else None) or {}
    if not isinstance(location, dict):
        raise Rejected("lieu (location) : objet attendu")
    latitude, longitude = (
        _coordinate(location, "latitude", 90),
        _coordinate(location, "longitude", 180),
    )
    if (latitude is None) != (longitude is None):
        raise Rejected("coordonnées incomplètes : latitude et longitude vont ensemble")
    addresses = _list(location, "addresses")
    address = addresses[0] if addresses else {}
    place.update(
        latitude=latitude,
        longitude=longitude,
        address=" ".join(filter(None, (_text(address, "address_1"), _text(address, "address_2")))),
        postal_code=_french_postal_code(_text(address, "postal_code")),
        accessibility="\n".join(
            _text(item, "description") for item in _list(location, "accessibility")
        ).strip(),
    )
    place["commune"] = _commune(place["postal_code"], _text(address, "city"))
    if latitude is not None:
        place["location_precision"] = LocationPrecision.ADDRESS
    return place


def _french_postal_code(text: str) -> str:
    """Five digits, or nothing: a foreign postal code has no place in our address."""
    code = text.replace(" ", "")
    return code if re.fullmatch(r"\d{5}", code) else ""


def _coordinate(location: dict, key: str, bound: float) -> float | None:
    value = location.get(key)
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise Rejected(f"{key} invalide : « {value} »") from error
    if not -bound <= number <= bound:
        raise Rejected(f"{key} hors limites : {number}")
    return number


def _commune(postal_code: str, city: str) -> Commune | None:
    if not (postal_code and city):
        return None
    return (
        Commune.objects.filter(postal_codes__icontains=f'"{postal_code}"', name__iexact=city)
        .order_by("insee")
        .first()
    )
