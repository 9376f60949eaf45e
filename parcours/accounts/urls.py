from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("administration/utilisateurs/", views.member_list, name="member-list"),
    path("administration/utilisateurs/inviter/", views.member_invite, name="member-invite"),
    path("administration/utilisateurs/<int:membership_id>/", views.member_edit, name="member-edit"),
    path(
        "administration/utilisateurs/<int:membership_id>/renvoyer-invitation/",
        views.member_invitation_resend,
        name="member-invitation-resend",
    ),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("organisation/choisir/", views.organisation_choose, name="organisation-choose"),
]
