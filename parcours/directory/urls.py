from django.urls import path

from . import guide_views, views

app_name = "directory"
urlpatterns = [
    path("services/", views.service_list, name="service-list"),
    path("services/nouveau/", views.service_create, name="service-create"),
    path("services/<int:service_id>/", views.service_edit, name="service-edit"),
    path("services/<int:service_id>/archiver/", views.service_archive, name="service-archive"),
    path("guide/", guide_views.guide_list, name="guide-list"),
    path("guide/<slug:slug>/", guide_views.guide_detail, name="guide-detail"),
]
