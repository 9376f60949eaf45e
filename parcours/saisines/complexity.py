"""The complexity screening of the triage: seven dimensions, a score each, a level.

The dimensions are those of PRODUCT.md (health, autonomy, psychological, social, housing,
rights, entourage). Each is scored 0 (no difficulty), 1 (moderate) or 2 (severe). The
level is a function of the scores alone:

- 2 "complexe": two severe dimensions or more, or a total of 6 or more;
- 1 "à surveiller": otherwise, one severe dimension, or a total of 3 or more;
- 0 "simple": otherwise (at most two moderate dimensions, none severe).

Pure functions, no database: the triage form scores, ``complexity_level`` gives the level
that ``services.saisine_triage`` records with the scores (``{"health": 1, ...}``).
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

NONE, MODERATE, SEVERE = 0, 1, 2
SCORES = (
    (NONE, _("Pas de difficulté")),
    (MODERATE, _("Difficulté modérée")),
    (SEVERE, _("Difficulté importante")),
)

SIMPLE, TO_WATCH, COMPLEX = 0, 1, 2
LEVELS = {
    SIMPLE: _("Simple"),
    TO_WATCH: _("À surveiller"),
    COMPLEX: _("Complexe"),
}
# The thresholds of the level (see the module docstring).
COMPLEX_SEVERE_COUNT = 2
COMPLEX_TOTAL = 6
TO_WATCH_TOTAL = 3


@dataclass(frozen=True)
class Dimension:
    code: str
    label: str
    examples: str


DIMENSIONS = (
    Dimension(
        "health",
        _("Santé"),
        _("Maladies chroniques ou multiples, traitements lourds, pas de médecin traitant."),
    ),
    Dimension(
        "autonomy",
        _("Autonomie"),
        _("Aide pour la toilette, les repas, les déplacements ; chutes ; handicap."),
    ),
    Dimension(
        "psychological",
        _("Psychologique"),
        _("Souffrance psychique, troubles cognitifs, addictions, refus de soins."),
    ),
    Dimension(
        "social",
        _("Social"),
        _("Isolement, ressources insuffisantes, barrière de la langue, emploi."),
    ),
    Dimension(
        "housing",
        _("Logement"),
        _("Logement inadapté ou insalubre, hébergement précaire, sans logement stable."),
    ),
    Dimension(
        "rights",
        _("Droits"),
        _("Pas de couverture maladie, C2S, AME ou ALD à ouvrir, démarches MDPH."),
    ),
    Dimension(
        "entourage",
        _("Entourage"),
        _("Pas d'aidant, aidant épuisé, conflits familiaux, enfants à charge."),
    ),
)
DIMENSION_CODES = tuple(dimension.code for dimension in DIMENSIONS)


def complexity_scores(values: Mapping) -> dict[str, int]:
    """The seven scores from ``values`` (missing: 0); ValueError for anything else."""
    unknown = set(values) - set(DIMENSION_CODES)
    if unknown:
        raise ValueError(f"unknown dimensions: {sorted(unknown)}")
    scores = {}
    for code in DIMENSION_CODES:
        score = values.get(code, NONE)
        if isinstance(score, bool) or score not in (NONE, MODERATE, SEVERE):
            raise ValueError(f"{code}: score must be 0, 1 or 2")
        scores[code] = int(score)
    return scores


def complexity_level(values: Mapping) -> int:
    """0 simple, 1 to watch, 2 complex (see the module docstring)."""
    scores = complexity_scores(values)
    total = sum(scores.values())
    severe = sum(1 for score in scores.values() if score == SEVERE)
    if severe >= COMPLEX_SEVERE_COUNT or total >= COMPLEX_TOTAL:
        return COMPLEX
    if severe or total >= TO_WATCH_TOTAL:
        return TO_WATCH
    return SIMPLE


def complexity_level_label(level: int | None) -> str:
    """The level's French label; "" when the screening was not done."""
    return str(LEVELS[level]) if level in LEVELS else ""


def complexity_summary(values: Mapping) -> list[tuple[str, str]]:
    """(dimension label, score label) for each dimension with a difficulty, in order."""
    labels = dict(SCORES)
    try:
        scores = complexity_scores(values)
    except ValueError:
        return []
    return [
        (str(dimension.label), str(labels[scores[dimension.code]]))
        for dimension in DIMENSIONS
        if scores[dimension.code]
    ]
