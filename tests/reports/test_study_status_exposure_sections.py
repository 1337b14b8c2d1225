"""The study status and exposure sections of the DSMB report: every table states the data cut and
its population, and the cells are formatted from the tables' own numbers (nothing computed)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from reports.render import environment
from reports.sections.exposure import exposure_context
from reports.sections.study_status import study_status_context
from tests.conftest import BUNDLED_CONFIG
from trial.config import load_trial_config

CUT = "2025-06-30"
POPULATION = f"Data cut {CUT}. Safety population: N = 6 treated subjects (at least one dose)."


@pytest.fixture(scope="module")
def config():
    return load_trial_config(BUNDLED_CONFIG)


def study_tables() -> dict[str, pl.DataFrame]:
    return {
        "t_enrolment_by_site": pl.DataFrame({
            "ord": [1, 2], "site_id": ["S01", "(all sites)"], "site_name": ["广州 研究中心 01 (Guangzhou site 01)", "All sites"],
            "enrolled": [7, 7], "treated": [6, 6], "on_treatment": [1, 1], "ended_treatment": [5, 5], "died": [3, 3],
            "first_enrolment": [date(2025, 1, 10)] * 2, "last_enrolment": [date(2025, 4, 2)] * 2,
        }),
        "t_enrolment_by_month": pl.DataFrame({"month": [date(2025, 1, 1), date(2025, 2, 1)], "enrolled": [2, 1], "cumulative_enrolled": [2, 3]}),
        "t_disposition": pl.DataFrame({
            "ord": [1, 2], "level": [0, 1], "category": ["Ended treatment", "Ended treatment: toxicity"], "subjects": [5, 1],
            "population": ["treated", "treated"], "denominator": [6, 6], "percent": [83.3, 16.7],
        }),
        "t_demographics": pl.DataFrame({
            "ord": [1, 2], "characteristic": ["Sex", "Age (years)"], "category": ["M", "Median (range)"], "subjects": [4, 5],
            "denominator": [6, 6], "percent": [66.7, 83.3], "median": [None, 45.0], "minimum": [None, 30], "maximum": [None, 65],
        }),
        "t_data_currency": pl.DataFrame({
            "subject_id": ["P3"], "site_id": ["S01"], "site_name": ["Site"], "last_contact_date": [date(2025, 3, 31)],
            "days_before_cut": [91], "on_treatment": [False], "treated": [True], "last_dose_date": [date(2025, 3, 15)],
            "end_of_treatment_reason": ["toxicity"], "max_days_since_contact": [90],
        }),
    }


def exposure_tables() -> dict[str, pl.DataFrame]:
    return {
        "t_exposure": pl.DataFrame({
            "agent": ["apatinib"], "subjects_dosed": [4], "median_days_on_treatment": [20.0], "subject_days": [67],
            "subjects_reduced": [1], "subjects_held": [2], "subjects_discontinued": [0],
        }),
        "t_dose_intensity": pl.DataFrame({
            "agent": ["apatinib"], "agent_name": ["Apatinib mesylate"], "frequency": ["QD"], "planned_dose_mg": [250.0],
            "subjects_dosed": [4], "subjects_dose_missing": [1], "cumulative_dose_median_mg": [4812.5],
            "cumulative_dose_min_mg": [2000.0], "cumulative_dose_max_mg": [7750.0], "dose_intensity_unit": ["mg/day"],
            "dose_intensity_median": [234.4], "dose_intensity_min": [187.5], "dose_intensity_max": [250.0],
            "rdi_median_percent": [93.8], "rdi_min_percent": [75.0], "rdi_max_percent": [100.0], "subjects_with_rdi": [4],
            "subjects_low_rdi": [1], "low_rdi_percent": [80.0], "percent_low_rdi": [25.0],
        }),
        "t_time_to_modification": pl.DataFrame({
            "agent": ["apatinib", "anti_pd1"], "agent_name": ["Apatinib mesylate", "Anti-PD-1 antibody"], "subjects_dosed": [4, 2],
            "subjects_modified": [2, 0], "percent_modified": [50.0, 0.0], "median_day": [15.5, None], "min_day": [15, None],
            "max_day": [16, None], "km_median_day": [16.0, None], "km_ci_lower": [15.0, None], "km_ci_upper": [None, None],
        }),
        "t_eair": pl.DataFrame({
            "ord": [1], "category": ["any_teae"], "label": ["Any TEAE"], "subjects_with_event": [2], "subjects": [3],
            "subject_days": [1461], "patient_years": [4.0], "rate_per_100_patient_years": [50.0], "ci_lower": [6.06], "ci_upper": [180.62],
        }),
    }


def cells(table) -> dict[str, list]:
    return {column: [row[i] for row in table.rows] for i, column in enumerate(table.columns)}


def test_study_status_tables_state_cut_and_population(config):
    context = study_status_context(study_tables(), config, cut_date=CUT)
    keys = [table.key for table in context["tables"]]
    assert keys == ["t_enrolment_by_site", "t_enrolment_by_month", "t_disposition", "t_demographics", "t_data_currency"]
    for table in context["tables"]:
        assert f"Data cut {CUT}." in table.note, table.key
    notes = {table.key: table.note for table in context["tables"]}
    assert "N = 7" in notes["t_enrolment_by_site"] and "1 site(s)" in notes["t_enrolment_by_site"]
    assert "N = 6 treated subjects" in notes["t_demographics"]
    assert "more than 90 days before the cut" in notes["t_data_currency"]
    shown = {table.key: cells(table) for table in context["tables"]}
    assert shown["t_demographics"]["n (%) or median (range)"] == ["4 (66.7%)", "45 (30–65)"]
    assert shown["t_enrolment_by_month"]["Month"] == ["2025-01", "2025-02"]
    assert shown["t_disposition"]["Status"][1].endswith("Ended treatment: toxicity") and shown["t_disposition"]["Status"][1] != "Ended treatment: toxicity"
    assert shown["t_data_currency"]["On treatment"] == ["no"]


def test_exposure_tables_state_cut_and_population(config):
    context = exposure_context(exposure_tables(), config, cut_date=CUT, population=POPULATION, teae_window="treatment-emergent: onset from the first dose to 30 days after the last dose")
    assert [table.key for table in context["tables"]] == ["t_exposure", "t_dose_intensity", "t_time_to_modification", "t_eair"]
    for table in context["tables"]:
        assert f"Data cut {CUT}." in table.note and "N = 6 treated subjects" in table.note, table.key
    shown = {table.key: cells(table) for table in context["tables"]}
    intensity = shown["t_dose_intensity"]
    assert intensity["RDI %: median (range)"] == ["93.8 (75–100)"]
    assert intensity["Dose intensity: median (range)"] == ["234.4 (187.5–250) mg/day"]
    assert intensity["RDI < 80%: n (%)"] == ["1 (25.0%)"]
    modification = shown["t_time_to_modification"]
    assert modification["Kaplan-Meier median day (95% CI)"] == ["16 (15 – not reached)", "not reached"]
    assert modification["Day of the first: median (range)"] == ["15.5 (15–16)", None]
    assert shown["t_eair"]["95% interval"] == ["6.06 – 180.62"]
    assert "last dose + 30 days" in context["tables"][3].note


def test_sections_render_with_site_names_marked_chinese(config):
    env = environment()
    html = env.get_template("sections/_study_status.html.j2").render(study_status=study_status_context(study_tables(), config, cut_date=CUT))
    assert '<section id="t_enrolment_by_site" class="table-section">' in html
    assert '<span lang="zh">广州 研究中心 01 (Guangzhou site 01)</span>' in html
    html = env.get_template("sections/_exposure.html.j2").render(
        exposure=exposure_context(exposure_tables(), config, cut_date=CUT, population=POPULATION, teae_window="w")
    )
    assert '<section id="t_eair" class="table-section">' in html
