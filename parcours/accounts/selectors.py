"""Reads on accounts: who is the user here, and who belongs to an organisation."""

from allauth.mfa.models import Authenticator
from django.db.models import QuerySet
from django.http import Http404
from django_scopes import scopes_disabled

from .models import Membership, Organisation, User


def membership_current(*, user: User, organisation_id: int | None) -> Membership | None:
    """The membership a request acts under: the chosen organisation, else the first one."""
    with scopes_disabled():
        memberships = (
            Membership.objects.filter(user=user, is_active=True, organisation__isnull=False)
            .select_related("organisation")
            .order_by("created_at", "pk")
        )
        if organisation_id is not None:
            chosen = next((m for m in memberships if m.organisation_id == organisation_id), None)
            if chosen is not None:
                return chosen
        return memberships.first()


def memberships_for_user(*, user: User) -> list[Membership]:
    with scopes_disabled():
        return list(
            Membership.objects.filter(user=user, is_active=True).select_related("organisation")
        )


def organisation_list_public() -> QuerySet[Organisation]:
    """The instance's organisations, as the public home page lists them (names only)."""
    return Organisation.objects.order_by("name")


def user_has_second_factor(*, user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def membership_list(*, organisation: Organisation) -> QuerySet[Membership]:
    """The organisation's members (inside the request's scope)."""
    return (
        Membership.objects.filter(organisation=organisation)
        .select_related("user", "invitation")
        .order_by("user__last_name", "user__first_name", "user__email")
    )


def membership_get(*, organisation: Organisation, membership_id: int) -> Membership:
    """One member of the organisation; another organisation's member answers 404."""
    try:
        return membership_list(organisation=organisation).get(pk=membership_id)
    except Membership.DoesNotExist:
        raise Http404 from None
