from django.urls import path

from . import views

app_name = "territory"
urlpatterns = [
    path("", views.detail, name="detail"),
    path("communes.geojson", views.communes_geojson, name="communes-geojson"),
]
