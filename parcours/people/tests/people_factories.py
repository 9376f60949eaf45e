"""factory_boy factories of people and their consents.

Persons and consents are scoped models: created with scopes disabled (set-up is not the
code under test). The match key is computed as the service does, so duplicate detection
sees factory-made people. Other apps' tests import PersonFactory and ConsentFactory.
"""

import datetime

import factory
from django.utils import timezone

from parcours.accounts.tests.factories import OrganisationFactory
from parcours.directory.tests.directory_factories import ScopedFactory
from parcours.people.models import Consent, Person, Sex
from parcours.people.services import person_match_key


class PersonFactory(ScopedFactory):
    class Meta:
        model = Person

    organisation = factory.SubFactory(OrganisationFactory)
    birth_name = factory.Faker("last_name", locale="fr_FR")
    first_names = factory.Faker("first_name_female", locale="fr_FR")
    birth_date = datetime.date(1956, 3, 14)
    sex = Sex.FEMALE
    birth_place_code = "69259"
    phone = factory.Sequence(
        lambda n: f"06 12 {n // 10000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d}"
    )
    address = factory.Sequence(lambda n: f"{n + 1} rue Paul Bert")
    postal_code = "69200"
    languages = factory.LazyFunction(lambda: ["fr"])
    match_key = factory.LazyAttribute(
        lambda person: person_match_key(
            birth_name=person.birth_name,
            first_names=person.first_names,
            birth_date=person.birth_date,
            sex=person.sex,
        )
    )


class ConsentFactory(ScopedFactory):
    """A team-scope coordination consent on every category, collected orally."""

    class Meta:
        model = Consent

    person = factory.SubFactory(PersonFactory)
    organisation = factory.LazyAttribute(lambda consent: consent.person.organisation)
    purpose = Consent.Purpose.COORDINATION
    scope = Consent.Scope.TEAM
    categories = factory.LazyFunction(lambda: list(Consent.Category.values))
    method = Consent.Method.ORAL
    collected_at = factory.LazyFunction(timezone.now)
    collected_by = None
    collected_by_name = ""
