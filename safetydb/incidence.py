"""Cumulative incidence of toxicity with death as a competing risk (Aalen-Johansen).

Population: treated subjects (at least one dose). Time origin: the first dose, counted as study
day 1, as ``int_adverse_events.study_day``. For each endpoint (any AE of grade >= 3; each AESI
set, any grade) a subject's time is the study day of the first qualifying AE (status 1), or of
death before any qualifying AE (status 2, the competing event), or of the end of follow-up
(status 0: last contact, or the horizon ``[windows] follow_up_days``, 730 days = 24 months,
whichever comes first). ``safetydb/sql/int_time_to_toxicity.sql`` derives these rows.

The estimate is Aalen-Johansen's: with S the all-cause Kaplan-Meier survival,

    CIF(t) = sum over event times t_j <= t of S(t_j-) * d_j / n_j

where n_j subjects are at risk on day t_j and d_j of them have the event that day. The 95%
confidence interval is lifelines' (Collett 2015, p. 411, as SAS PROC LIFETEST): a Greenwood-type
delta-method variance, the interval formed on the log(-log) scale so it stays in [0, 1]. It is
undefined where the estimate is 0 or 1 and after a day on which every subject at risk had an
event or died; the table leaves it empty there.

Ties. Times are whole study days, so ties are common. They are taken as simultaneous, the
Aalen-Johansen convention (as R's cmprsk::cuminc and survival::survfit): on a day with n at
risk, d1 events and d2 competing deaths, CIF rises by S(t-) * d1 / n and S falls by the factor
(1 - (d1 + d2) / n); subjects censored that day are still at risk that day (events come before
censoring). lifelines 0.30 instead jitters every event time by random noise whenever an event
and a competing death share a time (only then: ties of one type, or with censoring, are left
alone); the jitter can move an event after a censoring on the same day and makes results vary
from run to run. We switch the jitter off (``_SimultaneousTies``) and check afterwards that
lifelines kept every time as given, so the estimate is exact and the same on every run.

Months are turned into days as 30.4375 days a month (365.25 / 12), rounded to the nearest day
with a half day rounded down, so 3, 6, 12 and 24 months are days 91, 183, 365 and 730 (the
24-month horizon).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from safetydb.store import SafetyStore

TIME_TO_TOXICITY_MODEL = "int_time_to_toxicity"
GRADE_3_PLUS = "grade_3_plus"  # the endpoint id int_time_to_toxicity gives "any grade >= 3 AE"
DAYS_PER_MONTH = 30.4375
CONFIDENCE = 0.95

EVENT, COMPETING_DEATH, CENSORED = 1, 2, 0
INPUT_COLUMNS = ("endpoint", "label", "subject_id", "time", "status", "horizon_day")

TABLE_SCHEMA = {
    "endpoint": pl.String,
    "label": pl.String,
    "month": pl.Float64,
    "day": pl.Int64,
    "subjects": pl.Int64,
    "at_risk": pl.Int64,
    "events": pl.Int64,
    "competing_deaths": pl.Int64,
    "cumulative_incidence": pl.Float64,
    "ci_lower": pl.Float64,
    "ci_upper": pl.Float64,
    "note": pl.String,
}
CURVE_SCHEMA = {"endpoint": pl.String, "label": pl.String, "day": pl.Int64, "cumulative_incidence": pl.Float64}


@dataclass(frozen=True)
class AalenJohansenEstimate:
    """The step function of one endpoint, at each distinct observed day (day 0 first)."""

    days: np.ndarray
    cumulative_incidence: np.ndarray  # proportion, not percent
    ci_lower: np.ndarray  # NaN where the interval is undefined
    ci_upper: np.ndarray

    def at(self, day: int) -> tuple[float, float, float]:
        """Estimate and interval on ``day``: the step at the last observed day on or before it."""
        index = int(np.searchsorted(self.days, day, side="right")) - 1
        return (
            float(self.cumulative_incidence[index]),
            float(self.ci_lower[index]),
            float(self.ci_upper[index]),
        )


def cumulative_incidence(
    source: SafetyStore | pl.DataFrame,
    *,
    horizon_months: Sequence[float] = (3, 6, 12, 24),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cumulative incidence of each toxicity endpoint at the given months, and its step curves.

    ``source`` is a store in which ``int_time_to_toxicity`` has been built, or a frame in that
    model's shape (endpoint, label, subject_id, time, status, horizon_day). Returns

    - ``t_cumulative_incidence``: one row per (endpoint, month): the day the month falls on,
      subjects (N treated), at_risk on that day, events and competing_deaths up to that day,
      cumulative_incidence and its 95% ci_lower / ci_upper in percent (1 decimal, halves away
      from zero as in the SQL tables), and a note with population, window and method. The
      estimate is left empty on a day when no subject is still at risk (at_risk 0: everyone
      has had the event, died or left follow-up before it), and months beyond the follow-up
      horizon are left out: nothing is observed there.
    - the curves: (endpoint, label, day, cumulative_incidence in percent) at day 0, at each day
      the estimate rises and at the last day observed, for drawing as steps.

    Endpoints come in the order any grade >= 3 first, then the AESI sets by id.
    """
    months = _checked_months(horizon_months)
    times = _checked_times(source.model(TIME_TO_TOXICITY_MODEL) if isinstance(source, SafetyStore) else source)
    if times.is_empty():
        return pl.DataFrame(schema=TABLE_SCHEMA), pl.DataFrame(schema=CURVE_SCHEMA)
    horizon = times["horizon_day"][0]

    table_rows: list[dict] = []
    curve_frames: list[pl.DataFrame] = []
    for endpoint, label in _endpoints_in_order(times):
        subjects = times.filter(pl.col("endpoint") == endpoint)
        time = subjects["time"].to_numpy()
        status = subjects["status"].to_numpy()
        estimate = compute_aalen_johansen(time, status)
        note = _note(endpoint, label, subjects.height, horizon)
        for month in months:
            day = month_to_day(month)
            if day > horizon:
                continue
            counts = _counts_on(day, time, status)
            month_note = f"{note} Month {month:g} = day {day} (30.4375 days a month)."
            if counts["at_risk"] == 0:
                # Nobody left at risk: carrying the last step forward would claim follow-up the
                # cut does not have (R's summary.survfit leaves such times out the same way).
                estimate_on_day = (math.nan, math.nan, math.nan)
                month_note += f" Not estimable: no subject still at risk (event-free and followed) on day {day}."
            else:
                estimate_on_day = estimate.at(day)
            table_rows.append(
                {"endpoint": endpoint, "label": label, "month": float(month), "day": day}
                | counts
                | _percents(estimate_on_day)
                | {"note": month_note}
            )
        curve_frames.append(_curve(endpoint, label, estimate, last_day=int(time.max())))
    table = pl.DataFrame(table_rows, schema=TABLE_SCHEMA)
    return table, pl.concat(curve_frames)


