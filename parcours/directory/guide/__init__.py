"""The "guide social": short pages on rights and procedures for coordinators.

Each page is a Markdown file next to this module, opened by a front matter block:

    ---
    title: Complémentaire santé solidaire (C2S)
    slug: c2s
    summary: One sentence.
    keywords: [cmu-c, acs, mutuelle]
    handled_by: [cpam, ccas]
    circle: rights
    sources: [https://www.service-public.gouv.fr/...]
    updated: 2026-11-24
    ---

The parser below reads exactly this format (one ``key: value`` per line, lists in square
brackets, items separated by commas) so the guide needs no YAML dependency.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

GUIDE_DIR = Path(__file__).resolve().parent

# Values of directory.models.Circle, kept here so the loader does not import Django models.
CIRCLES = ("care", "coordination", "rights", "housing")
# Categories of services that handle a procedure; the directory's service categories use them.
HANDLERS = (
    "cpam",
    "caf",
    "mdph",
    "ccas",
    "cias",
    "pass",
    "hopital",
    "departement",
    "association",
    "msa",
)
SECTIONS = (
    "Pour qui",
    "Ce que ça apporte",
    "Comment faire",
    "Points d'attention pour la coordinatrice",
    "Qui contacter",
)

_LIST_FIELDS = ("keywords", "handled_by", "sources")
_FIELDS = ("title", "slug", "summary", *_LIST_FIELDS, "circle", "updated")
_FENCE = "---"
_COMMENT = re.compile(r"\s+#.*$")  # " # note" after a value; a URL fragment has no space


class GuideError(ValueError):
    """A guide page whose front matter does not follow the expected format."""


@dataclass(frozen=True)
class GuidePage:
    title: str
    slug: str
    summary: str
    keywords: tuple[str, ...]
    handled_by: tuple[str, ...]
    circle: str
    sources: tuple[str, ...]
    updated: datetime.date
    body_markdown: str


def sort_key(text: str) -> str:
    """Accent- and case-insensitive key, so "Élection" sorts with the E's."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_page(text: str, *, name: str = "<page>") -> GuidePage:
    lines = text.splitlines()
    if not lines or lines[0].strip() != _FENCE:
        raise GuideError(f"{name}: the file must start with a '---' line")
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == _FENCE)
    except StopIteration:
        raise GuideError(f"{name}: the front matter is not closed by '---'") from None
    meta = _parse_front_matter(lines[1:end], name=name)
    body = "\n".join(lines[end + 1 :]).strip() + "\n"
    try:
        updated = datetime.date.fromisoformat(meta["updated"])
    except ValueError:
        raise GuideError(f"{name}: 'updated' must be a date YYYY-MM-DD") from None
    return GuidePage(
        title=meta["title"],
        slug=meta["slug"],
        summary=meta["summary"],
        keywords=_split_list(meta["keywords"], "keywords", name),
        handled_by=_split_list(meta["handled_by"], "handled_by", name),
        circle=meta["circle"],
        sources=_split_list(meta["sources"], "sources", name),
        updated=updated,
        body_markdown=body,
    )


def _parse_front_matter(lines: list[str], *, name: str) -> dict[str, str]:
    meta: dict[str, str] = {}
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or key not in _FIELDS:
            raise GuideError(f"{name}, line {number}: expected one of {', '.join(_FIELDS)}")
        if key in meta:
            raise GuideError(f"{name}, line {number}: '{key}' is given twice")
        meta[key] = _COMMENT.sub("", value).strip()
    missing = [field for field in _FIELDS if not meta.get(field)]
    if missing:
        raise GuideError(f"{name}: missing or empty {', '.join(missing)}")
    return meta


def _split_list(value: str, field: str, name: str) -> tuple[str, ...]:
    if not (value.startswith("[") and value.endswith("]")):
        raise GuideError(f"{name}: '{field}' must be a list in square brackets")
    items = tuple(item.strip() for item in value[1:-1].split(","))
    if not all(items):
        raise GuideError(f"{name}: '{field}' has an empty item")
    return items


@functools.cache
def _load() -> tuple[GuidePage, ...]:
    pages = (
        parse_page(path.read_text(encoding="utf-8"), name=path.name)
        for path in GUIDE_DIR.glob("*.md")
    )
    return tuple(sorted(pages, key=lambda page: sort_key(page.title)))


def guide_pages() -> list[GuidePage]:
    """Every page of the guide, sorted by title (read once per process)."""
    return list(_load())


def guide_page(slug: str) -> GuidePage | None:
    return next((page for page in _load() if page.slug == slug), None)


def guide_html(page: GuidePage) -> str:
    """The page's body as HTML. Raw HTML in the Markdown is escaped, not passed through:
    the pages are reviewed text, and the page is still safe if one slips in."""
    import markdown

    renderer = markdown.Markdown(extensions=["sane_lists"], output_format="html")
    renderer.preprocessors.deregister("html_block")
    renderer.inlinePatterns.deregister("html")
    return renderer.convert(page.body_markdown)
