"""The staff download of a saisine's attachment (coordinators and administrators of the
organisation; another organisation's attachment is 404; each read is audited)."""

from django.http import FileResponse

from parcours.accounts.access import access
from parcours.accounts.models import Role

from .attachments import attachment_open

ATTACHMENT_READERS = (Role.COORDINATOR, Role.ADMINISTRATOR)


@access(*ATTACHMENT_READERS)
def attachment_download(request, attachment_id: int):
    attachment, handle = attachment_open(
        organisation=request.organisation,
        attachment_id=attachment_id,
        user=request.user,
        request=request,
    )
    # Always a download (never displayed inline by the browser), with the type the content
    # showed at upload; nosniff is set for every response (SECURE_CONTENT_TYPE_NOSNIFF).
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    return response
