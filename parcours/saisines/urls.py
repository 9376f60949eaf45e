"""Routes of the single entry point. Each view declares its access rule."""

from django.urls import path

from . import attachment_views, orientation_views, public_views

app_name = "saisines"

urlpatterns = [
    # Public forms, per organisation (an unknown slug is 404), and their confirmation.
    path(
        "<slug:organisation_slug>/demande/", public_views.resident_request, name="public-resident"
    ),
    path(
        "<slug:organisation_slug>/demande/envoyee/",
        public_views.resident_done,
        name="public-resident-done",
    ),
    path(
        "<slug:organisation_slug>/professionnel/",
        public_views.professional_request,
        name="public-professional",
    ),
    path(
        "<slug:organisation_slug>/professionnel/envoyee/",
        public_views.professional_done,
        name="public-professional-done",
    ),
    # The requester's private status link, the professional's e-mail verification link.
    path("suivi/<str:token>/", public_views.status, name="status"),
    path("verification/<str:token>/", public_views.verify_email, name="verify-email"),
    # Attachments: staff only, through an access check, never as static files.
    path(
        "pieces-jointes/<int:attachment_id>/",
        attachment_views.attachment_download,
        name="attachment-download",
    ),
    # The recipient of an orientation answers from the signed links of the e-mail.
    path(
        "orientation/<str:token>/",
        orientation_views.orientation_answer,
        name="orientation-answer",
    ),
]
