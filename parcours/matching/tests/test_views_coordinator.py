"""The coordinator's pages of the médecin traitant search: the list (priority first, flat
query count), the opening from a person or a saisine (French errors with the way out),
a search's page (explained ranking, waves, what comes next), the preferences (version
checked), a wave, the person's choice, the declaration and the closure; never a 500."""

import datetime
import html as html_module

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from parcours.audit.models import Action, AuditEvent
from parcours.matching import services
from parcours.matching.models import MTSearch, MTSearchEvent, Priority, Solicitation
from parcours.matching.tests.matching_factories import (
    open_search,
    person_without_mt,
    pool_gp,
    reload,
)
from parcours.matching.views import next_step
from parcours.saisines.models import Decision
from parcours.saisines.tests.saisine_factories import SaisineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_outbox():
    mail.outbox.clear()


def text(response) -> str:
    return html_module.unescape(response.content.decode())


def url(name: str, obj) -> str:
    return reverse(f"matching:{name}", args=[obj.pk])


def staged(search, **fields):
    with scopes_disabled():
        MTSearch.objects.filter(pk=search.pk).update(**fields)
    return reload(search)


@pytest.fixture
def gps(org_a):
    return [
        pool_gp(org_a, latitude=45.70, longitude=4.89, last_name="Aubert", first_name="Anne"),
        pool_gp(org_a, latitude=45.71, longitude=4.90, last_name="Bonnet", first_name="Bruno"),
        pool_gp(org_a, latitude=45.72, longitude=4.91, last_name="Collin", first_name="Chloé"),
    ]


@pytest.fixture
def person(org_a):
    return person_without_mt(
        org_a,
        birth_name="Haddad",
        first_names="Amina",
        birth_date=datetime.date(1950, 2, 3),
        ald=["8"],
        languages=["arabe", "fr"],
    )


@pytest.fixture
def search(org_a, person, claire, gps):
    return open_search(org_a, person, by=claire)


# --- The list ----------------------------------------------------------------------------


def test_it_lists_running_searches_priority_first_with_stage_wave_and_commune(
    client, claire, org_a
):
    plain = open_search(org_a, person_without_mt(org_a, birth_name="Simple"), by=claire)
    urgent = open_search(
        org_a,
        person_without_mt(org_a, birth_name="Urgent"),
        by=claire,
        priorities=[Priority.ALD, Priority.ISOLATION],
    )
    closed = open_search(org_a, person_without_mt(org_a, birth_name="Terminee"), by=claire)
    services.search_close(search=closed, by=claire, reason="Déménagement.")
    client.force_login(claire)
    response = client.get(reverse("matching:search-list"))
    assert response.status_code == 200
    assert [s.pk for s in response.context["page"].object_list] == [urgent.pk, plain.pk]
    page = text(response)
    assert page.index("Urgent") < page.index("Simple") and "Terminee" not in page
    assert "Vénissieux" in page and "Sollicitations par e-mail" in page and "ALD" in page
    assert url("search-detail", urgent) in page


def test_it_filters_by_status_and_ignores_an_unknown_one(client, claire, org_a):
    running = open_search(org_a, by=claire)
    closed = open_search(org_a, by=claire)
    services.search_close(search=closed, by=claire, reason="Ailleurs.")
    client.force_login(claire)
    listing = reverse("matching:search-list")
    shown = client.get(listing, {"status": "closed"}).context["page"].object_list
    assert [s.pk for s in shown] == [closed.pk]
    unknown = client.get(listing, {"status": "<script>"})
    assert unknown.status_code == 200
    assert [s.pk for s in unknown.context["page"].object_list] == [running.pk]
    assert client.get(listing, {"page": "zz"}).status_code == 200


def test_the_list_read_is_audited_with_ids_only(client, claire, org_a):
    search = open_search(org_a, by=claire)
    client.force_login(claire)
    client.get(reverse("matching:search-list"))
    with scopes_disabled():
        event = AuditEvent.objects.filter(details__list="mt_searches").get()
    assert event.details["ids"] == [search.person_id]


