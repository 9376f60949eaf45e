"""Organisation B never sees organisation A's data: another organisation's object is 404.

Every model that holds an organisation's data must have a check here; the first test fails
when a model is added without one.
"""

import pytest
from django.apps import apps
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from django_scopes.exceptions import ScopeError

from parcours.accounts.models import Invitation, Membership, Organisation
from parcours.audit.services import audit_log

pytestmark = pytest.mark.django_db

# Models that belong to no organisation, with the reason.
NOT_TENANT_DATA = {
    "accounts.organisation": "the tenant itself",
    "accounts.user": "a login; what it may see comes from its memberships",
    "territory.commune": "national reference data (INSEE)",
    "core.scheduledrun": "system bookkeeping of periodic jobs",
    "directory.professional": "national reference data (RPPS)",
    "directory.practicesituation": "national reference data (RPPS)",
    "directory.structure": "national reference data (FINESS, RPPS)",
    "directory.banaddress": "national reference data (Base Adresse Nationale)",
    "directory.searchword": "vocabulary of the search index (words, no data)",
    "directory.consultation": "instance-wide daily counts, no personal data",
    "directory.mapcell": "counts of the national entries per map cell (services never counted)",
    "matching.professionalaccount": (
        "which login is which directory GP, like the user; an administrator links or unlinks "
        "only members of his organisation (matching/tests/test_gp_pages.py)"
    ),
}


# Tenant data read without django-scopes, each filtered explicitly by its selectors.
UNSCOPED_BY_DESIGN = {
    "audit.auditevent": "login failures have no organisation; the DPO selectors filter",
    "directory.searchentry": "national entries have no organisation; search filters",
}


def belongs_to_an_organisation(model) -> bool:
    manager = model._default_manager
    scoped = hasattr(manager, "with_scopes_disabled")
    direct = any(getattr(f, "related_model", None) is Organisation for f in model._meta.fields)
    return scoped or direct


def test_every_tenant_model_has_an_isolation_check():
    ours = [m for m in apps.get_models() if m.__module__.startswith("parcours.")]
    tenant = {m._meta.label_lower for m in ours if belongs_to_an_organisation(m)}
    assert tenant - set(ISOLATION_CHECKS) == set(), "add an isolation check for these models"
    unclassified = {m._meta.label_lower for m in ours} - tenant - set(NOT_TENANT_DATA)
    assert unclassified == set(), "say whether these models hold an organisation's data"


def test_every_scoped_query_outside_a_scope_raises():
    for label in ISOLATION_CHECKS:
        model = apps.get_model(label)
        if label in UNSCOPED_BY_DESIGN:
            continue
        with scope(), pytest.raises(ScopeError):
            list(model.objects.all())


def check_membership(client, alain, bruno, **_):
    with scopes_disabled():
        other = Membership.objects.get(user=bruno)
    client.force_login(alain)
    assert client.get(reverse("accounts:member-edit", args=[other.pk])).status_code == 404
    assert bruno.email not in client.get(reverse("accounts:member-list")).content.decode()


def check_invitation(client, alain, org_b, **_):
    from parcours.accounts.services import invitation_create

    with scopes_disabled():
        invitation_create(
            organisation=org_b, invited_by=None, email="secret-b@example.org", role="partner"
        )
        assert Invitation.objects.filter(organisation=org_b).exists()
    client.force_login(alain)
    assert (
        "secret-b@example.org" not in client.get(reverse("accounts:member-list")).content.decode()
    )


def check_auditevent(client, alain, org_b, **_):
    audit_log(
        action="read",
        organisation=org_b,
        object_type="test.object",
        object_id="b-only",
        person_id=424242,
    )
    client.force_login(alain)
    listing = client.get(reverse("audit:event-list"), {"person": 424242})
    assert listing.status_code == 200 and "b-only" not in listing.content.decode()
    export = client.get(reverse("audit:event-export"))
    assert "b-only" not in b"".join(export.streaming_content).decode("utf-8-sig")


