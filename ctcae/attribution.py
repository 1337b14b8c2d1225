"""The NCI 5-level attribution scale: how likely an adverse event is caused by a study agent.

The scale (NCI CTEP adverse event reporting) is ordered from unrelated to definite. A trial
chooses which levels count as "related" for its toxicity tables and stopping rules; the usual
choice, and the default here, is possible, probable and definite.

Binary answers ("related", "Y", "N") cannot be placed on the 5-level scale: "related" may
mean possible or definite, "not related" on a binary form may have included "unlikely".
They are left unresolved (None) so that the data manager queries them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class AttributionLevel:
    """One level of the scale; ``rank`` orders them (1 = unrelated ... 5 = definite)."""

    name: str
    rank: int
    meaning: str


ATTRIBUTION_SCALE = (
    AttributionLevel("unrelated", 1, "the adverse event is clearly not related to the agent"),
    AttributionLevel("unlikely", 2, "the adverse event is doubtfully related to the agent"),
    AttributionLevel("possible", 3, "the adverse event may be related to the agent"),
    AttributionLevel("probable", 4, "the adverse event is likely related to the agent"),
    AttributionLevel("definite", 5, "the adverse event is clearly related to the agent"),
)
ATTRIBUTION_LEVELS = tuple(level.name for level in ATTRIBUTION_SCALE)
DEFAULT_RELATED_LEVELS = ("possible", "probable", "definite")

# Common CRF wordings of the five levels (after folding: lower case, single spaces).
ATTRIBUTION_ALIASES = {
    "unrelated": "unrelated",
    "not related": "unrelated",
    "definitely not related": "unrelated",
    "unlikely": "unlikely",
    "unlikely related": "unlikely",
    "probably not related": "unlikely",
    "possible": "possible",
    "possibly": "possible",
    "possibly related": "possible",
    "probable": "probable",
    "probably": "probable",
    "probably related": "probable",
    "likely related": "probable",
    "definite": "definite",
    "definitely": "definite",
    "definitely related": "definite",
}

# Wordings of a yes/no relatedness question: not placeable on the 5-level scale.
BINARY_ANSWERS = frozenset(
    {"related", "not suspected", "suspected", "y", "n", "yes", "no", "true", "false", "1", "0"}
)


def fold_attribution(value: str) -> str:
    """Lower case, underscores and hyphens as spaces, single spaces, no trailing wording.

    "Possibly_Related to study drug" -> "possibly related".
    """
    text = re.sub(r"[\s_\-]+", " ", value.strip().lower())
    text = re.sub(r" to (the )?(study )?(drug|agent|treatment|intervention)s?$", "", text)
    return text.strip(" .")


def normalise_attribution(value: object) -> str | None:
    """The 5-level attribution of a CRF value, or None when it cannot be placed on the scale.

    Accepts the level names in any case and the usual "<adverb> related" wordings
    ("not related" -> unrelated, "possibly related" -> possible, ...). Binary answers
    ("related", "Y", "N") and anything unknown return None: the caller raises a query.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = fold_attribution(str(value))
    if not text or text in BINARY_ANSWERS:
        return None
    return ATTRIBUTION_ALIASES.get(text)


def attribution_rank(level: str) -> int:
    """Position of a level on the scale (1 = unrelated ... 5 = definite)."""
    canonical = normalise_attribution(level)
    if canonical is None:
        raise ValueError(
            f"{level!r} is not a level of the 5-level attribution scale "
            f"({', '.join(ATTRIBUTION_LEVELS)})"
        )
    return ATTRIBUTION_LEVELS.index(canonical) + 1


def validate_related_levels(levels: Iterable[str]) -> tuple[str, ...]:
    """Check a trial's choice of "related" levels; return them canonical, in scale order.

    Raises ValueError naming every value that is not one of the five levels, and when the
    choice is empty.
    """
    if isinstance(levels, str):
        levels = [levels]  # a lone string would otherwise be read letter by letter
    given = list(levels)
    bad = [value for value in given if not isinstance(value, str) or normalise_attribution(value) is None]
    if bad:
        raise ValueError(
            f"invalid related attribution levels {bad!r}; each must be one of "
            f"{', '.join(ATTRIBUTION_LEVELS)}"
        )
    if not given:
        raise ValueError(
            f"related attribution levels are empty; choose from {', '.join(ATTRIBUTION_LEVELS)}"
        )
    chosen = {normalise_attribution(value) for value in given}
    return tuple(level for level in ATTRIBUTION_LEVELS if level in chosen)


def is_related(level: str, related_levels: Iterable[str] = DEFAULT_RELATED_LEVELS) -> bool:
    """Whether an attribution counts as treatment-related under the trial's chosen levels.

    Raises ValueError for a value that is not on the 5-level scale (e.g. a binary
    "related"): deciding it would be guessing; it must be queried.
    """
    chosen = validate_related_levels(related_levels)
    canonical = normalise_attribution(level)
    if canonical is None:
        raise ValueError(
            f"attribution {level!r} is not on the 5-level scale ({', '.join(ATTRIBUTION_LEVELS)}); "
            "query the site for the level"
        )
    return canonical in chosen
