"""Efficacy: RECIST 1.1 best overall response, objective response, PFS and OS.

Population and time origin come from ``[efficacy]`` (trial/config.py): by default the treated
subjects (at least one dose: the safety population is the efficacy population of this
single-arm trial) and the first dose. Day 1 is the origin date; a time in days is
``date - origin + 1``, so an event on the origin date is on day 1. Assessments on or before the
origin date are baseline and ignored; the others (up to the cut, as ``stg_tumour_assessments``
keeps them) are the post-baseline assessments.

Time-point response. Each assessment carries a RECIST 1.1 overall response: CR, PR, SD, PD or NE.
An assessment that records new lesions is PD whatever its overall response (RECIST 1.1 table 1).
A response that is none of the five codes is NE. Two assessments of one subject on one date
are read together as the worst adequate response of the date (PD, then SD, PR, CR), NE only when
both are NE: doubt is read against the regimen.

Best overall response (Eisenhauer et al., Eur J Cancer 2009;45:228-47, section 4.4 and table 3,
with confirmation as single-arm trials need it). Only assessments before the first PD count
towards a response or stable disease; the first PD is the progression.

- An assessment of CR is a *confirmed CR* when a later assessment of CR follows at least
  ``confirmation_min_days`` (28) later, every assessment in between being CR or NE.
- An assessment of CR or PR is a *confirmed PR* when a later assessment of CR or PR follows at
  least ``confirmation_min_days`` later, every assessment in between being CR, PR or NE (an SD in
  between breaks the confirmation). So CR then PR is PR (table 3: the first CR was in fact a
  PR), and PR then CR is PR unless the CR is itself confirmed.
- Best overall response, the first that holds: CR (a confirmed CR); PR (a confirmed PR); SD (an
  assessment of SD, PR or CR at least ``sd_min_days`` (42) after the origin: an unconfirmed
  response counts as SD when it meets the SD minimum); PD (a PD assessment); NE (no adequate
  assessment: none, NE only, or SD and unconfirmed responses all earlier than the SD minimum).
- With ``confirmation_required = false`` any CR or PR assessment before the first PD is the
  response, confirmed or not; ``confirmed`` still says whether it was.

Subjects with no post-baseline assessment are NE and stay in the denominator.

Duration of response (responders): from the first assessment of the confirmed response (the
first CR or PR that is itself confirmed; the first CR or PR without confirmation) to the first PD
or death, whichever first; otherwise censored at the last adequate assessment (CR, PR, SD or
PD; not NE).

PFS: from the origin to the first PD assessment or death, whichever first (a death at any time
after the origin, whatever was missed before it). Otherwise censored at the last adequate
assessment before the cut; a subject with no adequate post-baseline assessment who is alive is
censored on day 1 (the FDA guidance's default, 2018 "Clinical Trial Endpoints for the Approval
of Cancer Drugs and Biologics", table 2).

OS: from the origin to death; otherwise censored on the last date the subject was known alive:
the latest of the recorded last contact, the start of the last dose record and the last
post-baseline tumour assessment, all capped at the cut by the staging models; day 1 when none is
known. An exposure end date is not used: a missing one is filled in (validators/readings.py,
``stg_exposure``: to the agent's next record, or the end of treatment, death or last contact,
else the cut), which could make the subject known alive at the cut without evidence; a start
date is always recorded. A missing last contact stays missing (``stg_subjects``), never
the cut.

Kaplan-Meier estimates (lifelines): the 95% interval of the survival function is lifelines'
exponential Greenwood interval, formed on the log(-log) scale (Kalbfleisch and Prentice). The
median is the first time the estimate falls to 0.5 or below; where it sits exactly at 0.5, the
midpoint of that time and the next time it falls below (SAS PROC LIFETEST and R's survfit; lifelines
0.30 would take the later time, as its floating-point product leaves such a curve a hair above
0.5). Its 95% interval is read the same way off the interval's lower and upper bounds
(Brookmeyer-Crowley by inverting the pointwise interval, as ``lifelines.utils.median_survival_times``
does on ``confidence_interval_``); a bound that never falls to 0.5 is not reached (empty). The
curve's interval is left empty where the estimate is 0 (the median's interval still reads
lifelines' bounds there, which are 0). An estimate at a landmark month beyond the last time
observed is left empty (nothing is observed there), unless the curve has already reached 0.

Objective response rate (CR + PR) and disease control rate (CR + PR + SD) carry the exact
Clopper-Pearson 95% interval. Months are days / 30.4375 (365.25 / 12); the landmark months 6, 12
and 24 fall on days 183, 365 and 730 (``safetydb.incidence.month_to_day``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from safetydb.incidence import DAYS_PER_MONTH, month_to_day
from safetydb.store import SafetyStore
from trial.config import Efficacy

ASSESSMENTS_MODEL = "stg_tumour_assessments"
SUBJECTS_MODEL = "int_subject_dosing"
CONFIDENCE = 0.95
LANDMARK_MONTHS = (6, 12, 24)
MEDIAN_TOLERANCE = 1e-9

RESPONSES = ("CR", "PR", "SD", "PD", "NE")
ADEQUATE = ("CR", "PR", "SD", "PD")
# Several assessments on one date: the first of this order present is the date's response.
SAME_DATE_ORDER = ("PD", "SD", "PR", "CR", "NE")
RESPONSE_LABELS = {
    "CR": "Complete response (CR)",
    "PR": "Partial response (PR)",
    "SD": "Stable disease (SD)",
    "PD": "Progressive disease (PD)",
    "NE": "Not evaluable (NE)",
    "ORR": "Objective response (CR + PR)",
    "DCR": "Disease control (CR + PR + SD)",
}
ENDPOINT_LABELS = {"pfs": "Progression-free survival", "os": "Overall survival"}

ASSESSMENT_COLUMNS = ("subject_id", "assessment_date", "overall_response", "new_lesions")
SUBJECT_COLUMNS = ("subject_id", "enrolment_date", "first_dose_date", "treated", "death_date", "last_contact_date")
# The start of the subject's last dose record (int_subject_dosing); a frame without it has no dose
# among the dates the subject was known alive.
LAST_DOSE_START = "last_dose_start_date"

SUBJECTS_SCHEMA = {
    "subject_id": pl.String,
    "origin_date": pl.Date,
    "assessments": pl.Int64,
    "best_response": pl.String,
    "confirmed": pl.Boolean,
    "first_response_date": pl.Date,
    "first_progression_date": pl.Date,
    "last_adequate_assessment_date": pl.Date,
    "death_date": pl.Date,
    "response_duration_days": pl.Int64,
    "response_duration_event": pl.Boolean,
    "pfs_days": pl.Int64,
    "pfs_event": pl.Boolean,
    "os_days": pl.Int64,
    "os_event": pl.Boolean,
}
BEST_RESPONSE_SCHEMA = {
    "category": pl.String,
    "label": pl.String,
    "subjects": pl.Int64,
    "denominator": pl.Int64,
    "percent": pl.Float64,
    "ci_lower": pl.Float64,
    "ci_upper": pl.Float64,
}
SURVIVAL_SCHEMA = {
    "endpoint": pl.String,
    "label": pl.String,
    "subjects": pl.Int64,
    "events": pl.Int64,
    "censored": pl.Int64,
    "median_days": pl.Float64,
    "median_ci_lower_days": pl.Float64,
    "median_ci_upper_days": pl.Float64,
    "median_months": pl.Float64,
    "median_ci_lower_months": pl.Float64,
    "median_ci_upper_months": pl.Float64,
} | {
    f"survival_{month}m{suffix}": pl.Float64 for month in LANDMARK_MONTHS for suffix in ("", "_ci_lower", "_ci_upper")
}
CURVE_SCHEMA = {
    "endpoint": pl.String,
    "time_days": pl.Int64,
    "survival": pl.Float64,
    "ci_lower": pl.Float64,
    "ci_upper": pl.Float64,
    "at_risk": pl.Int64,
    "events": pl.Int64,
    "censored": pl.Int64,
}


# ---- the tables of a cut ---------------------------------------------------------------------
def efficacy_tables(store: SafetyStore, settings: Efficacy | None = None) -> dict[str, pl.DataFrame]:
    """The efficacy tables of the cut built in ``store``: ``efficacy_subjects``, ``t_best_response``,
    ``t_survival`` and ``km_curves``. Empty frames (with their columns) when the cut holds no tumour
    assessment: without one there is no response to classify, and PFS would be all censored."""
    settings = settings or Efficacy()
    assessments = store.model(ASSESSMENTS_MODEL)
    if assessments.is_empty():
        return empty_efficacy_tables()
    subjects = derive_analysis_subjects(store.model(SUBJECTS_MODEL), population=settings.population, time_origin=settings.time_origin)
    per_subject = derive_efficacy_subjects(
        assessments,
        subjects,
        confirmation_required=settings.confirmation_required,
        confirmation_min_days=settings.confirmation_min_days,
        sd_min_days=settings.sd_min_days,
    )
    survival, curves = survival_tables(per_subject)
    return {
        "efficacy_subjects": per_subject,
        "t_best_response": best_response_table(per_subject),
        "t_survival": survival,
        "km_curves": curves,
    }


def empty_efficacy_tables() -> dict[str, pl.DataFrame]:
    return {
        "efficacy_subjects": pl.DataFrame(schema=SUBJECTS_SCHEMA),
        "t_best_response": pl.DataFrame(schema=BEST_RESPONSE_SCHEMA),
        "t_survival": pl.DataFrame(schema=SURVIVAL_SCHEMA),
        "km_curves": pl.DataFrame(schema=CURVE_SCHEMA),
    }


# ---- subjects and their origin ---------------------------------------------------------------
def derive_analysis_subjects(dosing: pl.DataFrame, *, population: str = "treated", time_origin: str = "first_dose") -> pl.DataFrame:
    """The efficacy population with its origin date and what bounds follow-up.

    ``dosing`` has the columns of ``int_subject_dosing``. Returns subject_id, origin_date,
    death_date, last_contact_date, last_dose_start_date (missing when ``dosing`` lacks the
    column). Population "treated": subjects with a dose;
    "enrolled": everyone. Origin "enrolment" falls back to the first dose for a subject whose
    enrolment date is unusable, so that nobody is dropped.
    """
    missing = [c for c in SUBJECT_COLUMNS if c not in dosing.columns]
    if missing:
        raise ValueError(f"dosing: subject rows lack columns {missing}")
    if population not in ("treated", "enrolled"):
        raise ValueError(f"population: expected 'treated' or 'enrolled', got {population!r}")
    if time_origin not in ("first_dose", "enrolment"):
        raise ValueError(f"time_origin: expected 'first_dose' or 'enrolment', got {time_origin!r}")
    subjects = dosing.filter(pl.col("treated")) if population == "treated" else dosing
    if LAST_DOSE_START not in subjects.columns:
        subjects = subjects.with_columns(pl.lit(None, dtype=pl.Date).alias(LAST_DOSE_START))
    origin = pl.col("first_dose_date") if time_origin == "first_dose" else pl.coalesce("enrolment_date", "first_dose_date")
    subjects = subjects.select(
        "subject_id", origin.alias("origin_date"), "death_date", "last_contact_date", LAST_DOSE_START
    ).sort("subject_id")
    if subjects["origin_date"].null_count():
        unplaced = subjects.filter(pl.col("origin_date").is_null())["subject_id"].to_list()
        raise ValueError(f"subjects {unplaced} have no origin date ({time_origin}) and cannot be placed in time")
    return subjects


# ---- best overall response -------------------------------------------------------------------
@dataclass(frozen=True)
class BestResponse:
    """One subject's best overall response and the dates the time-to-event endpoints need."""

    best_response: str
    confirmed: bool | None  # for CR or PR: was it confirmed; None otherwise
    first_response_date: date | None
    first_progression_date: date | None
    last_adequate_date: date | None
    assessments: int


