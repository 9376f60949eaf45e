"""Small helpers shared by the forms of every app (no models)."""

from django.core.exceptions import ValidationError


def add_errors(form, error: ValidationError) -> None:
    """A service's errors next to their fields; those of fields the form lacks on top."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)