def compute_aalen_johansen(time: np.ndarray, status: np.ndarray) -> AalenJohansenEstimate:
    """Aalen-Johansen estimate of status 1 with status 2 competing, ties simultaneous (see module)."""
    # lifelines brings pandas and scipy, seconds to import: only the estimate needs it.
    from lifelines import AalenJohansenFitter

    class _SimultaneousTies(AalenJohansenFitter):
        @staticmethod
        def _check_for_duplicates(durations, events):  # noqa: ARG004 - lifelines' signature
            return False  # never jitter: tied days are simultaneous

    fitter = _SimultaneousTies(alpha=1 - CONFIDENCE)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # log(-log F) is undefined where F is 0 or 1: lifelines yields NaN there, which we keep.
        warnings.simplefilter("ignore", RuntimeWarning)
        fitter.fit(time, status, event_of_interest=EVENT)
    days = fitter.cumulative_density_.index.to_numpy()
    expected = np.unique(np.concatenate([[0], time]))
    if not np.array_equal(days, expected):
        raise RuntimeError("lifelines changed the observed days (jitter?): the estimate would not be exact")
    cumulative = fitter.cumulative_density_.iloc[:, 0].to_numpy(dtype=float)
    # lifelines 0.30 names its interval columns the wrong way round ("upper" holds the lower
    # bound): take the bounds by value, not by name.
    bounds = fitter.confidence_interval_.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        lower, upper = np.min(bounds, axis=1), np.max(bounds, axis=1)
    undefined = ~np.isfinite(fitter.variance_.to_numpy(dtype=float)) | (cumulative <= 0) | (cumulative >= 1)
    lower[undefined] = np.nan
    upper[undefined] = np.nan
    return AalenJohansenEstimate(days, cumulative, lower, upper)


def month_to_day(months: float) -> int:
    """Study day on which ``months`` after the first dose fall: 30.4375 days a month, a half day down."""
    return math.ceil(DAYS_PER_MONTH * months - 0.5)


