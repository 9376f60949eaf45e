"""Text folding shared by search and geocoding: what two spellings of a word have in common."""

import re
import unicodedata

_NOT_WORD = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower case, accents removed, ligatures split, anything else than letters and digits
    becomes a single space: 'Œuvre Saint-Jean, Kiné' → 'oeuvre saint jean kine'."""
    text = (text or "").replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _NOT_WORD.sub(" ", ascii_text).strip()
