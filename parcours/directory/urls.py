from django.urls import path

from . import export_views, guide_views, views

app_name = "directory"
urlpatterns = [
    path("services/", views.service_list, name="service-list"),
    path("services/nouveau/", views.service_create, name="service-create"),
    path("services/<int:service_id>/", views.service_edit, name="service-edit"),
    path("services/<int:service_id>/archiver/", views.service_archive, name="service-archive"),
    path("guide/", guide_views.guide_list, name="guide-list"),
    path("export/", export_views.export_index, name="export-index"),
    path("export/fhir.json", export_views.export_fhir, name="export-fhir"),
    path("export/hsds.json", export_views.export_hsds_json, name="export-hsds-json"),
    path("export/hsds.zip", export_views.export_hsds_csv, name="export-hsds-csv"),
    path("guide/<slug:slug>/", guide_views.guide_detail, name="guide-detail"),
]
