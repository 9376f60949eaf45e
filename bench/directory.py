"""Directory benchmark (issue 3, point 14): imports, search and map at national scale.

    .venv/bin/python bench/directory.py [--rows N] [--finess N] [--database sqlite|postgres|both]

What it does, for each engine, on a throwaway database (a temporary SQLite file, or the
PostgreSQL database ``parcours_bench_run`` on 127.0.0.1:5432, user postgres, created and
dropped here):

1. migrates, loads the communes (``communes_import``, the service behind ``import_communes``)
   with generated centres (``--centres`` takes a real centres CSV instead);
2. generates (not timed) a FINESS etalab extraction of ``--finess`` establishments
   (``structureet`` then ``geolocalisation`` lines, Lambert-93 and overseas UTM sources,
   Latin-1) and an RPPS "PS_LibreAcces_Personne_activite" extraction of ``--rows`` rows
   (56 columns, the official header, pipe-separated, UTF-8) with professions, savoir-faire,
   modes, communes weighted by population, cabinets and establishments shared by several
   professionals;
3. imports them through the real importers (``finess_import`` then ``rpps_import``, so RPPS
   rows link to the FINESS establishments), then rebuilds the search index;
4. runs a fixed, seeded mix of searches (words, prefixes, typos, facets, near a commune with
   a radius, pagination) through ``directory_search`` and ``search_items`` (what the JSON
   API calls), and of map viewports through ``directory_map``, after a short warm-up;
5. prints import rows/s, search p50/p95/p99 ms, map p50/p95/p99 ms, SQL queries per search,
   and the database size.

The generated files are written once and shared by both engines; each engine runs in a
child process of its own (Django's settings are read once per process).
"""

import argparse
import bisect
import csv
import gzip
import hashlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
POSTGRES_DATABASE = "parcours_bench_run"
TARGETS = {"import_rows_per_s": 20_000, "search_p95_ms": 30.0, "map_p95_ms": 50.0}

# --- Reference tables of the generator ---------------------------------------------------------

# Approximate centre of each département (latitude, longitude) and the half-spread, in
# degrees, of its communes around it. Communes get a centre drawn from these (deterministic
# per INSEE code): the benchmark needs a realistic density, not real positions.
DEPARTEMENTS = """
01 46.10 5.35 .30 .40|02 49.55 3.55 .40 .35|03 46.40 3.20 .30 .45|04 44.10 6.25 .35 .35
05 44.65 6.30 .30 .35|06 43.90 7.10 .20 .30|07 44.75 4.45 .35 .25|08 49.60 4.65 .35 .30
09 42.95 1.50 .20 .40|10 48.30 4.15 .30 .40|11 43.10 2.40 .25 .45|12 44.30 2.65 .35 .45
13 43.50 5.10 .15 .35|14 49.10 -0.35 .20 .45|15 45.05 2.65 .30 .30|16 45.70 0.20 .35 .30
17 45.75 -0.70 .40 .30|18 47.05 2.50 .45 .30|19 45.35 1.85 .25 .40|21 47.40 4.75 .40 .45
22 48.45 -2.85 .20 .55|23 46.10 2.00 .25 .30|24 45.10 0.75 .40 .50|25 47.15 6.35 .30 .40
26 44.70 5.15 .45 .30|27 49.10 1.00 .30 .45|28 48.40 1.35 .35 .35|29 48.25 -4.05 .30 .40
2A 41.85 8.95 .30 .20|2B 42.40 9.20 .30 .20|30 43.95 4.20 .30 .45|31 43.35 1.20 .45 .40
32 43.70 0.45 .30 .45|33 44.80 -0.60 .45 .45|34 43.60 3.40 .25 .45|35 48.15 -1.65 .35 .40
36 46.80 1.60 .35 .40|37 47.25 0.70 .30 .40|38 45.25 5.55 .35 .40|39 46.70 5.70 .40 .25
40 43.95 -0.80 .40 .45|41 47.60 1.40 .30 .50|42 45.70 4.15 .40 .25|43 45.10 3.80 .25 .40
44 47.35 -1.70 .25 .45|45 47.90 2.35 .25 .55|46 44.60 1.60 .30 .40|47 44.35 0.45 .30 .45
48 44.50 3.50 .25 .35|49 47.40 -0.55 .25 .55|50 49.10 -1.30 .40 .20|51 48.95 4.25 .35 .50
52 48.10 5.20 .40 .30|53 48.15 -0.65 .30 .30|54 48.80 6.15 .40 .35|55 49.00 5.40 .45 .30
56 47.85 -2.80 .25 .55|57 49.05 6.65 .25 .60|58 47.10 3.50 .35 .40|59 50.45 3.20 .30 .60
60 49.40 2.45 .25 .55|61 48.60 0.10 .25 .60|62 50.50 2.30 .25 .60|63 45.70 3.15 .35 .50
64 43.25 -0.75 .25 .60|65 43.05 0.15 .30 .25|66 42.60 2.50 .15 .45|67 48.65 7.55 .40 .30
68 47.85 7.25 .35 .20|69 45.85 4.65 .25 .20|70 47.65 6.10 .30 .45|71 46.65 4.55 .35 .60
72 48.00 0.20 .30 .45|73 45.50 6.45 .25 .50|74 46.05 6.40 .25 .35|75 48.86 2.34 .03 .05
76 49.65 1.05 .25 .60|77 48.60 2.95 .40 .45|78 48.80 1.85 .20 .30|79 46.55 -0.30 .45 .25
80 49.95 2.30 .20 .55|81 43.80 2.15 .30 .40|82 44.10 1.30 .20 .35|83 43.45 6.20 .25 .45
84 44.00 5.15 .20 .35|85 46.65 -1.30 .30 .50|86 46.55 0.45 .40 .35|87 45.90 1.25 .35 .35
88 48.20 6.40 .25 .55|89 47.85 3.55 .35 .50|90 47.65 6.90 .08 .08|91 48.50 2.25 .15 .20
92 48.85 2.25 .05 .05|93 48.91 2.48 .05 .07|94 48.78 2.47 .05 .07|95 49.08 2.15 .10 .30
971 16.20 -61.55 .15 .20|972 14.65 -61.00 .12 .10|973 4.60 -52.80 .60 .70
974 -21.13 55.53 .15 .20|975 46.90 -56.30 .03 .03|976 -12.82 45.15 .08 .06
977 17.90 -62.83 .01 .01|978 18.07 -63.07 .01 .01
"""
CITY_CENTRES = {"75056": (48.857, 2.347, 0.03), "69123": (45.760, 4.840, 0.02)}
CITY_CENTRES["13055"] = (43.296, 5.381, 0.05)
# FINESS codes the overseas départements with a letter (specification).
FINESS_DEPARTEMENTS = {"971": "9A", "972": "9B", "973": "9C", "974": "9D", "975": "9E"}
FINESS_DEPARTEMENTS["976"] = "9F"
OVERSEAS_SOURCES = {  # département: (EPSG, how the etalab file names it)
    "971": (5490, "EPSG:5490 RGAF09/UTM Zone 20N (Antilles)"),
    "972": (5490, "EPSG:5490 RGAF09/UTM Zone 20N (Antilles)"),
    "973": (2972, "EPSG:2972 RGFG95/UTM Zone 22N (Guyane)"),
    "974": (2975, "EPSG:2975 RGR92/UTM Zone 40S (Réunion)"),
    "975": (4467, "EPSG:4467 RGSPM06/UTM Zone 21N (Saint-Pierre-et-Miquelon)"),
    "976": (4471, "EPSG:4471 RGM04/UTM Zone 38S (Mayotte)"),
    "977": (5490, "EPSG:5490 RGAF09/UTM Zone 20N (Antilles)"),
    "978": (5490, "EPSG:5490 RGAF09/UTM Zone 20N (Antilles)"),
}
# FINESS still files Saint-Barthélemy and Saint-Martin under Guadeloupe, with their former
# commune codes (97123, 97127).
FINESS_COMMUNES = {"97701": ("9A", "123"), "97801": ("9A", "127")}
LAMBERT_SOURCES = (
    "1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93",
    "1,ATLASANTE,100,IGN,BD_ADRESSE,V3.0,EPSG:2154 RGF93 / Lambert-93 (Métropole)",
    "2,ATLASANTE,100,IGN,BD_ADRESSE,V3.0,EPSG:2154 RGF93 / Lambert-93 (Métropole)",
)
SOURCE_PREFIX = "1,ATLASANTE,100,IGN,BD_ADRESSE,V3.0,"

