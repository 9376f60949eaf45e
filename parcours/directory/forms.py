from django import forms
from django.utils.translation import gettext_lazy as _

from parcours.territory.models import Commune

from .guide import guide_pages
from .hours import format_opening_hours, parse_opening_hours
from .models import Service


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