def derive_best_overall_response(
    timeline: list[tuple[date, str]],
    origin: date,
    *,
    confirmation_required: bool = True,
    confirmation_min_days: int = 28,
    sd_min_days: int = 42,
) -> BestResponse:
    """Best overall response of one subject from their post-baseline time-point responses.

    ``timeline``: (assessment date, response) pairs after the origin, one per date, any order;
    responses are RECIST codes already read (``time_point_responses``). Rules: module docstring.
    """
    points = sorted(timeline)
    first_pd = next((day for day, response in points if response == "PD"), None)
    before_pd = [(day, response) for day, response in points if first_pd is None or day < first_pd]
    adequate = [day for day, response in points if response in ADEQUATE]
    last_adequate = adequate[-1] if adequate else None

    confirmed_cr = [day for index, (day, response) in enumerate(before_pd)
                    if response == "CR" and _confirmed(before_pd, index, ("CR",), confirmation_min_days)]
    confirmed_pr = [day for index, (day, response) in enumerate(before_pd)
                    if response in ("CR", "PR") and _confirmed(before_pd, index, ("CR", "PR"), confirmation_min_days)]
    any_cr = [day for day, response in before_pd if response == "CR"]
    any_response = [day for day, response in before_pd if response in ("CR", "PR")]
    stable_long_enough = any(
        response in ("CR", "PR", "SD") and (day - origin).days >= sd_min_days for day, response in before_pd
    )

    def result(best: str, confirmed: bool | None, first_response: date | None) -> BestResponse:
        return BestResponse(best, confirmed, first_response, first_pd, last_adequate, len(points))

    if confirmation_required:
        if confirmed_cr:
            return result("CR", True, confirmed_pr[0])
        if confirmed_pr:
            return result("PR", True, confirmed_pr[0])
    else:
        if any_cr:
            return result("CR", bool(confirmed_cr), any_response[0])
        if any_response:
            return result("PR", bool(confirmed_pr), any_response[0])
    if stable_long_enough:
        return result("SD", None, None)
    if first_pd is not None:
        return result("PD", None, None)
    return result("NE", None, None)


