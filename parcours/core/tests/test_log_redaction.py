"""Tokens of e-mailed links never reach the logs."""

import logging

from parcours.lib.logging import RedactTokens


def record(msg, *args):
    return logging.LogRecord("django.request", logging.WARNING, __file__, 1, msg, args, None)


def test_a_token_in_a_logged_path_is_masked():
    entry = record("Gone: %s", "/annuaire/disponibilite/eyJpZCI6MX0:1vBx:abcDEF123/")
    RedactTokens().filter(entry)
    assert entry.getMessage() == "Gone: /annuaire/disponibilite/…/"
    invitation = record("Not Found: /invitation/AbC.123-xyz/")
    RedactTokens().filter(invitation)
    assert invitation.getMessage() == "Not Found: /invitation/…/"
    answer = record("Gone: %s", "/medecin-traitant/demande/eyJzIjoxLCJhIjoiYWNjZXB0In0:1vC:x9/")
    RedactTokens().filter(answer)
    assert answer.getMessage() == "Gone: /medecin-traitant/demande/…/"


def test_other_messages_are_left_alone():
    for path in (
        "/annuaire/fiche/professional/12/",
        "/saisines/cpts-venissieux/demande/envoyee/",
        "/medecin-traitant/mon-espace/demandes/12/",
    ):
        entry = record("Not Found: %s", path)
        RedactTokens().filter(entry)
        assert entry.getMessage() == f"Not Found: {path}"


def test_the_console_handler_uses_the_filter(settings):
    assert "redact_tokens" in settings.LOGGING["handlers"]["console"]["filters"]