def test_the_list_costs_the_same_queries_for_one_or_many_searches(client, claire, org_a):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("matching:search-list")).status_code == 200
        return len(queries)

    saisine = SaisineFactory(organisation=org_a)
    open_search(org_a, by=claire, saisine=saisine)
    client.force_login(claire)
    one = count()
    for n in range(6):
        person = person_without_mt(org_a)
        open_search(org_a, person, by=claire, priorities=[Priority.ALD] if n % 2 else [])
        saisine = SaisineFactory(organisation=org_a, person=person)
    many = count()
    assert many == one


# --- Opening -----------------------------------------------------------------------------


def test_the_opening_form_starts_from_the_persons_record(client, claire, person):
    client.force_login(claire)
    response = client.get(url("search-open-person", person))
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.initial["priorities"]) == {Priority.ALD, Priority.AGE_70}
    assert form.initial["languages"] == ["ar"]  # French is everyone's: not a preference
    page = text(response)
    assert 'type="checkbox" name="languages" value="wo"' in page
    assert "Amina Haddad" in page and "Vénissieux" in page


def test_opening_for_a_person_redirects_to_the_new_search(client, claire, person, gps):
    client.force_login(claire)
    data = {
        "doctor_sex": "F",
        "languages": ["ar", "en"],
        "max_distance_km": "8",
        "home_visits": "on",
        "priorities": [Priority.ALD],
        "follow_up": "chronic",
        "note": "Préfère le matin.",
    }
    response = client.post(url("search-open-person", person), data)
    with scopes_disabled():
        search = MTSearch.objects.get(person=person)
    assert response.status_code == 302 and response["Location"] == url("search-detail", search)
    assert (search.doctor_sex, search.languages, search.radius_km) == ("F", ["ar", "en"], 8)
    assert (search.home_visits, search.priorities, search.follow_up) == (True, ["ald"], "chronic")
    assert search.opened_by == claire and search.saisine is None


def test_a_person_without_commune_is_told_where_to_complete_the_record(client, claire, org_a):
    person = person_without_mt(org_a, commune=None)
    client.force_login(claire)
    page = text(client.get(url("search-open-person", person)))
    assert "La commune de la personne n'est pas renseignée" in page
    data = {"max_distance_km": 10, "follow_up": "routine"}
    response = client.post(url("search-open-person", person), data)
    assert response.status_code == 200
    page = text(response)
    assert "Indiquez d'abord la commune de la personne sur sa fiche" in page
    assert reverse("people:person-edit", args=[person.pk]) in page
    with scopes_disabled():
        assert not MTSearch.objects.exists()


def test_a_person_without_consent_is_told_to_collect_it(client, claire, org_a):
    person = person_without_mt(org_a, consent=False)
    client.force_login(claire)
    data = {"max_distance_km": 10, "follow_up": "routine"}
    response = client.post(url("search-open-person", person), data)
    assert response.status_code == 200
    page = text(response)
    assert "Le consentement de la personne à la recherche d'un médecin traitant" in page
    assert reverse("people:consent-create", args=[person.pk]) in page


def test_a_second_running_search_is_refused_with_a_link_to_the_first(client, claire, search):
    client.force_login(claire)
    person = search.person
    page = text(client.get(url("search-open-person", person)))
    assert "Une recherche de médecin traitant est déjà en cours" in page
    data = {"max_distance_km": 10, "follow_up": "routine"}
    response = client.post(url("search-open-person", person), data)
    assert response.status_code == 409
    assert "déjà en cours pour cette personne" in text(response)
    assert url("search-detail", search) in text(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"max_distance_km": "0", "follow_up": "routine"}, "supérieure ou égale à 1"),
        ({"max_distance_km": "500", "follow_up": "routine"}, "inférieure ou égale à 100"),
        ({"max_distance_km": "dix", "follow_up": "routine"}, "nombre entier de kilomètres"),
        ({"max_distance_km": "10", "follow_up": "spa"}, "Sélectionnez un choix valide"),
        ({"max_distance_km": "10", "follow_up": "routine", "priorities": ["vip"]}, "valide"),
        ({"max_distance_km": "10", "follow_up": "routine", "languages": ["xx"]}, "valide"),
        ({"max_distance_km": "10", "follow_up": "routine", "doctor_sex": "X"}, "valide"),
    ],
)
def test_bad_input_when_opening_is_said_in_french(client, claire, person, data, message):
    client.force_login(claire)
    response = client.post(url("search-open-person", person), data)
    assert response.status_code == 200 and message in text(response)
    with scopes_disabled():
        assert not MTSearch.objects.exists()


