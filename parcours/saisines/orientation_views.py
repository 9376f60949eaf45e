"""The orientation recipient's pages: answer from the e-mail's signed links, no account.

GET shows what the link will record and changes nothing (mail scanners open links before
people do; the opening is audited); the button (POST) records the answer. The page shows
the orientation message, the person's first name and commune at most: never the bulletin.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from parcours.accounts.access import PUBLIC, access

from . import services
from .tokens import LinkInvalid


class OrientationAnswerForm(forms.Form):
    reason = forms.CharField(
        label=_("Pourquoi ne pouvez-vous pas y donner suite ?"),
        help_text=_("Ce motif est transmis à l'équipe de coordination, pas au demandeur."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        if action == "declined":
            self.fields["reason"].required = True
        else:
            del self.fields["reason"]


@access(PUBLIC)
@never_cache
def orientation_answer(request, token: str):
    """A link of the orientation e-mail: GET confirms, POST records."""
    try:
        link = services.orientation_link_open(
            token=token, request=request, audit=request.method != "POST"
        )
    except LinkInvalid as error:
        return render(
            request,
            "saisines/orientation_invalid.html",
            {"error": error.message, "expired": error.expired},
            status=410,
        )
    form = OrientationAnswerForm(
        request.POST if request.method == "POST" else None, action=link.action
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            orientation = services.orientation_answer(
                orientation=link.orientation,
                answer=link.action,
                reason=form.cleaned_data.get("reason", ""),
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
            status = 409 if isinstance(error, services.TransitionRefused) else 200
        else:
            return render(request, "saisines/orientation_thanks.html", {"orientation": orientation})
    orientation = link.orientation
    if orientation.status == link.action:
        state = "already"
    elif orientation.status in services.ORIENTATION_FINAL:
        state = "final"
    else:
        state = "open"
    context = {
        "form": form,
        "state": state,
        "link": link,
        "orientation": link.orientation,
        "saisine": link.saisine,
        "person": services.person_summary(link.saisine),
        "action_label": services.ACTION_LABELS[link.action],
    }
    return render(request, "saisines/orientation_answer.html", context, status=status)
