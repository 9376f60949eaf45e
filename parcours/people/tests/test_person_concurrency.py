"""People under concurrency (PostgreSQL): racing edits of one version leave one edit;
racing merges of two records into each other never make a loop."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_scopes import scope

from parcours.people.models import Person
from parcours.people.services import person_merge, person_update
from parcours.people.tests.helpers import people
from parcours.people.tests.people_factories import PersonFactory

RACERS = 6

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def race(target) -> tuple[list, list[BaseException]]:
    start = threading.Barrier(RACERS)
    done, errors = [], []

    def racer(n):
        try:
            start.wait()
            done.append(target(n))
        except BaseException as error:  # noqa: BLE001 - sorted by the caller's assertions
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done, errors


def test_racing_edits_of_the_same_version_leave_exactly_one(org_a, claire):
    person = PersonFactory(organisation=org_a)

    def edit(n):
        with scope(organisation=org_a):
            own_copy = Person.objects.get(pk=person.pk)  # as each request reads its own
            return person_update(
                person=own_copy, version=1, by=claire, data={"address": f"Adresse {n}"}
            )

    done, errors = race(edit)
    assert len(done) == 1
    assert len(errors) == RACERS - 1 and all(isinstance(e, ValidationError) for e in errors)
    [saved] = people()
    assert saved.version == 2 and saved.address == done[0].address


def test_racing_cross_merges_never_make_a_loop(org_a, claire):
    one, two = PersonFactory(organisation=org_a), PersonFactory(organisation=org_a)

    def merge(n):
        with scope(organisation=org_a):
            keep, merged = (
                Person.objects.get(pk=p.pk) for p in ((one, two) if n % 2 else (two, one))
            )
            return person_merge(keep=keep, merged=merged, by=claire)

    done, errors = race(merge)
    assert len(done) == 1 and all(isinstance(e, ValidationError) for e in errors)
    merged_into = {person.pk: person.merged_into_id for person in people()}
    kept = done[0].pk
    [other] = set(merged_into) - {kept}
    assert (merged_into[kept], merged_into[other]) == (None, kept)
