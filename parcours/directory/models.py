"""The directory (annuaire): every resource of the territory in one place.

National reference data, shared by every organisation of the instance and never scoped:
- ``Professional`` and ``PracticeSituation`` from the RPPS extraction,
- ``Structure`` from the FINESS extraction (and structures met in RPPS rows).
An organisation's own data, scoped by django-scopes:
- ``Service``: offers entered by hand or imported from HSDS (CCAS, associations, interpreters…),
- ``Availability``: a GP's declaration of accepting new patients, collected by the organisation.

Every entry records its freshness (checked on, by whom, from which source). Contact fields
carry their visibility: the public annuaire shows only the public ones.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class Source(models.TextChoices):
    RPPS = "rpps", _("RPPS (Annuaire Santé)")
    FINESS = "finess", _("FINESS")
    HSDS = "hsds", _("Import HSDS")
    MANUAL = "manual", _("Saisie par l'équipe")
    SURVEY = "survey", _("Enquête de disponibilité")
    PROFESSIONAL = "professional", _("Déclaration du professionnel")


class LocationPrecision(models.TextChoices):
    ADDRESS = "address", _("Adresse")
    STREET = "street", _("Rue")
    COMMUNE = "commune", _("Centre de la commune")
    UNKNOWN = "unknown", _("Non localisé")


class Circle(models.TextChoices):
    """The four circles of a person's cercle de soins (PRODUCT.md)."""

    CARE = "care", _("Santé / soins")
    COORDINATION = "coordination", _("Coordination")
    RIGHTS = "rights", _("Accès et continuité des droits")
    HOUSING = "housing", _("Hébergement / logement")


# Indexes of the national tables. Each index costs every row an import writes, so they are
# declared where a query needs them and not more (docs/performance.md):
# - no index on ``is_active`` (nearly every row is active: a filter on it reads the table);
# - ``checked_by`` only where it is set (a hand check): imported rows have none, and deleting
#   a user still finds the rows that name them;
# - identifiers and codes indexed through Meta rather than ``unique=True``/``db_index=True``,
#   for which Django also adds a ``varchar_pattern_ops`` copy on PostgreSQL (LIKE 'x%'): no
#   query searches them by prefix.


def _checked_by_index(name: str) -> models.Index:
    return models.Index(
        fields=["checked_by"], condition=Q(checked_by__isnull=False), name=f"{name}_checked_by"
    )