def _confirmed(points: list[tuple[date, str]], index: int, confirming: tuple[str, ...], min_days: int) -> bool:
    """A later assessment in ``confirming`` at least ``min_days`` after point ``index``, with every
    assessment in between in ``confirming`` or NE."""
    start = points[index][0]
    for day, response in points[index + 1 :]:
        if response not in confirming and response != "NE":
            return False
        if response in confirming and (day - start).days >= min_days:
            return True
    return False


def time_point_responses(assessments: pl.DataFrame) -> pl.DataFrame:
    """One RECIST response per (subject, assessment date): new lesions make PD, an unknown code is
    NE, and several assessments of a date give the date's worst adequate response."""
    missing = [c for c in ASSESSMENT_COLUMNS if c not in assessments.columns]
    if missing:
        raise ValueError(f"assessments: rows lack columns {missing}")
    code = pl.col("overall_response").cast(pl.String).str.strip_chars().str.to_uppercase()
    new_lesions = pl.col("new_lesions").cast(pl.String).str.strip_chars().str.to_uppercase() == "Y"
    read = assessments.filter(pl.col("assessment_date").is_not_null()).select(
        pl.col("subject_id").cast(pl.String),
        pl.col("assessment_date"),
        pl.when(new_lesions.fill_null(False)).then(pl.lit("PD"))
        .when(code.is_in(RESPONSES).fill_null(False)).then(code)
        .otherwise(pl.lit("NE"))
        .alias("response"),
    )
    rank = pl.col("response").replace_strict(SAME_DATE_ORDER, list(range(len(SAME_DATE_ORDER))), return_dtype=pl.Int64)
    return (
        read.with_columns(rank.alias("rank"))
        .sort("subject_id", "assessment_date", "rank")
        .group_by("subject_id", "assessment_date", maintain_order=True)
        .agg(pl.col("response").first())
    )


