"""The DPO page: the organisation's audit trail, filtered, and its CSV export."""

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from parcours.accounts.access import access
from parcours.accounts.models import Role

from . import selectors
from .exports import audit_events_csv
from .forms import EventFilterForm

PAGE_SIZE = 50


def _render_list(request, form, events=None, status=200):
    """The page; without ``events`` (invalid filters) only the form and its errors."""
    page = None
    if events is not None:
        page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page_obj": page}
    return render(request, "audit/event_list.html", context, status=status)


@access(Role.ADMINISTRATOR)
def event_list(request):
    form = EventFilterForm(request.GET or None, organisation=request.organisation)
    if request.GET and not form.is_valid():
        return _render_list(request, form)
    filters = form.filters() if form.is_bound else selectors.EventFilters()
    events = selectors.audit_event_list(organisation=request.organisation, filters=filters)
    return _render_list(request, form, events)


@access(Role.ADMINISTRATOR)
def event_export(request):
    form = EventFilterForm(request.GET, organisation=request.organisation)
    if not form.is_valid():
        return _render_list(request, form, status=400)
    _count, events = selectors.audit_event_export(
        organisation=request.organisation, filters=form.filters(), request=request
    )
    response = StreamingHttpResponse(
        audit_events_csv(events.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
    )
    filename = f"journal-audit-{request.organisation.slug}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