# code, label, share of the rows, share of liberal practice, savoir-faire (code, label, weight)
PROFESSIONS = (
    ("60", "Infirmier", 29, 0.25, ()),
    (
        "10",
        "Médecin",
        24,
        0.55,
        (
            ("SM54", "Médecine générale", 45),
            ("SM04", "Cardiologie et Maladies vasculaires", 4),
            ("SM02", "Anesthésie-réanimation", 5),
            ("SM38", "Pédiatrie", 4),
            ("SM42", "Psychiatrie", 6),
            ("SM15", "Dermatologie et Vénéréologie", 2),
            ("SM20", "Gynécologie-obstétrique", 3),
            ("SM44", "Radio-diagnostic", 4),
            ("SM32", "Ophtalmologie", 3),
            ("SM18", "Gériatrie", 2),
            ("SM59", "Médecine d'urgence", 3),
            ("SM08", "Chirurgie orthopédique et Traumatologie", 2),
            ("SM24", "Gastro-entérologie et Hépatologie", 2),
            ("SM40", "Pneumologie", 2),
            ("SM33", "Oto-rhino-laryngologie", 1),
            ("SM39", "Pédopsychiatrie", 1),
            ("SM03", "Biologie médicale", 2),
            ("SM27", "Médecine interne", 1),
            ("", "", 8),
        ),
    ),
    ("70", "Masseur-Kinésithérapeute", 9, 0.85, ()),
    ("21", "Pharmacien", 7, 0.40, ()),
    (
        "40",
        "Chirurgien-Dentiste",
        4,
        0.90,
        (("", "", 85), ("SCD01", "Orthopédie dento-faciale", 10), ("SCD02", "Chirurgie orale", 5)),
    ),
    ("50", "Sage-Femme", 3, 0.30, ()),
    ("91", "Orthophoniste", 2.5, 0.85, ()),
    ("93", "Psychologue", 5, 0.35, ()),
    ("80", "Pédicure-Podologue", 1.5, 0.95, ()),
    ("28", "Opticien-Lunetier", 3, 0.05, ()),
    ("26", "Audioprothésiste", 0.6, 0.10, ()),
    ("92", "Orthoptiste", 0.6, 0.60, ()),
    ("94", "Ergothérapeute", 1.5, 0.15, ()),
    ("95", "Diététicien", 1.2, 0.45, ()),
    ("96", "Psychomotricien", 1.2, 0.25, ()),
    ("98", "Manipulateur ERM", 2.5, 0.0, ()),
    ("86", "Technicien de laboratoire médical", 2.0, 0.0, ()),
)
# Where salaried professionals of each profession work (FINESS groups, "company" = a SIRET).
WORKPLACES = {
    "21": (("pharmacy", 70), ("hospital", 20), ("lab", 10)),
    "86": (("lab", 80), ("hospital", 20)),
    "98": (("hospital", 70), ("company", 30)),
    "28": (("company", 100),),
    "26": (("company", 100),),
    "60": (("hospital", 50), ("elderly", 25), ("medico_social", 10), ("health_centre", 15)),
}
DEFAULT_WORKPLACES = (
    ("hospital", 55),
    ("elderly", 10),
    ("medico_social", 15),
    ("health_centre", 15),
    ("company", 5),
)
# FINESS categories: code, label, aggregate code, aggregate label, group, share.
CATEGORIES = (
    ("355", "Centre Hospitalier (C.H.)", "1102", "Centres Hospitaliers", "hospital", 2.5),
    ("101", "Centre Hospitalier Régional (C.H.R.)", "1101", "Centres Hospitaliers Régionaux",
     "hospital", 0.4),
    ("365", "Etablissement de Soins Pluridisciplinaire", "1106",
     "Autres Etablissements Relevant de la Loi Hospitalière", "hospital", 1.0),
    ("128", "Etablissement de Soins Chirurgicaux", "1106",
     "Autres Etablissements Relevant de la Loi Hospitalière", "hospital", 0.6),
    ("109", "Etablissement de santé privé autorisé en SSR", "1106",
     "Autres Etablissements Relevant de la Loi Hospitalière", "hospital", 1.0),
    ("292", "Centre Hospitalier Spécialisé lutte Maladies Mentales", "1102",
     "Centres Hospitaliers", "hospital", 0.4),
    ("500", "Etablissement d'hébergement pour personnes âgées dépendantes", "4401",
     "Etablissements et Services pour Personnes Agées", "elderly", 10),
    ("202", "Résidences autonomie", "4401", "Etablissements et Services pour Personnes Agées",
     "elderly", 3),
    ("354", "Service de Soins Infirmiers A Domicile (S.S.I.A.D)", "4401",
     "Etablissements et Services pour Personnes Agées", "elderly", 2.5),
    ("620", "Pharmacie d'Officine", "3101", "Pharmacies d'Officine", "pharmacy", 21),
    ("611", "Laboratoire de Biologie Médicale", "2205", "Laboratoires d'Analyses", "lab", 4),
    ("124", "Centre de Santé", "2202", "Centres de Santé", "health_centre", 3),
    ("603", "Maison de santé (L.6223-3 du CSP)", "2204", "Maisons de Santé", "health_centre", 2),
    ("156", "Centre Médico-Psychologique (C.M.P.)", "2206", "Autres Etablissements de Soins",
     "health_centre", 3.5),
    ("223", "Protection Maternelle et Infantile (P.M.I.)", "2206",
     "Autres Etablissements de Soins", "health_centre", 4),
    ("228", "Centre de Planification ou d'Education Familiale", "2206",
     "Autres Etablissements de Soins", "health_centre", 1.5),
    ("183", "Institut Médico-Educatif (I.M.E.)", "4301",
     "Etablissements et Services pour l'Enfance et la Jeunesse Handicapée", "medico_social", 2),
    ("182", "Service d'Éducation Spéciale et de Soins à Domicile", "4301",
     "Etablissements et Services pour l'Enfance et la Jeunesse Handicapée", "medico_social", 2),
    ("255", "Maison d'Accueil Spécialisée (M.A.S.)", "4302",
     "Etablissements et Services pour Adultes Handicapés", "medico_social", 1),
    ("437", "Foyer d'Accueil Médicalisé pour Adultes Handicapés (F.A.M.)", "4302",
     "Etablissements et Services pour Adultes Handicapés", "medico_social", 1.5),
    ("246", "Etablissement et Service d'Aide par le Travail (E.S.A.T.)", "4302",
     "Etablissements et Services pour Adultes Handicapés", "medico_social", 2.5),
    ("445", "Service d'Accompagnement à la Vie Sociale (S.A.V.S.)", "4302",
     "Etablissements et Services pour Adultes Handicapés", "medico_social", 2),
    ("214", "Centre Hébergement & Réinsertion Sociale (C.H.R.S.)", "4601",
     "Etablissements et Services Sociaux d'Accueil, Hébergement, Assistance et Réadaptation",
     "social", 2.5),
    ("219", "Autre Centre d'Accueil", "4601",
     "Etablissements et Services Sociaux d'Accueil, Hébergement, Assistance et Réadaptation",
     "social", 2),
    ("460", "Service d'Aide et d'Accompagnement à Domicile (S.A.A.D)", "4403",
     "Services d'aide à domicile", "social", 8),
    ("177", "Maison d'Enfants à Caractère Social", "4501",
     "Etablissements de l'Aide Sociale à l'Enfance", "social", 2),
    ("165", "Foyer de Jeunes Travailleurs (résidence sociale ou non)", "4601",
     "Etablissements et Services Sociaux d'Accueil, Hébergement, Assistance et Réadaptation",
     "social", 1.5),
    ("412", "Appartement de Coordination Thérapeutique (A.C.T.)", "4602",
     "Etablissements pour Personnes en difficultés spécifiques", "social", 0.5),
)  # fmt: skip
NAME_PATTERNS = {
    "355": ("CH {commune}", "CENTRE HOSPITALIER DE {commune}"),
    "101": ("CHU {commune}", "CENTRE HOSPITALIER UNIVERSITAIRE DE {commune}"),
    "365": ("CLINIQUE {saint}", "CLINIQUE {saint} {commune}"),
    "128": ("CLINIQUE DU {place}", "CLINIQUE CHIRURGICALE DU {place}"),
    "109": ("CENTRE DE READAPTATION {place}", "CENTRE DE SOINS DE SUITE {place} {commune}"),
    "292": ("CHS {saint}", "CENTRE HOSPITALIER SPECIALISE {saint}"),
    "500": ("EHPAD {garden}", "EHPAD RESIDENCE {garden} {commune}"),
    "202": ("RESIDENCE AUTONOMIE {garden}", "RESIDENCE AUTONOMIE {garden}"),
    "354": ("SSIAD {commune}", "SERVICE DE SOINS INFIRMIERS A DOMICILE {commune}"),
    "620": ("PHARMACIE {pharmacy}", "SELARL PHARMACIE {pharmacy}"),
    "611": ("LBM {lab} {commune}", "LABORATOIRE DE BIOLOGIE MEDICALE {lab}"),
    "124": ("CENTRE DE SANTE {commune}", "CENTRE DE SANTE MUNICIPAL {commune}"),
    "603": ("MSP {commune}", "MAISON DE SANTE PLURIPROFESSIONNELLE {commune}"),
    "156": ("CMP {commune}", "CENTRE MEDICO PSYCHOLOGIQUE {commune}"),
    "223": ("PMI {commune}", "CENTRE DE PROTECTION MATERNELLE ET INFANTILE {commune}"),
    "228": ("CPEF {commune}", "CENTRE DE PLANIFICATION {commune}"),
    "183": ("IME {garden}", "INSTITUT MEDICO EDUCATIF {garden}"),
    "182": ("SESSAD {commune}", "SESSAD {garden} {commune}"),
    "255": ("MAS {garden}", "MAISON D ACCUEIL SPECIALISEE {garden}"),
    "437": ("FAM {garden}", "FOYER D ACCUEIL MEDICALISE {garden}"),
    "246": ("ESAT {garden}", "ESAT {garden} {commune}"),
    "445": ("SAVS {commune}", "SERVICE D ACCOMPAGNEMENT A LA VIE SOCIALE {commune}"),
    "214": ("CHRS {saint}", "CENTRE D HEBERGEMENT ET DE REINSERTION SOCIALE {saint}"),
    "219": ("ACCUEIL DE JOUR {commune}", "CENTRE D ACCUEIL {commune}"),
    "460": ("SAAD {commune}", "SERVICE D AIDE A DOMICILE {commune}"),
    "177": ("MECS {garden}", "MAISON D ENFANTS A CARACTERE SOCIAL {garden}"),
    "165": ("FJT {garden}", "FOYER DE JEUNES TRAVAILLEURS {garden}"),
    "412": ("ACT {commune}", "APPARTEMENTS DE COORDINATION THERAPEUTIQUE {commune}"),
}
SAINTS = (
    "SAINT JOSEPH",
    "SAINTE ANNE",
    "SAINT MARTIN",
    "NOTRE DAME",
    "SAINT JEAN",
    "SAINTE MARIE",
    "SAINT LOUIS",
    "LA PROVIDENCE",
    "SAINT VINCENT",
    "DE LA MISERICORDE",
)
PLACES_NAMES = ("PARC", "LAC", "VAL", "MONT", "PONT", "CHATEAU", "BOIS", "MOULIN", "COTEAU")
GARDENS = (
    "LES TILLEULS",
    "LES GLYCINES",
    "LES OLIVIERS",
    "LE CLOS FLEURI",
    "LES CEDRES",
    "LES JARDINS",
    "LA ROSERAIE",
    "LES LILAS",
    "LE VAL DORE",
    "LES PINS",
    "L ARC EN CIEL",
    "LES SOURCES",
    "LA CHENAIE",
    "LES HIRONDELLES",
    "BEL AIR",
    "LES PEUPLIERS",
)
PHARMACIES = (
    "DU CENTRE",
    "DE LA GARE",
    "DE LA MAIRIE",
    "DU MARCHE",
    "DE L EGLISE",
    "DES HALLES",
    "DU PARC",
    "CENTRALE",
    "DE LA POSTE",
    "DU PORT",
)
LABS = ("BIOGROUP", "CERBALLIANCE", "BIOLAB", "EUROFINS BIOMNIS", "INOVIE", "SYNLAB", "LABAZUR")
STREET_TYPES = (
    ("R", "Rue", 40),
    ("AV", "Avenue", 20),
    ("BD", "Boulevard", 8),
    ("PL", "Place", 6),
    ("CHE", "Chemin", 8),
    ("RTE", "Route", 8),
    ("ALL", "Allée", 5),
    ("IMP", "Impasse", 3),
    ("QUAI", "Quai", 2),
)
STREETS = (
    "DE LA REPUBLIQUE",
    "JEAN JAURES",
    "VICTOR HUGO",
    "DU GENERAL DE GAULLE",
    "PASTEUR",
    "DE LA GARE",
    "DE PARIS",
    "DES ECOLES",
    "DU MARECHAL FOCH",
    "GAMBETTA",
    "DE LA PAIX",
    "JULES FERRY",
    "DU 8 MAI 1945",
    "DE LA LIBERATION",
    "DES TILLEULS",
    "DU CHATEAU",
    "NATIONALE",
    "DE L EGLISE",
    "SAINT MARTIN",
    "DES LILAS",
    "DU MOULIN",
    "CARNOT",
    "DE VERDUN",
    "DE LA MAIRIE",
    "ANATOLE FRANCE",
    "JEAN MOULIN",
    "DU STADE",
    "EMILE ZOLA",
    "DES ROSES",
    "PIERRE CURIE",
    "DU COMMERCE",
    "DE BRETAGNE",
)
COMPANIES = {
    "28": ("OPTIQUE", "OPTIC", "KRYS", "ALAIN AFFLELOU", "OPTICAL CENTER"),
    "26": ("AUDITION", "AMPLIFON", "AUDIKA", "ENTENDRE"),
    "98": ("CENTRE DE RADIOLOGIE", "IMAGERIE MEDICALE", "CABINET DE RADIOLOGIE"),
}
CABINETS = {
    "10": "CABINET MEDICAL",
    "60": "CABINET INFIRMIER",
    "70": "CABINET DE KINESITHERAPIE",
    "40": "CABINET DENTAIRE",
    "21": "PHARMACIE",
    "50": "CABINET DE SAGE FEMME",
    "93": "CABINET DE PSYCHOLOGIE",
    "91": "CABINET D ORTHOPHONIE",
}
SYLLABLES = (
    ("Le", "La", "Du", "De", "Ker", "Mar", "Ber", "Char", "Gau", "Bou", "Ro", "Fon", "Mor",
     "Pel", "Vil", "Ri", "Cha", "Bre", "Gui", "Lan", "Tes", "Sal", "Cour", "Mon"),
    ("ti", "bel", "ro", "nar", "van", "ger", "lou", "dor", "mas", "quet", "lan", "bré"),
    ("", "on", "in", "et", "ard", "ot", "ier", "eau", "ac", "ez", "and", "oux", "al", "y"),
)  # fmt: skip


