"""Display of a person's identifiers: ``{{ person.nir|nir }}`` → '2 55 08 14 168 025 38'."""

from django import template

from parcours.lib.nir import nir_format

register = template.Library()


@register.filter
def nir(value: str) -> str:
    return nir_format(value)