def _territories(org_a, org_b):
    from parcours.territory.models import Commune, PriorityNeighbourhood, Territory

    with scopes_disabled():
        a = Territory.objects.create(organisation=org_a, name="Territoire A")
        b = Territory.objects.create(organisation=org_b, name="Territoire B")
        a.communes.add(
            Commune.objects.create(insee="69259", name="Vénissieux", departement="69", region="84")
        )
        b.communes.add(
            Commune.objects.create(insee="67482", name="Strasbourg", departement="67", region="44")
        )
        PriorityNeighbourhood.objects.create(territory=b, name="Quartier secret B")
    return a, b


def check_territory(client, claire, org_a, org_b, **_):
    _territories(org_a, org_b)
    client.force_login(claire)
    geojson = client.get(reverse("territory:communes-geojson")).json()
    assert [f["properties"]["insee"] for f in geojson["features"]] == ["69259"]
    assert "Strasbourg" not in client.get(reverse("territory:detail")).content.decode()


def check_priorityneighbourhood(client, claire, org_a, org_b, **_):
    _territories(org_a, org_b)
    client.force_login(claire)
    assert "Quartier secret B" not in client.get(reverse("territory:detail")).content.decode()
    assert "Quartier secret B" not in client.get(reverse("core:home")).content.decode()


def _directory_rows(org_a, org_b):
    from parcours.directory.models import Availability, Professional, Service

    with scopes_disabled():
        gp = Professional.objects.create(
            rpps="10000000001",
            last_name="Médecin",
            profession_code="10",
            profession="Médecin",
            source="rpps",
        )
        for org, name in ((org_a, "Service A"), (org_b, "Service secret B")):
            Service.objects.create(organisation=org, name=name, circle="rights", source="manual")
            Availability.objects.create(
                organisation=org,
                professional=gp,
                accepting="now",
                declared_on="2026-11-01",
                expires_on="2027-05-01",
                source="survey",
            )


def check_service(client, claire, org_a, org_b, **_):
    from parcours.directory.models import Service

    _directory_rows(org_a, org_b)
    with scopes_disabled():
        other = Service.objects.get(organisation=org_b)
    client.force_login(claire)
    assert client.get(reverse("directory:service-edit", args=[other.pk])).status_code == 404
    assert client.post(reverse("directory:service-archive", args=[other.pk])).status_code == 404
    assert "Service secret B" not in client.get(reverse("directory:service-list")).content.decode()


def check_availability(org_a, org_b, **_):
    from parcours.directory.models import Availability

    _directory_rows(org_a, org_b)
    with scope(organisation=org_a):
        assert set(Availability.objects.values_list("organisation", flat=True)) == {org_a.pk}


def check_searchentry(client, claire, bruno, org_a, org_b, **_):
    from parcours.directory.search import search_index_rebuild

    _directory_rows(org_a, org_b)
    search_index_rebuild()
    client.force_login(claire)
    names = [item["name"] for item in client.get("/api/v1/annuaire/search").json()["items"]]
    assert "Service A" in names and "Service secret B" not in names


def _surveys_and_imports(org_a, org_b):
    from parcours.directory.models import (
        AvailabilitySurvey,
        ImportJob,
        Professional,
        SurveyRequest,
    )

    with scopes_disabled():
        gp = Professional.objects.create(rpps="10000000002", last_name="Généraliste", source="rpps")
        for org in (org_a, org_b):
            survey = AvailabilitySurvey.objects.create(organisation=org, closes_on="2027-01-01")
            SurveyRequest.objects.create(
                survey=survey, organisation=org, professional=gp, email="gp@example.org"
            )
            ImportJob.objects.create(
                organisation=org, kind="finess", file="imports/f.csv", original_name="f.csv"
            )


def _only_own_rows(label, org_a, org_b):
    model = apps.get_model(label)
    _surveys_and_imports(org_a, org_b)
    with scope(organisation=org_a):
        assert set(model.objects.values_list("organisation", flat=True)) == {org_a.pk}


