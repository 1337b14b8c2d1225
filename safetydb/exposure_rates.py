"""Exposure-adjusted incidence rates with exact Poisson intervals (tern AET05 style): table t_eair.

``safetydb/sql/int_eair.sql`` counts, per category of treatment-emergent AE, the treated subjects
with a first event and the patient-years at risk (time from the first dose to the first event,
or to the end of the treatment-emergent window for subjects without one), and the rate per 100
patient-years. The interval SQL cannot give is added here: Garwood's exact Poisson 95% interval
for x subjects with the event over T patient-years,

    lower = chi2.ppf(0.025, 2x) / 2 / T x 100      (0 when x = 0)
    upper = chi2.ppf(0.975, 2x + 2) / 2 / T x 100

(Garwood 1936; as tern's ``h_incidence_rate_exact``). Example: 2 events over 4 patient-years
give 50 per 100 patient-years, 95% interval 6.06 to 180.62.
"""

from __future__ import annotations

import math

import polars as pl

from safetydb.store import SafetyStore

EAIR_MODEL = "int_eair"
CONFIDENCE = 0.95
TABLE_SCHEMA = {
    "ord": pl.Int64,
    "category": pl.String,
    "label": pl.String,
    "subjects_with_event": pl.Int64,
    "subjects": pl.Int64,
    "subject_days": pl.Int64,
    "patient_years": pl.Float64,
    "rate_per_100_patient_years": pl.Float64,
    "ci_lower": pl.Float64,
    "ci_upper": pl.Float64,
}


def exact_poisson_interval(events: int, patient_years: float, *, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Garwood's exact interval of a Poisson rate per 100 patient-years; NaN without time at risk."""
    from scipy.stats import chi2  # scipy is slow to import: only this needs it

    if events < 0:
        raise ValueError(f"events must be >= 0, got {events}")
    if not patient_years > 0:
        return math.nan, math.nan
    tail = (1 - confidence) / 2
    lower = 0.0 if events == 0 else chi2.ppf(tail, 2 * events) / 2
    upper = chi2.ppf(1 - tail, 2 * events + 2) / 2
    return 100 * lower / patient_years, 100 * upper / patient_years


def exposure_adjusted_rates(source: SafetyStore | pl.DataFrame) -> pl.DataFrame:
    """t_eair: the rows of ``int_eair`` (a store where it is built, or a frame of its shape) with
    the exact interval; patient-years, rate and interval rounded to 2 decimals (halves away
    from zero), the interval computed from the unrounded patient-years."""
    counts = source.model(EAIR_MODEL) if isinstance(source, SafetyStore) else source
    rows = []
    for row in counts.sort("ord").iter_rows(named=True):
        patient_years = row["subject_days"] / 365.25
        lower, upper = exact_poisson_interval(row["subjects_with_event"], patient_years)
        rate = 100 * row["subjects_with_event"] / patient_years if patient_years > 0 else math.nan
        rows.append(
            {name: row[name] for name in ("ord", "category", "label", "subjects_with_event", "subjects", "subject_days")}
            | {
                "patient_years": _rounded(patient_years),
                "rate_per_100_patient_years": _rounded(rate),
                "ci_lower": _rounded(lower),
                "ci_upper": _rounded(upper),
            }
        )
    return pl.DataFrame(rows, schema=TABLE_SCHEMA)


def _rounded(value: float) -> float | None:
    """Two decimals, halves away from zero (as DuckDB's round in the SQL tables); None for NaN."""
    if math.isnan(value):
        return None
    return math.floor(value * 100 + 0.5) / 100
