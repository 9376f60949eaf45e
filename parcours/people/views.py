"""Pages of the person: list and search, creation (duplicates first), file, edit, merge,
consent. Coordinators and administrators only: managers see figures, never a person;
professionals and partners will reach a person through the cercle de soins (later)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from parcours.accounts.access import access
from parcours.accounts.models import Role
from parcours.lib.forms import add_errors
from parcours.territory.selectors import territory_commune_choices

from . import selectors, services
from .forms import ConsentForm, MergeForm, PersonCreateForm, PersonForm, PersonSearchForm

EDITORS = (Role.COORDINATOR, Role.ADMINISTRATOR)


def _reader(request) -> dict:
    return {"user": request.user, "organisation": request.organisation, "request": request}


@access(*EDITORS)
def person_list(request):
    # Searches are POSTed: a name typed in the search box must not end up in a URL.
    form = PersonSearchForm(request.POST or None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    page_number = 1 if q else request.GET.get("page")
    page = selectors.person_search(**_reader(request), q=q, page=page_number)
    return render(request, "people/person_list.html", {"form": form, "page": page, "q": q})


@access(*EDITORS)
def person_create(request):
    communes = territory_commune_choices(organisation=request.organisation)
    form = PersonCreateForm(request.POST or None, communes=communes)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.person_data()
        duplicates = selectors.person_duplicates_for_user(**_reader(request), data=data)
        if not duplicates or form.cleaned_data["confirm_duplicates"]:
            try:
                person = services.person_create(
                    organisation=request.organisation, by=request.user, data=data, request=request
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, _("La fiche de la personne est créée."))
                return redirect("people:person-detail", person.pk)
    context = {"form": form, "duplicates": duplicates}
    return render(request, "people/person_create.html", context)


@access(*EDITORS)
def person_detail(request, person_id: int):
    file = selectors.person_file(**_reader(request), person_id=person_id)
    context = {"file": file, "person": file.person, "requested_id": person_id}
    return render(request, "people/person_detail.html", context)


@access(*EDITORS)
def person_edit(request, person_id: int):
    person = selectors.person_get_for_user(**_reader(request), person_id=person_id)
    if person.pk != person_id:
        return redirect("people:person-edit", person.pk)
    communes = territory_commune_choices(organisation=request.organisation)
    form = PersonForm(request.POST or None, instance=person, communes=communes)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(
                person=person,
                version=form.cleaned_data["version"] or 0,
                by=request.user,
                data=form.person_data(),
                request=request,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Les modifications sont enregistrées."))
            return redirect("people:person-detail", person.pk)
    return render(request, "people/person_edit.html", {"form": form, "person": person})


@access(*EDITORS)
def person_merge(request, person_id: int):
    """Choose the other record: possible duplicates first, or a search."""
    person = selectors.person_get_for_user(**_reader(request), person_id=person_id)
    data = {name: getattr(person, name) for name in services.EDITABLE_FIELDS}
    duplicates = selectors.person_duplicates_for_user(**_reader(request), data=data, exclude=person)
    form = PersonSearchForm(request.POST or None)  # POSTed: no name in the URL
    q = form.cleaned_data["q"] if form.is_valid() else ""
    found = []
    if q:
        page = selectors.person_search(**_reader(request), q=q)
        found = [other for other in page.object_list if other.pk != person.pk]
    context = {"person": person, "duplicates": duplicates, "found": found, "form": form, "q": q}
    return render(request, "people/person_merge.html", context)


@access(*EDITORS)
def person_merge_confirm(request, person_id: int, other_id: int):
    """Both records side by side, the record to keep, then POST to merge."""
    person = selectors.person_get_for_user(**_reader(request), person_id=person_id)
    other = selectors.person_get_for_user(**_reader(request), person_id=other_id)
    if person.pk == other.pk:
        messages.error(request, _("Ces deux fiches sont déjà la même personne."))
        return redirect("people:person-detail", person.pk)
    form = MergeForm(request.POST or None, person=person, other=other)
    if request.method == "POST" and form.is_valid():
        keep, merged = (
            (person, other) if form.cleaned_data["keep"] == str(person.pk) else (other, person)
        )
        try:
            services.person_merge(keep=keep, merged=merged, by=request.user, request=request)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("Les deux fiches sont fusionnées ; leurs historiques restent consultables."),
            )
            return redirect("people:person-detail", keep.pk)
    context = {"person": person, "other": other, "form": form}
    return render(request, "people/person_merge_confirm.html", context)


@access(*EDITORS)
def consent_create(request, person_id: int):
    person = selectors.person_get_for_user(**_reader(request), person_id=person_id)
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        by_name = form.cleaned_data["collected_by_name"].strip()
        try:
            services.consent_record(
                person=person,
                purpose=form.cleaned_data["purpose"],
                scope=form.cleaned_data["scope"],
                categories=form.cleaned_data["categories"],
                method=form.cleaned_data["method"],
                by=None if by_name else request.user,
                by_name=by_name,
                at=form.cleaned_data["collected_at"],
                request=request,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Le consentement est enregistré."))
            return redirect("people:person-detail", person.pk)
    return render(request, "people/consent_form.html", {"form": form, "person": person})


@access(*EDITORS)
@require_POST
def consent_withdraw(request, person_id: int, consent_id: int):
    person = selectors.person_get_for_user(**_reader(request), person_id=person_id)
    consent = selectors.consent_get(
        organisation=request.organisation, person=person, consent_id=consent_id
    )
    services.consent_withdraw(consent=consent, by=request.user, request=request)
    messages.success(
        request, _("Le consentement est retiré : il ne s'applique plus dès maintenant.")
    )
    return redirect("people:person-detail", person.pk)
