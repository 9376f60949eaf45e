"""Writes on the directory's hand-entered services (the "Service" model)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from parcours.accounts.models import Organisation, User
from parcours.audit.models import Action
from parcours.audit.services import audit_log

from .geocoding import geocode
from .models import Consultation, Service, Source

EDITABLE_FIELDS = (
    "name",
    "description",
    "category",
    "circle",
    "public_served",
    "eligibility",
    "languages",
    "fees",
    "opening_hours",
    "accessibility",
    "website",
    "address",
    "postal_code",
    "commune",
    "phone",
    "phone_public",
    "email",
    "email_public",
    "procedures",
)


def _locate(service: Service) -> None:
    """Coordinates of the address (BAN), else of its street, else the commune centre."""
    location = geocode(address=service.address, commune=service.commune)
    service.latitude, service.longitude = location.latitude, location.longitude
    service.location_precision = location.precision


@transaction.atomic
def service_create(*, organisation: Organisation, by: User, data: dict, request=None) -> Service:
    communes_served = data.pop("communes_served", [])
    service = Service(
        organisation=organisation,
        source=Source.MANUAL,
        checked_on=timezone.localdate(),
        checked_by=by,
        **data,
    )
    _locate(service)
    service.full_clean()
    service.save()
    service.communes_served.set(communes_served)
    audit_log(action=Action.CREATE, request=request, obj=service)
    return service


@transaction.atomic
def service_update(
    *, service: Service, version: int, by: User, data: dict, request=None
) -> Service:
    """Save an edit made on ``version``; refuse it if someone saved another edit meanwhile."""
    communes_served = data.pop("communes_served", None)
    changed = sorted(name for name, value in data.items() if getattr(service, name) != value)
    for name, value in data.items():
        setattr(service, name, value)
    _locate(service)
    service.full_clean()
    values = {name: getattr(service, name) for name in EDITABLE_FIELDS if name in data}
    values.update(
        latitude=service.latitude,
        longitude=service.longitude,
        location_precision=service.location_precision,
        source=Source.MANUAL,
        checked_on=timezone.localdate(),
        checked_by=by,
        version=F("version") + 1,
    )
    if not Service.objects.filter(pk=service.pk, version=version).update(**values):
        raise ValidationError(
            _(
                "Cette fiche a été modifiée par quelqu'un d'autre pendant que vous la "
                "modifiiez. Rechargez la page pour voir la version enregistrée, puis refaites "
                "votre modification."
            )
        )
    if communes_served is not None:
        service.communes_served.set(communes_served)
    service.refresh_from_db()
    audit_log(action=Action.UPDATE, request=request, obj=service, details={"fields": changed})
    return service


@transaction.atomic
def service_archive(*, service: Service, archived: bool, by: User, request=None) -> Service:
    """Archive (hide from searches, keep the history) or bring back a service."""
    Service.objects.filter(pk=service.pk).update(is_active=not archived, version=F("version") + 1)
    service.refresh_from_db()
    audit_log(action=Action.UPDATE, request=request, obj=service, details={"archived": archived})
    return service


def consultation_record(*, public: bool) -> None:
    """Count one directory search for today (no IP, no query, no user)."""
    today = timezone.localdate()
    Consultation.objects.get_or_create(day=today, public=public)
    Consultation.objects.filter(day=today, public=public).update(count=F("count") + 1)