@dataclass(slots=True)
class Place:
    """A commune the generator places things in."""

    insee: str
    name: str
    postal_code: str
    departement: str
    latitude: float
    longitude: float
    population: int


@dataclass(slots=True)
class Establishment:
    """A generated FINESS establishment (also a workplace of RPPS rows)."""

    finess_et: str
    finess_ej: str
    name: str
    long_name: str
    category: tuple
    group: str
    place: Place
    number: str
    street_type: tuple
    street: str
    phone: str
    siret: str
    latitude: float
    longitude: float


# --- Communes ----------------------------------------------------------------------------------


def _unit(text: str) -> float:
    """A deterministic number in [-1, 1) from a text (same on every run and machine)."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**63 - 1.0


def departement_centres() -> dict[str, tuple[float, float, float, float]]:
    centres = {}
    for item in DEPARTEMENTS.replace("\n", "|").split("|"):
        if item.strip():
            code, lat, lon, dlat, dlon = item.split()
            centres[code] = (float(lat), float(lon), float(dlat), float(dlon))
    return centres


def load_places(source: Path | None = None, centres: Path | None = None) -> list[Place]:
    """The communes of the shipped official list (or ``source``), with a centre each.

    Centres come from ``centres`` (a CSV with insee/lat/lng columns, as ``import_communes``
    reads) when given, else are drawn around their département's centre. Cities divided in
    arrondissements are represented by their arrondissements, as in the RPPS file.
    """
    from parcours.territory.services import OFFICIAL_COMMUNES

    records = json.loads(gzip.decompress(Path(source or OFFICIAL_COMMUNES).read_bytes()))
    known = _read_centres(centres) if centres else {}
    by_departement = departement_centres()
    places = []
    for record in records:
        kind, code = record["type"], record["code"]
        if kind not in ("commune-actuelle", "arrondissement-municipal") or code in CITY_CENTRES:
            continue
        departement = record["departement"]
        if departement not in by_departement:
            continue  # overseas collectivities outside the RPPS and FINESS files
        if code in known:
            latitude, longitude = known[code]
        elif kind == "arrondissement-municipal":
            lat, lon, spread = CITY_CENTRES[record["commune"]]
            latitude, longitude = lat + spread * _unit(code), lon + spread * _unit(code + "x")
        else:
            lat, lon, dlat, dlon = by_departement[departement]
            latitude, longitude = lat + dlat * _unit(code), lon + dlon * _unit(code + "x")
        places.append(
            Place(
                insee=code,
                name=record["nom"],
                postal_code=(record.get("codesPostaux") or [""])[0],
                departement=departement,
                latitude=round(latitude, 5),
                longitude=round(longitude, 5),
                population=record.get("population") or 50,
            )
        )
    return places


def _read_centres(path: Path) -> dict[str, tuple[float, float]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        sample = handle.readline()
        handle.seek(0)
        reader = csv.DictReader(handle, delimiter=max(";,\t", key=sample.count))
        result = {}
        for row in reader:
            row = {key.strip().lower(): value for key, value in row.items() if key}
            code = row.get("insee_com") or row.get("code_insee") or row.get("insee") or ""
            lat, lon = row.get("lat") or row.get("latitude"), row.get("lng") or row.get("lon")
            if code and lat and lon:
                result[code.strip().upper()] = (float(lat), float(lon))
        return result


def write_centres(places: list[Place], path: Path) -> Path:
    """The centres CSV given to ``communes_import``, so that the database agrees."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["insee_com", "lat", "lng"])
        writer.writerows((p.insee, p.latitude, p.longitude) for p in places)
    return path


