"""Communes (national reference data), organisations' territories, priority neighbourhoods."""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from parcours.accounts.models import Organisation

# Five characters: digits, or 2A/2B for Corsica (2A004 Ajaccio).
INSEE_CODE_PATTERN = r"^(?:\d{5}|2[AB]\d{3})$"
# Official codes of the priority neighbourhoods (quartiers prioritaires), e.g. QN06901M.
QPV_CODE_PATTERN = r"^Q[A-Z0-9]{7}$"


class Commune(models.Model):
    """A commune of the Code officiel géographique, with its centre when known.

    National reference data shared by every organisation (not tenant data). The INSEE code
    is the primary key: it is the natural key every official file uses, so other tables
    store it as is. Postal codes are a JSON list because a commune has several (Paris has
    21) and a postal code spans several communes; the list goes straight into GeoJSON and
    API answers, and ``postal_codes__icontains='"69200"'`` finds a code on both engines.
    """

    class Kind(models.TextChoices):
        COMMUNE = "COM", _("Commune")
        ARRONDISSEMENT = "ARM", _("Arrondissement municipal")
        DELEGATED = "COMD", _("Commune déléguée")
        ASSOCIATED = "COMA", _("Commune associée")

    insee = models.CharField(
        _("code INSEE"),
        max_length=5,
        primary_key=True,
        validators=[RegexValidator(INSEE_CODE_PATTERN, _("Code INSEE invalide."))],
    )
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=4, choices=Kind.choices, default=Kind.COMMUNE)
    # Arrondissements: their city (75056 Paris, 69123 Lyon, 13055 Marseille);
    # delegated and associated communes: the commune they now belong to.
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parts",
        verbose_name=_("commune de rattachement"),
    )
    postal_codes = models.JSONField(_("codes postaux"), default=list, blank=True)
    departement = models.CharField(_("département"), max_length=3)
    region = models.CharField(_("région"), max_length=3)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    latitude = models.FloatField(_("latitude du centre"), null=True, blank=True)
    longitude = models.FloatField(_("longitude du centre"), null=True, blank=True)

    class Meta:
        verbose_name = _("commune")
        ordering = ["name", "insee"]
        indexes = [
            # Bounding-box queries (map viewport, "within N km") filter on both columns.
            models.Index(fields=["latitude", "longitude"], name="commune_lat_lng"),
            models.Index(fields=["departement"], name="commune_departement"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="commune_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="commune_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.insee})"

    @property
    def has_centre(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class Territory(models.Model):
    """The communes an organisation covers."""

    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.PROTECT,
        related_name="territory",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("nom"), max_length=200)
    communes = models.ManyToManyField(
        Commune, related_name="territories", blank=True, verbose_name=_("communes")
    )

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("territoire")
        verbose_name_plural = _("territoires")

    def __str__(self) -> str:
        return self.name


class PriorityNeighbourhood(models.Model):
    """A quartier prioritaire de la politique de la ville (QPV) of the territory."""

    territory = models.ForeignKey(
        Territory,
        on_delete=models.CASCADE,
        related_name="priority_neighbourhoods",
        verbose_name=_("territoire"),
    )
    name = models.CharField(_("nom"), max_length=200)
    code = models.CharField(
        _("code QPV"),
        max_length=8,
        blank=True,
        validators=[RegexValidator(QPV_CODE_PATTERN, _("Code de quartier prioritaire invalide."))],
    )
    communes = models.ManyToManyField(
        Commune, related_name="priority_neighbourhoods", blank=True, verbose_name=_("communes")
    )

    objects = ScopedManager(organisation="territory__organisation")

    class Meta:
        verbose_name = _("quartier prioritaire")
        verbose_name_plural = _("quartiers prioritaires")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "name"], name="neighbourhood_unique_name"),
            models.UniqueConstraint(
                fields=["territory", "code"],
                condition=~Q(code=""),
                name="neighbourhood_unique_code",
            ),
        ]

    def __str__(self) -> str:
        return self.name
