"""The vocabulary of the adverse-event ``treatment`` column: what was given for the event; and
the grade levels of severities (a trial graded by severity).

Kept as data (``data/ctcae/ae_treatments.csv``: value, meaning, source note) and read here once.
An event's ``treatment`` holds one or more of these values separated by ``;`` (``none`` alone
when nothing was given); a value outside the list is queried and the record is counted.
"""

from __future__ import annotations

import csv
from functools import cache

from ctcae.home import data_path

VOCABULARY_PATH = ("ctcae", "ae_treatments.csv")
SEPARATOR = ";"
NO_TREATMENT = "none"


@cache
def ae_treatments() -> tuple[str, ...]:
    """The allowed values of ``treatment``, in the file's order."""
    with data_path(*VOCABULARY_PATH).open(encoding="utf-8", newline="") as handle:
        values = tuple(row["value"] for row in csv.DictReader(handle))
    if NO_TREATMENT not in values:
        raise ValueError(f"{'/'.join(VOCABULARY_PATH)} must list {NO_TREATMENT!r}")
    if len(set(values)) != len(values) or any(not value or SEPARATOR in value for value in values):
        raise ValueError(f"{'/'.join(VOCABULARY_PATH)}: values must be unique, non-empty and without {SEPARATOR!r}")
    return values


SEVERITY_PATH = ("cdisc", "severity_grades.csv")


@cache
def severity_levels() -> dict[str, int]:
    """The grade level each severity (CDISC AESEV) stands for in a trial graded by severity
    (``data/cdisc/severity_grades.csv``, which the CDISC readers map AESEV by too)."""
    with data_path(*SEVERITY_PATH).open(encoding="utf-8", newline="") as handle:
        levels = {row["cdisc_value"].strip().upper(): int(row["toxwatch_value"]) for row in csv.DictReader(handle)}
    if not levels or any(level not in range(1, 5) for level in levels.values()):
        raise ValueError(f"{'/'.join(SEVERITY_PATH)}: each severity needs a grade level from 1 to 4")
    return levels
