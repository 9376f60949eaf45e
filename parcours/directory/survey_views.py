"""Pages of the GP availability survey.

The coordination team launches a survey and follows the answers; GPs answer from the
links of the e-mail, without an account. A link's GET only shows a confirmation page:
mail scanners open links before people do, so only the button (POST) records anything.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from parcours.accounts.access import PUBLIC, access
from parcours.accounts.models import Role

from . import survey as surveys
from .survey_forms import SurveyAnswerForm, SurveyLaunchForm

SURVEY_STAFF = (Role.COORDINATOR, Role.ADMINISTRATOR)


@access(*SURVEY_STAFF)
def survey_list(request):
    organisation = request.organisation
    return render(
        request,
        "directory/survey_list.html",
        {
            "surveys": surveys.survey_list(organisation=organisation),
            "open_survey": surveys.survey_open(organisation=organisation),
        },
    )


@access(*SURVEY_STAFF)
def survey_launch(request):
    organisation = request.organisation
    form = SurveyLaunchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            survey = surveys.survey_launch(
                organisation=organisation, by=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, field_errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, field_errors)
            else:
                form.add_error(None, error)
        else:
            count = survey.requests.count()
            messages.success(
                request,
                ngettext(
                    "L'enquête est lancée : %(count)s médecin est interrogé.",
                    "L'enquête est lancée : %(count)s médecins sont interrogés.",
                    count,
                )
                % {"count": count},
            )
            return redirect("directory:survey-detail", survey_id=survey.pk)
    recipients = surveys.survey_recipients(organisation=organisation)
    context = {
        "form": form,
        "recipients": recipients,
        "without_email": surveys.survey_gps_without_email(organisation=organisation),
        "open_survey": surveys.survey_open(organisation=organisation),
    }
    return render(request, "directory/survey_launch.html", context)


@access(*SURVEY_STAFF)
def survey_detail(request, survey_id: int):
    survey = surveys.survey_get(organisation=request.organisation, survey_id=survey_id)
    context = {
        "survey": survey,
        "is_open": surveys.survey_is_open(survey),
        "counts": surveys.survey_counts(survey=survey),
        "requests": surveys.survey_requests(survey=survey),
    }
    return render(request, "directory/survey_detail.html", context)


@access(*SURVEY_STAFF)
@require_POST
def survey_close(request, survey_id: int):
    survey = surveys.survey_get(organisation=request.organisation, survey_id=survey_id)
    surveys.survey_close(survey=survey, by=request.user, request=request)
    messages.success(request, _("L'enquête est close : les liens envoyés ne fonctionnent plus."))
    return redirect("directory:survey-detail", survey_id=survey.pk)


@access(PUBLIC)
@never_cache
def survey_answer(request, token: str):
    """A link of the survey e-mail: GET confirms what will be recorded, POST records it."""
    try:
        link = surveys.survey_link_open(
            token=token, request=request, audit=request.method != "POST"
        )
    except ValidationError as error:
        return render(
            request, "directory/survey_invalid.html", {"error": error.messages[0]}, status=410
        )
    survey_request = link.survey_request
    form = SurveyAnswerForm(
        request.POST or None,
        initial={"answer": link.answer, "capacity": survey_request.capacity},
    )
    if request.method == "POST" and form.is_valid():
        try:
            availability = surveys.survey_answer(
                survey_request=survey_request, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return render(
                request,
                "directory/survey_thanks.html",
                {"link": link, "survey": link.survey, "availability": availability},
            )
    context = {
        "form": form,
        "link": link,
        "survey": link.survey,
        "survey_request": survey_request,
        "carried": dict(form.fields["answer"].choices).get(link.answer),
    }
    return render(request, "directory/survey_answer.html", context)
