"""Finding a médecin traitant (MT) for a person who has none.

An ``MTSearch`` is opened for a person (from a saisine, or directly). The GP pool is the
directory's ``Availability`` declarations still valid with capacity left; candidates are
ranked (``ranking.py``) and asked in waves by e-mail (``Solicitation``): the message is
anonymous (age band, sex, commune, kind of follow-up). The first GP who accepts wins
(one conditional update on the search); the others are withdrawn. Without an acceptance,
the scheduler escalates the search stage by stage: next wave, call round (``Call``: the
coordinator phones GPs one after another), wider radius, IPA route for ALD or complex
situations, then the hand-off file for the CPAM médiateur. After a GP accepted, the person
chooses; the outcome "médecin traitant déclaré" ends the search. ``MTSearchEvent`` is the
dated timeline of all this.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class Priority(models.TextChoices):
    ALD = "ald", _("ALD")
    AGE_70 = "age_70", _("70 ans ou plus")
    C2S_AME = "c2s_ame", _("C2S ou AME")
    ISOLATION = "isolation", _("Isolement")
    PREGNANCY = "pregnancy", _("Grossesse")
    HOSPITAL_DISCHARGE = "hospital_discharge", _("Sortie d'hospitalisation sans médecin traitant")


class FollowUp(models.TextChoices):
    """The kind of follow-up needed: the only clinical hint a solicitation carries."""

    ROUTINE = "routine", _("Suivi courant")
    CHRONIC = "chronic", _("Maladie chronique (ALD)")
    ELDERLY = "elderly", _("Personne âgée, perte d'autonomie")
    PREGNANCY = "pregnancy", _("Suivi de grossesse")
    CHILD = "child", _("Suivi d'un enfant")
    DISCHARGE = "discharge", _("Suite d'une hospitalisation")
    HOME = "home", _("Suivi à domicile")


class MTSearch(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Recherche en cours")
        ACCEPTED = "accepted", _("Un médecin a accepté")
        FOUND = "found", _("Médecin choisi par la personne")
        DECLARED = "declared", _("Médecin traitant déclaré")
        CLOSED = "closed", _("Close sans médecin traitant")

    class Stage(models.TextChoices):
        WAVES = "waves", _("Sollicitations par e-mail")
        CALL_ROUND = "call_round", _("Tour d'appels")
        WIDER = "wider", _("Rayon élargi")
        IPA = "ipa", _("Parcours IPA")
        MEDIATOR = "mediator", _("Médiateur de la CPAM")

    class Via(models.TextChoices):
        EMAIL = "email", _("Lien de l'e-mail")
        PHONE = "phone", _("Téléphone")
        IPA = "ipa", _("Proposition de l'IPA")

    class Choice(models.TextChoices):
        ACCEPTED = "accepted", _("Accepte ce médecin")
        REFUSED = "refused", _("Refuse ce médecin")

    class FollowUpMode(models.TextChoices):
        SHARED = "shared", _("Suivi partagé médecin / IPA")
        INTERMITTENT = "intermittent", _("Suivi intermittent par l'IPA")

    class DoctorSex(models.TextChoices):
        ANY = "", _("Indifférent")
        FEMALE = "F", _("Une femme")
        MALE = "M", _("Un homme")

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="mt_searches"
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="mt_searches"
    )
    saisine = models.ForeignKey(
        "saisines.Saisine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mt_searches",
    )
    # Preferences
    doctor_sex = models.CharField(
        _("sexe du médecin"), max_length=1, choices=DoctorSex.choices, blank=True
    )
    languages = models.JSONField(_("langues"), default=list, blank=True)  # ISO 639-1
    max_distance_km = models.PositiveSmallIntegerField(_("distance maximale (km)"), default=10)
    home_visits = models.BooleanField(_("visites à domicile nécessaires"), default=False)
    accessibility = models.BooleanField(_("cabinet accessible (PMR)"), default=False)
    # Priority and the follow-up needed
    priorities = models.JSONField(_("priorités"), default=list, blank=True)
    complex_situation = models.BooleanField(_("situation complexe"), default=False)
    follow_up = models.CharField(
        _("suivi nécessaire"), max_length=12, choices=FollowUp.choices, default=FollowUp.ROUTINE
    )
    note = models.TextField(_("précisions pour l'équipe"), blank=True)
    # Where the person lives (copied at opening: the ranking's origin)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    location_precision = models.CharField(max_length=10, blank=True)
    # Where the search stands
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.OPEN)
    stage = models.CharField(_("étape"), max_length=12, choices=Stage.choices, default=Stage.WAVES)
    stage_started_at = models.DateTimeField(_("étape commencée le"))
    wave = models.PositiveSmallIntegerField(_("vague"), default=0)
    radius_km = models.PositiveSmallIntegerField(_("rayon de recherche (km)"))
    # The acceptance (first one wins) and what follows
    accepted_professional = models.ForeignKey(
        "directory.Professional",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("médecin qui a accepté"),
    )
    accepted_at = models.DateTimeField(_("accepté le"), null=True, blank=True)
    accepted_via = models.CharField(max_length=5, choices=Via.choices, blank=True)
    person_choice = models.CharField(
        _("choix de la personne"), max_length=10, choices=Choice.choices, blank=True
    )
    person_choice_at = models.DateTimeField(null=True, blank=True)
    declared_on = models.DateField(_("médecin traitant déclaré le"), null=True, blank=True)
    # GPs who accepted but whom the person did not want: never proposed again in this search.
    refused_professionals = models.JSONField(default=list, blank=True)
    # IPA route
    ipa_name = models.CharField(_("IPA"), max_length=200, blank=True)
    ipa_visit_on = models.DateField(_("visite d'évaluation le"), null=True, blank=True)
    ipa_evaluation = models.TextField(_("évaluation de l'IPA"), blank=True)
    follow_up_mode = models.CharField(
        _("modalité du suivi"), max_length=12, choices=FollowUpMode.choices, blank=True
    )
    # Hand-off to the CPAM médiateur, closure
    handed_off_at = models.DateTimeField(_("transmise au médiateur le"), null=True, blank=True)
    opened_at = models.DateTimeField(_("ouverte le"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("close le"), null=True, blank=True)
    close_reason = models.TextField(_("motif de clôture"), blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("recherche de médecin traitant")
        verbose_name_plural = _("recherches de médecin traitant")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["organisation", "status", "stage_started_at"])]
        constraints = [
            # One search in progress per person.
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(status__in=["open", "accepted", "found"]),
                name="mtsearch_one_running_per_person",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open")
                | ~models.Q(status__in=["accepted", "found"])
                | models.Q(accepted_professional__isnull=False),
                name="mtsearch_accepted_has_professional",
            ),
        ]

    def __str__(self) -> str:
        return f"mt search {self.pk} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.ACCEPTED, self.Status.FOUND)


class DeclineReason(models.TextChoices):
    FULL = "full", _("Patientèle complète")
    NOT_NOW = "not_now", _("Pas pour le moment")
    TOO_FAR = "too_far", _("Domicile trop éloigné")
    NO_HOME_VISITS = "no_home_visits", _("Pas de visites à domicile")
    PROFILE = "profile", _("Suivi ne correspondant pas à ma pratique")
    OTHER = "other", _("Autre raison")


class Solicitation(models.Model):
    """One GP asked by e-mail in one wave of a search."""

    class Status(models.TextChoices):
        SENT = "sent", _("Envoyée")
        ACCEPTED = "accepted", _("Acceptée")
        DECLINED = "declined", _("Refusée")
        WITHDRAWN = "withdrawn", _("Retirée (médecin trouvé)")
        EXPIRED = "expired", _("Sans réponse")

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    search = models.ForeignKey(MTSearch, on_delete=models.CASCADE, related_name="solicitations")
    professional = models.ForeignKey(
        "directory.Professional", on_delete=models.PROTECT, related_name="mt_solicitations"
    )
    wave = models.PositiveSmallIntegerField(_("vague"))
    email = models.EmailField(_("adresse"))
    rank = models.PositiveSmallIntegerField(_("rang"))
    score = models.FloatField(_("score"))
    distance_km = models.FloatField(_("distance (km)"), null=True, blank=True)
    explanation = models.JSONField(default=list, blank=True)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.SENT)
    decline_reason = models.CharField(
        _("motif du refus"), max_length=20, choices=DeclineReason.choices, blank=True
    )
    decline_note = models.CharField(_("précision"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("envoyée le"))
    answered_at = models.DateTimeField(_("réponse le"), null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("sollicitation")
        ordering = ["sent_at", "rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["search", "professional"], name="solicitation_one_per_professional"
            )
        ]
        indexes = [models.Index(fields=["organisation", "professional", "sent_at"])]

    def __str__(self) -> str:
        return f"solicitation {self.pk} ({self.status})"


class Call(models.Model):
    """One phone call of the call round, and its outcome."""

    class Outcome(models.TextChoices):
        NO_ANSWER = "no_answer", _("Pas de réponse")
        REFUSED = "refused", _("Refus")
        ACCEPTED = "accepted", _("Accepte")

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    search = models.ForeignKey(MTSearch, on_delete=models.CASCADE, related_name="calls")
    professional = models.ForeignKey(
        "directory.Professional", on_delete=models.PROTECT, related_name="+"
    )
    phone = models.CharField(_("numéro appelé"), max_length=30, blank=True)
    outcome = models.CharField(_("résultat"), max_length=10, choices=Outcome.choices)
    reason = models.CharField(
        _("motif du refus"), max_length=20, choices=DeclineReason.choices, blank=True
    )
    note = models.CharField(_("précision"), max_length=500, blank=True)
    at = models.DateTimeField(_("appelé le"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("appel")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"call {self.pk} ({self.outcome})"


class MTSearchEvent(models.Model):
    """One dated line of a search's timeline."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Ouverture")
        WAVE = "wave", _("Vague de sollicitations")
        ANSWER = "answer", _("Réponse d'un médecin")
        CALL = "call", _("Appel")
        STAGE = "stage", _("Changement d'étape")
        ACCEPTED = "accepted", _("Médecin trouvé")
        CHOICE = "choice", _("Choix de la personne")
        IPA = "ipa", _("Parcours IPA")
        DECLARED = "declared", _("Médecin traitant déclaré")
        BULLETIN = "bulletin", _("Bulletin consulté")
        CLOSED = "closed", _("Clôture")
        NOTE = "note", _("Note")

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    search = models.ForeignKey(MTSearch, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.search_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class ProfessionalAccount(models.Model):
    """A user account that is a directory professional (the GP's own pages).

    Set by an administrator of an organisation where the user is a member; one account per
    professional and one professional per account.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="professional_account"
    )
    professional = models.OneToOneField(
        "directory.Professional", on_delete=models.CASCADE, related_name="account"
    )
    linked_at = models.DateTimeField(_("lié le"))
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("compte de professionnel")

    def __str__(self) -> str:
        return f"{self.user_id} = {self.professional_id}"
