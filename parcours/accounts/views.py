from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .access import AUTHENTICATED, PUBLIC, access
from .forms import InvitationForm, MembershipForm, OrganisationChoiceForm, SetPasswordForm
from .middleware import ORGANISATION_KEY
from .models import Role


@access(Role.ADMINISTRATOR)
def member_list(request):
    members = selectors.membership_list(organisation=request.organisation)
    return render(request, "accounts/member_list.html", {"members": members})


@access(Role.ADMINISTRATOR)
def member_invite(request):
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_create(
                organisation=request.organisation,
                invited_by=request.user,
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("L'invitation a été envoyée."))
            return redirect("accounts:member-list")
    return render(request, "accounts/member_invite.html", {"form": form})


@access(Role.ADMINISTRATOR)
def member_edit(request, membership_id: int):
    membership = selectors.membership_get(
        organisation=request.organisation, membership_id=membership_id
    )
    initial = {"role": membership.role, "is_active": membership.is_active}
    form = MembershipForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_update(
                membership=membership, by=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Les droits ont été enregistrés."))
            return redirect("accounts:member-list")
    return render(request, "accounts/member_edit.html", {"form": form, "member": membership})


@access(Role.ADMINISTRATOR)
@require_POST
def member_invitation_resend(request, membership_id: int):
    membership = selectors.membership_get(
        organisation=request.organisation, membership_id=membership_id
    )
    try:
        services.invitation_resend(membership=membership, request=request)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Une nouvelle invitation a été envoyée."))
    return redirect("accounts:member-edit", membership_id=membership.pk)


@access(PUBLIC)
def invitation_accept(request, token: str):
    """The link from the invitation e-mail: GET shows the form, only the POST changes anything."""
    try:
        invitation = services.invitation_from_token(token=token, request=request)
    except ValidationError as error:
        return render(
            request, "accounts/invitation_invalid.html", {"error": error.messages[0]}, status=410
        )
    needs_password = not invitation.membership.user.has_usable_password()
    form = SetPasswordForm(request.POST or None) if needs_password else OrganisationChoiceForm()
    if request.method == "POST" and (not needs_password or form.is_valid()):
        password = form.cleaned_data["password1"] if needs_password else None
        try:
            services.invitation_accept(invitation=invitation, password=password, request=request)
        except ValidationError as error:
            form.add_error("password1", error)
        else:
            messages.success(
                request, _("Votre mot de passe est enregistré. Vous pouvez vous connecter.")
            )
            return redirect("account_login")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"form": form, "invitation": invitation, "needs_password": needs_password},
    )


@access(AUTHENTICATED)
@require_POST
def organisation_choose(request):
    """Switch the organisation a multi-structure user works for."""
    form = OrganisationChoiceForm(request.POST)
    if form.is_valid():
        chosen = form.cleaned_data["organisation"]
        if any(
            m.organisation_id == chosen for m in selectors.memberships_for_user(user=request.user)
        ):
            request.session[ORGANISATION_KEY] = chosen
    return redirect("core:home")
