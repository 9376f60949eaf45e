"""A first pass through the main path (the helpers' test files cover each part)."""

import pytest
from django.core import mail

from parcours.matching import services
from parcours.matching.models import MTSearch, Solicitation
from parcours.matching.tests.matching_factories import open_search, pool_gp, reload

pytestmark = pytest.mark.django_db


def test_open_wave_accept_first_wins(org_a, claire):
    first = pool_gp(org_a, latitude=45.70, longitude=4.89)
    second = pool_gp(org_a, latitude=45.71, longitude=4.90)
    search = open_search(org_a, by=claire)
    sent = services.wave_send(search=search, by=claire)
    assert {s.professional_id for s in sent} == {first.pk, second.pk}
    assert len(mail.outbox) == 2
    winner, loser = sent
    assert services.solicitation_accept(solicitation=winner) is True
    assert services.solicitation_accept(solicitation=loser) is False
    assert reload(search).status == MTSearch.Status.ACCEPTED
    assert reload(loser).status == Solicitation.Status.WITHDRAWN
