"""factory_boy factories of the directory: professionals, structures, services, availability.

Defaults describe a plausible territory around Vénissieux (69); contact points are private
unless a test says otherwise, as in real data. Scoped models (Service, Availability) are
created with scopes disabled: set-up is not the code under test.
"""

import datetime

import factory
from django_scopes import scopes_disabled

from parcours.accounts.tests.factories import OrganisationFactory
from parcours.directory.models import (
    Availability,
    Circle,
    LocationPrecision,
    PracticeSituation,
    Professional,
    Service,
    Source,
    Structure,
)
from parcours.territory.models import Commune


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commune
        django_get_or_create = ("insee",)

    insee = "69259"
    name = "Vénissieux"
    postal_codes = factory.LazyFunction(lambda: ["69200"])
    departement = "69"
    region = "84"
    latitude = 45.6975
    longitude = 4.8867


class ProfessionalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Professional

    rpps = factory.Sequence(lambda n: f"10{n:09d}")
    civility_code = "DR"
    civility = "Docteur"
    last_name = factory.Faker("last_name", locale="fr_FR")
    first_name = factory.Faker("first_name", locale="fr_FR")
    sex = Professional.Sex.FEMALE
    profession_code = "10"
    profession = "Médecin"
    savoir_faire_code = "SM54"
    savoir_faire = "Médecine générale (SM)"
    languages = factory.LazyFunction(lambda: ["fr"])
    source = Source.RPPS
    checked_on = factory.LazyFunction(datetime.date.today)


class LocatedFactory(factory.django.DjangoModelFactory):
    """Address and coordinates in Vénissieux (phone and e-mail: each factory, private)."""

    class Meta:
        abstract = True

    address = factory.Sequence(lambda n: f"{n + 1} avenue Jean Jaurès")
    postal_code = "69200"
    commune = factory.SubFactory(CommuneFactory)
    latitude = 45.6975
    longitude = 4.8867
    location_precision = LocationPrecision.ADDRESS


def _phone(prefix: str):
    """Distinct numbers per model, so a test can tell whose number leaked."""
    return factory.Sequence(lambda n: f"04 72 {prefix} {n // 100 % 100:02d} {n % 100:02d}")


class StructureFactory(LocatedFactory):
    class Meta:
        model = Structure

    finess_et = factory.Sequence(lambda n: f"69{n:07d}")
    finess_ej = factory.Sequence(lambda n: f"69{n + 5_000_000:07d}")
    name = factory.Sequence(lambda n: f"Maison de santé {n}")
    phone = _phone("10")
    email = factory.Sequence(lambda n: f"structure{n}@example.org")
    category_code = "603"
    category = "Maison de santé (L.6223-3)"
    source = Source.FINESS
    checked_on = factory.LazyFunction(datetime.date.today)


class PracticeSituationFactory(LocatedFactory):
    class Meta:
        model = PracticeSituation

    professional = factory.SubFactory(ProfessionalFactory)
    structure = factory.SubFactory(StructureFactory)
    source_key = factory.Sequence(lambda n: f"situation-{n}")
    mode = PracticeSituation.Mode.LIBERAL
    place_name = factory.Sequence(lambda n: f"Cabinet médical {n}")
    phone = _phone("20")
    email = factory.Sequence(lambda n: f"cabinet{n}@example.org")
    source = Source.RPPS
    checked_on = factory.LazyFunction(datetime.date.today)


class ScopedFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with scopes_disabled():
            return super()._create(model_class, *args, **kwargs)


class ServiceFactory(ScopedFactory, LocatedFactory):
    class Meta:
        model = Service
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    structure = None
    name = factory.Sequence(lambda n: f"Permanence d'accès aux droits {n}")
    phone = _phone("30")
    email = factory.Sequence(lambda n: f"service{n}@example.org")
    description = "Aide aux démarches : CSS, AME, droits sociaux."
    category = "Accès aux droits"
    circle = Circle.RIGHTS
    thematiques = factory.LazyFunction(
        lambda: ["difficultes-administratives-ou-juridiques--accompagnement-aux-demarches"]
    )
    public_served = factory.LazyFunction(lambda: ["tous-publics"])
    eligibility = "Habitants de Vénissieux."
    languages = factory.LazyFunction(lambda: ["fr", "ar"])
    fees = "Gratuit"
    opening_hours = factory.LazyFunction(
        lambda: [
            {"day": 1, "opens": "09:00", "closes": "12:00"},
            {"day": 3, "opens": "14:00", "closes": "17:30"},
        ]
    )
    accessibility = "Accès de plain-pied."
    website = "https://www.example.org/permanence"
    source = Source.MANUAL
    checked_on = factory.LazyFunction(datetime.date.today)

    @factory.post_generation
    def communes_served(self, create, extracted, **kwargs):
        if create and extracted:
            self.communes_served.set(extracted)


class AvailabilityFactory(ScopedFactory):
    class Meta:
        model = Availability

    organisation = factory.SubFactory(OrganisationFactory)
    professional = factory.SubFactory(ProfessionalFactory)
    accepting = Availability.Accepting.NOW
    capacity = 20
    age_groups = factory.LazyFunction(lambda: ["adults"])
    declared_on = factory.LazyFunction(datetime.date.today)
    expires_on = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=90))
    source = Source.SURVEY
