"""Imports from the web, for administrators: upload a file, follow the background job."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parcours.accounts.access import access
from parcours.accounts.models import Role
from parcours.audit.models import Action
from parcours.audit.services import audit_log

from . import imports
from .models import ImportJob


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Type de fichier"),
        choices=[("", gettext_lazy("Choisissez…")), *ImportJob.Kind.choices],
    )
    file = forms.FileField(
        label=gettext_lazy("Fichier"),
        widget=forms.FileInput(attrs={"accept": ".csv,.txt,.gz,.json,.zip"}),
    )
    territory_only = forms.BooleanField(
        label=gettext_lazy("Seulement les communes du territoire (RPPS)"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "Fichier dans la présentation officielle, tel que téléchargé (%(limit)s Mo au plus)."
        ) % {"limit": settings.IMPORT_UPLOAD_MAX_MB}


@access(Role.ADMINISTRATOR)
def import_list(request):
    jobs = imports.import_job_list(organisation=request.organisation)[:50]
    return render(request, "directory/import_list.html", {"jobs": jobs})


@access(Role.ADMINISTRATOR)
def import_create(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.import_job_create(
                organisation=request.organisation,
                by=request.user,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
                territory_only=form.cleaned_data["territory_only"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Le fichier est déposé ; l'import va commencer."))
            return redirect("directory:import-detail", job_id=job.pk)
    return render(request, "directory/import_form.html", {"form": form})


def _job_context(job: ImportJob) -> dict:
    return {
        "job": job,
        "progress": imports.import_job_progress(job),
        "rejections": imports.import_job_rejections_shown(job),
    }


@access(Role.ADMINISTRATOR)
def import_detail(request, job_id: int):
    job = imports.import_job_get(organisation=request.organisation, job_id=job_id)
    return render(request, "directory/import_detail.html", _job_context(job))


@access(Role.ADMINISTRATOR)
def import_progress(request, job_id: int):
    """The fragment htmx polls every second while the job is queued or running."""
    job = imports.import_job_get(organisation=request.organisation, job_id=job_id)
    return render(request, "directory/_import_progress.html", _job_context(job))


@access(Role.ADMINISTRATOR)
def import_report(request, job_id: int):
    job = imports.import_job_get(organisation=request.organisation, job_id=job_id, with_report=True)
    audit_log(
        action=Action.EXPORT,
        request=request,
        obj=job,
        details={"kind": job.kind, "rejected": job.rejected},
    )
    text = f"{job.summary}\n{job.report}" if job.summary else job.report
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    name = f"import-{job.kind}-{job.pk}-lignes-rejetees.txt"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
