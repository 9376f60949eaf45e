"""A small directory around Vénissieux for the annuaire's tests (views and browser journeys).

Masseurs-kinésithérapeutes in and around Vénissieux (and one in Strasbourg, far away),
GPs with the availability organisation A collected (now, within six months, no, expired;
one declared to organisation B only), a hospital, and one service of each organisation.
Contacts are public or private as named, so a test can tell which one leaked.
"""

import datetime
from dataclasses import dataclass, field

from parcours.directory.models import Availability, PracticeSituation
from parcours.directory.search import search_index_rebuild

from .directory_factories import (
    AvailabilityFactory,
    CommuneFactory,
    PracticeSituationFactory,
    ProfessionalFactory,
    ServiceFactory,
    StructureFactory,
)

COMMUNES = [  # insee, name, postal codes, latitude, longitude, kind, parent
    ("69123", "Lyon", ["69001", "69008"], 45.758, 4.835, "COM", None),
    ("69259", "Vénissieux", ["69200"], 45.6975, 4.8867, "COM", None),
    ("69199", "Saint-Fons", ["69190"], 45.7086, 4.8533, "COM", None),
    ("69388", "Lyon 8e Arrondissement", ["69008"], 45.7342, 4.8694, "ARM", "69123"),
    ("69029", "Bron", ["69500"], 45.7386, 4.9131, "COM", None),
    ("67482", "Strasbourg", ["67000"], 48.5734, 7.7521, "COM", None),
    ("93066", "Saint-Denis", ["93200"], 48.9356, 2.3539, "COM", None),
    ("97411", "Saint-Denis", ["97400"], -20.8823, 55.4504, "COM", None),
    ("01001", "L'Abergement-Clémenciat", ["01400"], None, None, "COM", None),
]
KINE = ("70", "Masseur-Kinésithérapeute")
GP = ("10", "Médecin")
TODAY = datetime.date.today


@dataclass
class Corpus:
    communes: dict = field(default_factory=dict)
    people: dict = field(default_factory=dict)  # last name -> PracticeSituation
    structure: object = None
    service_a: object = None
    service_b: object = None


def _commune(insee, name, postal_codes, lat, lon, kind, parent):
    return CommuneFactory(
        insee=insee,
        name=name,
        postal_codes=postal_codes,
        departement=insee[:2] if not insee.startswith("97") else insee[:3],
        latitude=lat,
        longitude=lon,
        kind=kind,
        parent_id=parent,
    )


def _situation(corpus, first, last, profession, insee, offset=0.0, languages=("fr",), **extra):
    commune = corpus.communes[insee]
    person = ProfessionalFactory(
        first_name=first,
        last_name=last,
        profession_code=profession[0],
        profession=profession[1],
        savoir_faire_code="SM54" if profession == GP else "",
        savoir_faire="Médecine générale (SM)" if profession == GP else "",
        languages=list(languages),
    )
    situation = PracticeSituationFactory(
        professional=person,
        commune=commune,
        postal_code=commune.postal_codes[0],
        latitude=commune.latitude + offset,
        longitude=commune.longitude + offset,
        structure=None,
        **extra,
    )
    corpus.people[last] = situation
    return situation


def _declare(organisation, situation, accepting, expires_in_days=90, capacity=None):
    return AvailabilityFactory(
        organisation=organisation,
        professional=situation.professional,
        accepting=accepting,
        capacity=capacity,
        declared_on=TODAY() - datetime.timedelta(days=10),
        expires_on=TODAY() + datetime.timedelta(days=expires_in_days),
    )


def annuaire_corpus(org_a, org_b) -> Corpus:
    corpus = Corpus()
    for row in COMMUNES:
        corpus.communes[row[0]] = _commune(*row)
    mode = PracticeSituation.Mode
    # Masseurs-kinésithérapeutes: two in Vénissieux, one each in Saint-Fons, Lyon 8e, Bron,
    # Strasbourg. Chloé Martin's phone is public, her e-mail private; the reverse for Lefèvre.
    _situation(
        corpus, "Chloé", "Martin", KINE, "69259", 0.001, ("fr", "en"),
        phone="04 72 11 11 11", phone_public=True,
        email="chloe.martin.prive@example.org", email_public=False,
    )  # fmt: skip
    _situation(corpus, "Rémi", "Garnier", KINE, "69259", -0.002)
    _situation(
        corpus, "Noël", "Lefèvre", KINE, "69199",
        phone="04 72 22 22 22", phone_public=False,
        email="cabinet.lefevre@example.org", email_public=True,
    )  # fmt: skip
    _situation(corpus, "Paul", "Girard", KINE, "69388", mode=mode.SALARIED)
    _situation(corpus, "Marc", "Roux", KINE, "69029")
    _situation(corpus, "Jeanne", "Weber", KINE, "67482")
    # GPs and what they declared to organisation A (or B).
    durand = _situation(corpus, "Amélie", "Durand", GP, "69259", 0.003, ("fr", "ar"))
    dupont = _situation(corpus, "Éric", "Dupont", GP, "69199", 0.001)
    bernard = _situation(corpus, "Hélène", "Bernard", GP, "69259", -0.003)
    petit = _situation(corpus, "Louis", "Petit", GP, "69388", 0.002)
    moreau = _situation(corpus, "Sophie", "Moreau", GP, "69029", 0.002)
    _situation(corpus, "Julien", "Laurent", GP, "69259", 0.004)
    _declare(org_a, durand, Availability.Accepting.NOW, capacity=15)
    _declare(org_a, dupont, Availability.Accepting.WITHIN_SIX_MONTHS)
    _declare(org_a, bernard, Availability.Accepting.NO)
    _declare(org_a, petit, Availability.Accepting.NOW, expires_in_days=-1)
    _declare(org_b, moreau, Availability.Accepting.NOW)
    venissieux = corpus.communes["69259"]
    corpus.structure = StructureFactory(
        name="Centre hospitalier de Vénissieux",
        category_code="355",
        category="Centre Hospitalier (C.H.)",
        commune=venissieux,
        phone="04 72 99 99 99",
        phone_public=False,
        email="accueil.ch@example.org",
        email_public=True,
        latitude=venissieux.latitude - 0.004,
        longitude=venissieux.longitude + 0.004,
    )
    corpus.service_a = ServiceFactory(
        organisation=org_a,
        name="CCAS de Vénissieux",
        category="CCAS",
        commune=venissieux,
        phone="04 72 33 33 33",
        phone_public=False,
        latitude=venissieux.latitude + 0.005,
        longitude=venissieux.longitude,
    )
    corpus.service_b = ServiceFactory(
        organisation=org_b,
        name="CCAS secret de B",
        category="CCAS",
        commune=venissieux,
        latitude=venissieux.latitude - 0.005,
        longitude=venissieux.longitude,
    )
    search_index_rebuild()
    return corpus
