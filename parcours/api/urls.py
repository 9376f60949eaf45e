"""/api/v1/: the JSON API, its OpenAPI schema at /api/v1/openapi.json."""

from ninja import NinjaAPI

from parcours.accounts.access import PUBLIC, declare_patterns

from .annuaire import router as annuaire_router

api = NinjaAPI(
    title="Parcours API",
    version="1",
    urls_namespace="api",
    description="Annuaire des ressources du territoire (données publiques).",
    docs_url=None,  # the interactive docs would load scripts from a CDN
)
api.add_router("/annuaire", annuaire_router)

# The directory's public data: open to anyone (the request's organisation, when logged in,
# adds its own services to the results).
urlpatterns = declare_patterns(api.urls[0], default=(PUBLIC,))