class Picker:
    """Weighted random choice among items, in O(log n)."""

    def __init__(self, items: list, weights: list[float]):
        self.items = items
        self.cumulative = []
        total = 0.0
        for weight in weights:
            total += weight
            self.cumulative.append(total)
        self.total = total

    def __call__(self, rng: random.Random):
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.total)]


def _upper(text: str) -> str:
    """Upper case without accents, as the FINESS and RPPS address cells are written."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()


def _luhn_key(body: str) -> str:
    """The digit that makes ``body + digit`` pass the Luhn check (FINESS numbers)."""
    for key in "0123456789":
        digits = [int(c) for c in body + key]
        total = sum(digits[-1::-2]) + sum(sum(divmod(2 * d, 10)) for d in digits[-2::-2])
        if total % 10 == 0:
            return key
    raise AssertionError(body)


def _siret(rng: random.Random) -> str:
    body = f"{rng.randrange(10**12, 10**13):013d}"
    return body + _luhn_key(body)


def _phone(rng: random.Random) -> str:
    return f"0{rng.randint(1, 5)}{rng.randrange(10**8):08d}"


# --- FINESS ------------------------------------------------------------------------------------


def finess_establishments(count: int, places: list[Place], seed: int = 1) -> list[Establishment]:
    """``count`` establishments spread like the real ones (more where people live)."""
    rng = random.Random(seed)
    where = Picker(places, [p.population**0.85 for p in places])
    category = Picker(list(CATEGORIES), [c[-1] for c in CATEGORIES])
    street_type = Picker(list(STREET_TYPES), [t[2] for t in STREET_TYPES])
    sequence: dict[str, int] = {}
    legal_entities: dict[tuple, str] = {}  # (département, group): an EJ shared by some sites
    result = []
    for _ in range(count):
        place, kind = where(rng), category(rng)
        departement = _finess_commune(place)[0]
        sequence[departement] = number = sequence.get(departement, 0) + 1
        body = f"{departement}{number:06d}"
        finess_et = body + (_luhn_key(body) if body.isdigit() else str(number % 10))
        key = (departement, kind[0])
        if kind[4] in ("hospital", "lab") and key in legal_entities and rng.random() < 0.5:
            finess_ej = legal_entities[key]
        else:
            body = f"{departement}{700000 + number:06d}"
            finess_ej = body + (_luhn_key(body) if body.isdigit() else "0")
            legal_entities[key] = finess_ej
        short, long = NAME_PATTERNS[kind[0]]
        words = {
            "commune": _upper(place.name).replace("'", " "),
            "saint": rng.choice(SAINTS),
            "place": rng.choice(PLACES_NAMES),
            "garden": rng.choice(GARDENS),
            "pharmacy": rng.choice(PHARMACIES),
            "lab": rng.choice(LABS),
        }
        result.append(
            Establishment(
                finess_et=finess_et,
                finess_ej=finess_ej,
                name=short.format(**words)[:60],
                long_name=long.format(**words)[:100],
                category=kind,
                group=kind[4],
                place=place,
                number=str(rng.randint(1, 250)) if rng.random() < 0.85 else "",
                street_type=street_type(rng),
                street=rng.choice(STREETS),
                phone=_phone(rng),
                siret=_siret(rng) if rng.random() < 0.9 else "",
                latitude=place.latitude + rng.uniform(-0.01, 0.01),
                longitude=place.longitude + rng.uniform(-0.01, 0.01),
            )
        )
    return result


def _finess_commune(place: Place) -> tuple[str, str]:
    """FINESS's département and commune codes: 01 + 451; 9A + 101 for 97101."""
    if place.insee in FINESS_COMMUNES:
        return FINESS_COMMUNES[place.insee]
    return FINESS_DEPARTEMENTS.get(place.departement, place.departement), place.insee[2:]


def finess_lines(establishments: list[Establishment], seed: int = 1) -> Iterator[str]:
    """The etalab extraction: first line, ``structureet`` lines, then ``geolocalisation``."""
    from pyproj import Transformer

    rng = random.Random(seed)
    yield f"finess;etalab;{len(establishments)};2024-06-30"
    for e in establishments:
        code, label, agr_code, agr_label = e.category[:4]
        departement, commune = _finess_commune(e.place)
        routing = f"{e.place.postal_code} {_upper(e.place.name)}"
        yield ";".join(
            (
                "structureet",
                e.finess_et,
                e.finess_ej,
                e.name,
                e.long_name,
                "",  # complrs
                "",  # compldistrib
                e.number,
                e.street_type[0],
                e.street,
                "B" if e.number and rng.random() < 0.03 else "",
                "BP 12" if rng.random() < 0.05 else "",
                commune,
                departement,
                "",  # libdepartement
                routing,
                e.phone,
                "",  # telecopie
                code,
                label,
                agr_code,
                agr_label,
                e.siret,
                "8610Z",
                "03",
                "ARS / DG EPS",
                "1",
                "Etab.public de santé",
                "1990-01-01",
                "1990-01-01",
                "2024-05-02",
            )
        )
    transformers: dict[int, Transformer] = {}
    for e in establishments:
        if rng.random() < 0.03:
            continue  # about 3 % of establishments have no coordinates
        epsg, source = OVERSEAS_SOURCES.get(e.place.departement, (2154, ""))
        source = SOURCE_PREFIX + source if source else rng.choice(LAMBERT_SOURCES)
        if epsg not in transformers:
            transformers[epsg] = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
        x, y = transformers[epsg].transform(e.longitude, e.latitude)
        yield f"geolocalisation;{e.finess_et};{x:.1f};{y:.1f};{source};2024-05-02"