# ---- per subject -----------------------------------------------------------------------------
def derive_efficacy_subjects(
    assessments: pl.DataFrame,
    subjects: pl.DataFrame,
    *,
    confirmation_required: bool = True,
    confirmation_min_days: int = 28,
    sd_min_days: int = 42,
) -> pl.DataFrame:
    """``efficacy_subjects``: one row per subject of ``subjects`` (``derive_analysis_subjects``)
    with the best overall response, response duration, PFS and OS (module docstring)."""
    points = time_point_responses(assessments).join(subjects.select("subject_id", "origin_date"), on="subject_id")
    points = points.filter(pl.col("assessment_date") > pl.col("origin_date"))
    by_subject: dict[str, list[tuple[date, str]]] = {}
    for subject_id, day, response in points.select("subject_id", "assessment_date", "response").iter_rows():
        by_subject.setdefault(subject_id, []).append((day, response))
    last_assessed = {subject_id: max(day for day, _ in timeline) for subject_id, timeline in by_subject.items()}

    rows = []
    for subject in subjects.iter_rows(named=True):
        origin = subject["origin_date"]
        best = derive_best_overall_response(
            by_subject.get(subject["subject_id"], []),
            origin,
            confirmation_required=confirmation_required,
            confirmation_min_days=confirmation_min_days,
            sd_min_days=sd_min_days,
        )
        death = subject["death_date"]
        rows.append(
            {
                "subject_id": subject["subject_id"],
                "origin_date": origin,
                "assessments": best.assessments,
                "best_response": best.best_response,
                "confirmed": best.confirmed,
                "first_response_date": best.first_response_date,
                "first_progression_date": best.first_progression_date,
                "last_adequate_assessment_date": best.last_adequate_date,
                "death_date": death,
            }
            | _response_duration(best, death)
            | _progression_free_survival(best, death, origin)
            | _overall_survival(subject, death, origin, last_assessed.get(subject["subject_id"]))
        )
    return pl.DataFrame(rows, schema=SUBJECTS_SCHEMA)


