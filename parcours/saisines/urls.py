"""Routes of the single entry point. Each view declares its access rule."""

from django.urls import path

from . import attachment_views, orientation_views, public_views, staff_views

app_name = "saisines"

urlpatterns = [
    # The team's pages: the work queue, a phone call's quick entry, a saisine and its triage.
    path("", staff_views.queue, name="queue"),
    path("appel/", staff_views.quick_entry, name="quick-entry"),
    path("ressources/", staff_views.resource_search, name="resource-search"),
    path("<int:saisine_id>/", staff_views.saisine_detail, name="saisine-detail"),
    path("<int:saisine_id>/analyse/", staff_views.saisine_triage, name="saisine-triage"),
    path("<int:saisine_id>/personne/", staff_views.saisine_identify, name="saisine-identify"),
    path("<int:saisine_id>/complexite/", staff_views.saisine_screen, name="saisine-screen"),
    path("<int:saisine_id>/decision/", staff_views.saisine_decide, name="saisine-decide"),
    path("<int:saisine_id>/orienter/", staff_views.saisine_orient, name="saisine-orient"),
    path("<int:saisine_id>/attribuer/", staff_views.saisine_assign, name="saisine-assign"),
    path("<int:saisine_id>/notes/", staff_views.saisine_note, name="saisine-note"),
    path(
        "<int:saisine_id>/premiere-reponse/",
        staff_views.saisine_first_response,
        name="saisine-first-response",
    ),
    path("<int:saisine_id>/informer-mt/", staff_views.saisine_inform_mt, name="saisine-inform-mt"),
    path("<int:saisine_id>/cloturer/", staff_views.saisine_close, name="saisine-close"),
    path(
        "orientations/<int:orientation_id>/reponse/",
        staff_views.orientation_record,
        name="orientation-record",
    ),
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
