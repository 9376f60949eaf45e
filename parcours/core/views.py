from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render

from parcours.accounts import selectors as account_selectors
from parcours.accounts.access import PUBLIC, access
from parcours.accounts.models import STAFF_ROLES, Role
from parcours.territory import selectors as territory_selectors

HOME_TEMPLATES = {
    Role.COORDINATOR: "core/home_coordinator.html",
    Role.MANAGER: "core/home_manager.html",
    Role.ADMINISTRATOR: "core/home_administrator.html",
    Role.PROFESSIONAL: "core/home_professional.html",
    Role.PARTNER: "core/home_partner.html",
}


@access(PUBLIC)
def home(request):
    """The landing page for visitors; each role's home page for members."""
    membership = request.membership
    if membership is None:
        organisations = account_selectors.organisation_list_public()
        return render(request, "core/home_public.html", {"organisations": organisations})
    context = {}
    if membership.role in STAFF_ROLES:
        organisation = request.organisation
        context = {
            "territory": territory_selectors.territory_for_organisation(organisation=organisation),
            "territory_summary": territory_selectors.territory_summary(organisation=organisation),
            **territory_selectors.territory_map_settings(),
        }
    return render(request, HOME_TEMPLATES[membership.role], context)


@access(PUBLIC)
def health(request):
    """For load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
