"""Set-up helpers of the médecin traitant search tests.

    gp = pool_gp(org_a, latitude=45.70, longitude=4.89, email="dr.a@example.org")
    person = person_without_mt(org_a)              # commune Vénissieux, consent recorded
    search = open_search(org_a, person, by=claire) # through the service, as the views do

GPs are created with an availability declaration (accepting now, 5 places) and one
practice situation at the given point; scoped rows are created with scopes disabled.
"""

import datetime

from django_scopes import scopes_disabled

from parcours.directory.models import Availability
from parcours.directory.tests.directory_factories import (
    AvailabilityFactory,
    CommuneFactory,
    PracticeSituationFactory,
    ProfessionalFactory,
)
from parcours.matching import services
from parcours.people.tests.people_factories import ConsentFactory, PersonFactory

VENISSIEUX = (45.6975, 4.8867)


def pool_gp(
    organisation,
    *,
    latitude: float = VENISSIEUX[0],
    longitude: float = VENISSIEUX[1],
    email: str | None = None,
    phone: str = "04 72 00 00 00",
    accepting: str = Availability.Accepting.NOW,
    capacity: int | None = 5,
    home_visits: bool = False,
    age_groups=("adults", "seniors"),
    expires_on: datetime.date | None = None,
    **professional,
):
    """A GP of the pool: professional + practice situation + availability."""
    gp = ProfessionalFactory(**professional)
    PracticeSituationFactory(
        professional=gp,
        latitude=latitude,
        longitude=longitude,
        email=email if email is not None else f"dr{gp.rpps}@example.org",
        phone=phone,
        commune=CommuneFactory(),
    )
    AvailabilityFactory(
        organisation=organisation,
        professional=gp,
        accepting=accepting,
        capacity=capacity,
        home_visits=home_visits,
        age_groups=list(age_groups),
        expires_on=expires_on or datetime.date.today() + datetime.timedelta(days=90),
    )
    return gp


def person_without_mt(organisation, *, consent: bool = True, **fields):
    fields.setdefault("commune", CommuneFactory())
    person = PersonFactory(organisation=organisation, medecin_traitant_status="none", **fields)
    if consent:
        ConsentFactory(person=person)
    return person


def open_search(organisation, person=None, *, by=None, saisine=None, **data):
    person = person or person_without_mt(organisation)
    data.setdefault("max_distance_km", 10)
    return services.search_open(
        organisation=organisation, person=person, by=by, data=data, saisine=saisine
    )


def reload(obj):
    with scopes_disabled():
        obj.refresh_from_db()
    return obj
