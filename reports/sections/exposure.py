"""Exposure in the DSMB report: days on treatment and dose changes (t_exposure), dose intensity
(t_dose_intensity), time to the first dose reduction or hold (t_time_to_modification), and
exposure-adjusted incidence rates of treatment-emergent AEs (t_eair).

Numbers come from the tables safetydb built; this module only formats them and writes each
table's note: population, denominator, window and data cut.
"""

from __future__ import annotations

import polars as pl

from reports.tables import Table, report_table
from trial.config import TrialConfig


def exposure_context(
    tables: dict[str, pl.DataFrame], config: TrialConfig, *, cut_date: str, population: str, teae_window: str
) -> dict:
    """The section's tables, in the order shown. ``population`` is the report's sentence naming the
    data cut and the safety population; ``teae_window`` the treatment-emergent window in words."""
    low_rdi = f"{config.model.exposure.low_rdi_percent:g}"
    teae_end_days = config.teae_end_days
    window_end = (
        f"the last dose + {teae_end_days} days" if teae_end_days is not None else "the data cut (no end window)"
    )
    shown: list[Table] = [
        report_table(
            tables["t_exposure"], "t_exposure", "Days on treatment and dose changes",
            f"{population} Per agent: the subjects who received it (at least one exposure record with a dose above 0). Median "
            "days: the median, over those subjects, of the days from the agent's first dose to its last (the last day of its last "
            "record with a dose above 0), counting both ends; an exposure record without an end date runs to the subject's end of "
            "treatment, death or last contact, whichever is recorded and earliest, else to the data cut. Held, Reduced, "
            "Discontinued: subjects with at least one exposure record of the agent with that adjustment. These are exposure "
            "records of one agent, not the disposition's \"Ended treatment\" (an end of treatment in the subjects file, or a "
            "death): a subject can discontinue one agent and stay on treatment with the other, or end treatment with no "
            "discontinued record.",
            {"agent": "Agent", "subjects_dosed": "Subjects dosed", "median_days_on_treatment": "Median days", "subjects_reduced": "Reduced",
             "subjects_held": "Held", "subjects_discontinued": "Discontinued"},
        ),
        report_table(
            _dose_intensity_shown(tables["t_dose_intensity"]), "t_dose_intensity", "Dose intensity",
            f"{population} Per agent: the subjects who received at least one dose of it (N = subjects dosed), each over "
            "their own treatment period with it, from its first to its last dose (days counting both). Cumulative dose: the "
            "sum of the doses recorded; for an agent dosed daily (QD, BID, ...: one record per dosing interval), dose x "
            "administrations a day x days of each record. Planned cumulative dose: the subject's planned dose (the highest "
            "planned dose of their records: the agent's dose in the trial config, or their arm's; the Planned dose column "
            "shows the agent's) x administrations a day x days of the period for a daily agent; the planned dose x planned "
            "administrations for an agent given by administration (QW, Q2W, ...: one every interval from the first dose up to "
            "the last dose, i.e. days between them divided by the interval, rounded down, + 1). Dose intensity: cumulative "
            "dose per day of the period (daily agents) or per planned administration. Relative dose intensity (RDI): "
            f"cumulative / planned cumulative dose; low: below {low_rdi}% ([exposure] low_rdi_percent), n (%) of the subjects "
            "dosed. A dose above the planned dose counts as recorded (it is queried); a missing dose counts as the planned dose; "
            "a record without an end date counts up to the subject's end of treatment, death or last contact, whichever is "
            "recorded and earliest, else the data cut.",
            {"agent_name": "Agent", "frequency": "Frequency", "planned_dose_mg": "Planned dose (mg)", "subjects_dosed": "Subjects dosed",
             "cumulative_dose": "Cumulative dose, mg: median (range)", "dose_intensity": "Dose intensity: median (range)",
             "rdi": "RDI %: median (range)", "low_rdi": f"RDI < {low_rdi}%: n (%)"},
        ),
        report_table(
            _time_to_modification_shown(tables["t_time_to_modification"]), "t_time_to_modification",
            "Time to the first dose reduction or hold",
            f"{population} Per agent: the subjects who received at least one dose of it (N = subjects dosed). Event: the first "
            "exposure record on or after the agent's first dose that holds or reduces it (adjustment held or reduced, or a dose "
            "below the planned dose other than a discontinuation), on study day d (day 1 = the agent's first dose). Median "
            "(range) of d among the subjects with one. Kaplan-Meier median: the first day the estimate falls to 0.5 or below "
            "(when it rests at exactly 0.5, the midpoint of that day and the day it next falls below 0.5, as for PFS and OS), "
            "with subjects without one censored at their last dose of the agent; 95% interval from the curve's "
            "pointwise interval (log(-log) scale), shown where its lower bound is reached. \"not reached\": the estimate, or the bound, stays above 0.5.",
            {"agent_name": "Agent", "subjects_dosed": "Subjects dosed", "modified": "With a reduction or hold: n (%)",
             "days": "Day of the first: median (range)", "km_median": "Kaplan-Meier median day (95% CI)"},
        ),
        report_table(
            _eair_shown(tables["t_eair"]), "t_eair", "Exposure-adjusted incidence of treatment-emergent AEs",
            f"{population} Window: {teae_window}. Per category: subjects with at least one event (counted once, at the first) "
            "over the patient-years at risk of all treated subjects. Time at risk: from the first dose (day 1) to the onset of "
            f"the first event of the category; for a subject without one, to the end of the treatment-emergent window "
            f"({window_end}) or, if earlier, death, last contact or the data cut (without a recorded last contact, the last "
            "dose); an exposure record without an end date counts up to the subject's end of treatment, death or last contact, "
            "whichever is recorded and earliest (else the data cut), and the last dose, from which the window runs, is taken "
            "from there, not from the cut; patient-years = days / 365.25. Rate per 100 patient-years with the exact Poisson 95% interval (Garwood). "
            "AESI sets as the trial config defines them, any grade. Doubtful records count the conservative way "
            "(missing grade as 3, unknown seriousness as serious, attribution not assessed as related).",
            {"label": "Category", "subjects_with_event": "Subjects with the event", "subjects": "N", "patient_years": "Patient-years",
             "rate_per_100_patient_years": "Rate per 100 patient-years", "interval": "95% interval"},
        ),
    ]
    return {"tables": shown}


