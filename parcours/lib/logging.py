"""Log filters: signed link tokens never reach the logs.

A token in a URL (an invitation, a survey answer…) holds no personal data, but it is a key:
whoever reads it in a log could use the link. Django logs the path of 4xx/5xx answers, so the
token segment of these paths is masked before any handler writes the record.
"""

import logging
import re

# The URL segments that carry a token: /invitation/<token>/, /disponibilite/<token>/,
# /medecin-traitant/demande/<token>/ (not the public form's /<slug>/demande/envoyee/)…
TOKEN_PATHS = re.compile(
    r"(/(?:invitation|disponibilite|lien|suivi|orientation|verification"
    r"|medecin-traitant/demande)/)[^/\s\"']+"
)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = TOKEN_PATHS.sub(r"\1…", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
