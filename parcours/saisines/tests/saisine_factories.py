"""factory_boy factories of the single entry point: saisines, events, orientations, attachments.

Scoped models are created with scopes disabled (set-up is not the code under test), like
``parcours/directory/tests/directory_factories.py``. A ``SaisineFactory`` saisine is
"received" with a fixed reference prefix ("S-TEST-…") that never collides with the
references ``saisine_create`` allocates ("S-2026-000123"). Use the services to move it
through its states; the factory only sets the fields you pass.

    saisine = SaisineFactory(organisation=org_a)
    saisine = SaisineFactory(organisation=org_a, requester_email="", requester_phone="+33612345678")
    orientation = OrientationFactory(saisine=saisine, service=ServiceFactory(organisation=org_a))
"""

import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from django_scopes import scopes_disabled

from parcours.accounts.tests.factories import OrganisationFactory
from parcours.directory.tests.directory_factories import ScopedFactory
from parcours.people.tests.people_factories import PersonFactory  # noqa: F401 (re-exported)
from parcours.saisines.models import (
    Attachment,
    Bulletin,
    Channel,
    Orientation,
    Origin,
    Saisine,
    SaisineEvent,
    Status,
)


class SaisineFactory(ScopedFactory):
    class Meta:
        model = Saisine

    organisation = factory.SubFactory(OrganisationFactory)
    reference = factory.Sequence(lambda n: f"S-TEST-{n:06d}")
    origin = Origin.SOCIAL_WORKER
    channel = Channel.WEB
    language = "fr"
    requester_name = "Sophie Travailleuse-Sociale"
    requester_role = "Assistante sociale"
    requester_email = factory.Sequence(lambda n: f"demandeur{n}@example.org")
    bulletin = Bulletin.SOINS
    difficulty = "Difficulté clinique confidentielle : plaie chronique non soignée."
    requests = factory.LazyFunction(lambda: ["home_care"])
    motives = factory.LazyFunction(list)
    free_text = "Précisions confidentielles sur la situation de santé."
    consent_given = True
    status = Status.RECEIVED
    received_at = factory.LazyFunction(timezone.now)


class SaisineEventFactory(ScopedFactory):
    class Meta:
        model = SaisineEvent

    saisine = factory.SubFactory(SaisineFactory)
    organisation = factory.SelfAttribute("saisine.organisation")
    kind = SaisineEvent.Kind.NOTE
    at = factory.LazyFunction(timezone.now)
    text = "Note de suivi."


class OrientationFactory(ScopedFactory):
    """An orientation "sent" to its recipient (pass service=, structure= or professional=)."""

    class Meta:
        model = Orientation

    saisine = factory.SubFactory(SaisineFactory)
    organisation = factory.SelfAttribute("saisine.organisation")
    recipient_name = "CCAS de Vénissieux"
    recipient_email = factory.Sequence(lambda n: f"destinataire{n}@example.org")
    message = "Merci de recevoir Mme Martine, habitante de Vénissieux."
    status = Orientation.Status.SENT
    sent_at = factory.LazyFunction(timezone.now)


class AttachmentFactory(ScopedFactory):
    class Meta:
        model = Attachment

    saisine = factory.SubFactory(SaisineFactory)
    organisation = factory.SelfAttribute("saisine.organisation")
    file = factory.LazyFunction(lambda: ContentFile(b"%PDF-1.4 test\n", name="courrier.pdf"))
    name = "courrier.pdf"
    content_type = "application/pdf"
    size = 14


def saisine_count(**filters) -> int:
    """How many saisines match, across organisations (a helper for assertions)."""
    with scopes_disabled():
        return Saisine.objects.filter(**filters).count()
