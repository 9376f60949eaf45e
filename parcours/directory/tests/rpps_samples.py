"""Small RPPS extractions in the official layouts, and the communes they name, for tests."""

from pathlib import Path

import pytest
from django.conf import settings

from parcours.directory.rpps import LAYOUT_52, LAYOUT_56
from parcours.territory.models import Commune

# Real public sample for tests only (never copied into the repository).
SHARED_SAMPLE = (
    settings.BASE_DIR.parent
    / "shared"
    / "data"
    / "rpps"
    / "PS_LibreAcces_Personne_activite_small.txt"
)

# The official headers (52 columns; 56 since the 2024 layout). test_bench_generator checks
# LAYOUT_56 against the header of the real sample in ../shared/data.
HEADER_52 = list(LAYOUT_52)
HEADER_56 = list(LAYOUT_56)

# Short names used by the tests for the columns they fill.
SHORT = {
    "type": "Type d'identifiant PP",
    "rpps": "Identifiant PP",
    "civility_code": "Code civilité",
    "civility": "Libellé civilité",
    "last_name": "Nom d'exercice",
    "first_name": "Prénom d'exercice",
    "profession_code": "Code profession",
    "profession": "Libellé profession",
    "savoir_faire_code": "Code savoir-faire",
    "savoir_faire": "Libellé savoir-faire",
    "mode": "Code mode exercice",
    "siret": "Numéro SIRET site",
    "finess": "Numéro FINESS site",
    "finess_ej": "Numéro FINESS établissement juridique",
    "structure": "Identifiant technique de la structure",
    "company": "Raison sociale site",
    "trade_name": "Enseigne commerciale site",
    "recipient": "Complément destinataire (coord. structure)",
    "place": "Complément point géographique (coord. structure)",
    "number": "Numéro Voie (coord. structure)",
    "repetition": "Indice répétition voie (coord. structure)",
    "street_type_code": "Code type de voie (coord. structure)",
    "street_type": "Libellé type de voie (coord. structure)",
    "street": "Libellé Voie (coord. structure)",
    "postal_code": "Code postal (coord. structure)",
    "commune": "Code commune (coord. structure)",
    "commune_name": "Libellé commune (coord. structure)",
    "phone": "Téléphone (coord. structure)",
    "email": "Adresse e-mail (coord. structure)",
    "role": "Code rôle",
    "genre": "Code genre activité",
}

DEFAULTS = {
    "type": "8",
    "civility_code": "MME",
    "civility": "Madame",
    "last_name": "MARTIN",
    "first_name": "Claire",
    "profession_code": "10",
    "profession": "Médecin",
    "mode": "L",
}


def activity(rpps: str = "10000000001", **fields) -> dict:
    """One activity row, by short column names; the official file's defaults for the rest."""
    return {"rpps": rpps, **DEFAULTS, **fields}


def line(row: dict, header: list[str] = HEADER_52, trailing: str = "|") -> str:
    cells = dict.fromkeys(header, "")
    for name, value in row.items():
        column = SHORT.get(name, name)
        if column not in cells:
            continue  # e.g. a 56-column value written in the 52-column layout
        cells[column] = value
    if cells.get("Identification nationale PP") == "" and row.get("rpps"):
        cells["Identification nationale PP"] = row.get("type", "8") + row["rpps"]
    return "|".join(cells[name] for name in header) + trailing


def write_rpps(
    path: Path,
    rows: list[dict | str],
    header: list[str] = HEADER_52,
    trailing: str = "|",
) -> Path:
    """An extraction file: the header then the rows (a str row is written as it is)."""
    lines = ["|".join(header) + trailing]
    lines += [row if isinstance(row, str) else line(row, header, trailing) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def shared_sample() -> Path:
    if not SHARED_SAMPLE.exists():
        pytest.skip(f"real RPPS sample not available at {SHARED_SAMPLE}")
    return SHARED_SAMPLE


def make_communes() -> dict[str, Commune]:
    """Lyon, its 3rd arrondissement (a commune of its own, kind ARM), Vénissieux, Strasbourg."""
    lyon = Commune.objects.create(
        insee="69123", name="Lyon", departement="69", region="84", latitude=45.758, longitude=4.835
    )
    communes = [
        lyon,
        Commune.objects.create(
            insee="69383",
            name="Lyon 3e Arrondissement",
            kind=Commune.Kind.ARRONDISSEMENT,
            parent=lyon,
            departement="69",
            region="84",
            latitude=45.7597,
            longitude=4.8502,
        ),
        Commune.objects.create(
            insee="69259",
            name="Vénissieux",
            departement="69",
            region="84",
            latitude=45.6975,
            longitude=4.8867,
        ),
        Commune.objects.create(
            insee="67482",
            name="Strasbourg",
            departement="67",
            region="44",
            latitude=48.5734,
            longitude=7.7521,
        ),
    ]
    return {commune.insee: commune for commune in communes}