def test_opening_from_a_saisine_uses_its_person_and_records_the_decision(
    client, claire, org_a, person, gps
):
    saisine = SaisineFactory(
        organisation=org_a, person=person, status="triaged", complexity_level=2
    )
    client.force_login(claire)
    response = client.get(url("search-open-saisine", saisine))
    assert response.status_code == 200
    assert response.context["form"].initial["complex_situation"] is True
    assert saisine.reference in text(response)
    data = {"max_distance_km": 10, "follow_up": "routine", "complex_situation": "on"}
    response = client.post(url("search-open-saisine", saisine), data)
    with scopes_disabled():
        search = MTSearch.objects.get()
    assert response["Location"] == url("search-detail", search)
    assert (search.saisine_id, search.person_id, search.complex_situation) == (
        saisine.pk,
        person.pk,
        True,
    )
    assert reload(saisine).decision == Decision.MT_SEARCH


def test_a_saisine_without_a_person_sends_to_its_triage(client, claire, org_a):
    saisine = SaisineFactory(organisation=org_a)
    client.force_login(claire)
    response = client.get(url("search-open-saisine", saisine))
    assert response.status_code == 200
    page = text(response)
    assert "n'est pas encore liée à la fiche d'une personne" in page
    assert reverse("saisines:saisine-triage", args=[saisine.pk]) in page
    posted = client.post(url("search-open-saisine", saisine), {"max_distance_km": 10})
    assert posted.status_code == 409
    with scopes_disabled():
        assert not MTSearch.objects.exists()


def test_another_organisations_person_or_saisine_is_404(client, bruno, person, org_a):
    saisine = SaisineFactory(organisation=org_a, person=person)
    client.force_login(bruno)
    assert client.get(url("search-open-person", person)).status_code == 404
    assert client.post(url("search-open-saisine", saisine), {}).status_code == 404


# --- A search's page ---------------------------------------------------------------------


def test_the_page_shows_the_person_the_explained_ranking_and_the_next_step(
    client, claire, search, gps
):
    client.force_login(claire)
    response = client.get(url("search-detail", search))
    assert response.status_code == 200
    page = text(response)
    assert "Amina Haddad" in page and "Vénissieux" in page and "ALD" in page
    assert [c.professional_id for c in response.context["ranking"]] == [g.pk for g in gps]
    assert "Anne Aubert" in page and "<details>" in page
    assert 'data-criterion="distance"' in page and "km du domicile" in page
    assert "Distance : <strong>+" in page
    assert "Solliciter les 3 premiers" in page
    assert "Aucun médecin sollicité : sans action, la première vague part le" in page
    assert "Recherche ouverte." in page  # the timeline


def test_reading_a_search_is_audited(client, claire, search):
    client.force_login(claire)
    client.get(url("search-detail", search))
    with scopes_disabled():
        assert AuditEvent.objects.filter(
            action=Action.READ, object_id=str(search.pk), person_id=search.person_id
        ).exists()