# --- RPPS --------------------------------------------------------------------------------------


def _surnames(rng: random.Random) -> Picker:
    """French surnames, common ones often (Zipf-like), a long tail of rarer ones."""
    from faker.providers.person.fr_FR import Provider

    names = list(Provider.last_names)
    names += [a + b + c for a in SYLLABLES[0] for b in SYLLABLES[1] for c in SYLLABLES[2]]
    rng.shuffle(names[len(Provider.last_names) :])
    return Picker(names, [1.0 / (rank + 20) for rank in range(len(names))])


class RppsGenerator:
    """Activity rows of professionals, in the official 56-column layout."""

    def __init__(self, places: list[Place], establishments: list[Establishment], seed: int = 1):
        from faker.providers.person.fr_FR import Provider

        from parcours.directory.rpps import LAYOUT_56

        self.rng = rng = random.Random(seed)
        self.header = LAYOUT_56
        self.at = {name: index for index, name in enumerate(LAYOUT_56)}
        self.home = Picker(places, [p.population for p in places])
        self.by_departement: dict[str, Picker] = {}
        grouped: dict[str, list[Place]] = {}
        for place in places:
            grouped.setdefault(place.departement, []).append(place)
        for departement, items in grouped.items():
            self.by_departement[departement] = Picker(items, [p.population for p in items])
        self.profession = Picker(list(PROFESSIONS), [p[2] for p in PROFESSIONS])
        self.savoir_faire = {
            p[0]: Picker(list(p[4]), [s[2] for s in p[4]]) for p in PROFESSIONS if p[4]
        }
        self.workplace_groups = {
            p[0]: Picker(*map(list, zip(*WORKPLACES.get(p[0], DEFAULT_WORKPLACES), strict=True)))
            for p in PROFESSIONS
        }
        self.surname = _surnames(rng)
        self.female = list(Provider.first_names_female)
        self.male = list(Provider.first_names_male)
        self.street_type = Picker(list(STREET_TYPES), [t[2] for t in STREET_TYPES])
        self.workplaces: dict[tuple[str, str], list[Establishment]] = {}
        self.national: dict[str, list[Establishment]] = {}
        for e in establishments:
            self.workplaces.setdefault((e.place.departement, e.group), []).append(e)
            self.national.setdefault(e.group, []).append(e)
        self.cabinets: dict[str, list[list]] = {}  # commune: open cabinets [cells, room]
        self.companies: dict[tuple[str, str], list[list]] = {}
        self.next_id = 0

    def lines(self, rows: int) -> Iterator[str]:
        yield "|".join(self.header) + "|"
        rng, written, person = self.rng, 0, 0
        while written < rows:
            person += 1
            activities = min(rng.choices((1, 2, 3), (62, 26, 12))[0], rows - written)
            yield from self._professional(person, activities)
            written += activities

    def _professional(self, number: int, activities: int) -> Iterator[str]:
        rng, at = self.rng, self.at
        code, label, _share, liberal, _savoir_faire = self.profession(rng)
        female = rng.random() < (0.85 if code in ("60", "50", "91", "93") else 0.5)
        rpps = f"10{number * 7 + rng.randrange(7):09d}"
        person = [""] * len(self.header)
        person[at["Type d'identifiant PP"]] = "8"
        person[at["Identifiant PP"]] = rpps
        person[at["Identification nationale PP"]] = "8" + rpps
        person[at["Code civilité"]] = "MME" if female else "M"
        person[at["Libellé civilité"]] = "Madame" if female else "Monsieur"
        if code in ("10", "40"):
            person[at["Code civilité d'exercice"]] = "DR"
            person[at["Libellé civilité d'exercice"]] = "Docteur"
        last_name = self.surname(rng)
        if rng.random() < 0.05:
            last_name += "-" + self.surname(rng)
        person[at["Nom d'exercice"]] = last_name.upper()
        first = rng.choice(self.female if female else self.male)
        person[at["Prénom d'exercice"]] = first.upper() if rng.random() < 0.3 else first
        person[at["Code profession"]] = code
        person[at["Libellé profession"]] = label
        person[at["Code catégorie professionnelle"]] = "C"
        person[at["Libellé catégorie professionnelle"]] = "Civil"
        if code in self.savoir_faire:
            sf_code, sf_label, _ = self.savoir_faire[code](rng)
            if sf_code:
                person[at["Code type savoir-faire"]] = "S"
                person[at["Libellé type savoir-faire"]] = "Spécialité ordinale"
                person[at["Code savoir-faire"]] = sf_code
                person[at["Libellé savoir-faire"]] = sf_label
        person[at["Autorité d'enregistrement"]] = "ARS/ARS/ARS"
        home = self.home(rng)
        used: set[str] = set()
        for activity in range(activities):
            cells = list(person)
            place = home if activity == 0 else self.by_departement[home.departement](rng)
            if rng.random() < 0.07:  # an activity without a site: no structure, no address
                cells[at["Code mode exercice"]] = "S"
                cells[at["Libellé mode exercice"]] = "Salarié"
            else:
                site = self._site(code, liberal, place, rng, used)
                for name, value in site.items():
                    cells[at[name]] = value
            cells[at["Code rôle"]] = "FON-01" if rng.random() < 0.3 else ""
            cells[at["Code genre activité"]] = "GENR01"
            cells[at["Libellé genre activité"]] = "Activité standard de soin"
            yield "|".join(cells) + "|"

    def _site(self, code: str, liberal: float, place: Place, rng, used: set[str]) -> dict:
        if rng.random() < liberal:
            mode, cells = ("L", "Libéral"), self._cabinet(code, place, rng, used)
        else:
            mode = ("S", "Salarié") if rng.random() < 0.97 else ("B", "Bénévole")
            group = self.workplace_groups[code](rng)
            if group == "company":
                cells = self._company(code, place, rng, used)
            else:
                cells = self._establishment(group, place, rng, used)
        return {"Code mode exercice": mode[0], "Libellé mode exercice": mode[1], **cells}

    def _shared(self, pool: list[list], rng, used: set[str], make, capacity: int) -> dict:
        """An open site of the pool (one with room left), or a new one."""
        for _ in range(3):
            if not pool or rng.random() < 0.35:
                break
            index = rng.randrange(len(pool))
            cells, room = pool[index]
            if cells["Identifiant technique de la structure"] in used:
                continue
            pool[index][1] = room - 1
            if room <= 1:
                pool[index] = pool[-1]
                pool.pop()
            used.add(cells["Identifiant technique de la structure"])
            return cells
        cells = make()
        if capacity > 1:
            pool.append([cells, capacity - 1])
        used.add(cells["Identifiant technique de la structure"])
        return cells

    def _address(self, place: Place, rng, number: str = "", street_type=None, street="") -> dict:
        kind = street_type or self.street_type(rng)
        return {
            "Numéro Voie (coord. structure)": number or str(rng.randint(1, 180)),
            "Indice répétition voie (coord. structure)": "B" if rng.random() < 0.03 else "",
            "Code type de voie (coord. structure)": kind[0],
            "Libellé type de voie (coord. structure)": kind[1],
            "Libellé Voie (coord. structure)": street or rng.choice(STREETS),
            "Bureau cedex (coord. structure)": f"{place.postal_code} {_upper(place.name)}",
            "Code postal (coord. structure)": place.postal_code,
            "Code commune (coord. structure)": place.insee,
            "Libellé commune (coord. structure)": place.name,
            "Code Département (structure)": place.departement,
        }

    def _new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}{self.next_id:011d}"

    def _cabinet(self, code: str, place: Place, rng, used: set[str]) -> dict:
        def make():
            size = rng.choices((1, 2, 4, 8, 15), (40, 30, 18, 9, 3))[0]
            owner = self.surname(rng).upper()
            if size >= 8:
                name = f"MAISON DE SANTE PLURIPROFESSIONNELLE {_upper(place.name)}"
            else:
                name = f"{CABINETS.get(code, 'CABINET')} {owner}"
            siret = _siret(rng) if rng.random() < 0.4 else ""
            cells = {
                "Identifiant technique de la structure": self._new_id("C"),
                "Numéro SIRET site": siret,
                "Raison sociale site": name,
                "Enseigne commerciale site": name if rng.random() < 0.5 else "",
                "Téléphone (coord. structure)": _phone(rng) if rng.random() < 0.6 else "",
                "Adresse e-mail (coord. structure)": (
                    f"contact@{owner.lower()}-{place.postal_code}.fr" if rng.random() < 0.1 else ""
                ),
                **self._address(place, rng),
            }
            cells["_capacity"] = size
            return cells

        pool = self.cabinets.setdefault(place.insee, [])
        cells = self._shared(pool, rng, used, make, 6)
        return {k: v for k, v in cells.items() if not k.startswith("_")}

    def _company(self, code: str, place: Place, rng, used: set[str]) -> dict:
        def make():
            siret = _siret(rng)
            brand = rng.choice(COMPANIES.get(code, ("CENTRE", "SELARL", "ASSOCIATION")))
            name = f"{brand} {_upper(place.name)}"
            return {
                "Identifiant technique de la structure": "C" + siret,
                "Numéro SIRET site": siret,
                "Numéro SIREN site": siret[:9],
                "Raison sociale site": name,
                "Enseigne commerciale site": brand,
                "Téléphone (coord. structure)": _phone(rng),
                **self._address(place, rng),
            }

        pool = self.companies.setdefault((place.insee, code), [])
        return self._shared(pool, rng, used, make, 5)

    def _establishment(self, group: str, place: Place, rng, used: set[str]) -> dict:
        candidates = self.workplaces.get((place.departement, group)) or self.national.get(group)
        if not candidates:
            return self._company("", place, rng, used)
        e = rng.choice(candidates)
        identifier = "F" + e.finess_et
        if identifier in used:
            return self._company("", place, rng, used)
        used.add(identifier)
        return {
            "Identifiant technique de la structure": identifier,
            "Numéro SIRET site": e.siret,
            "Numéro FINESS site": e.finess_et,
            "Numéro FINESS établissement juridique": e.finess_ej,
            "Raison sociale site": e.name,
            "Téléphone (coord. structure)": e.phone,
            **self._address(e.place, rng, e.number, e.street_type, e.street),
        }


