"""Study status in the DSMB report: enrolment by site and by month, disposition, demographics of
the safety population, and living subjects whose last contact is not current.

Numbers come from the tables safetydb built (t_enrolment_by_site, t_enrolment_by_month,
t_disposition, t_demographics, t_data_currency); this module only formats them and writes each
table's note: population, denominator, window and data cut.
"""

from __future__ import annotations

import polars as pl

from reports.charts import enrolment_chart
from reports.tables import Table, report_table
from trial.config import TrialConfig

ALL_SITES = "(all sites)"
INDENT = "\u00a0\u00a0\u00a0\u00a0"  # a sub-row of the disposition table, indented under its row


def study_status_context(tables: dict[str, pl.DataFrame], config: TrialConfig, *, cut_date: str) -> dict:
    """The section's tables, in the order shown, and the charts drawn with them (by table key:
    enrolment over time with t_enrolment_by_month)."""
    by_site = tables["t_enrolment_by_site"]
    total = by_site.filter(pl.col("site_id") == ALL_SITES)
    enrolled = int(total["enrolled"].item()) if total.height else 0
    treated = int(total["treated"].item()) if total.height else 0
    sites = by_site.height - total.height
    shown: list[Table] = [
        report_table(
            by_site, "t_enrolment_by_site", "Enrolment and status by site",
            f"Data cut {cut_date}. All enrolled subjects (N = {enrolled}) at {sites} site(s); the last row totals all sites. "
            "Treated: at least one dose by the cut. On treatment: treated, alive, and no end of treatment by the cut. "
            "Ended treatment: an end of treatment (a date by the cut, or a reason with no date) or a death by the cut. Died: a death "
            "recorded in the subjects file by the cut (a date, or a cause with no date), an AE counted at grade 5, or the "
            "end-of-treatment reason \"death\" (as in the disposition table). "
            "Site names from the trial config ([sites]); a site without one shows its id.",
            {"site_name": "Site", "site_id": "Site id", "enrolled": "Enrolled", "treated": "Treated", "on_treatment": "On treatment",
             "ended_treatment": "Ended treatment", "died": "Died", "first_enrolment": "First enrolment", "last_enrolment": "Last enrolment"},
        ),
        report_table(
            tables["t_enrolment_by_month"].with_columns(pl.col("month").dt.strftime("%Y-%m")),
            "t_enrolment_by_month", "Enrolment by month",
            f"Data cut {cut_date}. All enrolled subjects (N = {enrolled}), by calendar month of enrolment, from the month of the "
            "first enrolment to the month of the cut; cumulative: enrolled up to the end of the month. A subject without an "
            "enrolment date is in no month (counted in the disposition table).",
            {"month": "Month", "enrolled": "Enrolled", "cumulative_enrolled": "Cumulative"},
        ),
        report_table(
            _disposition_shown(tables["t_disposition"]), "t_disposition", "Subject disposition",
            f"Data cut {cut_date}. Each row states its denominator: all enrolled subjects (N = {enrolled}), or the safety "
            f"population (treated: at least one dose, N = {treated}). Ended treatment: one row per reason as the subjects "
            "file gives it; a reason without an end-of-treatment date is a row of its own, \"<reason>, date unknown\" (treatment "
            "ended on an unknown date: not counted as on treatment); an end-of-treatment date without a reason is \"reason "
            "missing\"; a death without an end-of-treatment record ends treatment as \"died, no end of treatment recorded\". "
            "Died: a death recorded in the subjects file by the cut (a death date, or a cause with no date), or an AE counted at "
            "grade 5 (after the conservative readings), or the end-of-treatment reason \"death\"; these last two, without a "
            "recorded death date, count as deaths of unknown date and are queried. Deaths with a date are placed two ways: "
            "died on treatment (on or before the end-of-treatment date, or with no end-of-treatment date recorded) or after the "
            "end of treatment; and died within 30 days of the last dose (the death date no later than the last dose + 30 days, "
            "as in the listing of deaths) or more than 30 days after it. The two need not agree: a death after the end of "
            "treatment can be within 30 days of the last dose. Alive, in follow-up: ended treatment and not known to have died.",
            {"category": "Status", "subjects": "n", "of": "Of", "denominator": "N", "percent": "%"},
        ),
        report_table(
            _demographics_shown(tables["t_demographics"]), "t_demographics", "Demographics and baseline characteristics",
            f"Data cut {cut_date}. Safety population: N = {treated} treated subjects (at least one dose). n (%) of N; age in "
            "years at enrolment, as median (range) of the subjects with an age; age groups from the trial config "
            "([demographics] age_group_bounds). A value missing in the subjects file is shown as Missing, never dropped.",
            {"characteristic": "Characteristic", "category": "Category", "shown": "n (%) or median (range)"},
        ),
        report_table(
            tables["t_data_currency"].with_columns(pl.col("on_treatment").replace_strict({True: "yes", False: "no"}, return_dtype=pl.String)),
            "t_data_currency", "Data currency: living subjects not seen recently",
            f"Data cut {cut_date}. Population: all enrolled subjects (N = {enrolled}) not known to have died. Listed: last contact "
            f"more than {config.model.data_currency.max_days_since_contact} days before the cut ([data_currency] "
            "max_days_since_contact), or no last contact recorded; days counted from the last contact to the cut. On treatment: "
            "treated, with no end of treatment by the cut.",
            {"subject_id": "Subject", "site_name": "Site", "last_contact_date": "Last contact", "days_before_cut": "Days before the cut",
             "on_treatment": "On treatment", "last_dose_date": "Last dose", "end_of_treatment_reason": "End of treatment"},
        ),
    ]
    charts = {"t_enrolment_by_month": enrolment_chart(tables["t_enrolment_by_month"], title="Subjects enrolled by month and in total")}
    return {"tables": shown, "charts": charts}


def _disposition_shown(disposition: pl.DataFrame) -> pl.DataFrame:
    return disposition.sort("ord").with_columns(
        pl.when(pl.col("level") > 0).then(pl.lit(INDENT) + pl.col("category")).otherwise(pl.col("category")).alias("category"),
        pl.col("population").alias("of"),
    )


def _demographics_shown(demographics: pl.DataFrame) -> pl.DataFrame:
    """One cell per row: "n (x.y%)", or "median (min-max)" for a summary row."""
    counted = pl.format("{} ({}%)", pl.col("subjects"), pl.col("percent"))
    median = (
        pl.when(pl.col("median") == pl.col("median").floor())
        .then(pl.col("median").cast(pl.Int64).cast(pl.String))
        .otherwise(pl.col("median").cast(pl.String))
    )
    summary = pl.format("{} ({}–{})", median, pl.col("minimum"), pl.col("maximum"))
    return demographics.sort("ord").with_columns(
        pl.when(pl.col("median").is_not_null()).then(summary).otherwise(counted).alias("shown")
    )