def test_what_comes_next_follows_the_stage(settings, search):
    settings.MATCHING_WAVE_HOURS, settings.MATCHING_WAVES = 72, 2
    start = search.stage_started_at
    search.wave = 1
    step = next_step(search, now=start)
    assert step["text"] == "Sans acceptation, la vague 2 part"
    assert step["at"] == start + datetime.timedelta(hours=72) and not step["overdue"]
    search.wave = 2
    assert "tour d'appels" in next_step(search, now=start)["text"]
    search.stage, search.radius_km = MTSearch.Stage.CALL_ROUND, 10
    assert "passe à 20 km" in next_step(search, now=start)["text"]
    search.stage = MTSearch.Stage.WIDER
    assert "parcours IPA" in next_step(search, now=start)["text"]  # ALD
    search.stage = MTSearch.Stage.MEDIATOR
    assert "médiateur" in next_step(search)["text"] and "at" not in next_step(search)
    assert next_step(search, now=start + datetime.timedelta(days=400)) is not None
    search.status = MTSearch.Status.CLOSED
    assert next_step(search) is None


def test_another_organisations_search_is_404(client, bruno, search):
    client.force_login(bruno)
    assert client.get(url("search-detail", search)).status_code == 404
    for name in ("search-update", "search-wave", "search-choice", "search-declared"):
        assert client.post(url(name, search), {"wave": 0}).status_code == 404, name
    assert client.post(url("search-close", search), {"reason": "x"}).status_code == 404
    assert reload(search).status == MTSearch.Status.OPEN


# --- Preferences ---------------------------------------------------------------------------


def prefs(search, **changes) -> dict:
    data = {
        "version": search.version,
        "doctor_sex": search.doctor_sex,
        "languages": search.languages,
        "max_distance_km": search.max_distance_km,
        "priorities": search.priorities,
        "follow_up": search.follow_up,
        "note": search.note,
    }
    data.update(changes)
    return data


def test_preferences_are_updated(client, claire, search):
    client.force_login(claire)
    response = client.post(url("search-update", search), prefs(search, max_distance_km=25))
    assert response.status_code == 302
    assert response["Location"] == url("search-detail", search) + "#preferences"
    search = reload(search)
    assert (search.max_distance_km, search.radius_km, search.version) == (25, 25, 2)


def test_a_change_made_meanwhile_is_not_overwritten(client, claire, hugo, search):
    stale = prefs(search, max_distance_km=30)
    services.search_update(search=search, by=hugo, data={"note": "Hugo"}, version=1)
    client.force_login(claire)
    response = client.post(url("search-update", search), stale)
    assert response.status_code == 409
    assert "Cette recherche a changé pendant que vous la modifiiez" in text(response)
    search = reload(search)
    assert (search.max_distance_km, search.note) == (10, "Hugo")


def test_bad_preferences_are_said_in_french(client, claire, search):
    client.force_login(claire)
    response = client.post(url("search-update", search), prefs(search, max_distance_km="-3"))
    assert response.status_code == 200 and "supérieure ou égale à 1" in text(response)
    response = client.post(url("search-update", search), {"max_distance_km": "5"})
    assert response.status_code == 200 and "Ce champ est obligatoire" in text(response)
    assert reload(search).version == 1


def test_preferences_of_a_closed_search_cannot_change(client, claire, search):
    services.search_close(search=search, by=claire, reason="Déménagement.")
    client.force_login(claire)
    response = client.post(url("search-update", reload(search)), prefs(reload(search)))
    assert response.status_code == 409 and "close sans médecin traitant" in text(response)


# --- Waves -------------------------------------------------------------------------------


def test_a_wave_asks_the_first_candidates_and_says_how_many(client, claire, search, settings):
    settings.MATCHING_WAVE_SIZE = 2
    client.force_login(claire)
    response = client.post(url("search-wave", search), {"wave": 0}, follow=True)
    assert "2 médecins sollicités par e-mail (vague 1)." in text(response)
    assert len(mail.outbox) == 2
    page = text(response)
    assert 'data-wave="1"' in page and "Envoyée" in page
    assert "Solliciter le premier" in page  # one candidate left


def test_a_double_click_sends_one_wave(client, claire, search):
    client.force_login(claire)
    client.post(url("search-wave", search), {"wave": 0})
    response = client.post(url("search-wave", search), {"wave": 0}, follow=True)
    assert "Une vague vient d'être envoyée" in text(response)
    assert reload(search).wave == 1 and len(mail.outbox) == 3


