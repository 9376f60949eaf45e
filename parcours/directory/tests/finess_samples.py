"""Lines of the etalab FINESS extraction, for the import tests.

``structure_line`` and ``geo_line`` write the official layout (``structureet`` with the 31
fields of the etalab specification, ``geolocalisation`` with 6); ``write_extraction`` puts
them after the ``finess;etalab`` first line. ``lines_from_flat_sample`` turns the rows of the
shared flattened sample (42 named columns, with a header) into official lines, so that the
tests import real names, real Lambert-93 coordinates and real communes.
"""

import csv
from pathlib import Path

from django.conf import settings

SHARED_SAMPLE = (
    settings.BASE_DIR.parent / "shared" / "data" / "finess" / "etalab_small_20201231.csv"
)
HEADER = "finess;etalab;100;2020-12-31"
LAMBERT_93_SOURCE = "1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93"
OVERSEAS_CODES = {"971": "9A", "972": "9B", "973": "9C", "974": "9D", "975": "9E", "976": "9F"}

# The order of the specification (format_etalabcs1100507), after the section name.
STRUCTURE_FIELDS = (
    "nofinesset nofinessej rs rslongue complrs compldistrib numvoie typvoie voie compvoie "
    "lieuditbp commune departement libdepartement ligneacheminement telephone telecopie "
    "categetab libcategetab categagretab libcategagretab siret codeape codemft libmft codesph "
    "libsph dateouv dateautor datemaj"
).split()
DEFAULTS = {
    "nofinessej": "010780054",
    "rs": "CH DE FLEYRIAT",
    "rslongue": "CENTRE HOSPITALIER DE BOURG-EN-BRESSE FLEYRIAT",
    "numvoie": "900",
    "typvoie": "RTE",
    "voie": "DE PARIS",
    "commune": "451",
    "departement": "01",
    "libdepartement": "AIN",
    "ligneacheminement": "01440 VIRIAT",
    "telephone": "0474454647",
    "telecopie": "0474454114",
    "categetab": "355",
    "libcategetab": "Centre Hospitalier (C.H.)",
    "categagretab": "1102",
    "libcategagretab": "Centres Hospitaliers",
    "siret": "26010004500012",
    "codeape": "8610Z",
    "codemft": "03",
    "libmft": "ARS / DG EPS",
    "codesph": "1",
    "libsph": "Etab.public de santé",
    "dateouv": "1979-02-13",
    "dateautor": "1979-02-13",
    "datemaj": "2020-02-04",
}


def structure_line(nofinesset: str, **fields: str) -> str:
    values = {**DEFAULTS, "nofinesset": nofinesset, **fields}
    return ";".join(["structureet", *(values.get(name, "") for name in STRUCTURE_FIELDS)])


def geo_line(nofinesset: str, x, y, source: str = LAMBERT_93_SOURCE) -> str:
    return f"geolocalisation;{nofinesset};{x};{y};{source};2021-01-04"


def write_extraction(
    path: Path, lines: list[str], *, encoding: str = "latin-1", header: str = HEADER
) -> Path:
    path.write_bytes(("\n".join([header, *lines]) + "\n").encode(encoding, errors="replace"))
    return path


def lines_from_flat_sample(path: Path = SHARED_SAMPLE) -> list[str]:
    """The shared flattened sample as official lines: establishments, then coordinates."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    structures, points = [], []
    for row in rows:
        departement = OVERSEAS_CODES.get(row["departement"], row["departement"])
        fields = {name: row.get(name, "") for name in STRUCTURE_FIELDS}
        fields.update(
            commune=row["cog"][2:],
            departement=departement,
            telephone=row["telephone"].replace(" ", ""),
            telecopie=row["telecopie"].replace(" ", ""),
            categagretab=row["categretab"],
            libcategagretab=row["libcategretab"],
            codemft=row["mft"],
            codesph=row["sph"],
            dateouv=row["dateouvert"],
        )
        structures.append(structure_line(**fields))
        if row["coordx"] and row["coordy"]:
            points.append(
                geo_line(row["nofinesset"], row["coordx"], row["coordy"], row["sourcegeocod"])
            )
    return structures + points
