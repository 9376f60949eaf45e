from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from parcours.accounts.access import access
from parcours.accounts.models import Role
from parcours.territory.selectors import territory_commune_choices as territory_communes

from . import selectors, services
from .forms import ServiceForm

READERS = (Role.COORDINATOR, Role.MANAGER, Role.ADMINISTRATOR)
EDITORS = (Role.COORDINATOR, Role.ADMINISTRATOR)


@access(*READERS)
def service_list(request):
    archived = request.GET.get("archives") == "1"
    items = selectors.service_list(organisation=request.organisation, archived=archived)
    return render(request, "directory/service_list.html", {"services": items, "archived": archived})


@access(*EDITORS)
def service_create(request):
    form = ServiceForm(
        request.POST or None, communes=territory_communes(organisation=request.organisation)
    )
    if request.method == "POST" and form.is_valid():
        service = services.service_create(
            organisation=request.organisation,
            by=request.user,
            data=form.service_data(),
            request=request,
        )
        messages.success(
            request, _("Le service « %(name)s » est enregistré.") % {"name": service.name}
        )
        return redirect("directory:service-list")
    return render(request, "directory/service_form.html", {"form": form})


@access(*EDITORS)
def service_edit(request, service_id: int):
    service = selectors.service_get(organisation=request.organisation, service_id=service_id)
    communes = territory_communes(organisation=request.organisation)
    form = ServiceForm(request.POST or None, instance=service, communes=communes)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_update(
                service=service,
                version=form.cleaned_data["version"] or 0,
                by=request.user,
                data=form.service_data(),
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Les modifications sont enregistrées."))
            return redirect("directory:service-list")
    return render(request, "directory/service_form.html", {"form": form, "service": service})


@access(*EDITORS)
@require_POST
def service_archive(request, service_id: int):
    service = selectors.service_get(organisation=request.organisation, service_id=service_id)
    archived = request.POST.get("archived") == "1"
    services.service_archive(service=service, archived=archived, by=request.user, request=request)
    messages.success(request, _("Service archivé.") if archived else _("Service rétabli."))
    return redirect("directory:service-list")