def test_when_nobody_is_left_the_wave_says_so(client, claire, search):
    services.wave_send(search=search, by=claire)
    client.force_login(claire)
    response = client.post(url("search-wave", search), {"wave": 1}, follow=True)
    assert "Plus aucun médecin du vivier à solliciter dans le rayon de 10 km" in text(response)
    assert response.context["ranking"] == []


def test_a_wave_on_a_search_no_longer_open_is_refused_in_french(client, claire, search):
    services.search_close(search=search, by=claire, reason="Fin.")
    client.force_login(claire)
    response = client.post(url("search-wave", search), {"wave": 0}, follow=True)
    assert response.status_code == 200
    assert "cette action n'est plus possible" in text(response)
    assert not mail.outbox


# --- The person's choice, the declaration, the closure -----------------------------------


def accepted(search, claire):
    first = services.wave_send(search=search, by=claire)[0]
    assert services.solicitation_accept(solicitation=first)
    return reload(search), first


def test_the_gp_who_accepted_is_shown_with_the_choice_form(client, claire, search, gps):
    search, _first = accepted(search, claire)
    client.force_login(claire)
    page = text(client.get(url("search-detail", search)))
    assert "Un médecin a accepté" in page and "Anne Aubert" in page
    assert "04 72 00 00 00" in page and "Enregistrer le choix de la personne" in page
    assert "Proposez ce médecin à la personne" in page
    assert 'id="choix_reason"' in page and 'id="cloture_reason"' in page


def test_the_person_accepts_the_gp_and_the_saisine_learns_it(client, claire, org_a, gps):
    person = person_without_mt(org_a)
    saisine = SaisineFactory(organisation=org_a, person=person, status="in_progress")
    search = open_search(org_a, person, by=claire, saisine=saisine)
    search, _first = accepted(search, claire)
    client.force_login(claire)
    response = client.post(url("search-choice", search), {"choice": "accepted"}, follow=True)
    assert "La personne choisit Anne Aubert" in text(response)
    assert reload(search).status == MTSearch.Status.FOUND
    assert reload(saisine).mt_found_at is not None
    assert "Enregistrer la déclaration" in text(response)


def test_a_refusal_needs_a_reason_and_then_the_search_goes_on(client, claire, search):
    search, _first = accepted(search, claire)
    client.force_login(claire)
    response = client.post(url("search-choice", search), {"choice": "refused"})
    assert response.status_code == 200
    assert "Indiquez pourquoi la personne refuse ce médecin." in text(response)
    assert reload(search).status == MTSearch.Status.ACCEPTED
    data = {"choice": "refused", "reason": "Cabinet à l'étage sans ascenseur."}
    response = client.post(url("search-choice", search), data, follow=True)
    assert "la recherche reprend" in text(response)
    search = reload(search)
    assert (search.status, search.accepted_professional) == (MTSearch.Status.OPEN, None)


def test_a_choice_without_an_acceptance_is_refused_in_french(client, claire, search):
    client.force_login(claire)
    response = client.post(url("search-choice", search), {"choice": "accepted"})
    assert response.status_code == 409
    assert "Cette recherche est « recherche en cours »" in text(response)
    response = client.post(url("search-choice", search), {"choice": "maybe"})
    assert response.status_code == 200 and "Sélectionnez un choix valide" in text(response)


def test_the_declaration_ends_the_search(client, claire, search):
    search, _first = accepted(search, claire)
    services.person_choice_record(search=search, by=claire, choice="accepted")
    client.force_login(claire)
    today = timezone.localdate()
    response = client.post(
        url("search-declared", search), {"declared_on": today.isoformat()}, follow=True
    )
    assert "Médecin traitant déclaré : la recherche est terminée." in text(response)
    search = reload(search)
    assert (search.status, search.declared_on) == (MTSearch.Status.DECLARED, today)
    assert reload(search.person).medecin_traitant_status == "known"
    assert "Arrêter la recherche" not in text(response)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2999-01-01", "La date de déclaration ne peut pas être future."),
        ("demain", "Saisissez une date valide"),
        ("", "Ce champ est obligatoire"),
        ("2000-01-01", "ne peut pas précéder l'ouverture de la recherche"),
    ],
)
def test_a_bad_declaration_date_is_said_in_french(client, claire, search, value, message):
    search, _first = accepted(search, claire)
    services.person_choice_record(search=search, by=claire, choice="accepted")
    client.force_login(claire)
    response = client.post(url("search-declared", search), {"declared_on": value})
    assert response.status_code == 200 and message in text(response)
    assert reload(search).status == MTSearch.Status.FOUND


