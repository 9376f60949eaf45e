from django.urls import path

from . import views

app_name = "people"
urlpatterns = [
    path("", views.person_list, name="person-list"),
    path("nouvelle/", views.person_create, name="person-create"),
    path("<int:person_id>/", views.person_detail, name="person-detail"),
    path("<int:person_id>/modifier/", views.person_edit, name="person-edit"),
    path("<int:person_id>/fusionner/", views.person_merge, name="person-merge"),
    path(
        "<int:person_id>/fusionner/<int:other_id>/",
        views.person_merge_confirm,
        name="person-merge-confirm",
    ),
    path("<int:person_id>/consentements/nouveau/", views.consent_create, name="consent-create"),
    path(
        "<int:person_id>/consentements/<int:consent_id>/retirer/",
        views.consent_withdraw,
        name="consent-withdraw",
    ),
]