class Fresh(models.Model):
    """When, by whom and from which source an entry was last checked."""

    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    checked_on = models.DateField(_("vérifié le"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("vérifié par"),
        db_index=False,  # a partial index per model (see _checked_by_index)
    )
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        abstract = True


class Located(models.Model):
    """A postal address with coordinates and how precise they are."""

    address = models.CharField(_("adresse"), max_length=300, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5, blank=True)
    commune = models.ForeignKey(
        "territory.Commune",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("commune"),
        db_index=False,  # indexed in each model's Meta (no pattern copy on PostgreSQL)
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    location_precision = models.CharField(
        _("précision de la localisation"),
        max_length=10,
        choices=LocationPrecision.choices,
        default=LocationPrecision.UNKNOWN,
    )

    class Meta:
        abstract = True


class Contactable(models.Model):
    """Phone and e-mail, each public (shown in the public annuaire) or private (staff only)."""

    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    phone_public = models.BooleanField(_("téléphone public"), default=False)
    email = models.EmailField(_("e-mail"), blank=True)
    email_public = models.BooleanField(_("e-mail public"), default=False)

    class Meta:
        abstract = True


class Professional(Fresh):
    """A health professional, identified by the RPPS (11 digits)."""

    class Sex(models.TextChoices):
        FEMALE = "F", _("Femme")
        MALE = "M", _("Homme")
        UNKNOWN = "", _("Non renseigné")

    rpps = models.CharField(_("identifiant RPPS"), max_length=11)  # unique: see Meta
    civility_code = models.CharField(_("code civilité"), max_length=4, blank=True)
    civility = models.CharField(_("civilité"), max_length=30, blank=True)
    last_name = models.CharField(_("nom d'exercice"), max_length=150)
    first_name = models.CharField(_("prénom d'exercice"), max_length=150, blank=True)
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices, blank=True)
    profession_code = models.CharField(_("code profession"), max_length=4)
    profession = models.CharField(_("profession"), max_length=100)
    savoir_faire_code = models.CharField(_("code savoir-faire"), max_length=10, blank=True)
    savoir_faire = models.CharField(_("savoir-faire"), max_length=200, blank=True)
    languages = models.JSONField(_("langues parlées"), default=list, blank=True)  # ISO 639-1

    class Meta:
        verbose_name = _("professionnel de santé")
        verbose_name_plural = _("professionnels de santé")
        constraints = [models.UniqueConstraint(fields=["rpps"], name="professional_unique_rpps")]
        indexes = [
            models.Index(fields=["last_name", "first_name"]),
            models.Index(fields=["profession_code"], name="professional_profession"),
            models.Index(fields=["savoir_faire_code"], name="professional_savoir_faire"),
            _checked_by_index("professional"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Structure(Fresh, Located, Contactable):
    """An establishment (FINESS ET) or a practice place met in the RPPS."""

    # Unique (see Meta): the FINESS number, and the RPPS's structure identifier.
    finess_et = models.CharField(_("FINESS établissement"), max_length=9, null=True, blank=True)
    finess_ej = models.CharField(_("FINESS entité juridique"), max_length=9, blank=True)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    rpps_structure_id = models.CharField(  # "Identifiant technique de la structure" in the RPPS
        _("identifiant technique RPPS"), max_length=40, null=True, blank=True
    )
    name = models.CharField(_("nom"), max_length=300)
    long_name = models.CharField(_("raison sociale longue"), max_length=300, blank=True)
    category_code = models.CharField(_("code catégorie"), max_length=4, blank=True)
    category = models.CharField(_("catégorie"), max_length=200, blank=True)
    aggregate_category_code = models.CharField(
        _("code catégorie agrégée"), max_length=4, blank=True
    )
    aggregate_category = models.CharField(_("catégorie agrégée"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("structure")
        constraints = [
            models.UniqueConstraint(fields=["finess_et"], name="structure_unique_finess_et"),
            models.UniqueConstraint(
                fields=["rpps_structure_id"], name="structure_unique_rpps_structure_id"
            ),
        ]
        indexes = [
            models.Index(fields=["latitude", "longitude"]),
            models.Index(fields=["finess_ej"], name="structure_finess_ej"),
            models.Index(fields=["siret"], name="structure_siret"),
            models.Index(fields=["category_code"], name="structure_category"),
            models.Index(fields=["commune"], name="structure_commune"),
            _checked_by_index("structure"),
        ]

    def __str__(self) -> str:
        return self.name


class PracticeSituation(Fresh, Located, Contactable):
    """Where and how a professional practises: one RPPS activity row."""

    class Mode(models.TextChoices):
        LIBERAL = "L", _("Libéral")
        SALARIED = "S", _("Salarié")
        VOLUNTEER = "B", _("Bénévole")
        UNKNOWN = "", _("Non renseigné")

    professional = models.ForeignKey(
        Professional,
        on_delete=models.CASCADE,
        related_name="situations",
        verbose_name=_("professionnel"),
    )
    structure = models.ForeignKey(
        Structure,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="situations",
        verbose_name=_("structure"),
    )
    # A stable key of the RPPS row (professional + structure + address), for idempotent upserts
    # (unique: see Meta).
    source_key = models.CharField(_("clé source"), max_length=64)
    mode = models.CharField(_("mode d'exercice"), max_length=1, choices=Mode.choices, blank=True)
    place_name = models.CharField(_("nom du lieu d'exercice"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("situation d'exercice")
        constraints = [
            models.UniqueConstraint(fields=["source_key"], name="situation_unique_source_key")
        ]
        indexes = [
            models.Index(fields=["latitude", "longitude"]),
            models.Index(fields=["commune"], name="situation_commune"),
            _checked_by_index("situation"),
        ]

    def __str__(self) -> str:
        return f"{self.professional_id} @ {self.place_name or self.address}"


class Service(Fresh, Located, Contactable):
    """An offer of the territory: a CCAS desk, an association, an interpreter service…

    Entered by the organisation's team (or imported from HSDS); scoped to the organisation.
    """

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="services",
        verbose_name=_("organisation"),
    )
    structure = models.ForeignKey(
        Structure,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
        verbose_name=_("structure"),
    )
    name = models.CharField(_("nom"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("catégorie"), max_length=100, blank=True)
    circle = models.CharField(_("cercle"), max_length=20, choices=Circle.choices)
    thematiques = models.JSONField(_("thématiques data·inclusion"), default=list, blank=True)
    # Slugs of the guide social pages (parcours/directory/guide) whose procedure it handles.
    procedures = models.JSONField(_("démarches accompagnées"), default=list, blank=True)
    public_served = models.JSONField(_("publics"), default=list, blank=True)
    eligibility = models.TextField(_("conditions d'accès"), blank=True)
    languages = models.JSONField(_("langues parlées"), default=list, blank=True)
    fees = models.CharField(_("frais"), max_length=300, blank=True)
    opening_hours = models.JSONField(  # [{"day": 1..7, "opens": "09:00", "closes": "12:00"}]
        _("horaires d'ouverture"), default=list, blank=True
    )
    communes_served = models.ManyToManyField(
        "territory.Commune", blank=True, related_name="+", verbose_name=_("communes desservies")
    )
    accessibility = models.TextField(_("accessibilité"), blank=True)
    website = models.URLField(_("site web"), blank=True)
    external_id = models.CharField(_("identifiant source"), max_length=100, blank=True)
    # Incremented by each edit: an edit based on an older version is refused, never merged.
    version = models.PositiveIntegerField(default=1)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("service")
        indexes = [
            models.Index(fields=["commune"], name="service_commune"),
            _checked_by_index("service"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "external_id"],
                condition=~models.Q(external_id=""),
                name="service_unique_external_id_per_organisation",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Availability(models.Model):
    """A GP's declaration: accepting new patients now, within 6 months, or not."""

    class Accepting(models.TextChoices):
        NOW = "now", _("Oui, dès maintenant")
        WITHIN_SIX_MONTHS = "within_6_months", _("Dans les 6 mois")
        NO = "no", _("Non")

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="availabilities",
        verbose_name=_("organisation"),
    )
    professional = models.ForeignKey(
        Professional,
        on_delete=models.CASCADE,
        related_name="availabilities",
        verbose_name=_("professionnel"),
    )
    accepting = models.CharField(
        _("accepte de nouveaux patients"), max_length=20, choices=Accepting.choices
    )
    capacity = models.PositiveIntegerField(_("nombre de patients"), null=True, blank=True)
    age_groups = models.JSONField(_("âges acceptés"), default=list, blank=True)
    home_visits = models.BooleanField(_("visites à domicile"), default=False)
    declared_on = models.DateField(_("déclaré le"))
    expires_on = models.DateField(_("expire le"))
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("déclaré par"),
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("disponibilité")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "professional"], name="availability_one_per_professional"
            )
        ]

    def __str__(self) -> str:
        return f"{self.professional_id}: {self.accepting}"


class BanAddress(models.Model):
    """One address point of the Base Adresse Nationale (offline geocoding).

    Loaded per département by ``import_ban``; streets are stored normalised (upper case,
    no accents, abbreviations expanded) so that directory addresses match them.
    """

    ban_id = models.CharField(max_length=50, unique=True)
    insee = models.CharField(max_length=5)
    street = models.CharField(max_length=200)
    number = models.PositiveIntegerField(null=True, blank=True)
    rep = models.CharField(max_length=10, blank=True)
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        verbose_name = _("adresse BAN")
        indexes = [models.Index(fields=["insee", "street", "number"])]

    def __str__(self) -> str:
        return self.ban_id


class SearchEntry(models.Model):
    """One searchable row of the directory, denormalised for search and map.

    Rebuilt from professionals' situations, structures and services by
    ``search.search_index_rebuild``. ``text`` is normalised in Python (lower case, no
    accents, letters and digits only) so that SQLite FTS5 and PostgreSQL's tsvector see
    the same words and return the same result sets. The full-text index itself is created
    per engine by migration (an FTS5 table kept in sync by triggers; a tsvector column
    with a GIN index).
    """

    class Kind(models.TextChoices):
        PROFESSIONAL = "professional", _("Professionnel")
        STRUCTURE = "structure", _("Structure")
        SERVICE = "service", _("Service")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    ref_id = models.BigIntegerField()
    organisation = models.ForeignKey(  # services only; national entries have none
        "accounts.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    professional = models.ForeignKey(
        Professional, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(max_length=300)
    subtitle = models.CharField(max_length=300, blank=True)
    sort_key = models.CharField(max_length=300)  # indexed in Meta
    text = models.TextField()
    profession_code = models.CharField(max_length=4, blank=True)
    savoir_faire_code = models.CharField(max_length=10, blank=True)
    category_code = models.CharField(max_length=20, blank=True)
    circle = models.CharField(max_length=20, blank=True)
    mode = models.CharField(max_length=1, blank=True)
    languages = models.JSONField(default=list, blank=True)
    commune = models.ForeignKey(  # indexed with the sort key (Meta)
        "territory.Commune",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "ref_id"], name="searchentry_unique_kind_ref")
        ]
        indexes = [
            models.Index(fields=["sort_key"], name="searchentry_sort_key"),
            # The entries of a disc or a viewport. SQLite has also (latitude, longitude,
            # organisation, kind, mode) to test them without their rows (migration 0019):
            # given it, PostgreSQL's planner chose worse plans for the map.
            models.Index(fields=["latitude", "longitude"]),
            models.Index(fields=["profession_code", "sort_key"]),
            # "Near" searches of a profession: the entries of a disc, without the others'.
            models.Index(
                fields=["profession_code", "latitude", "longitude"],
                name="searchentry_profession_place",
            ),
            models.Index(fields=["commune", "sort_key"]),
            # Facets with few entries each, walked in the sort order like the profession.
            models.Index(fields=["savoir_faire_code", "sort_key"], name="searchentry_savoir_faire"),
            models.Index(fields=["category_code", "sort_key"], name="searchentry_category"),
        ]

    def __str__(self) -> str:
        return self.title


class MapCell(models.Model):
    """How many public entries of the search index lie in one cell of a global grid.

    Cells of level ``k`` are 360/2^k degrees wide (``y``, ``x``: latitude and longitude
    divided by that size, floored), with their entries' mean position. Written by
    ``search.search_index_rebuild`` (and each refresh) for the whole directory (facet "")
    and for each value of a facet held by many entries (a profession, a kind, a mode…), so
    that a wide map viewport of such a search reads a few hundred cells instead of its
    entries. Services (an organisation's own) are never counted here.
    """

    facet = models.CharField(max_length=20, blank=True)
    value = models.CharField(max_length=20, blank=True)
    level = models.PositiveSmallIntegerField()
    y = models.IntegerField()
    x = models.IntegerField()
    count = models.PositiveIntegerField()
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["facet", "value", "level", "y", "x"], name="mapcell_cell")]

    def __str__(self) -> str:
        return f"{self.facet}={self.value} {self.level}/{self.y}/{self.x}: {self.count}"


class SearchWord(models.Model):
    """The vocabulary of the search index (words of 3 letters or more), for typo tolerance."""

    word = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.word


class Consultation(models.Model):
    """How many times the directory was searched, per day: a count, nothing about who."""

    day = models.DateField()
    public = models.BooleanField(default=True)  # the public annuaire, or staff pages
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "public"], name="consultation_one_row_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.count}"


