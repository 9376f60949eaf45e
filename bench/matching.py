"""Matching benchmark (issue 5, point 9): ranking the GP pool for a person, at national scale.

    .venv/bin/python bench/matching.py [--gps N] [--searches N] [--database sqlite|postgres|both]

What it does, for each engine, on a throwaway database (a temporary SQLite file, or the
PostgreSQL database ``parcours_bench_matching`` on 127.0.0.1:5432, user postgres, created and
dropped here), each engine in a child process of its own:

1. migrates, loads the communes (``communes_import``) with the centres ``bench/directory.py``
   generates around each département's centre (``--centres`` takes a real centres CSV);
2. generates (timed apart, not part of the figures) ``--gps`` GPs (profession 10, savoir-faire
   of general practice, 2 % no longer active) with 1 to 3 practice situations each in
   communes drawn by population (so the cities are dense), 85 % of them with an e-mail;
   an availability declaration with one organisation for 70 % of them (accepting now 35 %,
   within six months 20 %, no 45 %; capacity unknown, 0 or 1–20; a third expired; age
   groups, home visits); ``--past`` past searches of that organisation with 3 to 6
   solicitations each over the last 150 days (the fairness counts);
3. runs 50 searches of another seed as a warm-up, then ``--searches`` searches at person
   locations drawn by population, with random preferences (sex of the doctor, a language,
   home visits, age group) and a radius of 5 to 30 km; each is ranked three times through
   ``ranking.rank``: ``page`` (the 20 best, the search page's first lines), ``wave`` (the
   5 best with an e-mail, what ``wave_send`` asks) and ``full`` (every candidate, what the
   call round lists);
4. prints p50/p95/p99 ms of each, candidates per search (mean / p95 / max), SQL queries
   per ranking (mean / max) and the database size.
"""

import argparse
import datetime
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.directory import (  # noqa: E402 (the path above first)
    Picker,
    QueryCounter,
    _database_size,
    _database_url,
    _machine,
    _percentile,
    _postgres_admin,
    _profiled,
    load_places,
    write_centres,
)

POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
POSTGRES_DATABASE = "parcours_bench_matching"
SQLITE_NAME = "bench-matching.sqlite3"
TARGETS = {"rank_p95_ms": 50.0}
BATCH = 5_000

SURNAMES = (
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel "
    "Lefebvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine "
    "Rousseau Vincent Muller Lefevre Faure Andre Mercier Blanc Guerin Boyer Garnier Chevalier "
    "Francois Legrand Gauthier Garcia Perrin Robin Clement Morin Nicolas Henry Roussel Mathieu "
    "Gautier Masson Marchand Duval Denis Dumont Marie Lemaire Noel Meyer Dufour Meunier Brun "
    "Blanchard Giraud Joly Riviere Lucas Brunet Gaillard Barbier Arnaud Martinez Gerard Roche "
    "Renard Schmitt Roy Leroux Colin Vidal Caron Picard Roger Fabre Aubert Lemoine Renaud Dumas "
    "Lacroix Olivier Philippe Bourgeois Pierre Benoit Rey Leclerc Payet Rolland Leclercq Guillaume "
    "Lecomte Lopez Jean Dupuy Guillot Hubert Berger Carpentier Sanchez Dupuis Moulin Deschamps"
).split()
FIRST_NAMES = {
    "F": "Marie Nathalie Isabelle Sylvie Catherine Anne Christine Sophie Julie Camille Claire "
    "Aurélie Céline Émilie Laure Léa Manon Inès Sarah Chloé".split(),
    "M": "Jean Pierre Michel Philippe Alain Nicolas François Laurent Thomas Julien Antoine "
    "Mathieu Olivier Karim Hugo Lucas Paul Yann Mehdi Éric".split(),
}
# Extra languages a GP speaks (besides French), with their weights; most speak only French.
LANGUAGES = (("", 75), ("en", 14), ("ar", 4), ("es", 3), ("de", 1), ("it", 1), ("pt", 1))
LANGUAGES += (("ro", 0.5), ("zh", 0.5))
SAVOIR_FAIRE = (("SM54", "Médecine générale", 90), ("SM53", "Spécialiste en médecine générale", 8))
SAVOIR_FAIRE += (("SM26", "Qualifié en médecine générale", 2),)
AGE_GROUPS = ("children", "adults", "seniors")