def test_a_declaration_before_the_choice_is_refused(client, claire, search):
    client.force_login(claire)
    data = {"declared_on": timezone.localdate().isoformat()}
    response = client.post(url("search-declared", search), data)
    assert response.status_code == 409 and "n'est plus possible" in text(response)


def test_closing_needs_a_reason_and_withdraws_the_requests(client, claire, search):
    services.wave_send(search=search, by=claire)
    mail.outbox.clear()
    client.force_login(claire)
    response = client.post(url("search-close", search), {"reason": "  "})
    assert response.status_code == 200 and "Ce champ est obligatoire" in text(response)
    response = client.post(url("search-close", search), {"reason": "A trouvé seule."}, follow=True)
    assert "La recherche est close." in text(response) and "A trouvé seule." in text(response)
    assert reload(search).status == MTSearch.Status.CLOSED
    with scopes_disabled():
        statuses = set(Solicitation.objects.values_list("status", flat=True))
    assert statuses == {Solicitation.Status.WITHDRAWN} and len(mail.outbox) == 3
    again = client.post(url("search-close", search), {"reason": "Encore."})
    assert again.status_code == 409
    with scopes_disabled():
        assert MTSearchEvent.objects.filter(search=search, kind="closed").count() == 1


def test_get_on_an_action_is_not_allowed(client, claire, search):
    client.force_login(claire)
    for name in ("search-update", "search-wave", "search-choice", "search-declared"):
        assert client.get(url(name, search)).status_code == 405


# --- Links from the person's page and the saisine ----------------------------------------


def test_the_persons_page_offers_the_search_unless_the_mt_is_known(client, claire, person):
    client.force_login(claire)
    link = url("search-open-person", person)
    assert link in text(client.get(reverse("people:person-detail", args=[person.pk])))
    with scopes_disabled():
        type(person).objects.filter(pk=person.pk).update(medecin_traitant_status="known")
    assert link not in text(client.get(reverse("people:person-detail", args=[person.pk])))


def test_the_saisine_page_links_to_its_searches(client, claire, org_a, person, gps):
    saisine = SaisineFactory(organisation=org_a, person=person, status="triaged")
    client.force_login(claire)
    search = open_search(org_a, person, by=claire, saisine=saisine)
    page = text(client.get(reverse("saisines:saisine-detail", args=[saisine.pk])))
    assert url("search-detail", search) in page
    assert "pas encore disponible" not in page
    services.search_close(search=search, by=claire, reason="Fin.")
    page = text(client.get(reverse("saisines:saisine-detail", args=[saisine.pk])))
    assert url("search-open-saisine", saisine) in page


def test_the_nav_shows_the_searches_to_coordinators_only(client, claire, manon):
    client.force_login(claire)
    listing = reverse("matching:search-list")
    assert f'href="{listing}"' in text(client.get(reverse("core:home")))
    client.force_login(manon)
    assert f'href="{listing}"' not in text(client.get(reverse("core:home")))


def test_the_page_links_to_the_call_round_the_ipa_route_and_the_handoff(client, claire, search):
    client.force_login(claire)
    page = text(client.get(url("search-detail", search)))
    for name in ("call-round", "search-ipa", "search-handoff"):  # ALD: the IPA route too
        assert url(name, search) in page, name
    services.search_close(search=search, by=claire, reason="Fin.")
    page = text(client.get(url("search-detail", search)))
    assert url("call-round", search) not in page and url("search-wave", search) not in page