def _days(start: date, end: date) -> int:
    """Day of ``end`` counting ``start`` as day 1; a date before ``start`` (a dating error) is day 1."""
    return max((end - start).days + 1, 1)


def _response_duration(best: BestResponse, death: date | None) -> dict[str, object]:
    if best.best_response not in ("CR", "PR") or best.first_response_date is None:
        return {"response_duration_days": None, "response_duration_event": None}
    start = best.first_response_date
    ends = [day for day in (best.first_progression_date, death) if day is not None and day >= start]
    if ends:
        return {"response_duration_days": _days(start, min(ends)), "response_duration_event": True}
    return {"response_duration_days": _days(start, best.last_adequate_date or start), "response_duration_event": False}


def _progression_free_survival(best: BestResponse, death: date | None, origin: date) -> dict[str, object]:
    events = [day for day in (best.first_progression_date, death) if day is not None]
    if events:
        return {"pfs_days": _days(origin, min(events)), "pfs_event": True}
    if best.last_adequate_date is not None:
        return {"pfs_days": _days(origin, best.last_adequate_date), "pfs_event": False}
    return {"pfs_days": 1, "pfs_event": False}  # no adequate assessment, alive: censored on day 1


def _overall_survival(subject: dict, death: date | None, origin: date, last_assessed: date | None) -> dict[str, object]:
    if death is not None:
        return {"os_days": _days(origin, death), "os_event": True}
    # Recorded dates only: a dose's start, never its end (a missing end is filled in, possibly up to the cut).
    known_alive = [day for day in (subject["last_contact_date"], subject[LAST_DOSE_START], last_assessed) if day is not None]
    return {"os_days": _days(origin, max(known_alive)) if known_alive else 1, "os_event": False}