def rpps_lines(
    rows: int, places: list[Place], establishments: list[Establishment], seed: int = 1
) -> Iterator[str]:
    """The header then ``rows`` activity rows."""
    return RppsGenerator(places, establishments, seed).lines(rows)


def write_lines(lines: Iterator[str], path: Path, encoding: str) -> int:
    count = 0
    with path.open("w", encoding=encoding, newline="\n") as out:
        buffer = []
        for line in lines:
            buffer.append(line)
            if len(buffer) >= 10_000:
                out.write("\n".join(buffer) + "\n")
                count += len(buffer)
                buffer = []
        if buffer:
            out.write("\n".join(buffer) + "\n")
            count += len(buffer)
    return count


# --- The query mix -----------------------------------------------------------------------------

PROFESSION_WORDS = (
    "médecin",
    "infirmier",
    "kinésithérapeute",
    "pharmacien",
    "dentiste",
    "sage femme",
    "orthophoniste",
    "psychologue",
    "podologue",
    "opticien",
    "orthoptiste",
    "ergothérapeute",
    "diététicien",
    "psychomotricien",
    "médecine générale",
    "pédiatrie",
    "psychiatrie",
    "cardiologie",
)
STRUCTURE_WORDS = (
    "pharmacie",
    "ehpad",
    "centre hospitalier",
    "clinique",
    "cabinet medical",
    "maison de sante",
    "laboratoire",
    "centre de sante",
    "cmp",
    "ssiad",
    "ime",
    "chrs",
    "pmi",
    "cabinet infirmier",
    "radiologie",
    "esat",
)
PREFIXES = (
    "kiné",
    "pharm",
    "infirm",
    "méd",
    "ortho",
    "dent",
    "psych",
    "ped",
    "cardio",
    "ehp",
    "clin",
    "labo",
    "cabin",
    "sage",
    "podo",
    "opti",
)
TYPOS = ("kinésitérapeute", "pharmacei", "infirmeir", "medcin", "psycologue", "orthophonsite",
         "dentsite", "pediatrie", "cardiolgie", "clinqiue", "laboratorie", "ergotherapeute",
         "podologeu", "opticein", "psychomotricein", "hopital")  # fmt: skip


# A word search, then one of the facet values its results show (an empty savoir-faire: any).
REFINEMENTS = (
    ("médecin", {"savoir_faire_code": "SM54"}),
    ("médecin", {"savoir_faire_code": ""}),
    ("médecin", {"mode": "L"}),
    ("médecin", {"kind": "professional"}),
    ("infirmier", {"mode": "S"}),
    ("infirmier", {"profession_code": "60", "mode": "L"}),
    ("kinésithérapeute", {"mode": "L"}),
    ("pharmacie", {"category_code": "620"}),
    ("pharmacie", {"kind": "professional"}),
    ("pharmacien", {"profession_code": "21"}),
    ("ehpad", {"category_code": "500"}),
    ("ehpad", {"profession_code": "60"}),
    ("centre", {"kind": "structure"}),
    ("centre hospitalier", {"profession_code": "10"}),
    ("cabinet", {"profession_code": "70"}),
    ("psychologue", {"mode": "S"}),
    ("dentiste", {"profession_code": "40"}),
    ("sage femme", {"mode": "L"}),
    ("clinique", {"category_code": "128"}),
    ("laboratoire", {"profession_code": "86"}),
)


@dataclass
class Mix:
    searches: list = field(default_factory=list)  # (label, SearchQuery kwargs)
    viewports: list = field(default_factory=list)  # (label, SearchQuery kwargs, bbox)


