"""Reads on the directory."""

from functools import cache

from django.db.models import QuerySet
from django.http import Http404

from parcours.accounts.models import Organisation
from parcours.lib.text import fold

from .guide import GuidePage, guide_pages
from .models import Service
from .search import TYPO_MIN_LENGTH, one_edit_away, query_words


def service_list(*, organisation: Organisation, archived: bool = False) -> QuerySet[Service]:
    return (
        Service.objects.filter(organisation=organisation, is_active=not archived)
        .select_related("commune", "checked_by")
        .order_by("name")
    )


def service_get(*, organisation: Organisation, service_id: int) -> Service:
    """One service of the organisation; another organisation's answers 404."""
    try:
        return Service.objects.select_related("commune").get(
            organisation=organisation, pk=service_id
        )
    except Service.DoesNotExist:
        raise Http404 from None


# --- Guide social ------------------------------------------------------------------------------

# Where a query word is found weighs on the order: title, then keywords, summary, body.
GUIDE_WEIGHTS = (("title", 8), ("keywords", 4), ("summary", 2), ("body_markdown", 1))


@cache
def _guide_words(page: GuidePage) -> dict[str, frozenset[str]]:
    texts = {
        "title": page.title,
        "keywords": " ".join(page.keywords),
        "summary": page.summary,
        "body_markdown": page.body_markdown,
    }
    return {part: frozenset(fold(text).split()) for part, text in texts.items()}


def _prefixes_a_word(word: str, vocabulary: frozenset[str]) -> bool:
    return any(known.startswith(word) for known in vocabulary)


def guide_search(text: str) -> list[GuidePage]:
    """Guide pages having every query word as a word prefix (the directory's rules: case and
    accents ignored, one typo tolerated in words of five letters or more), best first."""
    words = query_words(text)
    if not words:
        return []
    found = []
    for page in guide_pages():
        parts = _guide_words(page)
        vocabulary = frozenset().union(*parts.values())
        score = 0
        for word in words:
            spellings = [word] if _prefixes_a_word(word, vocabulary) else []
            if not spellings and len(word) >= TYPO_MIN_LENGTH:
                spellings = [w for w in one_edit_away(word) if _prefixes_a_word(w, vocabulary)]
            if not spellings:
                break
            score += max(
                weight
                for part, weight in GUIDE_WEIGHTS
                for spelling in spellings
                if _prefixes_a_word(spelling, parts[part])
            )
        else:
            found.append((-score, page.title, page))
    return [page for *_, page in sorted(found, key=lambda item: item[:2])]


def guide_services(*, organisation: Organisation | None, slug: str) -> list[Service]:
    """The organisation's active services that handle the procedure of this guide page."""
    if organisation is None:
        return []
    return [
        service
        for service in service_list(organisation=organisation)
        if slug in (service.procedures or [])
    ]
