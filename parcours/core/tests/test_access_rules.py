"""Every view declares who may use it, and each role gets the answer the matrix pins.

- The URL walk fails for any URL pattern whose view has no declared rule.
- The matrix lists EVERY named URL with the status each role gets on GET; a URL missing
  from the matrix fails the test, so a new view must state its rule here too.
- Statuses: 200 allowed, 302 redirect (to login for visitors), 403 refused, 404/405/410.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_scopes import scopes_disabled

from parcours.accounts.access import AccessRule

ROLES = ("anonymous", "coordinator", "manager", "administrator", "professional", "partner")
CAST = {
    "coordinator": "claire",
    "manager": "manon",
    "administrator": "alain",
    "professional": "dr_martin",
    "partner": "paul",
}


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from walk(pattern.url_patterns, namespace)
        elif isinstance(pattern, URLPattern):
            yield (
                (f"{prefix}{pattern.name}" if pattern.name else str(pattern.pattern)),
                pattern.callback,
            )


def all_views():
    return list(walk(get_resolver().url_patterns))


def test_it_finds_a_declared_rule_on_every_view():
    missing = [
        name
        for name, view in all_views()
        if not isinstance(getattr(view, "access_rule", None), AccessRule)
    ]
    assert missing == [], f"views without an access rule: {missing}"


def test_the_walk_sees_the_whole_configuration():
    names = {name for name, _ in all_views()}
    assert {
        "core:home",
        "accounts:member-list",
        "territory:detail",
        "audit:event-list",
        "account_login",
        "mfa_activate_totp",
    } <= names


#  view                               anon coord manag admin  pro  partner
MATRIX = {
    "core:home": (200, 200, 200, 200, 200, 200),
    "core:health": (200, 200, 200, 200, 200, 200),
    "accounts:member-list": (302, 403, 403, 200, 403, 403),
    "accounts:member-invite": (302, 403, 403, 200, 403, 403),
    "accounts:member-edit": (302, 403, 403, 200, 403, 403),
    "accounts:member-invitation-resend": (302, 403, 403, 405, 403, 403),  # POST only
    "accounts:invitation-accept": (200, 200, 200, 200, 200, 200),
    "accounts:organisation-choose": (302, 405, 405, 405, 405, 405),
    "territory:detail": (302, 200, 200, 200, 403, 403),
    "territory:communes-geojson": (302, 200, 200, 200, 403, 403),
    "directory:annuaire": (200, 200, 200, 200, 200, 200),  # the public annuaire
    "directory:annuaire-detail": (200, 200, 200, 200, 200, 200),
    "directory:annuaire-map": (422, 422, 422, 422, 422, 422),  # bbox is required
    "directory:search": (302, 200, 200, 200, 403, 403),  # staff: private fields
    "directory:search-detail": (302, 200, 200, 200, 403, 403),
    "directory:search-map": (302, 422, 422, 422, 403, 403),  # bbox is required
    "directory:service-list": (302, 200, 200, 200, 403, 403),
    "directory:service-create": (302, 200, 403, 200, 403, 403),
    "directory:service-edit": (302, 200, 403, 200, 403, 403),
    "directory:service-archive": (302, 405, 403, 405, 403, 403),  # POST only
    "directory:guide-list": (200, 200, 200, 200, 200, 200),  # general information
    "directory:guide-detail": (200, 200, 200, 200, 200, 200),
    "directory:export-index": (302, 200, 200, 200, 403, 403),
    "directory:export-fhir": (302, 200, 200, 200, 403, 403),
    "directory:export-hsds-json": (302, 200, 200, 200, 403, 403),
    "directory:export-hsds-csv": (302, 200, 200, 200, 403, 403),
    "directory:survey-list": (302, 200, 403, 200, 403, 403),
    "directory:survey-launch": (302, 200, 403, 200, 403, 403),
    "directory:survey-detail": (302, 200, 403, 200, 403, 403),
    "directory:survey-close": (302, 405, 403, 405, 403, 403),  # POST only
    "directory:survey-answer": (200, 200, 200, 200, 200, 200),  # the GP's signed link
    "saisines:orientation-answer": (200, 200, 200, 200, 200, 200),  # recipient's signed link
    # Médecin traitant search: the GP answers an anonymous request from the e-mail's link.
    "matching:solicitation-answer": (200, 200, 200, 200, 200, 200),
    # The coordinator's pages of the search: coordinators and administrators.
    "matching:search-list": (302, 200, 403, 200, 403, 403),
    "matching:search-open-person": (302, 200, 403, 200, 403, 403),
    "matching:search-open-saisine": (302, 200, 403, 200, 403, 403),
    "matching:search-detail": (302, 200, 403, 200, 403, 403),
    "matching:search-update": (302, 405, 403, 405, 403, 403),  # POST only
    "matching:search-wave": (302, 405, 403, 405, 403, 403),  # POST only
    "matching:search-choice": (302, 405, 403, 405, 403, 403),  # POST only
    "matching:search-declared": (302, 405, 403, 405, 403, 403),  # POST only
    "matching:search-close": (302, 405, 403, 405, 403, 403),  # POST only
    # Escalation: call round, IPA route, the médiateur's file; figures for managers too.
    "matching:call-round": (302, 200, 403, 200, 403, 403),
    "matching:search-ipa": (302, 200, 403, 200, 403, 403),
    "matching:search-ipa-propose": (302, 405, 403, 405, 403, 403),  # POST only
    "matching:search-handoff": (302, 200, 403, 200, 403, 403),
    "matching:figures": (302, 200, 200, 200, 403, 403),  # counts only, no person
    # The GP's own pages (dr_martin has no linked directory GP here: no request, no
    # bulletin); administrators link accounts to directory GPs.
    "matching:gp-home": (302, 403, 403, 403, 200, 403),
    "matching:gp-answer": (302, 403, 403, 403, 405, 403),  # POST only
    "matching:gp-availability": (302, 403, 403, 403, 405, 403),  # POST only
    "matching:gp-bulletin": (302, 403, 403, 403, 404, 403),
    "matching:professional-accounts": (302, 403, 403, 200, 403, 403),
    # Public saisine forms (per organisation slug), their confirmation, the requester's
    # status link, a professional's e-mail verification link; attachments for the team only.
    "saisines:public-resident": (200, 200, 200, 200, 200, 200),
    "saisines:public-resident-done": (200, 200, 200, 200, 200, 200),
    "saisines:public-professional": (200, 200, 200, 200, 200, 200),
    "saisines:public-professional-done": (200, 200, 200, 200, 200, 200),
    "saisines:status": (200, 200, 200, 200, 200, 200),  # signed link, no personal data
    "saisines:verify-email": (200, 200, 200, 200, 200, 200),  # GET confirms, POST records
    "saisines:attachment-download": (302, 200, 403, 200, 403, 403),
    # The team's saisine pages: coordinators and administrators (managers: figures only).
    "saisines:queue": (302, 200, 403, 200, 403, 403),
    "saisines:quick-entry": (302, 200, 403, 200, 403, 403),
    "saisines:resource-search": (302, 200, 403, 200, 403, 403),
    "saisines:saisine-detail": (302, 200, 403, 200, 403, 403),
    "saisines:saisine-triage": (302, 200, 403, 200, 403, 403),
    "saisines:saisine-identify": (302, 405, 403, 405, 403, 403),  # POST only
    "saisines:saisine-screen": (302, 405, 403, 405, 403, 403),  # POST only
    "saisines:saisine-decide": (302, 405, 403, 405, 403, 403),  # POST only
    "saisines:saisine-orient": (302, 405, 403, 405, 403, 403),  # POST only
    "saisines:saisine-assign": (302, 405, 403, 405, 403, 403),  # POST only
    "saisines:saisine-note": (302, 405, 403, 405, 403, 403),  # POST only
    "saisines:saisine-first-response": (302, 405, 403, 405, 403, 403),  # POST only
    "saisines:saisine-inform-mt": (302, 405, 403, 405, 403, 403),  # POST only
    "saisines:saisine-close": (302, 405, 403, 405, 403, 403),  # POST only
    "saisines:orientation-record": (302, 405, 403, 405, 403, 403),  # POST only
    "set_language": (302, 302, 302, 302, 302, 302),  # the language switch (POST sets it)
    "directory:import-list": (302, 403, 403, 200, 403, 403),
    "directory:import-create": (302, 403, 403, 200, 403, 403),
    "directory:import-detail": (302, 403, 403, 200, 403, 403),
    "directory:import-progress": (302, 403, 403, 200, 403, 403),
    "directory:import-report": (302, 403, 403, 200, 403, 403),
    "api:openapi-json": (200, 200, 200, 200, 200, 200),
    "api:annuaire-search": (200, 200, 200, 200, 200, 200),  # public data only
    "api:annuaire-map": (422, 422, 422, 422, 422, 422),  # bbox is required
    "api:api-root": (404, 404, 404, 404, 404, 404),  # no docs page (CDN)
    # The person: coordinators and administrators; managers see figures only; professionals
    # and partners will reach a person through the cercle de soins (not yet).
    "people:person-list": (302, 200, 403, 200, 403, 403),
    "people:person-create": (302, 200, 403, 200, 403, 403),
    "people:person-detail": (302, 200, 403, 200, 403, 403),
    "people:person-edit": (302, 200, 403, 200, 403, 403),
    "people:person-merge": (302, 200, 403, 200, 403, 403),
    "people:person-merge-confirm": (302, 200, 403, 200, 403, 403),
    "people:consent-create": (302, 200, 403, 200, 403, 403),
    "people:consent-withdraw": (302, 405, 403, 405, 403, 403),  # POST only
    "audit:event-list": (302, 403, 403, 200, 403, 403),
    "audit:event-export": (302, 403, 403, 200, 403, 403),
    # allauth: the public steps of logging in; one's own account pages need a login.
    "account_login": (200, 302, 302, 302, 302, 302),
    "account_logout": (302, 200, 200, 200, 200, 200),
    "account_inactive": (200, 200, 200, 200, 200, 200),
    "account_signup": (200, 302, 302, 302, 302, 302),
    "account_reauthenticate": (302, 200, 200, 200, 200, 200),
    "account_email": (302, 200, 200, 200, 200, 200),
    "account_email_verification_sent": (200, 200, 200, 200, 200, 200),
    "account_change_password": (302, 200, 200, 200, 200, 200),
    "account_set_password": (302, 302, 302, 302, 302, 302),
    "account_reset_password": (200, 200, 200, 200, 200, 200),
    "account_confirm_login_code": (302, 302, 302, 302, 302, 302),  # no code login pending
    "account_confirm_email": (200, 200, 200, 200, 200, 200),
    "account_reset_password_from_key": (200, 200, 200, 200, 200, 200),
    "account_reset_password_from_key_done": (200, 200, 200, 200, 200, 200),
    "account_reset_password_done": (200, 200, 200, 200, 200, 200),
    "mfa_index": (302, 200, 200, 200, 200, 200),
    "mfa_authenticate": (302, 302, 302, 302, 302, 302),
    "mfa_reauthenticate": (302, 200, 200, 200, 302, 302),
    "mfa_activate_totp": (302, 302, 302, 302, 200, 200),
    "mfa_deactivate_totp": (302, 403, 403, 403, 404, 404),
    "mfa_view_recovery_codes": (302, 404, 404, 404, 404, 404),
    "mfa_generate_recovery_codes": (302, 302, 302, 302, 200, 200),  # staff: password again
    "mfa_download_recovery_codes": (302, 404, 404, 404, 404, 404),
    "socialaccount_login_cancelled": (200, 200, 200, 200, 200, 200),
    "socialaccount_login_error": (401, 401, 401, 401, 401, 401),
    "socialaccount_signup": (302, 302, 302, 302, 302, 302),
    "socialaccount_connections": (302, 200, 200, 200, 200, 200),
    "social/login/cancelled/": (301, 301, 301, 301, 301, 301),
    "social/login/error/": (301, 301, 301, 301, 301, 301),
    "social/signup/": (301, 301, 301, 301, 301, 301),
    "social/connections/": (301, 301, 301, 301, 301, 301),
    "openid_connect_login": (404, 404, 404, 404, 404, 404),
    "openid_connect_callback": (404, 404, 404, 404, 404, 404),
}


def test_the_matrix_covers_every_view():
    assert sorted({name for name, _ in all_views()}) == sorted(MATRIX)


COORDINATOR_SEARCH_PAGES = (
    "matching:search-open-person",
    "matching:search-open-saisine",
    "matching:search-detail",
    "matching:search-update",
    "matching:search-wave",
    "matching:search-choice",
    "matching:search-declared",
    "matching:search-close",
)


def url_for(name: str, claire) -> str:
    from parcours.accounts.models import Membership
    from parcours.accounts.services import invitation_create, invitation_token

    if "/" in name:
        return "/comptes/" + name
    if name in ("accounts:member-edit", "accounts:member-invitation-resend"):
        with scopes_disabled():
            return reverse(name, args=[Membership.objects.get(user=claire).pk])
    if name == "accounts:invitation-accept":
        with scopes_disabled():
            invitation = invitation_create(
                organisation=Membership.objects.get(user=claire).organisation,
                invited_by=None,
                email="invitee@example.org",
                role="partner",
            )
        return reverse(name, args=[invitation_token(invitation)])
    if name in ("directory:annuaire-detail", "directory:search-detail"):
        from parcours.directory.models import Structure
        from parcours.directory.search import search_index_refresh

        structure = Structure.objects.create(name="Centre hospitalier", source="finess")
        search_index_refresh(kind="structure", ids=[structure.pk])
        return reverse(name, args=["structure", structure.pk])
    if name in ("directory:service-edit", "directory:service-archive"):
        from parcours.directory.models import Service

        with scopes_disabled():
            organisation = Membership.objects.get(user=claire).organisation
            service = Service.objects.create(
                organisation=organisation, name="CCAS", circle="rights", source="manual"
            )
        return reverse(name, args=[service.pk])
    if name in ("directory:survey-detail", "directory:survey-close", "directory:survey-answer"):
        from parcours.directory.models import AvailabilitySurvey, Professional, SurveyRequest
        from parcours.directory.survey import survey_token

        with scopes_disabled():
            organisation = Membership.objects.get(user=claire).organisation
            survey = AvailabilitySurvey.objects.create(
                organisation=organisation, closes_on="2999-12-31"
            )
            gp = Professional.objects.create(rpps="10000000009", last_name="MG", source="rpps")
            asked = SurveyRequest.objects.create(
                survey=survey, organisation=organisation, professional=gp, email="mg@example.org"
            )
        if name == "directory:survey-answer":
            return reverse(name, args=[survey_token(asked, "now")])
        return reverse(name, args=[survey.pk])
    if name in ("directory:import-detail", "directory:import-progress", "directory:import-report"):
        from parcours.directory.models import ImportJob

        with scopes_disabled():
            job = ImportJob.objects.create(
                organisation=Membership.objects.get(user=claire).organisation,
                kind="finess",
                file="imports/finess.csv",
                original_name="finess.csv",
            )
        return reverse(name, args=[job.pk])
    if name.startswith("people:") and name not in ("people:person-list", "people:person-create"):
        from parcours.people.tests.people_factories import ConsentFactory, PersonFactory

        with scopes_disabled():
            organisation = Membership.objects.get(user=claire).organisation
        person = PersonFactory(organisation=organisation)
        if name == "people:person-merge-confirm":
            return reverse(name, args=[person.pk, PersonFactory(organisation=organisation).pk])
        if name == "people:consent-withdraw":
            return reverse(name, args=[person.pk, ConsentFactory(person=person).pk])
        return reverse(name, args=[person.pk])
    if name.startswith("saisines:public-"):
        with scopes_disabled():
            organisation = Membership.objects.get(user=claire).organisation
        return reverse(name, args=[organisation.slug])
    if name in ("saisines:status", "saisines:verify-email", "saisines:attachment-download"):
        from parcours.saisines.selectors import saisine_status_token
        from parcours.saisines.tests.saisine_factories import AttachmentFactory, SaisineFactory
        from parcours.saisines.verification import verification_token

        with scopes_disabled():
            organisation = Membership.objects.get(user=claire).organisation
        saisine = SaisineFactory(organisation=organisation)
        if name == "saisines:attachment-download":
            return reverse(name, args=[AttachmentFactory(saisine=saisine).pk])
        token = (saisine_status_token if name == "saisines:status" else verification_token)(saisine)
        return reverse(name, args=[token])
    if name.startswith("saisines:saisine-") or name == "saisines:orientation-record":
        from parcours.saisines.tests.saisine_factories import OrientationFactory, SaisineFactory

        with scopes_disabled():
            organisation = Membership.objects.get(user=claire).organisation
        saisine = SaisineFactory(organisation=organisation)
        if name == "saisines:orientation-record":
            return reverse(name, args=[OrientationFactory(saisine=saisine).pk])
        return reverse(name, args=[saisine.pk])
    if name == "saisines:orientation-answer":
        from parcours.saisines.tests.saisine_factories import OrientationFactory, SaisineFactory
        from parcours.saisines.tokens import orientation_token

        with scopes_disabled():
            organisation = Membership.objects.get(user=claire).organisation
        orientation = OrientationFactory(saisine=SaisineFactory(organisation=organisation))
        return reverse(name, args=[orientation_token(orientation, "accepted")])
    if name in COORDINATOR_SEARCH_PAGES:
        from parcours.matching.tests.matching_factories import open_search, person_without_mt
        from parcours.saisines.tests.saisine_factories import SaisineFactory

        with scopes_disabled():
            organisation = Membership.objects.get(user=claire).organisation
        person = person_without_mt(organisation)
        if name == "matching:search-open-person":
            return reverse(name, args=[person.pk])
        if name == "matching:search-open-saisine":
            return reverse(name, args=[SaisineFactory(organisation=organisation, person=person).pk])
        return reverse(name, args=[open_search(organisation, person).pk])
    if name in (
        "matching:call-round",
        "matching:search-ipa",
        "matching:search-ipa-propose",
        "matching:search-handoff",
    ):
        from parcours.matching.tests.matching_factories import open_search, pool_gp

        with scopes_disabled():
            organisation = Membership.objects.get(user=claire).organisation
        pool_gp(organisation)
        return reverse(name, args=[open_search(organisation).pk])
    if name == "matching:solicitation-answer":
        from parcours.matching import services as matching_services
        from parcours.matching.tests.matching_factories import open_search, pool_gp

        with scopes_disabled():
            organisation = Membership.objects.get(user=claire).organisation
        pool_gp(organisation)
        search = open_search(organisation)
        solicitation = matching_services.wave_send(search=search)[0]
        return reverse(name, args=[matching_services.link_token(solicitation, "accept")])
    kwargs = {
        "account_confirm_email": {"key": "invalide"},
        "account_reset_password_from_key": {"uidb36": "zz", "key": "invalide"},
        "openid_connect_login": {"provider_id": "psc"},
        "openid_connect_callback": {"provider_id": "psc"},
        "directory:guide-detail": {"slug": "c2s"},
        "matching:gp-answer": {"solicitation_id": 1},
        "matching:gp-bulletin": {"search_id": 1},
    }.get(name, {})
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_role_gets_the_status_the_matrix_pins(name, client, request, claire):
    url = url_for(name, claire)
    actual = []
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(request.getfixturevalue(CAST[role]))
        actual.append(client.get(url).status_code)
    assert tuple(actual) == MATRIX[name], f"{name} ({url})"


def test_visitors_are_sent_to_the_login_page(client, db):
    response = client.get(reverse("territory:detail"))
    assert response["Location"].startswith(reverse("account_login") + "?next=")
