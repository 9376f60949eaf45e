"""The person (patient or resident) and the consent they gave.

A person belongs to one organisation (django-scopes). Identity follows the INS rules: birth
name, first names as on the civil status, birth date, sex, birth place code (INSEE commune,
or 99xxx for a country), and the NIR with its key. ``match_key`` holds the folded birth
name, first first name, birth date and sex, for duplicate detection; a merged record keeps
its rows and points to the record it was merged into, so both histories stay.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager
from phonenumber_field.modelfields import PhoneNumberField


class Sex(models.TextChoices):
    FEMALE = "F", _("Femme")
    MALE = "M", _("Homme")
    UNKNOWN = "I", _("Inconnu")


class IdentityStatus(models.TextChoices):
    """The four RNIV statuses of an identity."""

    PROVISIONAL = "provisoire", _("Identité provisoire")
    RECOVERED = "recuperee", _("Identité récupérée")
    VALIDATED = "validee", _("Identité validée")
    QUALIFIED = "qualifiee", _("Identité qualifiée")


class MedecinTraitantStatus(models.TextChoices):
    KNOWN = "known", _("A un médecin traitant")
    NONE = "none", _("Sans médecin traitant")
    UNKNOWN = "unknown", _("Ne sait pas")


class Regime(models.TextChoices):
    GENERAL = "general", _("Régime général")
    MSA = "msa", _("MSA (agricole)")
    OTHER = "other", _("Autre régime")
    NONE = "none", _("Sans couverture")
    UNKNOWN = "unknown", _("Inconnu")


class C2S(models.TextChoices):
    NO = "no", _("Non")
    FREE = "free", _("C2S sans participation")
    PAID = "paid", _("C2S avec participation")
    UNKNOWN = "unknown", _("Inconnu")


class Housing(models.TextChoices):
    OWNER = "owner", _("Propriétaire")
    TENANT = "tenant", _("Locataire")
    SOCIAL_HOUSING = "social_housing", _("Logement social")
    HOSTED = "hosted", _("Hébergé·e par un proche")
    INSTITUTION = "institution", _("Établissement (EHPAD, foyer…)")
    EMERGENCY = "emergency", _("Hébergement d'urgence")
    NO_STABLE_HOUSING = "no_stable_housing", _("Sans logement stable")
    OTHER = "other", _("Autre")
    UNKNOWN = "unknown", _("Inconnu")


class Resources(models.TextChoices):
    SALARY = "salary", _("Salaire")
    DAILY_ALLOWANCES = "daily_allowances", _("Indemnités journalières")
    UNEMPLOYMENT = "unemployment", _("Allocations chômage")
    RSA = "rsa", _("RSA")
    AAH = "aah", _("AAH")
    PENSION = "pension", _("Retraite ou pension")
    OTHER = "other", _("Autres ressources")
    NONE = "none", _("Aucune ressource")
    UNKNOWN = "unknown", _("Inconnu")


class Person(models.Model):
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="people"
    )
    # Identity (INS-ready)
    birth_name = models.CharField(_("nom de naissance"), max_length=100)
    used_name = models.CharField(_("nom utilisé"), max_length=100, blank=True)
    first_names = models.CharField(
        _("prénoms de naissance"),
        max_length=200,
        help_text=_("Tous, dans l'ordre de l'état civil."),
    )
    used_first_name = models.CharField(_("prénom utilisé"), max_length=100, blank=True)
    birth_date = models.DateField(_("date de naissance"), null=True, blank=True)
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_place_code = models.CharField(
        _("lieu de naissance (code INSEE)"), max_length=5, blank=True
    )
    nir = models.CharField(_("NIR"), max_length=15, blank=True, db_index=True)
    identity_status = models.CharField(
        _("statut de l'identité"),
        max_length=12,
        choices=IdentityStatus.choices,
        default=IdentityStatus.PROVISIONAL,
    )
    match_key = models.CharField(max_length=250, db_index=True, editable=False)
    # Contacts
    phone = PhoneNumberField(_("téléphone"), blank=True)
    phone_2 = PhoneNumberField(_("autre téléphone"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("adresse"), max_length=300, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5, blank=True)
    commune = models.ForeignKey(
        "territory.Commune",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("commune"),
    )
    languages = models.JSONField(_("langues parlées"), default=list, blank=True)
    # Médecin traitant
    medecin_traitant_status = models.CharField(
        _("médecin traitant"),
        max_length=10,
        choices=MedecinTraitantStatus.choices,
        default=MedecinTraitantStatus.UNKNOWN,
    )
    medecin_traitant = models.ForeignKey(
        "directory.Professional",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("médecin traitant (annuaire)"),
    )
    # Cover
    regime = models.CharField(
        _("régime"), max_length=10, choices=Regime.choices, default=Regime.UNKNOWN
    )
    c2s = models.CharField(_("C2S"), max_length=10, choices=C2S.choices, default=C2S.UNKNOWN)
    ame = models.BooleanField(_("AME"), null=True, blank=True)
    mutuelle = models.BooleanField(_("mutuelle"), null=True, blank=True)
    ald = models.JSONField(_("ALD"), default=list, blank=True)  # ALD list numbers, "1".."30"
    # Social situation (unknown = None)
    lives_alone = models.BooleanField(_("vit seul·e"), null=True, blank=True)
    housing = models.CharField(
        _("logement"), max_length=20, choices=Housing.choices, default=Housing.UNKNOWN
    )
    resources = models.CharField(
        _("ressources"), max_length=20, choices=Resources.choices, default=Resources.UNKNOWN
    )
    children_in_charge = models.PositiveSmallIntegerField(
        _("enfants à charge"), null=True, blank=True
    )
    single_parent = models.BooleanField(_("famille monoparentale"), null=True, blank=True)
    social_worker = models.BooleanField(
        _("suivi·e par un travailleur social"), null=True, blank=True
    )
    hospitalised_last_4_years = models.BooleanField(
        _("hospitalisé·e dans les 4 dernières années"), null=True, blank=True
    )
    # Bookkeeping
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_records",
        verbose_name=_("fusionnée dans"),
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)
    # Incremented by each edit: an edit based on an older version is refused, never merged.
    version = models.PositiveIntegerField(default=1)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("personne")
        indexes = [models.Index(fields=["organisation", "match_key"])]

    def __str__(self) -> str:  # no name: this string may end up in logs
        return f"person {self.pk}"


class Consent(models.Model):
    """What the person agreed to, how it was collected, and its withdrawal."""

    class Purpose(models.TextChoices):
        COORDINATION = "coordination", _("Coordination de son parcours de santé")
        MT_SEARCH = "mt_search", _("Recherche d'un médecin traitant")
        ORIENTATION = "orientation", _("Orientation vers une ressource")
        CASE_SUPPORT = "case_support", _("Appui à une situation complexe")

    class Scope(models.TextChoices):
        TEAM = "team", _("Partage au sein de l'équipe de soins")
        OUTSIDE = "outside", _("Partage hors de l'équipe de soins (consentement préalable)")

    class Method(models.TextChoices):
        ORAL = "oral", _("Oral (tracé par le professionnel)")
        WRITTEN = "written", _("Écrit signé")
        ONLINE = "online", _("Formulaire en ligne")
        BY_PROFESSIONAL = "professional", _("Recueilli par le professionnel demandeur")

    class Category(models.TextChoices):
        IDENTITY = "identity", _("Identité et coordonnées")
        HEALTH = "health", _("Données de santé")
        SOCIAL = "social", _("Situation sociale")
        COVER = "cover", _("Couverture sociale")

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    purpose = models.CharField(_("finalité"), max_length=20, choices=Purpose.choices)
    scope = models.CharField(_("périmètre"), max_length=10, choices=Scope.choices)
    categories = models.JSONField(_("catégories de données"), default=list)
    method = models.CharField(_("recueilli"), max_length=20, choices=Method.choices)
    collected_at = models.DateTimeField(_("recueilli le"))
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recueilli par"),
    )
    collected_by_name = models.CharField(  # a requester without an account
        _("recueilli par (nom)"), max_length=200, blank=True
    )
    withdrawn_at = models.DateTimeField(_("retiré le"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("consentement")
        ordering = ["-collected_at", "-id"]

    def __str__(self) -> str:
        return f"consent {self.pk} ({self.purpose}, {self.scope})"
