"""Partial ISO 8601 dates (SDTM ``--DTC``): kept as given, imputed by a documented rule, flagged.

SDTM collects dates as ISO 8601 text in which trailing parts may be unknown: ``2014-03-05``,
``2014-03-05T10:30``, ``2014-03`` (day unknown), ``2014`` (month and day unknown), or nothing.
An unknown part may also be written as ``-``: ``2014-03--``, ``2014---05``, ``--03-05``.

The rule follows pharmaverse admiral's date imputation, ``derive_vars_dt()`` and
``impute_dtc_dt()`` (reference pages of the same names, and the vignette "Date and Time
Imputation", https://pharmaverse.github.io/admiral/articles/imputation.html):

* a start date is imputed as admiral does with ``highest_imputation = "M"``,
  ``date_imputation = "first"`` and, under ``first_or_reference``, ``min_dates`` = the reference
  date (first dose): the earliest day the partial date allows, moved up to the reference date
  when the reference falls inside that range (``2014-03`` with a first dose on 2014-03-17 starts
  on 2014-03-17: an event recorded in the month of the first dose is not put before it);
* an end date is imputed as with ``highest_imputation = "M"``, ``date_imputation = "last"``:
  the last day the partial date allows (2016-02 ends on 2016-02-29);
* ``cap`` is admiral's ``max_dates`` (e.g. death date or data cut): applied after the reference,
  the imputed date is moved back to the cap when the cap falls inside the range the partial
  date allows. A cap outside that range is ignored, as in admiral, so that a part of the date
  that was given is never changed;
* the flag is admiral's ``compute_dtf()``: ``D`` when the day was imputed, ``M`` when month and
  day were; it says what was missing, not whether a reference or cap moved the date;
* as admiral's default ``preserve = FALSE``, a day given without its month (``2014---05``)
  is not kept: the date is imputed from its year alone and flagged ``M``;
* a missing year is never imputed (admiral's level ``Y`` is not offered): the date stays missing
  and is queried downstream as a missing date;
* the time of a date-time is dropped; the date part decides the flag.

Where this differs from admiral: text that is not ISO 8601 (``03/05/2014``, ``UNK``), and
a date that is ISO 8601 in form but not on the calendar (``2014-02-30``, ``2014-13``), is left
in the column exactly as given, with no flag, so that validation queries it as a bad date;
admiral returns a missing date with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import polars as pl

StartDay = Literal["first", "first_or_reference"]
StartMonth = Literal["first"]
EndDay = Literal["last"]
EndMonth = Literal["last"]
Kind = Literal["start", "end"]

GIVEN_SUFFIX = "_given"
FLAG_SUFFIX = "_imputed"
DAY_IMPUTED = "D"  # admiral's --DTF "D": the day was missing
MONTH_IMPUTED = "M"  # admiral's --DTF "M": month and day were missing

# ISO 8601 extended format as SDTM uses it: year, month and day, each given or "-" (unknown),
# trailing parts may be left out; an optional time after "T" (parts unknown as "-" too) with
# an optional zone. The time is read only to recognise the text; it is dropped.
_TIME = r"(?:\d{2}|-)(?::(?:\d{2}|-)(?::(?:\d{2}|-)(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
_DTC = rf"^(?<year>\d{{4}}|-)(?:-(?<month>\d{{2}}|-)(?:-(?<day>\d{{2}}|-))?)?(?:T{_TIME})?$"
_COMPLETE_DATE = r"^\d{4}-\d{2}-\d{2}"
_WORK_PREFIX = "__partial_date_"
_WORK_COLUMNS = (
    "parts", "missing", "year", "month", "day", "year_known", "month_known", "day_known",
    "lower", "upper", "imputed", "bound",
)


@dataclass(frozen=True)
class ImputationRule:
    """How the missing parts of a partial date are filled in; see the module docstring.

    ``start_day``: a start date without its day becomes the 1st of its month (``first``), or
    the reference date when that falls in the same month after the 1st (``first_or_reference``).
    ``start_month``: a start date with only its year becomes January 1st; under
    ``start_day = "first_or_reference"`` the same reference rule applies on the year (the
    reference date when that falls in the same year), as admiral's ``min_dates`` applies to
    every imputed part alike.
    ``end_day``: an end date without its day becomes the last day of its month.
    ``end_month``: an end date with only its year becomes December 31st.
    A missing year is never imputed.
    """

    start_day: StartDay = "first_or_reference"
    start_month: StartMonth = "first"
    end_day: EndDay = "last"
    end_month: EndMonth = "last"

    def __post_init__(self) -> None:
        allowed = {"start_day": StartDay, "start_month": StartMonth, "end_day": EndDay, "end_month": EndMonth}
        for name, literal in allowed.items():
            value = getattr(self, name)
            if value not in get_args(literal):
                choices = " or ".join(repr(choice) for choice in get_args(literal))
                raise ValueError(f"ImputationRule.{name} is {value!r}; it must be {choices}")


def describe(rule: ImputationRule, *, reference: str = "the first dose date") -> str:
    """The rule in plain sentences, one per part, for docs and the notes of listings.

    ``reference`` names what the reference date is in the sentences (e.g. "the first dose date").
    """
    if rule.start_day == "first_or_reference":
        start_day = (
            f"A start date without its day is taken as the 1st of its month, or as {reference} "
            "when that falls later in the same month."
        )
    else:
        start_day = "A start date without its day is taken as the 1st of its month."
    if rule.start_day == "first_or_reference":
        start_month = (
            f"A start date with only its year is taken as January 1st, or as {reference} "
            "when that falls later in the same year."
        )
    else:
        start_month = "A start date with only its year is taken as January 1st."
    end_day = "An end date without its day is taken as the last day of its month."
    end_month = "An end date with only its year is taken as December 31st."
    year = "A date without its year is not imputed: it stays missing and is queried."
    flag = (
        "The date as given is kept beside the imputed date, flagged D when the day was imputed "
        "and M when the month and day were."
    )
    return " ".join([start_day, start_month, end_day, end_month, year, flag])


def impute(
    frame: pl.DataFrame,
    column: str,
    *,
    kind: Kind,
    rule: ImputationRule,
    reference: str | None = None,
    cap: str | None = None,
) -> pl.DataFrame:
    """Impute the partial ISO 8601 dates of text column ``column`` by ``rule``.

    Returns ``frame`` with:

    * ``column``: the date as ISO text ``YYYY-MM-DD`` (text, because source frames stay all-text
      for validation): imputed when partial, the date part when a date-time, missing when
      missing or when the year is unknown, and the text exactly as given when it is not an ISO
      8601 date (``03/05/2014``, ``UNK``, ``2014-02-30``) so that validation queries it;
    * ``column + "_given"``: the text exactly as given;
    * ``column + "_imputed"``: ``"D"`` (day imputed), ``"M"`` (month and day imputed) or missing
      (a complete date, a missing date, or text that is not an ISO 8601 date).

    ``kind``: ``"start"`` imputes the earliest day the partial date allows, ``"end"`` the latest.
    ``reference``: a column of ISO date text (e.g. first dose) that ``first_or_reference`` moves
    an imputed start date up to, when it lies within the range the partial date allows
    (admiral ``min_dates``). ``cap``: a column of ISO date text (e.g. death date or data cut)
    that an imputed date may not pass, when it lies within that range (admiral ``max_dates``).
    A reference or cap that is missing or not a complete date is not used for that row.
    """
    _check_arguments(frame, column, kind=kind, rule=rule, reference=reference, cap=cap)

    # Each step is computed once into a working column (names prefixed so that they cannot meet
    # the frame's own), then dropped: one expression tree would recompute the shared parts.
    work = {name: _WORK_PREFIX + name for name in _WORK_COLUMNS}
    col = {name: pl.col(alias) for name, alias in work.items()}
    text = pl.col(column).str.strip_chars()

    lazy = frame.lazy().with_columns(
        text.str.extract_groups(_DTC).alias(work["parts"]),
        (text.is_null() | (text == "")).alias(work["missing"]),
    )
    lazy = lazy.with_columns(
        col["parts"].struct.field("year").alias(work["year"]),
        col["parts"].struct.field("month").alias(work["month"]),
        col["parts"].struct.field("day").alias(work["day"]),
    )
    year_known = col["year"].str.contains(r"^\d{4}$") & (col["year"] != "0000")
    lazy = lazy.with_columns(year_known.fill_null(False).alias(work["year_known"]))
    month_known = col["year_known"] & col["month"].is_not_null() & (col["month"] != "-")
    lazy = lazy.with_columns(month_known.fill_null(False).alias(work["month_known"]))
    # admiral's preserve = FALSE: a day whose month is unknown is not used.
    day_known = col["month_known"] & col["day"].is_not_null() & (col["day"] != "-")
    lazy = lazy.with_columns(day_known.fill_null(False).alias(work["day_known"]))

    # The range of dates the given parts allow: one day for a complete date, a month when only
    # the day is missing, a year when month and day are. Parts that are not on the calendar
    # (month 13, February 30th) give no range.
    first_day = pl.concat_str(
        [
            col["year"],
            pl.when(col["month_known"]).then(col["month"]).otherwise(pl.lit("01")),
            pl.when(col["day_known"]).then(col["day"]).otherwise(pl.lit("01")),
        ],
        separator="-",
    )
    lazy = lazy.with_columns(
        pl.when(col["year_known"]).then(first_day.str.to_date("%Y-%m-%d", strict=False)).alias(work["lower"])
    )
    lazy = lazy.with_columns(
        pl.when(col["day_known"])
        .then(col["lower"])
        .when(col["month_known"])
        .then(col["lower"].dt.month_end())
        .otherwise(col["lower"].dt.offset_by("11mo").dt.month_end())
        .alias(work["upper"])
    )

    imputed = col["lower"] if kind == "start" else col["upper"]
    lazy = lazy.with_columns(imputed.alias(work["imputed"]))
    if kind == "start" and reference is not None and rule.start_day == "first_or_reference":
        # The reference moves a start date missing its day or its month alike (a complete date's
        # range is one day, so it never moves).
        lazy = lazy.with_columns(_as_date(frame, reference).alias(work["bound"]))
        within = (col["bound"] >= col["lower"]) & (col["bound"] <= col["upper"])
        moved_up = pl.when(within).then(pl.max_horizontal(col["imputed"], col["bound"])).otherwise(col["imputed"])
        lazy = lazy.with_columns(moved_up.alias(work["imputed"]))
    if cap is not None:
        lazy = lazy.with_columns(_as_date(frame, cap).alias(work["bound"]))
        within = (col["bound"] >= col["lower"]) & (col["bound"] <= col["upper"])
        moved_back = pl.when(within).then(pl.min_horizontal(col["imputed"], col["bound"])).otherwise(col["imputed"])
        lazy = lazy.with_columns(moved_back.alias(work["imputed"]))

    # ISO-shaped text whose parts are not on the calendar (month 13, February 30th, year 0000)
    # has no range: it is kept as given, like text that is not ISO 8601 at all.
    is_date = col["imputed"].is_not_null()
    year_unknown = (col["year"] == "-").fill_null(False)
    # A complete date is its own first ten characters (its range is one day, so no reference or
    # cap moves it); only imputed dates are formatted, which keeps a million rows fast.
    complete_text = text.str.slice(0, 10)
    imputed_text = pl.when(~col["day_known"]).then(col["imputed"]).dt.strftime("%Y-%m-%d")
    value = (
        pl.when(col["missing"] | year_unknown)
        .then(pl.lit(None, dtype=pl.String))
        .when(is_date & col["day_known"])
        .then(complete_text)
        .when(is_date)
        .then(imputed_text)
        .otherwise(pl.col(column))
    )
    flag = (
        pl.when(is_date & col["month_known"] & ~col["day_known"])
        .then(pl.lit(DAY_IMPUTED))
        .when(is_date & ~col["month_known"])
        .then(pl.lit(MONTH_IMPUTED))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    lazy = lazy.with_columns(
        pl.col(column).alias(column + GIVEN_SUFFIX),
        flag.alias(column + FLAG_SUFFIX),
    ).with_columns(value.alias(column))
    return lazy.drop([alias for alias in work.values() if alias in lazy.collect_schema().names()]).collect()


def _as_date(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A reference or cap column as a date: a Date column as is, a Datetime by its date, text
    by its leading ``YYYY-MM-DD`` (a partial or unreadable reference is not used)."""
    dtype = frame.schema[column]
    if dtype == pl.Date:
        return pl.col(column)
    if isinstance(dtype, pl.Datetime):
        return pl.col(column).dt.date()
    text = pl.col(column).str.strip_chars()
    leading = text.str.slice(0, 10)
    return (
        pl.when(text.str.contains(_COMPLETE_DATE) & ~text.str.starts_with("0000"))
        .then(leading.str.to_date("%Y-%m-%d", strict=False))
        .otherwise(pl.lit(None, dtype=pl.Date))
    )


