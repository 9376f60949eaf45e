import csv
import io

from django.urls import reverse

from parcours.audit.models import Action, AuditEvent
from parcours.audit.services import audit_log

URL = reverse("audit:event-export")


def read_csv(response) -> tuple[str, list[list[str]]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    return body, list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))


def test_it_exports_the_filtered_events_as_csv_for_excel(client, alain, claire, org_a, org_b):
    read = audit_log(
        action=Action.READ,
        actor=claire,
        organisation=org_a,
        person_id=7,
        object_type="people.person",
        object_id=7,
        details={"section": "contacts"},
    )
    audit_log(action=Action.READ, actor=claire, organisation=org_a, person_id=8)
    audit_log(action=Action.READ, organisation=org_b, person_id=7)
    client.force_login(alain)

    response = client.get(URL, {"person": 7})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="journal-audit-cpts-venissieux-')
    body, rows = read_csv(response)
    assert body.startswith("\ufeffN°;Date;Action;Utilisateur;")
    assert rows[0][:4] == ["N°", "Date", "Action", "Utilisateur"]
    assert len(rows) == 2
    assert rows[1][0] == str(read.pk)
    assert rows[1][2:4] == ["Consultation", claire.get_full_name()]
    assert "section=contacts" in rows[1]


def test_it_records_the_export_with_filters_and_row_count(client, alain, org_a):
    for _ in range(3):
        audit_log(action=Action.READ, organisation=org_a, person_id=7)
    client.force_login(alain)

    response = client.get(URL, {"person": 7, "date_from": "01/01/2026"})
    _body, rows = read_csv(response)

    export = AuditEvent.objects.latest("id")
    assert (export.action, export.actor, export.organisation) == (Action.EXPORT, alain, org_a)
    assert export.details == {"filters": {"person_id": 7, "date_from": "2026-01-01"}, "rows": 3}
    assert len(rows) - 1 == 3


def test_it_does_not_export_its_own_event(client, alain, org_a):
    audit_log(action=Action.READ, organisation=org_a)
    client.force_login(alain)

    _body, rows = read_csv(client.get(URL))

    assert [row[2] for row in rows[1:]] == ["Connexion", "Consultation"]  # alain's login, the read


def test_it_neutralises_spreadsheet_formulas(client, alain, org_a):
    audit_log(action=Action.READ, organisation=org_a, object_id="=HYPERLINK(1)")
    client.force_login(alain)

    _body, rows = read_csv(client.get(URL, {"action": "read"}))

    assert "'=HYPERLINK(1)" in rows[1]


def test_it_refuses_bad_filters_in_french(client, alain, org_a):
    client.force_login(alain)

    response = client.get(URL, {"person": "abc"})

    assert response.status_code == 400
    assert "Saisissez un nombre entier." in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()
