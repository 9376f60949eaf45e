"""Attachments of a saisine: PDF, JPEG and PNG recognised by their content, size and count
limits, storage under MEDIA_ROOT with a random name, and a download for the coordinators
and administrators of the organisation only, audited; never served as a static file."""

import html
import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from parcours.audit.models import AuditEvent
from parcours.saisines.attachments import safe_name
from parcours.saisines.models import Attachment

from .saisine_factories import AttachmentFactory, SaisineFactory, saisine_count
from .test_public_forms import PROFESSIONAL, professional_post, territory  # noqa: F401

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(name: str, content: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def post_with(client, *files, **changes):
    return client.post(PROFESSIONAL, {**professional_post(**changes), "attachments": list(files)})


def stored() -> list[Attachment]:
    with scopes_disabled():
        return list(Attachment.objects.order_by("pk"))


def test_pdf_jpeg_and_png_are_stored_with_the_type_their_content_shows(client, media):
    response = post_with(
        client,
        upload("courrier.pdf", PDF),
        upload("photo.JPG", JPEG, "application/octet-stream"),  # the browser's claim is ignored
        upload("ordonnance.png", PNG, "image/png"),
    )
    assert response.status_code == 302
    files = stored()
    assert [(a.name, a.content_type) for a in files] == [
        ("courrier.pdf", "application/pdf"),
        ("photo.JPG", "image/jpeg"),
        ("ordonnance.png", "image/png"),
    ]
    with scopes_disabled():
        saisine = files[0].saisine
    for attachment, content in zip(files, (PDF, JPEG, PNG), strict=True):
        assert attachment.saisine == saisine and attachment.size == len(content)
        path = Path(attachment.file.path)
        assert path.is_relative_to(media) and path.read_bytes() == content
        # A random name on disk: the original one may hold personal data.
        assert attachment.name not in attachment.file.name
        assert attachment.file.name.startswith(f"saisines/{saisine.organisation_id}/")
    assert (
        AuditEvent.objects.filter(action="create", object_type="saisines.attachment").count() == 3
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("courrier.pdf", b"<html><script>alert(1)</script></html>"),  # not a PDF inside
        ("photo.png", b"MZ\x90\x00\x03\x00\x00\x00"),  # a program renamed .png
        ("ordonnance.pdf", PNG),  # a real PNG whose extension lies
        ("page.html", PDF),  # a real PDF with a wrong extension
        ("document", PDF),  # no extension
        ("archive.zip", b"PK\x03\x04" + b"\x00" * 20),
    ],
)
def test_a_file_of_another_type_is_refused_in_french(client, name, content):
    page = post_with(client, upload(name, content))
    assert page.status_code == 200 and saisine_count() == 0 and stored() == []
    text = text_of(page)
    assert "seuls les fichiers PDF, JPEG et PNG le sont" in text
    assert "sélectionnez-les de nouveau" in text  # files are not kept, and the page says so
    assert 'value="Sophie Lambert"' in text  # the rest is


def test_a_file_over_the_size_limit_is_refused(client, settings):
    settings.SAISINE_ATTACHMENT_MAX_MB = 1
    big = PDF + b"0" * (1024 * 1024)
    page = post_with(client, upload("scanner.pdf", big))
    assert page.status_code == 200 and saisine_count() == 0
    assert "« scanner.pdf » est trop lourd : 1 Mo au plus par fichier." in text_of(page)
    post_with(client, upload("scanner.pdf", PDF + b"0" * (1024 * 1024 - len(PDF))))
    assert saisine_count() == 1


def test_an_empty_file_is_refused(client):
    page = post_with(client, upload("vide.pdf", b""))
    # Django itself refuses an empty upload ("Le fichier soumis est vide.").
    assert page.status_code == 200 and saisine_count() == 0
    assert "vide" in text_of(page)


def test_more_than_five_files_are_refused(client):
    files = [upload(f"page-{n}.pdf", PDF) for n in range(6)]
    page = post_with(client, *files)
    assert page.status_code == 200 and saisine_count() == 0 and stored() == []
    assert "6 fichiers envoyés : 5 au plus. Retirez-en 1." in text_of(page)
    post_with(client, *[upload(f"page-{n}.pdf", PDF) for n in range(5)])
    assert len(stored()) == 5


def test_every_problem_is_listed_at_once(client):
    page = post_with(client, upload("a.pdf", b"nope"), upload("b.png", b"nope"))
    text = text_of(page)
    assert "« a.pdf » n'est pas accepté" in text and "« b.png » n'est pas accepté" in text


def test_a_double_submit_attaches_the_files_once(client):
    post_with(client, upload("courrier.pdf", PDF))
    post_with(client, upload("courrier.pdf", PDF))
    assert saisine_count() == 1 and len(stored()) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_attach_the_files_once(settings):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (SQLite serialises writers)")
    settings.SAISINE_PUBLIC_RATE_LIMIT = "1000/m"
    barrier = threading.Barrier(2)
    statuses = []

    def post():
        try:
            barrier.wait()
            response = post_with(Client(), upload("courrier.pdf", PDF), upload("photo.png", PNG))
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302, 302]
    assert saisine_count() == 1 and len(stored()) == 2


def test_the_stored_name_has_no_folders_nor_invisible_characters():
    assert safe_name("../../etc/passwd.pdf") == "passwd.pdf"
    assert safe_name("C:\\Users\\moi\\courrier.pdf") == "courrier.pdf"
    assert safe_name("fac\u202etxt.pdf") == "factxt.pdf"
    assert safe_name("a\x00b.pdf") == "ab.pdf"
    assert safe_name("") == "document"
    long = safe_name("x" * 400 + ".pdf")
    assert len(long) == 255 and long.endswith(".pdf")


# --- The staff download ------------------------------------------------------------------------


@pytest.fixture
def attachment(org_a):
    return AttachmentFactory(saisine=SaisineFactory(organisation=org_a), name="compte-rendu.pdf")


def download(client, attachment):
    return client.get(reverse("saisines:attachment-download", args=[attachment.pk]))


@pytest.mark.parametrize("role", ["claire", "alain"])
def test_coordinators_and_administrators_download_and_the_read_is_audited(
    client, request, attachment, role
):
    user = request.getfixturevalue(role)
    client.force_login(user)
    response = download(client, attachment)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test\n"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="compte-rendu.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="read", object_type="saisines.attachment")
    assert (event.actor, event.object_id) == (user, str(attachment.pk))


@pytest.mark.parametrize(
    ("role", "status"), [("manon", 403), ("dr_martin", 403), ("paul", 403), ("bruno", 404)]
)
def test_others_cannot_download(client, request, attachment, role, status):
    client.force_login(request.getfixturevalue(role))
    assert download(client, attachment).status_code == status
    assert not AuditEvent.objects.filter(action="read").exists()


def test_visitors_are_sent_to_the_login_page(client, attachment):
    response = download(client, attachment)
    assert response.status_code == 302 and "/comptes/login/" in response["Location"]


def test_a_file_missing_from_the_storage_is_404_not_500(client, claire, attachment):
    Path(attachment.file.path).unlink()
    client.force_login(claire)
    assert download(client, attachment).status_code == 404


def test_media_files_are_never_served_directly(client, attachment):
    assert client.get("/" + attachment.file.name).status_code == 404
    assert client.get("/media/" + attachment.file.name).status_code == 404