def query_mix(places: list[Place], searches: int, viewports: int, seed: int = 7) -> Mix:
    """A fixed mix of searches and map viewports, the same for both engines."""
    rng = random.Random(seed)
    big = sorted(places, key=lambda p: -p.population)
    cities, towns = big[:300], big[300:8000] or big
    anywhere = Picker(places, [p.population for p in places])
    surnames = _surnames(random.Random(seed))
    professions = [p[0] for p in PROFESSIONS]
    savoir_faire = [s[0] for p in PROFESSIONS for s in p[4] if s[0]]
    categories = [c[0] for c in CATEGORIES]

    def town() -> Place:
        return rng.choice(cities) if rng.random() < 0.5 else rng.choice(towns)

    def word(place: Place) -> str:
        return place.name.split(" ")[0].replace("-", " ")

    kinds = Picker(
        ["word", "structure", "name", "prefix", "typo", "facet", "near", "near_facet",
         "words", "page", "commune"],
        [12, 6, 8, 10, 10, 10, 18, 8, 8, 5, 5],
    )  # fmt: skip
    mix = Mix()
    for _ in range(searches):
        kind = kinds(rng)
        q: dict = {}
        if kind == "word":
            q = {"q": rng.choice(PROFESSION_WORDS)}
        elif kind == "structure":
            q = {"q": rng.choice(STRUCTURE_WORDS)}
        elif kind == "name":
            q = {"q": surnames(rng)}
            if rng.random() < 0.3:
                q["q"] += " " + rng.choice(PROFESSION_WORDS)
        elif kind == "prefix":
            q = {"q": rng.choice(PREFIXES)}
            if rng.random() < 0.4:
                q["q"] += " " + word(town())[:4].lower()
        elif kind == "typo":
            q = {"q": rng.choice(TYPOS)}
            if rng.random() < 0.3:
                q["near_commune"], q["radius_km"] = town().insee, rng.choice((5, 10, 20))
        elif kind == "facet":
            q = rng.choice(
                (
                    {"profession_code": rng.choice(professions)},
                    {"savoir_faire_code": rng.choice(savoir_faire)},
                    {"kind": rng.choice(("structure", "professional"))},
                    {"category_code": rng.choice(categories)},
                    {"mode": rng.choice("LSB")},
                    {"profession_code": rng.choice(professions), "mode": "L"},
                )
            )
            if rng.random() < 0.5:  # a word search refined by a value its facets show
                term, refinement = rng.choice(REFINEMENTS)
                q = {"q": term, **refinement}
                if "savoir_faire_code" in q and not q["savoir_faire_code"]:
                    q["savoir_faire_code"] = rng.choice(savoir_faire)
        elif kind == "near":
            q = {"near_commune": town().insee, "radius_km": rng.choice((2, 5, 10, 10, 20, 50))}
            if rng.random() < 0.8:
                q["q"] = rng.choice(PROFESSION_WORDS + PREFIXES + STRUCTURE_WORDS)
        elif kind == "near_facet":
            q = {
                "near_commune": town().insee,
                "radius_km": rng.choice((5, 10, 20, 30)),
                "profession_code": rng.choice(professions),
            }
            if rng.random() < 0.3:
                q["savoir_faire_code"] = "SM54"
                q["profession_code"] = "10"
        elif kind == "words":
            q = {"q": f"{rng.choice(PROFESSION_WORDS)} {word(town()).lower()}"}
        elif kind == "page":
            q = {"q": rng.choice(PROFESSION_WORDS), "page": rng.randint(2, 50)}
            if rng.random() < 0.4:
                q = {"near_commune": town().insee, "radius_km": 20, "page": rng.randint(2, 10)}
        elif kind == "commune":
            q = {"commune": anywhere(rng).insee}
            if rng.random() < 0.5:
                q["q"] = rng.choice(PROFESSION_WORDS)
        mix.searches.append((kind, q))
    # Viewports of a 1280 × 800 screen at zooms 5 (all of France) to 16 (a street).
    zooms = Picker(
        [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [3, 4, 5, 7, 8, 10, 10, 12, 12, 11, 9, 9]
    )
    for _ in range(viewports):
        zoom = zooms(rng)
        centre = anywhere(rng) if zoom >= 9 else rng.choice(cities)
        width = 1280 / 256 * 360 / 2**zoom
        height = 800 / 256 * 360 / 2**zoom * math.cos(math.radians(centre.latitude))
        bbox = (
            max(centre.longitude - width / 2, -180.0),
            max(centre.latitude - height / 2, -90.0),
            min(centre.longitude + width / 2, 180.0),
            min(centre.latitude + height / 2, 90.0),
        )
        q = {}
        if rng.random() < 0.3:
            q = rng.choice(
                (
                    {"q": rng.choice(PROFESSION_WORDS)},
                    {"profession_code": rng.choice(professions)},
                    {"q": rng.choice(PREFIXES)},
                    {"kind": "structure"},
                )
            )
        mix.viewports.append((f"z{zoom}", q, bbox))
    return mix


# --- Running one engine (child process) ------------------------------------------------------


def _percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def _database_url(
    engine: str, workdir: Path, *, sqlite_name: str = "bench.sqlite3", database: str = ""
) -> str:
    if engine == "sqlite":
        return f"sqlite:///{workdir / sqlite_name}"
    return f"{POSTGRES_SERVER}/{database or POSTGRES_DATABASE}"


def _postgres_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(statement)


def _database_size(engine: str, workdir: Path, *, sqlite_name: str = "bench.sqlite3") -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        if engine == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            files = [workdir / sqlite_name, workdir / f"{sqlite_name}-wal"]
            return sum(f.stat().st_size for f in files if f.exists())
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def run_engine(args) -> dict:
    """Everything for one engine, in this process; returns the figures."""
    workdir = Path(args.workdir)
    os.environ["DATABASE_URL"] = _database_url(args.database, workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parcours.settings")
    os.environ["DEBUG"] = "0"  # DEBUG would keep every SQL statement in memory
    if args.database == "postgres" and not args.reuse:
        _postgres_admin(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
        _postgres_admin(f"CREATE DATABASE {POSTGRES_DATABASE}")
    if args.database == "sqlite" and not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{workdir / 'bench.sqlite3'}{suffix}").unlink(missing_ok=True)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from parcours.directory.finess import finess_import
    from parcours.directory.rpps import rpps_import
    from parcours.directory.search import search_index_rebuild
    from parcours.territory.services import communes_import

    figures: dict = {"engine": args.database}
    log = _logger(args.database)
    places = load_places(centres=Path(args.centres) if args.centres else None)
    if not args.reuse:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        report = communes_import(centres=workdir / "centres.csv")
        if not report.ok:
            raise SystemExit(report.summary())
        log(f"communes: {report.summary()} ({time.perf_counter() - started:.1f} s)")
        for name, run in (
            ("finess", lambda: finess_import(path=workdir / "finess.csv")),
            ("rpps", lambda: rpps_import(path=workdir / "rpps.txt")),
        ):
            lines = int((workdir / f"{name}.lines").read_text())
            with _profiled(args, f"{args.database}-import-{name}"):
                started = time.perf_counter()
                result = run()
                seconds = time.perf_counter() - started
            error = getattr(result, "error", "")
            if error:
                raise SystemExit(f"{name}: {error}")
            figures[f"{name}_lines"] = lines
            figures[f"{name}_seconds"] = seconds
            figures[f"{name}_rows_per_s"] = lines / seconds
            figures[f"{name}_records"] = result.read
            figures[f"{name}_rejected"] = len(result.rejected)
            log(
                f"import {name}: {lines:,} lines in {seconds:.1f} s = {lines / seconds:,.0f} rows/s"
                f", {len(result.rejected)} rejected"
            )
            for rejection in result.rejected[:5]:
                log(f"  line {rejection.line}: {rejection.reason}")
    if not args.reuse or args.reindex:
        with _profiled(args, f"{args.database}-index"):
            started = time.perf_counter()
            entries = search_index_rebuild()
            figures["index_seconds"] = time.perf_counter() - started
        figures["index_entries"] = sum(entries.values())
        log(f"search index: {entries} in {figures['index_seconds']:.1f} s")
    figures.update(_run_mix(args, places, log))
    figures["database_bytes"] = _database_size(args.database, workdir)
    log(f"database size: {figures['database_bytes'] / 2**20:,.0f} MiB")
    connection.close()
    if args.database == "postgres" and not args.keep:
        _postgres_admin(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
    return figures


def _run_mix(args, places: list[Place], log) -> dict:
    from django.db import connection

    from parcours.directory.search import (
        SearchQuery,
        directory_map,
        directory_search,
        search_items,
    )

    def search(params: dict) -> int:
        result = directory_search(query=SearchQuery(**params))
        items = search_items(result.page)  # what the API answers: the page's items,
        return len(items), result.page.paginator.num_pages, len(result.facets)  # pages, facets

    def map_view(params: dict, bbox) -> int:
        answer = directory_map(query=SearchQuery(**params), bbox=bbox)
        return answer["total"]

    warmup = query_mix(places, 50, 20, seed=args.seed + 1000)
    for _kind, params in warmup.searches:
        search(params)
    for _kind, params, bbox in warmup.viewports:
        map_view(params, bbox)

    mix = query_mix(places, args.searches, args.viewports, seed=args.seed)
    counter = QueryCounter()
    timings, queries, slow = [], [], []
    with _profiled(args, f"{args.database}-search"), connection.execute_wrapper(counter):
        for kind, params in mix.searches:
            before = counter.count
            started = time.perf_counter()
            search(params)
            elapsed = (time.perf_counter() - started) * 1000
            timings.append(elapsed)
            queries.append(counter.count - before)
            slow.append((elapsed, kind, params))
    map_timings, map_slow = [], []
    from parcours.directory import search as search_module

    grids = search_module._MapGrid.__init__  # count the result sets gridded (cold caches)
    built = []
    search_module._MapGrid.__init__ = lambda self, points: built.append(1) or grids(self, points)
    with _profiled(args, f"{args.database}-map"):
        for kind, params, bbox in mix.viewports:
            started = time.perf_counter()
            total = map_view(params, bbox)
            elapsed = (time.perf_counter() - started) * 1000
            map_timings.append(elapsed)
            map_slow.append((elapsed, kind, params, total))
    figures = {
        "searches": len(timings),
        "search_p50_ms": _percentile(timings, 50),
        "search_p95_ms": _percentile(timings, 95),
        "search_p99_ms": _percentile(timings, 99),
        "search_max_ms": max(timings),
        "queries_per_search": statistics.mean(queries),
        "queries_per_search_max": max(queries),
        "viewports": len(map_timings),
        "map_p50_ms": _percentile(map_timings, 50),
        "map_p95_ms": _percentile(map_timings, 95),
        "map_p99_ms": _percentile(map_timings, 99),
        "map_grids_built": len(built),
    }
    search_module._MapGrid.__init__ = grids
    by_kind: dict[str, list[float]] = {}
    for elapsed, kind, _params in slow:
        by_kind.setdefault(kind, []).append(elapsed)
    log(
        "search by kind (n, p50, p95 ms): "
        + ", ".join(
            f"{kind} {len(v)} {_percentile(v, 50):.1f} {_percentile(v, 95):.1f}"
            for kind, v in sorted(by_kind.items())
        )
    )
    if args.verbose:
        # Every timing, slowest first, for a closer look at the tail.
        Path(args.workdir, f"timings-{args.database}.json").write_text(
            json.dumps(
                {
                    "searches": sorted(slow, key=lambda s: -s[0]),
                    "viewports": sorted(map_slow, key=lambda s: -s[0]),
                },
                ensure_ascii=False,
            )
        )
        for elapsed, kind, params in sorted(slow, key=lambda s: -s[0])[:15]:
            log(f"  slow search {elapsed:7.1f} ms {kind}: {params}")
        for elapsed, kind, params, total in sorted(map_slow, key=lambda s: -s[0])[:10]:
            log(f"  slow map {elapsed:7.1f} ms {kind} {params} total={total}")
    log(
        f"search: p50 {figures['search_p50_ms']:.1f} ms, p95 {figures['search_p95_ms']:.1f} ms,"
        f" p99 {figures['search_p99_ms']:.1f} ms; {figures['queries_per_search']:.1f} queries"
        f" per search; map p95 {figures['map_p95_ms']:.1f} ms"
    )
    return figures


class _profiled:
    """cProfile around a phase when --profile DIR is given (stats written there)."""

    def __init__(self, args, name: str):
        self.directory = args.profile
        self.name = name

    def __enter__(self):
        if self.directory:
            import cProfile

            self.profiler = cProfile.Profile()
            self.profiler.enable()

    def __exit__(self, *exc):
        if self.directory:
            self.profiler.disable()
            Path(self.directory).mkdir(parents=True, exist_ok=True)
            self.profiler.dump_stats(Path(self.directory) / f"{self.name}.prof")


def _logger(engine: str):
    def log(message: str) -> None:
        print(f"[{engine}] {message}", file=sys.stderr, flush=True)

    return log


# --- The parent process -----------------------------------------------------------------------


def generate(args, workdir: Path) -> None:
    """Write the centres, FINESS and RPPS files (not timed as import)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parcours.settings")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'unused.sqlite3'}")
    import django

    django.setup()
    started = time.perf_counter()
    places = load_places(centres=Path(args.centres) if args.centres else None)
    write_centres(places, workdir / "centres.csv")
    establishments = finess_establishments(args.finess, places, seed=args.seed)
    count = write_lines(finess_lines(establishments, seed=args.seed), workdir / "finess.csv",
                        "latin-1")  # fmt: skip
    (workdir / "finess.lines").write_text(str(count - 1))  # without the first line
    count = write_lines(
        rpps_lines(args.rows, places, establishments, seed=args.seed),
        workdir / "rpps.txt",
        "utf-8",
    )
    (workdir / "rpps.lines").write_text(str(count - 1))  # without the header
    print(
        f"generated {args.finess:,} FINESS establishments and {args.rows:,} RPPS rows in "
        f"{time.perf_counter() - started:.1f} s ({workdir})",
        file=sys.stderr,
    )


def _machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} CPU ({cpu}), {memory:.0f} GiB RAM, Python {sys.version.split()[0]}"


def print_table(results: list[dict], args) -> None:
    print(f"\nDirectory benchmark: {args.rows:,} RPPS rows, {args.finess:,} FINESS establishments")
    print(f"machine: {_machine()}")
    rows = [
        ("import FINESS (rows/s)", "finess_rows_per_s", "{:,.0f}", "import_rows_per_s"),
        ("import RPPS (rows/s)", "rpps_rows_per_s", "{:,.0f}", "import_rows_per_s"),
        ("import FINESS / RPPS (s)", None, "", None),
        ("rejected lines (FINESS + RPPS)", None, "", None),
        ("search index rebuild (s)", "index_seconds", "{:,.1f}", None),
        ("search entries", "index_entries", "{:,}", None),
        ("search p50 (ms)", "search_p50_ms", "{:.1f}", None),
        ("search p95 (ms)", "search_p95_ms", "{:.1f}", "search_p95_ms"),
        ("search p99 (ms)", "search_p99_ms", "{:.1f}", None),
        ("SQL queries per search (mean / max)", None, "", None),
        ("map p50 (ms)", "map_p50_ms", "{:.1f}", None),
        ("map p95 (ms)", "map_p95_ms", "{:.1f}", "map_p95_ms"),
        ("map p99 (ms)", "map_p99_ms", "{:.1f}", None),
        ("map grids computed (cache misses)", "map_grids_built", "{}", None),
        ("database size (MiB)", "database_bytes", "{:,.0f}", None),
    ]
    header = f"{'':40}" + "".join(f"{r['engine']:>14}" for r in results)
    print(header)
    for label, key, fmt, target in rows:
        cells = []
        for r in results:
            if label.startswith("rejected"):
                value = f"{r.get('finess_rejected', '-')} + {r.get('rpps_rejected', '-')}"
            elif label.startswith("import FINESS /"):
                value = f"{r.get('finess_seconds', 0):.1f} / {r.get('rpps_seconds', 0):.1f}"
            elif label.startswith("SQL"):
                value = f"{r['queries_per_search']:.1f} / {r['queries_per_search_max']}"
            elif key not in r:
                value = "-"
            elif key == "database_bytes":
                value = fmt.format(r[key] / 2**20)
            else:
                value = fmt.format(r[key])
            if target and key in r:
                goal = TARGETS[target]
                ok = r[key] >= goal if target.startswith("import") else r[key] <= goal
                value += " ok" if ok else " !!"
            cells.append(f"{value:>14}")
        print(f"{label:40}" + "".join(cells))
    print(
        f"targets: import ≥ {TARGETS['import_rows_per_s']:,} rows/s, search p95 ≤ "
        f"{TARGETS['search_p95_ms']:.0f} ms, map p95 ≤ {TARGETS['map_p95_ms']:.0f} ms"
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="RPPS rows (1,000,000)")
    parser.add_argument("--finess", type=int, default=100_000, help="FINESS establishments")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--searches", type=int, default=1_000)
    parser.add_argument("--viewports", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--centres", help="real commune centres CSV (insee_com, lat, lng)")
    parser.add_argument("--workdir", help="keep the generated files (and SQLite file) here")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--reuse", action="store_true", help="skip generation and imports: reuse --workdir"
    )
    parser.add_argument(
        "--reindex", action="store_true", help="with --reuse: rebuild the search index again"
    )
    parser.add_argument("--profile", help="write cProfile stats of each phase to this folder")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="list the slowest requests; every timing in WORKDIR/timings-ENGINE.json",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        figures = run_engine(args)
        Path(args.json).write_text(json.dumps(figures))
        return 0
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-dir-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.reuse and not args.workdir:
        raise SystemExit("--reuse needs --workdir")
    engines = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    results = []
    try:
        if not args.reuse:
            generate(args, workdir)
        for engine in engines:
            output = workdir / f"figures-{engine}.json"
            command = [sys.executable, __file__, "--child", "--database", engine]
            command += ["--workdir", str(workdir), "--json", str(output)]
            for name in ("rows", "finess", "searches", "viewports", "seed"):
                command += [f"--{name}", str(getattr(args, name))]
            for name in ("centres", "profile"):
                if getattr(args, name):
                    command += [f"--{name}", getattr(args, name)]
            for name in ("keep", "reuse", "reindex", "verbose"):
                if getattr(args, name):
                    command.append(f"--{name}")
            subprocess.run(command, check=True, cwd=REPO)  # noqa: S603
            results.append(json.loads(output.read_text()))
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