# --- Generation (in each engine's process, same seed, same data) ----------------------------


def _jitter(rng: random.Random, km: float) -> float:
    return rng.uniform(-km, km) / 111.195


def generate(args, log) -> dict:
    """Communes, GPs, practice situations, declarations and past requests; the organisation."""
    from django.db import transaction
    from django_scopes import scopes_disabled

    from parcours.accounts.models import Organisation
    from parcours.territory.models import Commune
    from parcours.territory.services import communes_import

    workdir = Path(args.workdir)
    places = load_places(centres=Path(args.centres) if args.centres else None)
    started = time.perf_counter()
    report = communes_import(centres=write_centres(places, workdir / "centres.csv"))
    if not report.ok:
        raise SystemExit(report.summary())
    log(f"communes: {report.summary()} ({time.perf_counter() - started:.1f} s)")
    communes = dict(Commune.objects.values_list("insee", "pk"))
    organisation = Organisation.objects.create(
        name="CPTS du banc d'essai", slug="cpts-banc-essai", kind="cpts"
    )
    rng = random.Random(args.seed)
    pick_place = Picker(places, [p.population for p in places])
    started = time.perf_counter()
    with scopes_disabled():
        gps = _generate_gps(args.gps, rng, pick_place, communes, organisation, log)
        with transaction.atomic():
            requests = _generate_past(args.past, rng, gps, organisation)
    log(
        f"generated {args.gps:,} GPs, {gps['situations']:,} situations, "
        f"{gps['declarations']:,} declarations ({gps['valid']:,} valid), {requests:,} past "
        f"requests in {time.perf_counter() - started:.1f} s"
    )
    return {
        "organisation_id": organisation.pk,
        "situations": gps["situations"],
        "declarations": gps["declarations"],
        "valid_declarations": gps["valid"],
        "past_requests": requests,
    }


def _generate_gps(count, rng, pick_place, communes, organisation, log) -> dict:
    from django.db import transaction

    from parcours.directory.models import (
        Availability,
        LocationPrecision,
        PracticeSituation,
        Professional,
        Source,
    )

    pick_language = Picker([c for c, _ in LANGUAGES], [w for _, w in LANGUAGES])
    pick_savoir = Picker(list(SAVOIR_FAIRE), [w for *_, w in SAVOIR_FAIRE])
    today = datetime.date.today()
    totals = {"situations": 0, "declarations": 0, "valid": 0, "valid_ids": [], "emails": {}}
    for first in range(0, count, BATCH):
        people, situations, declarations = [], [], []
        for number in range(first, min(first + BATCH, count)):
            sex = "F" if rng.random() < 0.5 else "M"
            code, label, _weight = pick_savoir(rng)
            extra = pick_language(rng)
            people.append(
                Professional(
                    rpps=f"1{number:010d}",
                    civility_code="DR",
                    civility="Docteur",
                    last_name=rng.choice(SURNAMES),
                    first_name=rng.choice(FIRST_NAMES[sex]),
                    sex=sex,
                    profession_code="10",
                    profession="Médecin",
                    savoir_faire_code=code,
                    savoir_faire=label,
                    languages=["fr", extra] if extra else ["fr"],
                    source=Source.RPPS,
                    checked_on=today,
                    is_active=rng.random() >= 0.02,
                )
            )
        with transaction.atomic():
            Professional.objects.bulk_create(people, batch_size=1000)
            for professional in people:
                home = pick_place(rng)
                activities = rng.choices((1, 2, 3), weights=(80, 17, 3))[0]
                for n in range(activities):
                    place = home if n == 0 or rng.random() < 0.6 else pick_place(rng)
                    email = f"cabinet{professional.rpps}-{n}@example.org"
                    if rng.random() >= 0.85:
                        email = ""
                    situations.append(
                        PracticeSituation(
                            professional=professional,
                            source_key=f"bench-{professional.rpps}-{n}",
                            mode=PracticeSituation.Mode.LIBERAL,
                            place_name=f"Cabinet médical {professional.last_name}",
                            address=f"{rng.randint(1, 120)} rue de la République",
                            postal_code=place.postal_code,
                            commune_id=communes.get(place.insee),
                            latitude=place.latitude + _jitter(rng, 2.5),
                            longitude=place.longitude + _jitter(rng, 3.5),
                            location_precision=LocationPrecision.ADDRESS,
                            email=email,
                            phone=f"0{rng.randint(1, 5)} {rng.randint(10, 99)} "
                            f"{rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                            source=Source.RPPS,
                            checked_on=today,
                            is_active=n == 0 or rng.random() >= 0.1,
                        )
                    )
                    if email and n == 0:
                        totals["emails"][professional.pk] = email
                if rng.random() < 0.7:
                    declarations.append(_declaration(rng, organisation, professional, today))
            PracticeSituation.objects.bulk_create(situations, batch_size=1000)
            Availability.objects.bulk_create(declarations, batch_size=1000)
        totals["situations"] += len(situations)
        totals["declarations"] += len(declarations)
        for declaration in declarations:
            if (
                declaration.accepting != Availability.Accepting.NO
                and declaration.capacity != 0
                and declaration.expires_on >= today
            ):
                totals["valid"] += 1
                totals["valid_ids"].append(declaration.professional_id)
        log(f"  {first + len(people):,} GPs")
    return totals