class ImportJob(models.Model):
    """An import started from the web: the uploaded file, then the background job's progress.

    The job runs the same importer as the management command and writes its progress here,
    so the page that follows it only reads this row. National files (RPPS, FINESS, BAN)
    update the instance's shared reference data; HSDS files load the organisation's services.
    """

    class Kind(models.TextChoices):
        RPPS = "rpps", _("RPPS (professionnels de santé)")
        FINESS = "finess", _("FINESS (établissements)")
        BAN = "ban", _("Base Adresse Nationale")
        HSDS = "hsds", _("Services (HSDS)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("En attente")
        RUNNING = "running", _("En cours")
        DONE = "done", _("Terminé")
        FAILED = "failed", _("Échec")

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="import_jobs",
        verbose_name=_("organisation"),
    )
    kind = models.CharField(_("fichier"), max_length=10, choices=Kind.choices)
    territory_only = models.BooleanField(_("seulement le territoire"), default=False)
    file = models.FileField(_("fichier"), upload_to="imports/%Y/%m/", max_length=300)
    original_name = models.CharField(_("nom du fichier"), max_length=255)
    status = models.CharField(
        _("état"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("lancé par"),
    )
    created_at = models.DateTimeField(_("déposé le"), auto_now_add=True)
    started_at = models.DateTimeField(_("commencé le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    total_lines = models.PositiveIntegerField(_("lignes du fichier"), null=True, blank=True)
    done_lines = models.PositiveIntegerField(_("lignes traitées"), default=0)
    rows_per_second = models.FloatField(_("lignes par seconde"), default=0)
    created = models.PositiveIntegerField(_("créées"), default=0)
    updated = models.PositiveIntegerField(_("mises à jour"), default=0)
    unchanged = models.PositiveIntegerField(_("inchangées"), default=0)
    deactivated = models.PositiveIntegerField(_("désactivées"), default=0)
    rejected = models.PositiveIntegerField(_("rejetées"), default=0)
    summary = models.TextField(_("résumé"), blank=True)
    report = models.TextField(_("rapport des lignes rejetées"), blank=True)
    error = models.TextField(_("erreur"), blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("import")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class AvailabilitySurvey(models.Model):
    """A campaign asking the territory's GPs whether they accept new patients.

    Each GP gets a ``SurveyRequest`` with signed one-click answers, valid until
    ``closes_on``; reminders go ``reminder_days`` after the last message to those who have
    not answered, at most ``max_reminders`` times. An answer becomes the GP's
    ``Availability``, valid ``validity_months`` months.
    """

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="availability_surveys",
        verbose_name=_("organisation"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("lancée par"),
    )
    created_at = models.DateTimeField(_("lancée le"), auto_now_add=True)
    closes_on = models.DateField(_("réponses acceptées jusqu'au"))
    reminder_days = models.PositiveIntegerField(_("relance après (jours)"), default=7)
    max_reminders = models.PositiveIntegerField(_("nombre de relances"), default=2)
    validity_months = models.PositiveIntegerField(_("validité des réponses (mois)"), default=6)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("enquête de disponibilité")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.created_at:%Y-%m-%d}"


class SurveyRequest(models.Model):
    """One GP asked in one survey: where the message went, reminders, the answer."""

    survey = models.ForeignKey(
        AvailabilitySurvey, on_delete=models.CASCADE, related_name="requests"
    )
    organisation = models.ForeignKey(  # the survey's, repeated for the scope
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    professional = models.ForeignKey(
        Professional, on_delete=models.CASCADE, related_name="survey_requests"
    )
    email = models.EmailField(_("adresse"))
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    reminders_sent = models.PositiveIntegerField(_("relances envoyées"), default=0)
    last_sent_at = models.DateTimeField(_("dernier envoi"), null=True, blank=True)
    answered_at = models.DateTimeField(_("répondu le"), null=True, blank=True)
    answer = models.CharField(
        _("réponse"), max_length=20, choices=Availability.Accepting.choices, blank=True
    )
    capacity = models.PositiveIntegerField(_("nombre de patients"), null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("demande d'enquête")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "professional"], name="surveyrequest_one_per_professional"
            )
        ]

    def __str__(self) -> str:
        return f"{self.survey_id}: {self.professional_id}"