def _counts_on(day: int, time: np.ndarray, status: np.ndarray) -> dict[str, int]:
    return {
        "subjects": int(time.size),
        "at_risk": int(np.count_nonzero(time >= day)),
        "events": int(np.count_nonzero((status == EVENT) & (time <= day))),
        "competing_deaths": int(np.count_nonzero((status == COMPETING_DEATH) & (time <= day))),
    }


def _percents(values: tuple[float, float, float]) -> dict[str, float | None]:
    names = ("cumulative_incidence", "ci_lower", "ci_upper")
    return {name: _percent(value) for name, value in zip(names, values, strict=True)}


def _percent(proportion: float) -> float | None:
    """Percent to 1 decimal, halves away from zero (DuckDB's round, used by the SQL tables)."""
    if math.isnan(proportion):
        return None
    return math.floor(proportion * 1000 + 0.5) / 10


def _curve(endpoint: str, label: str, estimate: AalenJohansenEstimate, *, last_day: int) -> pl.DataFrame:
    """Day 0, each day the estimate rises, and the last day observed (where the line ends)."""
    rises = np.flatnonzero(np.diff(estimate.cumulative_incidence) > 0) + 1
    keep = np.unique(np.concatenate([[0], rises, [np.searchsorted(estimate.days, last_day)]]))
    return pl.DataFrame(
        {
            "endpoint": endpoint,
            "label": label,
            "day": estimate.days[keep].astype(np.int64),
            "cumulative_incidence": 100 * estimate.cumulative_incidence[keep],
        },
        schema=CURVE_SCHEMA,
    )


def _note(endpoint: str, label: str, subjects: int, horizon: int) -> str:
    event = "first AE of grade >= 3" if endpoint == GRADE_3_PLUS else f"first AE of the {label} set (any grade)"
    return (
        f"Treated subjects (N = {subjects}); time from the first dose (day 1). Event: {event} with onset "
        f"day 1 to {horizon}; death before it is a competing risk; others censored at last contact "
        f"or day {horizon}. Aalen-Johansen estimate, 95% CI by the delta method on the log(-log) "
        "scale (lifelines); ties on a day taken as simultaneous."
    )


def _endpoints_in_order(times: pl.DataFrame) -> list[tuple[str, str]]:
    endpoints = times.select("endpoint", "label").unique().sort(pl.col("endpoint") != GRADE_3_PLUS, "endpoint")
    return list(endpoints.iter_rows())


def _checked_months(horizon_months: Sequence[float]) -> list[float]:
    months = list(horizon_months)
    if not months or any(not isinstance(m, (int, float)) or m <= 0 for m in months):
        raise ValueError(f"horizon_months: expected positive numbers of months, got {horizon_months!r}")
    return months


def _checked_times(frame: pl.DataFrame) -> pl.DataFrame:
    """The time-to-toxicity rows, checked: columns, one row per (endpoint, subject), codes, horizon."""
    missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"source: time-to-toxicity rows lack columns {missing} (expected {list(INPUT_COLUMNS)})")
    times = frame.select(INPUT_COLUMNS).cast(
        {
            "endpoint": pl.String,
            "label": pl.String,
            "subject_id": pl.String,
            "time": pl.Int64,
            "status": pl.Int64,
            "horizon_day": pl.Int64,
        }
    )
    if times.select(pl.any_horizontal(pl.all().is_null()).any()).item():
        raise ValueError("source: time-to-toxicity rows have empty values")
    if times.select("endpoint", "subject_id").is_duplicated().any():
        raise ValueError("source: more than one row for an (endpoint, subject_id)")
    if not times["status"].is_in([EVENT, COMPETING_DEATH, CENSORED]).all():
        raise ValueError("source: status must be 1 (event), 2 (competing death) or 0 (censored)")
    if (times["time"] < 0).any():
        raise ValueError("source: a time is negative (follow-up ends before the first dose)")
    if ((times["time"] < 1) & (times["status"] != CENSORED)).any():
        # lifelines 0.30 sets the estimate at its first time to 0, dropping an event there
        # (lifelines PR #1699); study days start at 1, so such a row is a dating error anyway.
        raise ValueError("source: an event or death before day 1 (the first dose)")
    if (times["time"] > times["horizon_day"]).any():
        raise ValueError("source: a time is beyond horizon_day (follow-up is censored at the horizon)")
    if times["horizon_day"].n_unique() > 1 or times.select("endpoint", "label").unique().height != times["endpoint"].n_unique():
        raise ValueError("source: one horizon_day for all rows and one label per endpoint expected")
    return times
