from django import forms
from django.utils.translation import gettext_lazy as _

from parcours.territory.models import Commune

from .annuaire import commune_label, commune_lookup, profession_choices
from .guide import guide_pages
from .hours import format_opening_hours, parse_opening_hours
from .models import Availability, Circle, PracticeSituation, SearchEntry, Service
from .search import SearchQuery, query_words


class CommaListField(forms.CharField):
    """A list typed as comma-separated words (languages, publics)."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [item.strip() for item in (value or "").split(",") if item.strip()]


class OpeningHoursField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value):
        return format_opening_hours(value) if isinstance(value, list) else value

    def to_python(self, value):
        return parse_opening_hours(value or "")


class ServiceForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    languages = CommaListField(
        label=_("Langues parlées"),
        required=False,
        help_text=_("Séparées par des virgules, par exemple : français, arabe, anglais."),
    )
    public_served = CommaListField(
        label=_("Publics"), required=False, help_text=_("Séparés par des virgules.")
    )
    opening_hours = OpeningHoursField(
        label=_("Horaires d'ouverture"),
        required=False,
        help_text=_(
            "Une ligne par jour, par exemple : « lundi 09:00-12:00, 14:00-17:00 » "
            "ou « mardi au vendredi 9h-12h »."
        ),
    )

    website = forms.URLField(label=_("Site web"), required=False, assume_scheme="https")
    procedures = forms.MultipleChoiceField(
        label=_("Démarches accompagnées"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=lambda: [(page.slug, page.title) for page in guide_pages()],
        help_text=_("Les fiches du guide social dont ce service aide à faire la démarche."),
    )

    class Meta:
        model = Service
        fields = [
            "name",
            "circle",
            "category",
            "description",
            "public_served",
            "eligibility",
            "languages",
            "fees",
            "opening_hours",
            "address",
            "postal_code",
            "commune",
            "communes_served",
            "phone",
            "phone_public",
            "email",
            "email_public",
            "website",
            "accessibility",
            "procedures",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "eligibility": forms.Textarea(attrs={"rows": 2}),
            "accessibility": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, communes=None, **kwargs):
        super().__init__(*args, **kwargs)
        communes = communes if communes is not None else Commune.objects.none()
        self.fields["commune"].queryset = communes
        self.fields["communes_served"].queryset = communes
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class KilometresField(forms.FloatField):
    """A distance in km, typed "10" or "2,5"."""

    def to_python(self, value):
        return super().to_python(value.replace(",", ".") if isinstance(value, str) else value)


class AnnuaireSearchForm(forms.Form):
    """The annuaire's search (GET): words, a commune with a radius, filters.

    ``staff`` adds what only the organisation's members use: its services and the GPs'
    availability. Facet filters arrive as hidden fields (set by the facet links) and are
    kept by a new search until removed.
    """

    FACET_FIELDS = ("savoir_faire", "category", "circle", "located_in", "mode", "language")

    q = forms.CharField(
        label=_("Rechercher"),
        max_length=200,
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Nom, profession, établissement…")}
        ),
    )
    commune = forms.CharField(
        label=_("Autour de la commune"),
        max_length=100,
        required=False,
        help_text=_("Nom ou code postal."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    radius = KilometresField(
        label=_("Rayon (km)"),
        required=False,
        min_value=1,
        max_value=200,
        widget=forms.NumberInput(attrs={"min": "1", "max": "200", "step": "1"}),
        error_messages={
            "invalid": _("Le rayon doit être un nombre de kilomètres, par exemple 10."),
            "min_value": _("Le rayon doit être d'au moins 1 km."),
            "max_value": _("Le rayon ne peut pas dépasser 200 km."),
        },
    )
    profession = forms.ChoiceField(
        label=_("Profession"),
        required=False,
        error_messages={"invalid_choice": _("Cette profession n'est pas dans l'annuaire.")},
    )
    kind = forms.ChoiceField(
        label=_("Type de fiche"),
        required=False,
        error_messages={"invalid_choice": _("Ce type de fiche n'existe pas.")},
    )
    savoir_faire = forms.CharField(max_length=10, required=False, widget=forms.HiddenInput)
    category = forms.CharField(max_length=20, required=False, widget=forms.HiddenInput)
    circle = forms.ChoiceField(
        required=False,
        choices=[("", "")] + Circle.choices,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Ce cercle n'existe pas.")},
    )
    located_in = forms.CharField(max_length=5, required=False, widget=forms.HiddenInput)
    mode = forms.ChoiceField(
        required=False,
        choices=[("", "")] + [(v, v) for v in PracticeSituation.Mode.values if v],
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Ce mode d'exercice n'existe pas.")},
    )
    language = forms.CharField(max_length=50, required=False, widget=forms.HiddenInput)
    accepting = forms.ChoiceField(
        label=_("Accepte de nouveaux patients"),
        required=False,
        error_messages={"invalid_choice": _("Cette réponse n'existe pas.")},
    )
    page = forms.CharField(max_length=10, required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *, staff: bool = False):
        super().__init__(data)
        self.staff = staff
        self.commune_choices: list = []
        self.centre_unknown = False
        self.fields["profession"].choices = [("", _("Toutes"))] + profession_choices()
        kinds = SearchEntry.Kind.choices
        if not staff:
            kinds = [(value, label) for value, label in kinds if value != "service"]
            del self.fields["accepting"]
        else:
            self.fields["accepting"].choices = [("", _("Indifférent"))] + [
                (value, label)
                for value, label in Availability.Accepting.choices
                if value != Availability.Accepting.NO
            ]
        self.fields["kind"].choices = [("", _("Tous"))] + kinds

    def clean_commune(self):
        text = self.cleaned_data["commune"].strip()
        if not text:
            return None
        found = commune_lookup(text)
        if not found:
            raise forms.ValidationError(
                _(
                    "Aucune commune ne correspond à « %(text)s ». Vérifiez l'orthographe "
                    "ou indiquez le code postal."
                ),
                params={"text": text},
            )
        if len(found) > 1:
            self.commune_choices = [(commune_label(c), c) for c in found]
            raise forms.ValidationError(
                _("Plusieurs communes correspondent à « %(text)s » : choisissez-en une."),
                params={"text": text},
            )
        return found[0]

    def has_criteria(self) -> bool:
        """Whether there is something to search for (an empty form lists nothing)."""
        data = self.cleaned_data
        fields = ("profession", "kind", "accepting", *self.FACET_FIELDS)
        return bool(query_words(data["q"]) or data["commune"] or any(data.get(f) for f in fields))

    def page_number(self) -> int:
        page = self.cleaned_data.get("page") or ""
        return max(int(page), 1) if page.isdigit() else 1

    def search_query(self) -> SearchQuery:
        data = self.cleaned_data
        commune = data["commune"]
        near = commune is not None and commune.has_centre
        self.centre_unknown = commune is not None and not near
        return SearchQuery(
            q=data["q"],
            kind=data["kind"],
            profession_code=data["profession"],
            savoir_faire_code=data["savoir_faire"],
            category_code=data["category"],
            circle=data["circle"],
            commune=data["located_in"] or (commune.insee if commune and not near else ""),
            mode=data["mode"],
            language=data["language"],
            accepting=data.get("accepting") or "",
            near_commune=commune.insee if near else "",
            radius_km=data["radius"] if near else None,
            page=self.page_number(),
        )
