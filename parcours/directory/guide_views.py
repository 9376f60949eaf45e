"""The guide social: pages on rights and procedures, public, with the services that handle them.

The pages are general information (sources: service-public.gouv.fr, ameli.fr), so anyone may
read them; a member of the directory's staff also sees the organisation's services that
accompany the procedure.
"""

from django.http import Http404
from django.shortcuts import render
from django.utils.safestring import mark_safe

from parcours.accounts.access import PUBLIC, access
from parcours.accounts.models import Role

from . import selectors
from .guide import guide_html, guide_page, guide_pages

STAFF = {Role.COORDINATOR, Role.MANAGER, Role.ADMINISTRATOR}


def _organisation_if_staff(request):
    membership = getattr(request, "membership", None)
    return request.organisation if membership and membership.role in STAFF else None


@access(PUBLIC)
def guide_list(request):
    query = request.GET.get("q", "").strip()[:200]
    pages = selectors.guide_search(query) if query else guide_pages()
    return render(request, "directory/guide_list.html", {"pages": pages, "query": query})


@access(PUBLIC)
def guide_detail(request, slug: str):
    page = guide_page(slug)
    if page is None:
        raise Http404
    services = selectors.guide_services(organisation=_organisation_if_staff(request), slug=slug)
    context = {
        "page": page,
        "body": mark_safe(guide_html(page)),  # noqa: S308 (Markdown from the repo, raw HTML escaped)
        "services": services,
        "staff": _organisation_if_staff(request) is not None,
    }
    return render(request, "directory/guide_detail.html", context)