def _declaration(rng, organisation, professional, today):
    from parcours.directory.models import Availability, Source

    accepting = rng.choices(
        [Availability.Accepting.NOW, Availability.Accepting.WITHIN_SIX_MONTHS,
         Availability.Accepting.NO],
        weights=(35, 20, 45),
    )[0]  # fmt: skip
    roll = rng.random()
    capacity = None if roll < 0.3 else 0 if roll < 0.38 else rng.randint(1, 20)
    expires_on = today + datetime.timedelta(days=rng.randint(-120, 240))
    groups = [group for group in AGE_GROUPS if rng.random() < 0.75]
    return Availability(
        organisation=organisation,
        professional=professional,
        accepting=accepting,
        capacity=capacity,
        age_groups=groups if rng.random() < 0.9 else [],
        home_visits=rng.random() < 0.35,
        declared_on=expires_on - datetime.timedelta(days=180),
        expires_on=expires_on,
        source=Source.SURVEY,
    )


def _generate_past(count, rng, gps, organisation) -> int:
    """Past searches of the organisation and their requests (the fairness counts)."""
    from django.utils import timezone

    from parcours.matching.models import MTSearch, Solicitation
    from parcours.people.models import Person

    now = timezone.now()
    people = Person.objects.bulk_create(
        [
            Person(
                organisation=organisation,
                birth_name=rng.choice(SURNAMES),
                first_names=rng.choice(FIRST_NAMES["F"]),
                match_key=f"bench-{n}",
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    searches = []
    for person in people:
        opened = now - datetime.timedelta(days=rng.uniform(0, 150))
        searches.append(
            MTSearch(
                organisation=organisation,
                person=person,
                status=MTSearch.Status.CLOSED,
                stage_started_at=opened,
                radius_km=10,
                opened_at=opened,
                closed_at=opened + datetime.timedelta(days=20),
                close_reason="Banc d'essai.",
            )
        )
    MTSearch.objects.bulk_create(searches, batch_size=1000)
    asked = [pk for pk in gps["valid_ids"] if pk in gps["emails"]]
    statuses = [s for s in Solicitation.Status.values if s != Solicitation.Status.SENT]
    requests = []
    for search in searches:
        for rank, professional_id in enumerate(rng.sample(asked, rng.randint(3, 6)), start=1):
            requests.append(
                Solicitation(
                    organisation=organisation,
                    search=search,
                    professional_id=professional_id,
                    wave=1,
                    email=gps["emails"][professional_id],
                    rank=rank,
                    score=round(rng.uniform(20, 80), 1),
                    status=rng.choice(statuses),
                    sent_at=search.opened_at,
                )
            )
    Solicitation.objects.bulk_create(requests, batch_size=1000)
    return len(requests)


# --- The rankings --------------------------------------------------------------------------


def searches(places, count: int, seed: int) -> list:
    """Person locations drawn by population, with random preferences and radii."""
    from parcours.matching.ranking import Wanted

    rng = random.Random(seed)
    pick_place = Picker(places, [p.population for p in places])
    pick_language = Picker([c for c, _ in LANGUAGES if c], [w for c, w in LANGUAGES if c])
    found = []
    for _ in range(count):
        place = pick_place(rng)
        found.append(
            Wanted(
                latitude=place.latitude + _jitter(rng, 2.0),
                longitude=place.longitude + _jitter(rng, 3.0),
                radius_km=float(rng.randint(5, 30)),
                doctor_sex=rng.choices(("", "F", "M"), weights=(60, 25, 15))[0],
                languages=(pick_language(rng),) if rng.random() < 0.2 else (),
                home_visits=rng.random() < 0.2,
                age_group=rng.choice(("", *AGE_GROUPS)),
            )
        )
    return found


# What is timed: the first lines of the search page (``limit=20``), a wave (the best five
# with an e-mail) and the whole ranking (the call round lists every candidate).
MODES = {
    "page": {"limit": 20},
    "wave": {"limit": 5, "email_only": True},
    "full": {},
}


def run_rankings(args, places, organisation_id: int, log) -> dict:
    from django.db import connection
    from django_scopes import scope

    from parcours.accounts.models import Organisation
    from parcours.matching import ranking

    organisation = Organisation.objects.get(pk=organisation_id)
    figures: dict = {}
    with scope(organisation=organisation):
        for wanted in searches(places, 50, args.seed + 1):  # warm-up: caches, plans
            for options in MODES.values():
                ranking.rank(organisation=organisation, wanted=wanted, **options)
        timings = {mode: [] for mode in MODES}
        queries = {mode: [] for mode in MODES}
        sizes, slowest = [], []
        counter = QueryCounter()
        with _profiled(args, f"{args.database}-rank"), connection.execute_wrapper(counter):
            for wanted in searches(places, args.searches, args.seed + 2):
                for mode, options in MODES.items():
                    before = counter.count
                    started = time.perf_counter()
                    found = ranking.rank(organisation=organisation, wanted=wanted, **options)
                    elapsed = (time.perf_counter() - started) * 1000
                    timings[mode].append(elapsed)
                    queries[mode].append(counter.count - before)
                sizes.append(len(found))  # the whole ranking's
                slowest.append((timings["page"][-1], elapsed, len(found), wanted))
    if args.verbose:
        for page, full, size, wanted in sorted(slowest, key=lambda item: -item[0])[:10]:
            log(
                f"  page {page:6.1f} ms, full {full:6.1f} ms, {size:5} candidates, "
                f"{wanted.radius_km:.0f} km at ({wanted.latitude:.3f}, {wanted.longitude:.3f})"
            )
    for mode in MODES:
        for p in (50, 95, 99):
            figures[f"{mode}_p{p}_ms"] = _percentile(timings[mode], p)
        figures[f"{mode}_max_ms"] = max(timings[mode])
        figures[f"{mode}_queries_mean"] = statistics.fmean(queries[mode])
        figures[f"{mode}_queries_max"] = max(queries[mode])
    figures["candidates_mean"] = statistics.fmean(sizes)
    figures["candidates_p95"] = _percentile([float(s) for s in sizes], 95)
    figures["candidates_max"] = max(sizes)
    return figures


# --- One engine (child process) ---------------------------------------------------------------


def run_engine(args) -> dict:
    workdir = Path(args.workdir)
    os.environ["DATABASE_URL"] = _database_url(
        args.database, workdir, sqlite_name=SQLITE_NAME, database=POSTGRES_DATABASE
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parcours.settings")
    os.environ["DEBUG"] = "0"  # DEBUG would keep every SQL statement in memory
    if args.database == "postgres" and not args.reuse:
        _postgres_admin(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
        _postgres_admin(f"CREATE DATABASE {POSTGRES_DATABASE}")
    if args.database == "sqlite" and not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{workdir / SQLITE_NAME}{suffix}").unlink(missing_ok=True)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    log = _logger(args.database)
    figures: dict = {"engine": args.database}
    places = load_places(centres=Path(args.centres) if args.centres else None)
    state = workdir / f"state-{args.database}.json"
    if args.reuse:
        figures.update(json.loads(state.read_text()))
    else:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        figures.update(generate(args, log))
        figures["generate_seconds"] = time.perf_counter() - started
        with connection.cursor() as cursor:  # as autovacuum (or the imports) would have
            cursor.execute("VACUUM ANALYZE" if args.database == "postgres" else "ANALYZE")
        state.write_text(json.dumps(figures))
    figures.update(run_rankings(args, places, figures["organisation_id"], log))
    figures["database_bytes"] = _database_size(args.database, workdir, sqlite_name=SQLITE_NAME)
    for mode in MODES:
        log(
            f"{mode}: p50 {figures[f'{mode}_p50_ms']:.1f} ms, p95 {figures[f'{mode}_p95_ms']:.1f}"
            f" ms, p99 {figures[f'{mode}_p99_ms']:.1f} ms"
        )
    connection.close()
    if args.database == "postgres" and not args.keep:
        _postgres_admin(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
    return figures


def _logger(engine: str):
    def log(message: str) -> None:
        print(f"[{engine}] {message}", file=sys.stderr, flush=True)

    return log


# --- The parent process -----------------------------------------------------------------------


def print_table(results: list[dict], args) -> None:
    print(f"\nMatching benchmark: {args.gps:,} GPs, {args.searches:,} searches")
    print(f"machine: {_machine()}")
    rows = [
        ("practice situations", "situations", "{:,}"),
        ("declarations (valid)", "declarations", ""),
        ("past requests", "past_requests", "{:,}"),
        ("generation (s)", "generate_seconds", "{:,.1f}"),
        ("candidates mean / p95 / max", "candidates", ""),
    ]
    for mode in MODES:
        for p in (50, 95, 99):
            rows.append((f"{mode}: rank p{p} (ms)", f"{mode}_p{p}_ms", "{:.1f}"))
        rows.append((f"{mode}: SQL queries (mean / max)", f"{mode}_queries", ""))
    rows.append(("database size (MiB)", "database_bytes", "{:,.0f}"))
    print(f"{'':36}" + "".join(f"{r['engine']:>20}" for r in results))
    for label, key, fmt in rows:
        cells = []
        for r in results:
            if key == "declarations":
                value = f"{r['declarations']:,} ({r['valid_declarations']:,})"
            elif key == "candidates":
                value = (
                    f"{r['candidates_mean']:.0f} / {r['candidates_p95']:.0f} / "
                    f"{r['candidates_max']}"
                )
            elif key.endswith("_queries"):
                value = f"{r[key + '_mean']:.1f} / {r[key + '_max']}"
            elif key not in r:
                value = "-"
            elif key == "database_bytes":
                value = fmt.format(r[key] / 2**20)
            else:
                value = fmt.format(r[key])
            if key.endswith("_p95_ms"):
                value += " ok" if r[key] <= TARGETS["rank_p95_ms"] else " !!"
            cells.append(f"{value:>20}")
        print(f"{label:36}" + "".join(cells))
    print(
        f"target: rank p95 ≤ {TARGETS['rank_p95_ms']:.0f} ms. page = the search page's first "
        "20 lines, wave = the best 5 with an e-mail, full = every candidate (no page reads it)"
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gps", type=int, default=100_000, help="GPs (100,000)")
    parser.add_argument("--past", type=int, default=1_000, help="past searches (1,000)")
    parser.add_argument("--searches", type=int, default=1_000, help="rankings timed (1,000)")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--centres", help="real commune centres CSV (insee_com, lat, lng)")
    parser.add_argument("--workdir", help="keep the SQLite database and the state here")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--reuse", action="store_true", help="skip generation: rank on --workdir's databases"
    )
    parser.add_argument("--profile", help="write cProfile stats of the rankings to this folder")
    parser.add_argument("--verbose", action="store_true", help="list the slowest rankings")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        Path(args.json).write_text(json.dumps(run_engine(args)))
        return 0
    if args.reuse and not args.workdir:
        raise SystemExit("--reuse needs --workdir (and --keep for PostgreSQL)")
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-mt-"))
    workdir.mkdir(parents=True, exist_ok=True)
    engines = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    results = []
    try:
        for engine in engines:
            output = workdir / f"figures-{engine}.json"
            command = [sys.executable, __file__, "--child", "--database", engine]
            command += ["--workdir", str(workdir), "--json", str(output)]
            for name in ("gps", "past", "searches", "seed"):
                command += [f"--{name}", str(getattr(args, name))]
            for name in ("centres", "profile"):
                if getattr(args, name):
                    command += [f"--{name}", getattr(args, name)]
            for name in ("keep", "reuse", "verbose"):
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
