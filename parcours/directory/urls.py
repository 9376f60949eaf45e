from django.urls import path

from . import export_views, guide_views, import_views, survey_views, views

app_name = "directory"
urlpatterns = [
    path("", views.annuaire, name="annuaire"),
    path("fiche/<str:kind>/<int:ref_id>/", views.annuaire_detail, name="annuaire-detail"),
    path("carte.json", views.annuaire_map, name="annuaire-map"),
    path("recherche/", views.search, name="search"),
    path("recherche/fiche/<str:kind>/<int:ref_id>/", views.search_detail, name="search-detail"),
    path("recherche/carte.json", views.search_map, name="search-map"),
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
    path("enquetes/", survey_views.survey_list, name="survey-list"),
    path("enquetes/nouvelle/", survey_views.survey_launch, name="survey-launch"),
    path("enquetes/<int:survey_id>/", survey_views.survey_detail, name="survey-detail"),
    path("enquetes/<int:survey_id>/clore/", survey_views.survey_close, name="survey-close"),
    path("disponibilite/<str:token>/", survey_views.survey_answer, name="survey-answer"),
    path("imports/", import_views.import_list, name="import-list"),
    path("imports/nouveau/", import_views.import_create, name="import-create"),
    path("imports/<int:job_id>/", import_views.import_detail, name="import-detail"),
    path("imports/<int:job_id>/progression/", import_views.import_progress, name="import-progress"),
    path("imports/<int:job_id>/rapport/", import_views.import_report, name="import-report"),
]
