"""Reads on the directory."""

from django.db.models import QuerySet
from django.http import Http404

from parcours.accounts.models import Organisation

from .models import Service


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
