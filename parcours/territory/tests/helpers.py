"""Shared test helpers of the territory app."""

import json
from pathlib import Path

import pytest
from django.conf import settings

# Real public data for tests only (never copied into the repository): see README there.
SHARED_CENTRES = settings.BASE_DIR.parent / "shared" / "data" / "communes" / "communes.csv"


def shared_centres() -> Path:
    if not SHARED_CENTRES.exists():
        pytest.skip(f"real centres sample not available at {SHARED_CENTRES}")
    return SHARED_CENTRES


def write_csv(tmp_path: Path, text: str, name: str = "centres.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# A few records in the package's own format, for tests that need no national list.
SMALL_SOURCE = [
    {
        "code": "69123",
        "nom": "Lyon",
        "type": "commune-actuelle",
        "departement": "69",
        "region": "84",
        "codesPostaux": ["69001", "69008"],
        "population": 520774,
    },
    {
        "code": "69388",
        "nom": "Lyon 8e Arrondissement",
        "type": "arrondissement-municipal",
        "commune": "69123",
        "departement": "69",
        "region": "84",
        "codesPostaux": ["69008"],
        "population": 85943,
    },
    {
        "code": "69259",
        "nom": "Vénissieux",
        "type": "commune-actuelle",
        "departement": "69",
        "region": "84",
        "codesPostaux": ["69200"],
        "population": 65502,
    },
    {
        "code": "2A004",
        "nom": "Ajaccio",
        "type": "commune-actuelle",
        "departement": "2A",
        "region": "94",
        "codesPostaux": ["20000", "20090"],
        "population": 73755,
    },
]


def write_source(tmp_path: Path, records: list | None = None) -> Path:
    path = tmp_path / "communes.json"
    path.write_text(json.dumps(SMALL_SOURCE if records is None else records), encoding="utf-8")
    return path