def _number(column: str) -> pl.Expr:
    """A number as text without a needless ".0" (250.0 -> "250", 248.9 stays)."""
    value = pl.col(column)
    return pl.when(value == value.floor()).then(value.cast(pl.Int64).cast(pl.String)).otherwise(value.cast(pl.String))


def _median_range(prefix: str, suffix: str = "") -> pl.Expr:
    return pl.when(pl.col(f"{prefix}_median{suffix}").is_not_null()).then(
        pl.format("{} ({}–{})", _number(f"{prefix}_median{suffix}"), _number(f"{prefix}_min{suffix}"), _number(f"{prefix}_max{suffix}"))
    )


def _dose_intensity_shown(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        _median_range("cumulative_dose", "_mg").alias("cumulative_dose"),
        pl.when(pl.col("dose_intensity_median").is_not_null())
        .then(pl.format("{} ({}–{}) {}", _number("dose_intensity_median"), _number("dose_intensity_min"), _number("dose_intensity_max"), pl.col("dose_intensity_unit")))
        .otherwise(pl.lit("not computed: frequency not in data/dosing/frequencies.csv"))
        .alias("dose_intensity"),
        _median_range("rdi", "_percent").alias("rdi"),
        pl.when(pl.col("subjects_with_rdi") > 0).then(pl.format("{} ({}%)", pl.col("subjects_low_rdi"), pl.col("percent_low_rdi"))).alias("low_rdi"),
        _number("planned_dose_mg").alias("planned_dose_mg"),
    )


def _time_to_modification_shown(frame: pl.DataFrame) -> pl.DataFrame:
    median = pl.when(pl.col("km_median_day").is_not_null()).then(_number("km_median_day")).otherwise(pl.lit("not reached"))
    upper = pl.when(pl.col("km_ci_upper").is_not_null()).then(_number("km_ci_upper")).otherwise(pl.lit("not reached"))
    return frame.with_columns(
        pl.when(pl.col("subjects_dosed") > 0).then(pl.format("{} ({}%)", pl.col("subjects_modified"), pl.col("percent_modified"))).alias("modified"),
        pl.when(pl.col("median_day").is_not_null())
        .then(pl.format("{} ({}–{})", _number("median_day"), pl.col("min_day"), pl.col("max_day")))
        .alias("days"),
        # the interval only where its lower bound is reached
        pl.when(pl.col("subjects_dosed") == 0)
        .then(None)
        .when(pl.col("km_ci_lower").is_not_null())
        .then(pl.format("{} ({} – {})", median, _number("km_ci_lower"), upper))
        .otherwise(median)
        .alias("km_median"),
    )


def _eair_shown(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("ord").with_columns(
        pl.when(pl.col("ci_lower").is_not_null()).then(pl.format("{} – {}", pl.col("ci_lower"), pl.col("ci_upper"))).alias("interval")
    )
