"""Which user account is which directory GP (``ProfessionalAccount``).

An administrator links a professional member of the organisation to the RPPS number of a
general practitioner of the directory; the GP then finds his requests, his new patients and
his availability on his own page (``gp_views.py``). One account per GP and one GP per
account; linking and unlinking are audited. An administrator acts only on the members of
his organisation.

- ``account_rows(*, organisation)``: the organisation's professional members, each with the
  GP it is linked to (or None); ``linkable_members(*, organisation)``.
- ``account_link(*, organisation, membership, rpps, by, request=None)``
- ``account_unlink(*, organisation, membership, by, request=None)``
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from parcours.accounts.models import Membership, Role
from parcours.audit.models import Action
from parcours.audit.services import audit_log
from parcours.directory.models import Professional
from parcours.directory.survey import is_gp

from .models import ProfessionalAccount

RPPS = re.compile(r"^\d{11}$")


@dataclass(frozen=True)
class AccountRow:
    membership: Membership
    account: ProfessionalAccount | None


def linkable_members(*, organisation):
    """The members an account can be linked for: active professionals."""
    return (
        Membership.objects.filter(organisation=organisation, role=Role.PROFESSIONAL, is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )


def account_rows(*, organisation) -> list[AccountRow]:
    """The professional members, and any other member still linked to a GP."""
    members = list(
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )
    accounts = {
        account.user_id: account
        for account in ProfessionalAccount.objects.filter(
            user_id__in=[m.user_id for m in members]
        ).select_related("professional")
    }
    return [
        AccountRow(membership=m, account=accounts.get(m.user_id))
        for m in members
        if m.role == Role.PROFESSIONAL or m.user_id in accounts
    ]


def _professional(rpps: str) -> Professional:
    rpps = re.sub(r"\s", "", rpps or "")
    if not RPPS.match(rpps):
        raise ValidationError({"rpps": _("Le numéro RPPS compte 11 chiffres.")})
    professional = Professional.objects.filter(rpps=rpps).first()
    if professional is None:
        raise ValidationError({"rpps": _("Aucun professionnel de l'annuaire n'a ce numéro RPPS.")})
    if not is_gp(professional):
        raise ValidationError(
            {
                "rpps": _(
                    "Ce professionnel n'est pas médecin généraliste : seuls les médecins "
                    "généralistes reçoivent les demandes de médecin traitant."
                )
            }
        )
    return professional


def _check_member(organisation, membership: Membership) -> None:
    if (
        membership.organisation_id != organisation.pk
        or membership.role != Role.PROFESSIONAL
        or not membership.is_active
    ):
        raise ValidationError(
            {"membership": _("Choisissez un professionnel de santé actif de l'organisation.")}
        )


def account_link(
    *, organisation, membership: Membership, rpps: str, by, request=None
) -> ProfessionalAccount:
    _check_member(organisation, membership)
    professional = _professional(rpps)
    taken = ProfessionalAccount.objects.filter(professional=professional).first()
    if taken is not None and taken.user_id != membership.user_id:
        raise ValidationError({"rpps": _("Ce médecin est déjà lié au compte d'un autre membre.")})
    if taken is not None:
        return taken  # already this member's: nothing to do
    if ProfessionalAccount.objects.filter(user_id=membership.user_id).exists():
        raise ValidationError(
            {"membership": _("Ce membre est déjà lié à un médecin : déliez-le d'abord.")}
        )
    try:
        with transaction.atomic():
            account = ProfessionalAccount.objects.create(
                user_id=membership.user_id,
                professional=professional,
                linked_at=timezone.now(),
                linked_by=by,
            )
    except IntegrityError:  # linked meanwhile by someone else
        raise ValidationError(
            _("Ce médecin ou ce membre vient d'être lié : rechargez la page.")
        ) from None
    audit_log(
        action=Action.CREATE,
        request=request,
        actor=by,
        organisation=organisation,
        obj=account,
        details={"user": membership.user_id, "professional": professional.pk},
    )
    return account


def account_unlink(*, organisation, membership: Membership, by, request=None) -> bool:
    """Unlink the member's account; False when it was not linked."""
    if membership.organisation_id != organisation.pk:
        raise ValidationError(_("Ce membre n'appartient pas à votre organisation."))
    account = ProfessionalAccount.objects.filter(user_id=membership.user_id).first()
    if account is None:
        return False
    details = {"user": account.user_id, "professional": account.professional_id}
    account_id = account.pk
    account.delete()
    audit_log(
        action=Action.DELETE,
        request=request,
        actor=by,
        organisation=organisation,
        object_type="matching.professionalaccount",
        object_id=account_id,
        details=details,
    )
    return True
