"""Attachments of a saisine: upload checks, storage, and the staff download.

- Allowed: PDF, JPEG and PNG, recognised by their first bytes (the content signature) AND
  a matching extension; the type stored is the one the content shows, never the one the
  browser claims. At most ``MAX_FILES`` files, each at most ``SAISINE_ATTACHMENT_MAX_MB``.
- Stored under MEDIA_ROOT with a random name (``models.attachment_path``); the original
  name is kept in the row only. MEDIA_ROOT is never served as static files: the only way
  to a file is ``attachment_open``, for the coordinators and administrators of the
  saisine's organisation, and each read is audited.
"""

import os
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parcours.accounts.models import Organisation, User
from parcours.audit.models import Action
from parcours.audit.services import audit_log

from .models import Attachment, Saisine

MAX_FILES = 5
NAME_MAX_LENGTH = 255


@dataclass(frozen=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]
    signatures: tuple[bytes, ...]


ALLOWED_TYPES = (
    FileType("application/pdf", (".pdf",), (b"%PDF-",)),
    FileType("image/jpeg", (".jpg", ".jpeg"), (b"\xff\xd8\xff",)),
    FileType("image/png", (".png",), (b"\x89PNG\r\n\x1a\n",)),
)
SIGNATURE_LENGTH = 16


def max_bytes() -> int:
    return settings.SAISINE_ATTACHMENT_MAX_MB * 1024 * 1024


def safe_name(name: str) -> str:
    """The original name, without folders, control or invisible characters, NFC, ≤ 255."""
    name = unicodedata.normalize("NFC", os.path.basename(str(name or "").replace("\\", "/")))
    name = "".join(char for char in name if unicodedata.category(char) not in ("Cc", "Cf"))
    name = name.strip() or "document"
    stem, extension = os.path.splitext(name)
    return stem[: NAME_MAX_LENGTH - len(extension)] + extension[:NAME_MAX_LENGTH]


def detected_type(upload: UploadedFile) -> FileType | None:
    """The allowed type whose signature the content starts with, if its extension matches."""
    upload.seek(0)
    head = upload.read(SIGNATURE_LENGTH)
    upload.seek(0)
    extension = os.path.splitext(safe_name(upload.name))[1].lower()
    for file_type in ALLOWED_TYPES:
        if any(head.startswith(sig) for sig in file_type.signatures):
            return file_type if extension in file_type.extensions else None
    return None


def attachments_validate(files: list[UploadedFile]) -> list[UploadedFile]:
    """The files if they may be attached; ``ValidationError`` (French, every problem) if not."""
    errors = []
    if len(files) > MAX_FILES:
        errors.append(
            ValidationError(
                ngettext(
                    "%(count)s fichiers envoyés : %(max)s au plus. Retirez-en %(extra)s.",
                    "%(count)s fichiers envoyés : %(max)s au plus. Retirez-en %(extra)s.",
                    len(files),
                )
                % {"count": len(files), "max": MAX_FILES, "extra": len(files) - MAX_FILES},
                code="too_many_files",
            )
        )
    limit = settings.SAISINE_ATTACHMENT_MAX_MB
    for upload in files:
        name = safe_name(upload.name)
        if upload.size > max_bytes():
            errors.append(
                ValidationError(
                    _("« %(name)s » est trop lourd : %(max)s Mo au plus par fichier.")
                    % {"name": name, "max": limit},
                    code="file_too_big",
                )
            )
        elif upload.size == 0:
            errors.append(
                ValidationError(_("« %(name)s » est vide.") % {"name": name}, code="empty_file")
            )
        elif detected_type(upload) is None:
            errors.append(
                ValidationError(
                    _(
                        "« %(name)s » n'est pas accepté : seuls les fichiers PDF, JPEG et PNG "
                        "le sont (le contenu du fichier doit correspondre à son extension)."
                    )
                    % {"name": name},
                    code="file_type",
                )
            )
    if errors:
        raise ValidationError(errors)
    return files


@transaction.atomic
def attachments_add(
    *, saisine: Saisine, files: list[UploadedFile], by: User | None = None, request=None
) -> list[Attachment]:
    """Store checked files on the saisine. Call ``attachments_validate`` first (forms do).

    Once only: when the saisine already has attachments (the same submission sent twice),
    nothing is added. The saisine's row is locked, so two concurrent submissions cannot
    both add them.
    """
    if not files:
        return []
    Saisine.objects.select_for_update().filter(pk=saisine.pk).first()
    if Attachment.objects.filter(organisation=saisine.organisation, saisine=saisine).exists():
        return []
    attachments_validate(files)
    stored = []
    for upload in files:
        file_type = detected_type(upload)
        attachment = Attachment(
            organisation=saisine.organisation,
            saisine=saisine,
            name=safe_name(upload.name),
            content_type=file_type.content_type,
            size=upload.size,
            uploaded_by=by,
        )
        attachment.file.save(attachment.name, upload, save=False)
        attachment.save()
        stored.append(attachment)
        audit_log(
            action=Action.CREATE,
            request=request,
            actor=by,
            organisation=saisine.organisation,
            obj=attachment,
            person_id=saisine.person_id,
            details={"saisine": saisine.pk, "size": attachment.size},
        )
    return stored


def attachment_get(*, organisation: Organisation, attachment_id: int) -> Attachment:
    """One attachment of the organisation; another organisation's is 404."""
    attachment = (
        Attachment.objects.select_related("saisine")
        .filter(organisation=organisation, pk=attachment_id)
        .first()
    )
    if attachment is None:
        raise Http404
    return attachment


def attachment_open(*, organisation: Organisation, attachment_id: int, user: User, request=None):
    """The attachment and its open file, for a download; the read is audited.

    404 for another organisation's attachment or a file missing from the storage.
    """
    attachment = attachment_get(organisation=organisation, attachment_id=attachment_id)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    audit_log(
        action=Action.READ,
        request=request,
        actor=user,
        organisation=organisation,
        obj=attachment,
        person_id=attachment.saisine.person_id,
        details={"saisine": attachment.saisine_id},
    )
    return attachment, handle