# ---- response table --------------------------------------------------------------------------
def clopper_pearson(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a binomial proportion, from the beta distribution."""
    from scipy.stats import beta

    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"clopper_pearson: need 0 <= successes <= trials and trials > 0, got {successes}/{trials}")
    tail = (1 - confidence) / 2
    lower = 0.0 if successes == 0 else float(beta.ppf(tail, successes, trials - successes + 1))
    upper = 1.0 if successes == trials else float(beta.ppf(1 - tail, successes + 1, trials - successes))
    return lower, upper


def best_response_table(efficacy_subjects: pl.DataFrame) -> pl.DataFrame:
    """t_best_response: subjects by best overall response, then the objective response and
    disease control rates with exact 95% intervals; denominator every subject of the population."""
    denominator = efficacy_subjects.height
    if denominator == 0:
        return pl.DataFrame(schema=BEST_RESPONSE_SCHEMA)
    counts = dict(efficacy_subjects.group_by("best_response").len().iter_rows())
    rows = [_response_row(category, counts.get(category, 0), denominator, with_interval=False) for category in RESPONSES]
    responders = counts.get("CR", 0) + counts.get("PR", 0)
    rows.append(_response_row("ORR", responders, denominator, with_interval=True))
    rows.append(_response_row("DCR", responders + counts.get("SD", 0), denominator, with_interval=True))
    return pl.DataFrame(rows, schema=BEST_RESPONSE_SCHEMA)


def _response_row(category: str, subjects: int, denominator: int, *, with_interval: bool) -> dict[str, object]:
    lower, upper = clopper_pearson(subjects, denominator) if with_interval else (math.nan, math.nan)
    return {
        "category": category,
        "label": RESPONSE_LABELS[category],
        "subjects": subjects,
        "denominator": denominator,
        "percent": _percent(subjects / denominator),
        "ci_lower": _percent(lower),
        "ci_upper": _percent(upper),
    }


def _percent(proportion: float) -> float | None:
    """Percent to 1 decimal, halves away from zero (DuckDB's round, used by the SQL tables)."""
    if proportion is None or math.isnan(proportion):
        return None
    return math.floor(proportion * 1000 + 0.5) / 10


# ---- Kaplan-Meier ----------------------------------------------------------------------------
@dataclass(frozen=True)
class KaplanMeierEstimate:
    """The step function at each distinct time (time 0 first), with the median and its interval."""

    times: np.ndarray
    survival: np.ndarray
    ci_lower: np.ndarray  # NaN where the interval is undefined (estimate 0)
    ci_upper: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    median: float  # inf when not reached
    median_ci_lower: float
    median_ci_upper: float

    def at(self, time: float) -> tuple[float, float, float]:
        """Estimate and interval at ``time``: the step at the last time on or before it; NaN
        beyond the last time observed unless the estimate has reached 0."""
        if time > self.times[-1] and self.survival[-1] > 0:
            return math.nan, math.nan, math.nan
        index = int(np.searchsorted(self.times, time, side="right")) - 1
        return float(self.survival[index]), float(self.ci_lower[index]), float(self.ci_upper[index])


def compute_kaplan_meier(time: np.ndarray, event: np.ndarray) -> KaplanMeierEstimate:
    """Kaplan-Meier estimate with lifelines' log(-log) 95% interval and the median's interval."""
    # lifelines brings pandas and scipy, seconds to import: only the estimate needs it.
    from lifelines import KaplanMeierFitter

    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    if time.size == 0:
        raise ValueError("compute_kaplan_meier: no subjects")
    if (time < 0).any():
        raise ValueError("compute_kaplan_meier: a time is negative")
    fitter = KaplanMeierFitter(alpha=1 - CONFIDENCE)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        fitter.fit(time, event_observed=event)
    table = fitter.event_table
    times = table.index.to_numpy(dtype=float)
    survival = fitter.survival_function_.iloc[:, 0].to_numpy(dtype=float)
    interval = fitter.confidence_interval_
    lower = interval.iloc[:, 0].to_numpy(dtype=float).copy()
    upper = interval.iloc[:, 1].to_numpy(dtype=float).copy()
    # The median's interval is read from lifelines' bounds as they are (0 where the estimate is 0);
    # the curve shows no interval there.
    median_ci_lower = _median_time(times, lower)
    median_ci_upper = _median_time(times, upper)
    undefined = survival <= 0
    lower[undefined] = np.nan
    upper[undefined] = np.nan
    return KaplanMeierEstimate(
        times=times,
        survival=survival,
        ci_lower=lower,
        ci_upper=upper,
        at_risk=table["at_risk"].to_numpy(dtype=np.int64),
        events=table["observed"].to_numpy(dtype=np.int64),
        censored=table["censored"].to_numpy(dtype=np.int64),
        median=_median_time(times, survival),
        median_ci_lower=median_ci_lower,
        median_ci_upper=median_ci_upper,
    )


def _median_time(times: np.ndarray, values: np.ndarray) -> float:
    """The first time ``values`` falls to 0.5 or below; the midpoint of that time and the next
    time it falls below 0.5 when it sits exactly at 0.5 (SAS PROC LIFETEST, R's survfit); inf
    when it never falls that low. Exactly 0.5 is judged with a tolerance: lifelines forms the
    estimate as exp(sum of logs), so 30 events among 60 come out as 0.5000000000000001."""
    at_or_below = np.flatnonzero(values <= 0.5 + MEDIAN_TOLERANCE)
    if not at_or_below.size:
        return math.inf
    first = at_or_below[0]
    if abs(values[first] - 0.5) <= MEDIAN_TOLERANCE:
        below = np.flatnonzero(values[first:] < 0.5 - MEDIAN_TOLERANCE)
        if below.size:
            return float(times[first] + times[first + below[0]]) / 2
    return float(times[first])


def survival_tables(efficacy_subjects: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """t_survival (one row per endpoint: PFS, OS) and km_curves (the steps, from time 0)."""
    if efficacy_subjects.is_empty():
        return pl.DataFrame(schema=SURVIVAL_SCHEMA), pl.DataFrame(schema=CURVE_SCHEMA)
    rows, curves = [], []
    for endpoint in ("pfs", "os"):
        time = efficacy_subjects[f"{endpoint}_days"].to_numpy()
        event = efficacy_subjects[f"{endpoint}_event"].to_numpy()
        estimate = compute_kaplan_meier(time, event)
        events = int(event.sum())
        row: dict[str, object] = {
            "endpoint": endpoint,
            "label": ENDPOINT_LABELS[endpoint],
            "subjects": int(time.size),
            "events": events,
            "censored": int(time.size) - events,
        }
        for name, days in (("median", estimate.median), ("median_ci_lower", estimate.median_ci_lower), ("median_ci_upper", estimate.median_ci_upper)):
            row[f"{name}_days"] = days if math.isfinite(days) else None
            row[f"{name}_months"] = round(days / DAYS_PER_MONTH, 1) if math.isfinite(days) else None
        for month in LANDMARK_MONTHS:
            value, lower, upper = estimate.at(month_to_day(month))
            row[f"survival_{month}m"] = _percent(value)
            row[f"survival_{month}m_ci_lower"] = _percent(lower)
            row[f"survival_{month}m_ci_upper"] = _percent(upper)
        rows.append(row)
        curves.append(
            pl.DataFrame(
                {
                    "endpoint": endpoint,
                    "time_days": estimate.times.astype(np.int64),
                    "survival": estimate.survival,
                    "ci_lower": estimate.ci_lower,
                    "ci_upper": estimate.ci_upper,
                    "at_risk": estimate.at_risk,
                    "events": estimate.events,
                    "censored": estimate.censored,
                },
                schema=CURVE_SCHEMA,
            ).with_columns(pl.col("ci_lower", "ci_upper").fill_nan(None))
        )
    return pl.DataFrame(rows, schema=SURVIVAL_SCHEMA), pl.concat(curves)