def _check_arguments(
    frame: pl.DataFrame, column: str, *, kind: str, rule: ImputationRule, reference: str | None, cap: str | None
) -> None:
    if kind not in get_args(Kind):
        raise ValueError(f"kind is {kind!r}; it must be 'start' or 'end'")
    if not isinstance(rule, ImputationRule):
        raise TypeError(f"rule must be an ImputationRule, not {type(rule).__name__}")
    if column not in frame.columns:
        raise ValueError(f"column {column!r} is not in the frame")
    if frame.schema[column] != pl.String:
        raise TypeError(f"column {column!r} must be text (ISO 8601 as given), not {frame.schema[column]}")
    for added in (column + GIVEN_SUFFIX, column + FLAG_SUFFIX):
        if added in frame.columns:
            raise ValueError(f"column {added!r} is already in the frame; {column!r} was imputed before")
    for argument, name in (("reference", reference), ("cap", cap)):
        if name is None:
            continue
        if name not in frame.columns:
            raise ValueError(f"{argument} column {name!r} is not in the frame")
        dtype = frame.schema[name]
        if not (dtype in (pl.String, pl.Date) or isinstance(dtype, pl.Datetime)):
            raise TypeError(f"{argument} column {name!r} must be ISO date text or a date, not {dtype}")
    clashing = [name for name in frame.columns if name.startswith(_WORK_PREFIX)]
    if clashing:
        raise ValueError(f"column {clashing[0]!r} uses the prefix {_WORK_PREFIX!r} kept for working columns")
    if reference is not None and kind == "end":
        raise ValueError("reference applies to start dates only (kind='start'); an end date is capped with cap")
