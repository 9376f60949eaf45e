import datetime

from django.test import RequestFactory
from django.utils import timezone

from parcours.audit.models import Action, AuditEvent
from parcours.audit.services import GENESIS_HASH, audit_log, event_hash

from .helpers import write_events


def test_it_chains_each_event_to_the_previous_one(db):
    first, second, third = write_events(3)

    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3


def test_it_gives_the_hash_of_the_row_read_back(db, org_a, alain):
    request = RequestFactory().get("/", REMOTE_ADDR="2001:0db8:0000:0000:0000:0000:0000:0001")
    request.user, request.organisation = alain, org_a
    written = audit_log(
        action=Action.UPDATE,
        request=request,
        obj=org_a,
        person_id=42,
        details={"fields": ("name", "slug"), "count": 2, "ratio": 0.5},
    )

    stored = AuditEvent.objects.get(pk=written.pk)

    assert stored.ip == "2001:db8::1"
    assert stored.details == {"fields": ["name", "slug"], "count": 2, "ratio": 0.5}
    assert event_hash(stored) == stored.hash == written.hash


def test_it_takes_actor_and_organisation_from_the_request(db, org_a, alain):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    request.user, request.organisation = alain, org_a

    event = audit_log(action=Action.READ, request=request, object_type="people.person", object_id=7)

    assert (event.actor, event.organisation) == (alain, org_a)
    assert (event.ip, event.object_id) == ("192.0.2.7", "7")


def test_it_ignores_a_malformed_client_address(db):
    request = RequestFactory().get("/", REMOTE_ADDR="not-an-ip")

    assert audit_log(action=Action.LOGIN_FAILED, request=request).ip is None


def test_it_hashes_a_date_the_same_in_any_time_zone(db):
    event = write_events(1)[0]
    paris = event.at.astimezone(datetime.timezone(datetime.timedelta(hours=1)))

    assert paris == event.at
    event.at = paris
    assert event_hash(event) == event.hash
    assert timezone.is_aware(event.at)
