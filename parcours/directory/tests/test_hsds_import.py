"""HSDS import of services: official examples, idempotence, rejections, circles."""

import json
import shutil

import pytest
from django_scopes import scopes_disabled

from parcours.directory.hsds import hsds_import_services
from parcours.directory.models import Circle, Service, Source
from parcours.directory.tests.test_hsds_schema import official, official_json

pytestmark = pytest.mark.django_db

OFFICIAL_ID = "ac148810-d857-441c-9679-408f346de14b"


def write(tmp_path, data, name="services.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def located_official() -> dict:
    """The official example with real coordinates (it has latitude 100, longitude 101)."""
    service = official_json("service_full.json")
    location = service["service_at_locations"][0]["location"]
    location["latitude"], location["longitude"] = 45.6975, 4.8867
    return service


def minimal(id_, **fields) -> dict:
    return {"id": id_, "name": f"Service {id_}", "status": "active", **fields}


def services_of(organisation):
    with scopes_disabled():
        return list(Service.objects.filter(organisation=organisation).order_by("external_id"))


def test_it_rejects_the_official_example_for_its_impossible_latitude(org_a, tmp_path):
    report = hsds_import_services(organisation=org_a, path=official("service_full.json"))

    assert (report.read, report.created) == (1, 0)
    assert [(r.line, r.reason) for r in report.rejected] == [(1, "latitude hors limites : 100.0")]


def test_it_imports_the_official_example_once_located(org_a, tmp_path):
    report = hsds_import_services(organisation=org_a, path=write(tmp_path, located_official()))

    assert report.created == 1, report.rejected
    [service] = services_of(org_a)
    assert service.external_id == OFFICIAL_ID
    assert service.source == Source.HSDS
    assert service.name == "Community Counselling"
    assert service.website == "http://example.com/counselling"
    assert service.email == "email@example.com"
    assert service.languages == ["ur"]
    assert service.opening_hours == [
        {"day": 4, "opens": "10:00", "closes": "18:00"},
        {"day": 5, "opens": "10:00", "closes": "18:00"},
    ]
    assert service.address == "1-30 Main Street MyVillage"
    assert service.postal_code == ""  # "ABC 1234" is no French postal code
    assert (service.latitude, service.longitude) == (45.6975, 4.8867)
    assert service.circle == Circle.COORDINATION


def test_it_imports_the_official_csv_tables(org_a, tmp_path):
    tables = tmp_path / "csv"
    shutil.copytree(official("csv"), tables)
    locations = (tables / "locations.csv").read_text(encoding="utf-8")
    (tables / "locations.csv").write_text(locations.replace(",100,101,", ",45.7,4.9,"))

    report = hsds_import_services(organisation=org_a, path=tables)

    assert (report.read, report.created, report.rejected) == (1, 1, [])
    [service] = services_of(org_a)
    assert service.external_id == OFFICIAL_ID
    assert service.phone == '"+44 1234 234567"'
    assert service.accessibility.startswith("The building is equipped")


def test_it_is_idempotent(org_a, tmp_path):
    path = write(tmp_path, [located_official(), minimal("autre")])

    first = hsds_import_services(organisation=org_a, path=path)
    again = hsds_import_services(organisation=org_a, path=path)

    assert (first.created, first.unchanged) == (2, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert [service.version for service in services_of(org_a)] == [1, 1]


def test_it_updates_a_changed_service(org_a, tmp_path):
    hsds_import_services(organisation=org_a, path=write(tmp_path, [minimal("s1")]))

    report = hsds_import_services(
        organisation=org_a, path=write(tmp_path, [minimal("s1", name="Nouveau nom")])
    )

    assert (report.created, report.updated) == (0, 1)
    [service] = services_of(org_a)
    assert service.name == "Nouveau nom"
    assert service.version == 2  # an edit made on version 1 meanwhile is refused


def test_it_reads_a_single_service_or_a_page(org_a, tmp_path):
    single = hsds_import_services(organisation=org_a, path=write(tmp_path, minimal("a")))
    page = hsds_import_services(
        organisation=org_a,
        path=write(tmp_path, {"total_items": 1, "contents": [minimal("b")]}, "page.json"),
    )

    assert (single.created, page.created) == (1, 1)


def test_it_keeps_organisations_apart(org_a, org_b, tmp_path):
    path = write(tmp_path, [minimal("same")])

    hsds_import_services(organisation=org_a, path=path)
    report = hsds_import_services(organisation=org_b, path=path)

    assert report.created == 1
    assert len(services_of(org_a)) == len(services_of(org_b)) == 1


def test_it_rejects_invalid_records_with_position_and_reason(org_a, tmp_path):
    records = [
        minimal("ok"),
        {"name": "Sans identifiant", "status": "active"},
        minimal("sans-nom", name=""),
        minimal("statut", status="ouvert"),
        minimal(
            "heure", schedules=[{"id": "x", "byday": "MO", "opens_at": "9h", "closes_at": "12:00"}]
        ),
        "pas un objet",
        minimal("ok"),
        minimal("courriel", email="pas-un-courriel"),
    ]

    report = hsds_import_services(organisation=org_a, path=write(tmp_path, records))

    assert (report.read, report.created) == (8, 1)
    assert [(r.line, r.reason) for r in report.rejected] == [
        (2, "identifiant du service (id) manquant"),
        (3, "nom du service (name) manquant"),
        (4, "statut (status) manquant ou inconnu : « ouvert »"),
        (5, "horaire invalide : « 9h »"),
        (6, "enregistrement qui n'est pas un objet service"),
        (7, "identifiant en double dans le fichier : ok"),
        (8, "e-mail : Saisissez une adresse de courriel valide."),
    ]


def test_it_reports_an_unreadable_file(org_a, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{ pas du json", encoding="utf-8")

    report = hsds_import_services(organisation=org_a, path=path)

    assert report.read == 0
    assert report.rejected[0].line == 0
    assert report.rejected[0].reason.startswith("fichier illisible")


def thematique(code: str) -> dict:
    return {"id": code, "taxonomy_term": {"id": code, "code": code, "taxonomy": "thematiques"}}


@pytest.mark.parametrize(
    "codes,circle",
    [
        (["logement-hebergement--etre-accompagne-pour-se-loger"], Circle.HOUSING),
        (["sante--acces-aux-soins"], Circle.CARE),
        (
            ["difficultes-administratives-ou-juridiques--accompagnement-aux-demarches"],
            Circle.RIGHTS,
        ),
        (
            ["acces-aux-droits-et-citoyennete--accompagnement-dans-l-acces-aux-droits"],
            Circle.RIGHTS,
        ),
        (["famille--garde-denfants", "sante--acces-aux-soins"], Circle.CARE),
        (["famille--garde-denfants"], Circle.COORDINATION),
        ([], Circle.COORDINATION),
    ],
)
def test_it_infers_the_circle_from_the_thematiques(org_a, tmp_path, codes, circle):
    record = minimal("t", attributes=[thematique(code) for code in codes])

    hsds_import_services(organisation=org_a, path=write(tmp_path, [record]))

    [service] = services_of(org_a)
    assert service.circle == circle
    assert service.thematiques == codes


def test_it_prefers_an_explicit_circle(org_a, tmp_path):
    explicit = {
        "id": "c",
        "taxonomy_term": {"id": "c", "code": "rights", "taxonomy": "parcours:cercle"},
    }
    record = minimal("t", attributes=[thematique("sante--acces-aux-soins"), explicit])

    hsds_import_services(organisation=org_a, path=write(tmp_path, [record]))

    assert services_of(org_a)[0].circle == Circle.RIGHTS


def test_the_command_imports_for_the_organisation_and_prints_rejections(org_a, tmp_path, capsys):
    from django.core.management import CommandError, call_command

    path = write(tmp_path, [located_official(), minimal("x", name="")])
    call_command("import_hsds", str(path), organisation=org_a.slug)
    out = capsys.readouterr().out
    assert "1 créées" in out and "1 rejetées" in out and "ligne 2" in out
    assert [s.external_id for s in services_of(org_a)] == [OFFICIAL_ID]
    with pytest.raises(CommandError, match="Organisation inconnue"):
        call_command("import_hsds", str(path), organisation="nope")
