"""Writes on accounts: invitations, memberships, login records."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from parcours.audit.models import Action
from parcours.audit.services import audit_log

from .models import Invitation, Membership, Organisation, Role, User

INVITATION_SALT = "parcours.accounts.invitation"


# --- Login records -------------------------------------------------------------------------


def _home_organisation(user: User | None) -> Organisation | None:
    """The organisation whose DPO sees a login event: the user's current one."""
    from .selectors import membership_current

    membership = membership_current(user=user, organisation_id=None) if user else None
    return membership.organisation if membership else None


def login_record(*, request, user: User) -> None:
    audit_log(
        action=Action.LOGIN,
        request=request,
        actor=user,
        organisation=_home_organisation(user),
        obj=user,
    )


def login_failed_record(*, request, credentials: dict) -> None:
    """A failed login. The attempted identifier is not stored: only the account id if it exists."""
    from .adapters import axes_username

    email = axes_username(request, credentials)
    user = User.objects.filter(email__iexact=email).only("pk").first() if email else None
    audit_log(
        action=Action.LOGIN_FAILED,
        request=request,
        actor=user,
        organisation=_home_organisation(user),
        object_type="accounts.user" if user else "",
        object_id=user.pk if user else "",
        details={"known_account": user is not None},
    )


def email_mark_verified(*, user: User) -> None:
    """Record the login address as verified for allauth (the person proved they receive it:
    they followed the e-mailed link). allauth refuses to set up a second factor otherwise."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


# --- Invitations ---------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    """The signed link token. It names the expiry too, so that a resent invitation (new
    expiry) makes the links of earlier e-mails unusable."""
    return signing.dumps(
        {"i": invitation.pk, "e": invitation.expires_at.timestamp()}, salt=INVITATION_SALT
    )


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse(
        "accounts:invitation-accept", args=[invitation_token(invitation)]
    )


@transaction.atomic
def invitation_create(
    *,
    organisation: Organisation,
    invited_by: User | None,
    email: str,
    role: Role | str,
    first_name: str = "",
    last_name: str = "",
    request=None,
) -> Invitation:
    """Create (or reactivate) the account and membership, and e-mail a link to set a password."""
    email = User.objects.normalize_email(email).strip().lower()
    role = Role(role)
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(
            email, password=None, first_name=first_name, last_name=last_name
        )
    if Membership.objects.filter(organisation=organisation, user=user).exists():
        raise ValidationError(_("Cette personne est déjà membre de l'organisation."))
    membership = Membership.objects.create(organisation=organisation, user=user, role=role)
    invitation = Invitation.objects.create(
        organisation=organisation,
        membership=membership,
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    audit_log(
        action=Action.CREATE,
        request=request,
        organisation=organisation,
        obj=invitation,
        details={"role": role.value, "membership": membership.pk, "user": user.pk},
    )
    _invitation_send(invitation)
    return invitation


def _invitation_send(invitation: Invitation) -> None:
    context = {
        "organisation": invitation.organisation,
        "url": invitation_url(invitation),
        "expires_at": invitation.expires_at,
        "valid_days": settings.INVITATION_VALID_DAYS,
    }
    send_mail(
        subject=_("Invitation à rejoindre Parcours"),
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.membership.user.email],
    )


def invitation_from_token(*, token: str, request=None) -> Invitation:
    """The invitation a link points to, if it is still usable. Opening it is audited."""
    try:
        data = signing.loads(
            token, salt=INVITATION_SALT, max_age=timedelta(days=settings.INVITATION_VALID_DAYS)
        )
    except signing.BadSignature:
        raise ValidationError(_("Ce lien d'invitation n'est pas valide ou a expiré.")) from None
    with scopes_disabled():
        invitation = (
            Invitation.objects.select_related("membership__user", "organisation")
            .filter(pk=data.get("i"))
            .first()
        )
    stale = invitation is not None and data.get("e") != invitation.expires_at.timestamp()
    if invitation is None or stale or not invitation.is_usable:
        raise ValidationError(_("Ce lien d'invitation n'est pas valide, a déjà servi ou a expiré."))
    audit_log(
        action=Action.LINK_OPENED,
        request=request,
        organisation=invitation.organisation,
        obj=invitation,
    )
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, password: str | None, request=None) -> User:
    """Set the invited user's password; the link cannot be used again.

    Someone who already has an account (another organisation) keeps their password: the
    link only confirms the new membership, it never lets its holder replace a password.
    """
    user = invitation.membership.user
    if user.has_usable_password():
        password = None
    elif not password:
        raise ValidationError(_("Choisissez un mot de passe."))
    else:
        validate_password(password, user)
    with scopes_disabled():
        claimed = Invitation.objects.filter(
            pk=invitation.pk,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).update(accepted_at=timezone.now())
    if not claimed:
        raise ValidationError(_("Ce lien d'invitation a déjà servi ou a expiré."))
    if password:
        user.set_password(password)
        user.save(update_fields=["password"])
    email_mark_verified(user=user)
    audit_log(
        action=Action.UPDATE,
        request=request,
        actor=user,
        organisation=invitation.organisation,
        obj=invitation,
        details={"accepted": True},
    )
    return user


@transaction.atomic
def invitation_resend(*, membership: Membership, request=None) -> Invitation:
    """Send a fresh link to someone who has not accepted yet; earlier links stop working."""
    invitation = getattr(membership, "invitation", None)
    if invitation is None or invitation.accepted_at is not None:
        raise ValidationError(_("Cette personne a déjà activé son accès."))
    invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)
    invitation.revoked_at = None
    invitation.save(update_fields=["expires_at", "revoked_at"])
    audit_log(action=Action.UPDATE, request=request, obj=invitation, details={"resent": True})
    _invitation_send(invitation)
    return invitation


@transaction.atomic
def organisation_create(*, name: str, slug: str, kind: str, admin_email: str) -> Invitation:
    """A new structure on the instance, with its first administrator invited by e-mail."""
    organisation = Organisation(name=name, slug=slug, kind=kind)
    organisation.full_clean()
    organisation.save()
    audit_log(action=Action.CREATE, organisation=organisation, obj=organisation)
    return invitation_create(
        organisation=organisation, invited_by=None, email=admin_email, role=Role.ADMINISTRATOR
    )


# --- Memberships ---------------------------------------------------------------------------


@transaction.atomic
def membership_update(
    *, membership: Membership, role: Role | str, is_active: bool, by: User, request=None
) -> Membership:
    """Change a member's role or deactivate them. An administrator cannot demote themselves."""
    role = Role(role)
    if membership.user_id == by.pk and (role != Role.ADMINISTRATOR or not is_active):
        raise ValidationError(_("Vous ne pouvez pas retirer vos propres droits d'administration."))
    changes = {}
    if membership.role != role:
        changes["role"] = [membership.role, role.value]
    if membership.is_active != is_active:
        changes["is_active"] = [membership.is_active, is_active]
    if changes:
        membership.role = role
        membership.is_active = is_active
        membership.save(update_fields=["role", "is_active"])
        audit_log(action=Action.UPDATE, request=request, obj=membership, details=changes)
    return membership