def _surveys(org_a, org_b):
    """One open survey per organisation asking the same GP; B's answer and address secret."""
    import datetime

    from parcours.directory.models import AvailabilitySurvey, Professional, SurveyRequest

    surveys, requests = [], []
    with scopes_disabled():
        gp = Professional.objects.create(rpps="10000000003", last_name="Généraliste", source="rpps")
        for org, email in ((org_a, "gp-a@example.org"), (org_b, "gp-secret-b@example.org")):
            survey = AvailabilitySurvey.objects.create(
                organisation=org, closes_on=datetime.date(2999, 12, 31)
            )
            surveys.append(survey)
            requests.append(
                SurveyRequest.objects.create(
                    survey=survey, organisation=org, professional=gp, email=email
                )
            )
        SurveyRequest.objects.filter(pk=requests[1].pk).update(
            answer="now", capacity=777, answered_at="2999-01-01T00:00:00Z"
        )
    return surveys, requests


def check_availabilitysurvey(client, claire, org_a, org_b, **_):
    (own, other), _requests = _surveys(org_a, org_b)
    client.force_login(claire)
    assert client.get(reverse("directory:survey-detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("directory:survey-detail", args=[other.pk])).status_code == 404
    assert client.post(reverse("directory:survey-close", args=[other.pk])).status_code == 404
    listing = client.get(reverse("directory:survey-list"))
    assert [survey.pk for survey in listing.context["surveys"]] == [own.pk]
    with scopes_disabled():
        other.refresh_from_db()
    assert other.closes_on.year == 2999  # B's survey was not closed


def check_surveyrequest(client, claire, org_a, org_b, **_):
    from parcours.directory.models import Availability
    from parcours.directory.survey import survey_token

    (own, _other), (_own_request, other_request) = _surveys(org_a, org_b)
    client.force_login(claire)
    page = client.get(reverse("directory:survey-detail", args=[own.pk]))
    assert "gp-secret-b@example.org" not in page.content.decode()
    assert (page.context["counts"]["answered"], page.context["counts"]["capacity"]) == (0, 0)
    # B's link, even opened in A's session, answers into B's directory only.
    link = reverse("directory:survey-answer", args=[survey_token(other_request, "no")])
    client.post(link, {"answer": "no"})
    with scopes_disabled():
        declared = dict(Availability.objects.values_list("organisation", "accepting"))
    assert declared == {org_b.pk: "no"}


def check_importjob(client, alain, org_a, org_b, **_):
    from parcours.directory.models import ImportJob

    _only_own_rows("directory.importjob", org_a, org_b)
    with scopes_disabled():
        other = ImportJob.objects.get(organisation=org_b)
        ImportJob.objects.filter(pk=other.pk).update(
            original_name="secret-b.csv", status="done", report="ligne 2 : secret B\n"
        )
    client.force_login(alain)
    for name in ("directory:import-detail", "directory:import-progress", "directory:import-report"):
        assert client.get(reverse(name, args=[other.pk])).status_code == 404
    assert "secret-b.csv" not in client.get(reverse("directory:import-list")).content.decode()


def _people_and_saisines(org_a, org_b):
    from django.utils import timezone

    from parcours.people.models import Consent, Person
    from parcours.saisines.models import Attachment, Orientation, Saisine, SaisineEvent

    now = timezone.now()
    with scopes_disabled():
        for org in (org_a, org_b):
            person = Person.objects.create(organisation=org, birth_name="X", first_names="Y")
            Consent.objects.create(
                organisation=org, person=person, purpose="coordination", scope="team",
                method="oral", collected_at=now,
            )
            saisine = Saisine.objects.create(
                organisation=org, reference=f"S-{org.pk}", origin="gp", channel="phone",
                bulletin="soins", person=person, received_at=now,
            )
            SaisineEvent.objects.create(organisation=org, saisine=saisine, kind="created", at=now)
            Orientation.objects.create(
                organisation=org, saisine=saisine, recipient_name="CCAS", sent_at=now
            )
            Attachment.objects.create(
                organisation=org, saisine=saisine, file="saisines/x", name="x.pdf",
                content_type="application/pdf", size=1,
            )


def _only_own(label):
    def check(org_a, org_b, **_):
        model = apps.get_model(label)
        _people_and_saisines(org_a, org_b)
        with scope(organisation=org_a):
            assert set(model.objects.values_list("organisation", flat=True)) == {org_a.pk}

    return check


# Scope-level checks until the pages of people and saisines exist (issue 4).
SAISINE_POSTS = (
    "saisine-identify",
    "saisine-screen",
    "saisine-decide",
    "saisine-orient",
    "saisine-assign",
    "saisine-note",
    "saisine-first-response",
    "saisine-inform-mt",
    "saisine-close",
)


def check_saisine(client, claire, org_a, org_b, **_):
    from parcours.saisines.models import Saisine
    from parcours.saisines.tests.saisine_factories import SaisineFactory

    SaisineFactory(organisation=org_a, reference="S-OWN-A")
    other = SaisineFactory(organisation=org_b, reference="S-SECRET-B")
    client.force_login(claire)
    for name in ("saisine-detail", "saisine-triage"):
        assert client.get(reverse(f"saisines:{name}", args=[other.pk])).status_code == 404
    posted = {"version": 1, "to": "me", "text": "x", "decision": "decline", "reason": "x"}
    for name in SAISINE_POSTS:
        url = reverse(f"saisines:{name}", args=[other.pk])
        assert client.post(url, posted).status_code == 404, name
    with scopes_disabled():
        other = Saisine.objects.get(pk=other.pk)
    assert (other.status, other.assigned_to, other.version) == ("received", None, 1)
    for tab in ("new", "open"):
        listing = client.get(reverse("saisines:queue"), {"tab": tab}).content.decode()
        assert "S-OWN-A" in listing and "S-SECRET-B" not in listing


def check_saisineevent(client, claire, org_a, org_b, **_):
    from parcours.saisines.models import SaisineEvent
    from parcours.saisines.tests.saisine_factories import SaisineEventFactory, SaisineFactory

    own = SaisineFactory(organisation=org_a)
    other = SaisineFactory(organisation=org_b)
    SaisineEventFactory(saisine=other, text="Note secrète B")
    client.force_login(claire)
    page = client.get(reverse("saisines:saisine-detail", args=[own.pk]))
    assert page.context["timeline"] == [] and "Note secrète B" not in page.content.decode()
    url = reverse("saisines:saisine-note", args=[other.pk])
    assert client.post(url, {"text": "intrusion"}).status_code == 404
    with scopes_disabled():
        assert not SaisineEvent.objects.filter(text="intrusion").exists()


def check_orientation(client, claire, org_a, org_b, **_):
    from django.utils import timezone

    from parcours.saisines.models import Orientation
    from parcours.saisines.tests.saisine_factories import OrientationFactory, SaisineFactory

    own = SaisineFactory(organisation=org_a)
    other = SaisineFactory(organisation=org_b, reference="S-SECRET-B", status="in_progress")
    theirs = OrientationFactory(
        saisine=other,
        recipient_name="Service secret B",
        status=Orientation.Status.NO_ANSWER,
        flagged_at=timezone.now(),
    )
    client.force_login(claire)
    url = reverse("saisines:orientation-record", args=[theirs.pk])
    assert client.post(url, {"answer": "accepted"}).status_code == 404
    with scopes_disabled():
        assert Orientation.objects.get(pk=theirs.pk).status == Orientation.Status.NO_ANSWER
    flagged = client.get(reverse("saisines:queue"), {"tab": "flagged"})
    assert "S-SECRET-B" not in flagged.content.decode()
    assert {tab["code"]: tab["count"] for tab in flagged.context["tabs"]}["flagged"] == 0
    page = client.get(reverse("saisines:saisine-detail", args=[own.pk]))
    assert page.context["orientations"] == [] and "Service secret B" not in page.content.decode()


# View-level checks of the saisines' pages (the scope-level helper above stays for later
# models of issue 4 that have no page yet).
PEOPLE_AND_SAISINES = {
    "saisines.saisine": check_saisine,
    "saisines.saisineevent": check_saisineevent,
    "saisines.orientation": check_orientation,
}


def _people(org_a, org_b):
    """The same identity in both organisations; B's with a secret used name and a consent."""
    from parcours.people.tests.people_factories import ConsentFactory, PersonFactory

    identity = {"birth_name": "Lambert", "first_names": "Odile", "birth_date": "1950-05-05"}
    own = PersonFactory(organisation=org_a, **identity)
    other = PersonFactory(organisation=org_b, used_name="Secretb", **identity)
    return own, other, ConsentFactory(person=own), ConsentFactory(person=other)


def check_person(client, claire, org_a, org_b, **_):
    from parcours.people.models import Person

    own, other, _own_consent, _other_consent = _people(org_a, org_b)
    client.force_login(claire)
    for name in ("person-detail", "person-edit", "person-merge", "consent-create"):
        assert client.get(reverse(f"people:{name}", args=[other.pk])).status_code == 404
    merge = reverse("people:person-merge-confirm", args=[own.pk, other.pk])
    assert client.get(merge).status_code == 404
    assert client.post(merge, {"keep": str(own.pk)}).status_code == 404
    with scopes_disabled():
        assert Person.objects.get(pk=other.pk).merged_into is None
    assert "Secretb" not in client.get(reverse("people:person-list")).content.decode()
    found = client.post(reverse("people:person-list"), {"q": "Lambert"}).content.decode()
    assert "Secretb" not in found
    choose = client.get(reverse("people:person-merge", args=[own.pk])).content.decode()
    assert "Secretb" not in choose


def check_consent(client, claire, org_a, org_b, **_):
    from parcours.people.models import Consent

    own, other, _own_consent, other_consent = _people(org_a, org_b)
    client.force_login(claire)
    for person in (own, other):
        url = reverse("people:consent-withdraw", args=[person.pk, other_consent.pk])
        assert client.post(url).status_code == 404
    with scopes_disabled():
        assert Consent.objects.get(pk=other_consent.pk).withdrawn_at is None
    page = client.get(reverse("people:person-detail", args=[own.pk]))
    assert [consent.pk for consent in page.context["file"].consents] == [_own_consent.pk]


def check_attachment(client, claire, org_a, org_b, **_):
    from parcours.saisines.tests.saisine_factories import AttachmentFactory, SaisineFactory

    own = AttachmentFactory(saisine=SaisineFactory(organisation=org_a))
    other = AttachmentFactory(saisine=SaisineFactory(organisation=org_b))
    client.force_login(claire)
    url = "saisines:attachment-download"
    assert client.get(reverse(url, args=[own.pk])).status_code == 200
    assert client.get(reverse(url, args=[other.pk])).status_code == 404


def _mt_searches(org_a, org_b, claire, bruno):
    """A search in each organisation; A's with a wave sent to a GP both pools share, a call
    and a closing note. Returns (A's search, B's search, the shared GP)."""
    import datetime

    from parcours.directory.tests.directory_factories import AvailabilityFactory
    from parcours.matching import services
    from parcours.matching.tests.matching_factories import open_search, person_without_mt, pool_gp

    gp = pool_gp(org_a, email="gp-shared@example.org")
    AvailabilityFactory(
        organisation=org_b,
        professional=gp,
        age_groups=["adults", "seniors"],
        expires_on=datetime.date.today() + datetime.timedelta(days=90),
    )
    own = open_search(org_a, person_without_mt(org_a, birth_name="Secreta"), by=claire)
    services.wave_send(search=own, by=claire)
    services.call_record(
        search=own, by=claire, professional=gp, outcome="no_answer", note="Appel secret A"
    )
    other = open_search(org_b, person_without_mt(org_b, birth_name="Bonly"), by=bruno)
    return own, other, gp


def _only_own_matching(label, org_b):
    with scope(organisation=org_b):
        organisations = apps.get_model(label).objects.values_list("organisation", flat=True)
        assert set(organisations) == {org_b.pk}


MT_SEARCH_POSTS = (
    "search-update",
    "search-wave",
    "search-choice",
    "search-declared",
    "search-close",
)


def check_mtsearch(client, claire, bruno, org_a, org_b, **_):
    from parcours.matching.models import MTSearch

    own, other, _gp = _mt_searches(org_a, org_b, claire, bruno)
    client.force_login(bruno)
    assert client.get(reverse("matching:search-detail", args=[other.pk])).status_code == 200
    assert client.get(reverse("matching:search-detail", args=[own.pk])).status_code == 404
    posted = {"version": 1, "wave": 1, "choice": "accepted", "reason": "x", "max_distance_km": 5}
    for name in MT_SEARCH_POSTS:
        url = reverse(f"matching:{name}", args=[own.pk])
        assert client.post(url, posted).status_code == 404, name
    person_url = reverse("matching:search-open-person", args=[own.person_id])
    assert client.get(person_url).status_code == 404
    with scopes_disabled():
        own = MTSearch.objects.get(pk=own.pk)
    assert (own.status, own.wave, own.version) == ("open", 1, 1)
    for status in ("running", "open", "closed"):
        listing = client.get(reverse("matching:search-list"), {"status": status})
        assert "Secreta" not in listing.content.decode()
    listing = client.get(reverse("matching:search-list"))
    assert [search.pk for search in listing.context["page"]] == [other.pk]
    _only_own_matching("matching.mtsearch", org_b)


def check_solicitation(client, claire, bruno, org_a, org_b, **_):
    own, other, gp = _mt_searches(org_a, org_b, claire, bruno)
    client.force_login(bruno)
    page = client.get(reverse("matching:search-detail", args=[other.pk]))
    assert page.context["solicitations"] == []
    # A's requests to the shared GP do not count in B's fair rotation.
    [candidate] = page.context["ranking"]
    assert candidate.professional_id == gp.pk and candidate.recent_requests == 0
    assert "fairness" not in [line["code"] for line in candidate.explanation]
    with scope(organisation=org_b):
        from parcours.matching.models import Solicitation

        assert not Solicitation.objects.exists()


def check_call(client, claire, bruno, org_a, org_b, **_):
    own, other, _gp = _mt_searches(org_a, org_b, claire, bruno)
    client.force_login(bruno)
    page = client.get(reverse("matching:search-detail", args=[other.pk]))
    assert "Appel secret A" not in page.content.decode()
    with scope(organisation=org_b):
        from parcours.matching.models import Call

        assert not Call.objects.exists()


def check_mtsearchevent(client, claire, bruno, org_a, org_b, **_):
    from parcours.matching.models import MTSearchEvent

    own, other, _gp = _mt_searches(org_a, org_b, claire, bruno)
    client.force_login(bruno)
    page = client.get(reverse("matching:search-detail", args=[other.pk]))
    assert [event.search_id for event in page.context["timeline"]] == [other.pk]
    assert "Appel secret A" not in page.content.decode()
    url = reverse("matching:search-close", args=[own.pk])
    assert client.post(url, {"reason": "intrusion"}).status_code == 404
    with scopes_disabled():
        assert not MTSearchEvent.objects.filter(text="intrusion").exists()
    _only_own_matching("matching.mtsearchevent", org_b)


MATCHING = {
    "matching.mtsearch": check_mtsearch,
    "matching.solicitation": check_solicitation,
    "matching.call": check_call,
    "matching.mtsearchevent": check_mtsearchevent,
}


ISOLATION_CHECKS = {
    **PEOPLE_AND_SAISINES,
    **MATCHING,
    "saisines.attachment": check_attachment,
    "people.person": check_person,
    "people.consent": check_consent,
    "directory.availabilitysurvey": check_availabilitysurvey,
    "directory.surveyrequest": check_surveyrequest,
    "directory.importjob": check_importjob,
    "directory.searchentry": check_searchentry,
    "directory.service": check_service,
    "directory.availability": check_availability,
    "accounts.membership": check_membership,
    "accounts.invitation": check_invitation,
    "audit.auditevent": check_auditevent,
    "territory.territory": check_territory,
    "territory.priorityneighbourhood": check_priorityneighbourhood,
}


@pytest.mark.parametrize("label", sorted(ISOLATION_CHECKS))
def test_organisation_a_never_sees_organisation_b(
    label, client, claire, alain, bruno, org_a, org_b
):
    ISOLATION_CHECKS[label](
        client=client, claire=claire, alain=alain, bruno=bruno, org_a=org_a, org_b=org_b
    )
