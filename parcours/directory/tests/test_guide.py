"""The guide social: its pages exist, their front matter is valid, and the loader reads them."""

import datetime
import re
from urllib.parse import urlparse

import pytest

from parcours.directory.guide import (
    CIRCLES,
    GUIDE_DIR,
    HANDLERS,
    SECTIONS,
    GuideError,
    guide_page,
    guide_pages,
    parse_page,
    sort_key,
)
from parcours.directory.models import Circle

REQUIRED_SLUGS = {"c2s", "ame", "ald", "mdph", "rsa", "domiciliation", "pass"}
OFFICIAL_DOMAINS = ("gouv.fr", "ameli.fr")

# An amount in euros written in figures ("10 339 €", "646,52 euros")…
AMOUNT = re.compile(r"\d[\d\s\u202f.,]*\s?(?:€|euros?\b)", re.IGNORECASE)
# …is a yearly-revised figure when it sits next to one of these words.
REVISED_WORDS = re.compile(
    r"plafond|montant|barème|seuil|ressources|revenu|revaloris|revu", re.IGNORECASE
)
WINDOW = 120


def revised_amounts(text):
    """Euro amounts in figures that stand within WINDOW characters of a ceiling/amount word."""
    return [
        m.group()
        for m in AMOUNT.finditer(text)
        if REVISED_WORDS.search(text[max(0, m.start() - WINDOW) : m.end() + WINDOW])
    ]


def words(text):
    return [token for token in text.split() if re.search(r"\w", token)]


PAGES = guide_pages()


def page_id(page):
    return page.slug


def test_it_has_every_required_page():
    assert REQUIRED_SLUGS <= {page.slug for page in PAGES}


def test_it_reads_every_markdown_file():
    assert len(PAGES) == len(list(GUIDE_DIR.glob("*.md")))


def test_it_keeps_slugs_and_titles_unique():
    assert len({page.slug for page in PAGES}) == len(PAGES)
    assert len({page.title for page in PAGES}) == len(PAGES)


def test_its_circles_are_those_of_the_directory():
    assert set(CIRCLES) == set(Circle.values)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_it_names_each_file_after_its_slug(page):
    assert (GUIDE_DIR / f"{page.slug}.md").is_file()
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", page.slug)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_its_front_matter_is_valid(page):
    assert page.title.strip() and page.summary.endswith(".")
    assert page.circle in CIRCLES
    assert page.handled_by and set(page.handled_by) <= set(HANDLERS)
    assert page.keywords and all(k == k.lower() for k in page.keywords)
    assert len(set(page.keywords)) == len(page.keywords)
    assert page.updated <= datetime.date.today()


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_its_sources_are_official_https_pages(page):
    assert page.sources
    for url in page.sources:
        parts = urlparse(url)
        assert parts.scheme == "https", url
        host = parts.hostname or ""
        assert any(host == d or host.endswith("." + d) for d in OFFICIAL_DOMAINS), url


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_its_body_has_the_five_sections_in_order(page):
    headings = re.findall(r"^## (.+?)\s*$", page.body_markdown, flags=re.MULTILINE)
    assert headings == list(SECTIONS)
    sections = re.split(r"^## .+$", page.body_markdown, flags=re.MULTILINE)[1:]
    assert all(words(section) for section in sections)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_its_body_is_a_short_page(page):
    assert 250 <= len(words(page.body_markdown)) <= 500


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_it_gives_no_yearly_revised_amount(page):
    assert revised_amounts(page.body_markdown) == []
    assert revised_amounts(page.summary) == []


def test_the_amount_check_catches_ceilings_and_spares_other_figures():
    assert revised_amounts("Le plafond est de 10 339 € par an pour une personne seule.")
    assert revised_amounts("Montant forfaitaire : 646,52 euros par mois.")
    assert revised_amounts("Ressources annuelles inférieures à 13\u202f957 €.")
    assert not revised_amounts("Une consultation à 30 € est remboursée sans avance de frais.")
    assert not revised_amounts("Le plafond est revu chaque année : voir le simulateur.")


def test_it_returns_pages_sorted_by_title():
    keys = [sort_key(page.title) for page in guide_pages()]
    assert keys == sorted(keys)
    assert sort_key("Élection") < sort_key("Enfant")


def test_it_finds_a_page_by_slug():
    page = guide_page("c2s")
    assert page is not None and "C2S" in page.title
    assert "cmu-c" in page.keywords
    assert guide_page("no-such-page") is None


def test_it_returns_a_fresh_list_each_time():
    pages = guide_pages()
    pages.clear()
    assert guide_pages()


VALID = """---
title: Test
slug: test
summary: One sentence.
keywords: [a, b]   # a note
handled_by: [cpam]
circle: rights
sources: [https://www.service-public.gouv.fr/x#section]
updated: 2026-01-02
---

## Pour qui

Body.
"""


def test_it_parses_the_front_matter_format():
    page = parse_page(VALID)
    assert page.keywords == ("a", "b")
    assert page.sources == ("https://www.service-public.gouv.fr/x#section",)
    assert page.updated == datetime.date(2026, 1, 2)
    assert page.body_markdown == "## Pour qui\n\nBody.\n"


@pytest.mark.parametrize(
    "broken",
    [
        VALID.replace("circle: rights\n", ""),
        VALID.replace("keywords: [a, b]", "keywords: a, b"),
        VALID.replace("keywords: [a, b]", "keywords: [a, , b]"),
        VALID.replace("updated: 2026-01-02", "updated: 2 janvier"),
        VALID.replace("slug: test", "slug: test\nslug: other"),
        VALID.replace("slug: test", "colour: red"),
        VALID.replace("---\n\n## Pour qui", "\n## Pour qui"),
        VALID.removeprefix("---\n"),
    ],
    ids=["missing", "not-a-list", "empty-item", "bad-date", "twice", "unknown", "open", "no-fence"],
)
def test_it_refuses_a_malformed_front_matter(broken):
    with pytest.raises(GuideError):
        parse_page(broken)
