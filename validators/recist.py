"""How a tumour assessment's response and new-lesion fields are read when they are not written as coded.

A value off the code is always queried (the data manager corrects it); these readings only say
how the record is counted until then, the conservative way:

* ``overall_response``: a value that names one RECIST 1.1 code without doubt is read as that
  code: the code itself in another case or spacing (``pd``), or a synonym listed as data in
  ``data/recist/overall_response_synonyms.csv`` (``Progressive disease`` is PD). Any other value
  is not evaluable (NE), so that neither a response nor a progression is assumed from it.
* ``new_lesions``: ``N`` or ``No`` in any case is no new lesions; any other value that is not
  empty (``y``, ``Yes``, ``U``, ``maybe``) is read as new lesions present, which is progression.
  An empty value stays missing: no new lesions recorded.
"""

from __future__ import annotations

import csv
from functools import cache

from ctcae.home import data_path
from validators.schemas import NOT_EVALUABLE, OVERALL_RESPONSES

SYNONYMS_PATH = ("recist", "overall_response_synonyms.csv")
NEW_LESIONS_PRESENT = "Y"
NO_NEW_LESIONS = "N"
NO_NEW_LESIONS_WRITTEN = ("n", "no")
MISSING_RESPONSE_READING = "counted as not evaluable (NE): the response is missing, so no response is assumed"


def fold(value: str) -> str:
    """A written value with its surrounding spaces removed, runs of spaces made one, in lower case."""
    return " ".join(value.split()).casefold()


@cache
def response_synonyms() -> dict[str, str]:
    """Folded synonym -> RECIST 1.1 code, from the shipped table."""
    with data_path(*SYNONYMS_PATH).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    synonyms: dict[str, str] = {}
    for row in rows:
        synonym, code = fold(row["synonym"] or ""), (row["code"] or "").strip()
        if not synonym or code not in OVERALL_RESPONSES:
            raise ValueError(f"{'/'.join(SYNONYMS_PATH)}: {row} needs a synonym and one of the codes {', '.join(OVERALL_RESPONSES)}")
        if synonym in synonyms or synonym.upper() in OVERALL_RESPONSES:
            raise ValueError(f"{'/'.join(SYNONYMS_PATH)}: {synonym!r} is listed twice, or is a code itself")
        synonyms[synonym] = code
    return synonyms


def read_response(value: str | None) -> str | None:
    """The RECIST 1.1 code ``value`` names without doubt; None when it is missing or names none."""
    if value is None or not value.strip():
        return None
    folded = fold(value)
    if folded.upper() in OVERALL_RESPONSES:
        return folded.upper()
    return response_synonyms().get(folded)


def read_new_lesions(value: str | None) -> str | None:
    """``N`` for N or No (any case), ``Y`` for any other value that is not empty, None when empty."""
    if value is None or not value.strip():
        return None
    return NO_NEW_LESIONS if fold(value) in NO_NEW_LESIONS_WRITTEN else NEW_LESIONS_PRESENT


def response_reading(value: str | None) -> str | None:
    """What a query on an ``overall_response`` that is not a code says the counts did with it
    (None for a missing value: the field's declared consequence says it)."""
    if value is None or not value.strip():
        return None
    code = read_response(value)
    if code is None:
        return (
            f"counted as not evaluable (NE): {value!r} names no RECIST 1.1 code and is no listed synonym, "
            "so no response is assumed"
        )
    if code == NOT_EVALUABLE:
        return f"counted as not evaluable (NE): {value!r} read as the RECIST code NE"
    return f"counted as {code}: {value!r} read as the RECIST code {code}"


def new_lesions_reading(value: str | None) -> str | None:
    """What a query on a ``new_lesions`` value that is neither Y nor N says the counts did with it."""
    code = read_new_lesions(value)
    if code is None:
        return None
    if code == NO_NEW_LESIONS:
        return f"counted as no new lesions: {value!r} read as N"
    return f"counted as new lesions present (PD): {value!r} read as Y (only N or No reads as no new lesions)"
