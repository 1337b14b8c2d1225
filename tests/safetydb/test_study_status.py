"""Study status tables: enrolment by site and month, disposition, demographics, data currency.

Hand-made seven-subject cut (models run on frames in the shape of int_subject_dosing), cut
2025-06-30, [data_currency] max_days_since_contact 90, age groups [45, 65], sites A = "Site
Alpha" and B = "Site Beta" named in the config, C not named:

| subject | site | enrolled | dosed | end of treatment | death | last contact | sex, age, recurrence, re-irradiation |
|---|---|---|---|---|---|---|---|
| P1 | A | 2025-01-10 | yes | none | alive | 2025-06-30 | M 44 local N |
| P2 | A | 2025-01-20 | yes | 2025-03-01 progression | 2025-04-15 | 2025-04-15 | F 45 distant Y |
| P3 | B | 2025-02-05 | yes | 2025-03-15 toxicity | alive | 2025-03-31 (91 days before the cut) | M 65 regional N |
| P4 | B | 2025-03-02 | no | none | alive | 2025-04-01 (90 days) | F 70 local N |
| P5 | C | 2025-03-20 | yes | 2025-05-01, no reason | alive | not recorded | all missing |
| P6 | (none) | unknown | yes | none | 2025-05-20 | 2025-05-20 | M 50 local N |
| P7 | A | 2025-04-02 | yes | 2025-05-10 death | cause only, no date | 2025-05-10 | M 30 local N |

Worked out by hand:
- enrolled 7; treated 6 (all but P4); never dosed 1 (P4).
- on treatment: treated, alive, no end of treatment: P1 only (P6 died) = 1.
- ended treatment 5: progression P2, toxicity P3, "reason missing" P5, "death" P7, and P6 "died,
  no end of treatment recorded".
- died among the treated 3: on treatment P6 (no end of treatment), after the end of treatment P2
  (04-15 > 03-01), date unknown P7; of the dated deaths, within 30 days of the last dose P6 (05-20
  <= 05-18 + 30), more than 30 days after it P2 (04-15 > 03-31); never dosed and died 0; alive in follow-up after treatment:
  P3, P5 = 2; enrolment date unknown: P6 = 1.
- by site: A (P1, P2, P7) 3 enrolled, 3 treated, 1 on treatment, 2 ended, 2 died, 01-10 to 04-02;
  B (P3, P4) 2, 1, 0, 1, 0, 02-05 to 03-02; C (P5) 1, 1, 0, 1, 0, named by its id; "(missing)"
  (P6) 1, 1, 0, 1, 1, no dates; all sites 7, 6, 1, 5, 3, 01-10 to 04-02.
- by month, January to June 2025: 2, 1, 2, 1, 0, 0; cumulative 2, 3, 5, 6, 6, 6 (P6 in no month).
- data currency: living P1 (0 days), P3 (91: listed), P4 (90: not listed), P5 (no last contact:
  listed); the unknown one first.
- demographics of the 6 treated: sex F 1 (16.7%), M 4 (66.7%), Missing 1 (16.7%); age of the 5
  with one (44, 45, 65, 50, 30): median 45, range 30-65, Missing 1; age groups < 45: 44, 30 = 2
  (33.3%), 45-64: 45, 50 = 2, >= 65: 65 = 1, Missing 1; recurrence distant 1, local 3 (50.0%),
  regional 1, Missing 1; re-irradiation N 4, Y 1, Missing 1.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from safetydb.store import ModelParameters, SafetyStore, model_grain
from safetydb.study_tables import age_groups_frame, register_study_tables
from tests.conftest import BUNDLED_CONFIG
from trial.config import TrialConfigModel, load_trial_config
from trial.errors import InputError

CUT = date(2025, 6, 30)
STATUS_MODELS = ("int_subject_status", "t_enrolment_by_site", "t_enrolment_by_month", "t_disposition", "t_demographics", "t_data_currency")
SITES_TOML = '\n[sites.A]\nname = "Site Alpha"\n\n[sites.B]\nname = "Site Beta"\n'


def d(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


SUBJECTS = [
    # subject, site, enrolled, first dose, last dose, end of treatment, reason, death, cause, last contact, sex, age, recurrence, re-irradiation
    ("P1", "A", "2025-01-10", "2025-01-12", "2025-06-30", None, None, None, None, "2025-06-30", "M", 44, "local", "N"),
    ("P2", "A", "2025-01-20", "2025-01-22", "2025-03-01", "2025-03-01", "progression", "2025-04-15", "disease_progression", "2025-04-15", "F", 45, "distant", "Y"),
    ("P3", "B", "2025-02-05", "2025-02-06", "2025-03-15", "2025-03-15", "toxicity", None, None, "2025-03-31", "M", 65, "regional", "N"),
    ("P4", "B", "2025-03-02", None, None, None, None, None, None, "2025-04-01", "F", 70, "local", "N"),
    ("P5", "C", "2025-03-20", "2025-03-21", "2025-05-01", "2025-05-01", None, None, None, None, None, None, None, None),
    ("P6", None, None, "2025-02-01", "2025-05-18", None, None, "2025-05-20", "adverse_event", "2025-05-20", "M", 50, "local", "N"),
    ("P7", "A", "2025-04-02", "2025-04-03", "2025-05-10", "2025-05-10", "death", None, "adverse_event", "2025-05-10", "M", 30, "local", "N"),
]


def subject_dosing() -> pl.DataFrame:
    """int_subject_dosing's columns the study status models read; a missing last contact stays
    empty with last_contact_recorded false, and no death is dated after the cut, as stg_subjects
    gives them."""
    rows = []
    for (subject, site, enrolled, first, last, eot, reason, death, cause, contact, sex, age, recurrence, reirradiation) in SUBJECTS:
        rows.append({
            "subject_id": subject, "site_id": site, "enrolment_date": d(enrolled), "treated": first is not None,
            "first_dose_date": d(first), "last_dose_date": d(last), "end_of_treatment_date": d(eot),
            "end_of_treatment_reason": reason, "death_date": d(death), "death_cause": cause,
            "last_contact_date": d(contact), "last_contact_recorded": contact is not None, "death_after_cut": False,
            "sex": sex, "age": age, "recurrence_type": recurrence, "prior_reirradiation": reirradiation,
        })
    return pl.DataFrame(rows, schema_overrides={"age": pl.Int32})


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory) -> dict[str, pl.DataFrame]:
    folder = tmp_path_factory.mktemp("status")
    config_path = folder / "trial.toml"
    config_path.write_text(BUNDLED_CONFIG.read_text(encoding="utf-8") + SITES_TOML, encoding="utf-8")
    config = load_trial_config(config_path)
    parameters = ModelParameters(
        cut_id="x", cut_date=CUT, cycle_days=28, teae_end_days=30, acute_days=90, related_levels=[], max_days_since_contact=90,
    ).as_dict()
    with SafetyStore(folder / "store.duckdb") as store:
        store.register_table("int_subject_dosing", subject_dosing())
        # no AE: every death here is recorded in the subjects file (test_doubtful_status.py has the others)
        store.register_table("int_adverse_events", pl.DataFrame(schema={"subject_id": pl.String, "grade": pl.Int32}))
        register_study_tables(store, config)
        for name in STATUS_MODELS:
            store.run_model_into(name, parameters)
        return {name: store.model(name) for name in STATUS_MODELS}


def rows_by(frame: pl.DataFrame, key: str, *columns: str) -> dict:
    return {row[0]: row[1:] for row in frame.select(key, *columns).iter_rows()}


@pytest.mark.parametrize("model", STATUS_MODELS)
def test_grain_is_unique(hand_made, model):
    assert hand_made[model].select(model_grain(model)).is_duplicated().sum() == 0


def test_enrolment_by_site_with_a_total_row(hand_made):
    table = hand_made["t_enrolment_by_site"]
    assert table["site_id"].to_list() == ["A", "B", "C", "(missing)", "(all sites)"]
    columns = ("site_name", "enrolled", "treated", "on_treatment", "ended_treatment", "died", "first_enrolment", "last_enrolment")
    assert rows_by(table, "site_id", *columns) == {
        "A": ("Site Alpha", 3, 3, 1, 2, 2, date(2025, 1, 10), date(2025, 4, 2)),
        "B": ("Site Beta", 2, 1, 0, 1, 0, date(2025, 2, 5), date(2025, 3, 2)),
        "C": ("C", 1, 1, 0, 1, 0, date(2025, 3, 20), date(2025, 3, 20)),  # no name in the config: its id
        "(missing)": ("Site missing", 1, 1, 0, 1, 1, None, None),
        "(all sites)": ("All sites", 7, 6, 1, 5, 3, date(2025, 1, 10), date(2025, 4, 2)),
    }


def test_enrolment_by_month_runs_to_the_cut(hand_made):
    table = hand_made["t_enrolment_by_month"]
    assert table.columns == ["month", "enrolled", "cumulative_enrolled"]
    assert table["month"].to_list() == [date(2025, m, 1) for m in range(1, 7)]
    assert table["enrolled"].to_list() == [2, 1, 2, 1, 0, 0]
    assert table["cumulative_enrolled"].to_list() == [2, 3, 5, 6, 6, 6]


def test_disposition_keeps_every_reason_and_states_its_denominator(hand_made):
    table = hand_made["t_disposition"]
    assert rows_by(table, "category", "subjects", "denominator") == {
        "Enrolled": (7, 7),
        "Treated (safety population: at least one dose)": (6, 7),
        "Never dosed": (1, 7),
        "On treatment at the cut": (1, 6),
        "Ended treatment": (5, 6),
        "Ended treatment: progression": (1, 6),
        "Ended treatment: toxicity": (1, 6),
        "Ended treatment: death": (1, 6),
        "Ended treatment: reason missing": (1, 6),
        "Ended treatment: died, no end of treatment recorded": (1, 6),
        "Died": (3, 6),
        "Died on treatment": (1, 6),
        "Died after the end of treatment": (1, 6),
        "Died, date unknown": (1, 6),
        "Died within 30 days of the last dose": (1, 6),  # P6: 05-20 <= 05-18 + 30
        "Died more than 30 days after the last dose": (1, 6),  # P2: 04-15 > 03-01 + 30 = 03-31
        "Alive, in follow-up after treatment": (2, 6),
        "Died, never dosed": (0, 7),
        "Enrolment date unknown (in no month of the enrolment table)": (1, 7),
    }
    reasons = table.filter(pl.col("category").str.starts_with("Ended treatment: "))
    assert reasons["subjects"].sum() == 5  # the reasons add up to the subjects who ended treatment
    assert reasons["level"].to_list() == [1] * 5
    assert table["ord"].to_list() == list(range(1, table.height + 1))
    assert table.filter(pl.col("category") == "Ended treatment: toxicity")["percent"].item() == 16.7


def test_data_currency_lists_stale_and_unknown_last_contacts(hand_made):
    table = hand_made["t_data_currency"]
    assert table["subject_id"].to_list() == ["P5", "P3"]
    assert table["days_before_cut"].to_list() == [None, 91]
    assert table["on_treatment"].to_list() == [False, False]
    assert table["last_contact_date"].to_list() == [None, date(2025, 3, 31)]
    assert set(table["max_days_since_contact"]) == {90}


def test_demographics_of_the_safety_population_with_missing_rows(hand_made):
    table = hand_made["t_demographics"]
    counts = {(c, v): (n, p) for c, v, n, p in table.select("characteristic", "category", "subjects", "percent").iter_rows()}
    assert counts == {
        ("Sex", "F"): (1, 16.7), ("Sex", "M"): (4, 66.7), ("Sex", "Missing"): (1, 16.7),
        ("Age (years)", "Median (range)"): (5, 83.3), ("Age (years)", "Missing"): (1, 16.7),
        ("Age group", "< 45"): (2, 33.3), ("Age group", "45-64"): (2, 33.3), ("Age group", ">= 65"): (1, 16.7),
        ("Age group", "Missing"): (1, 16.7),
        ("Recurrence type", "distant"): (1, 16.7), ("Recurrence type", "local"): (3, 50.0),
        ("Recurrence type", "regional"): (1, 16.7), ("Recurrence type", "Missing"): (1, 16.7),
        ("Prior re-irradiation", "N"): (4, 66.7), ("Prior re-irradiation", "Y"): (1, 16.7),
        ("Prior re-irradiation", "Missing"): (1, 16.7),
    }
    age = table.filter(pl.col("category") == "Median (range)").row(0, named=True)
    assert (age["median"], age["minimum"], age["maximum"]) == (45.0, 30, 65)
    assert set(table["denominator"]) == {6}
    groups = table.filter(pl.col("characteristic") == "Age group").sort("ord")["category"].to_list()
    assert groups == ["< 45", "45-64", ">= 65", "Missing"]  # by age, Missing last


# --- configuration -------------------------------------------------------------------------------


def minimal_config(**sections) -> dict:
    return {
        "trial": {"id": "t", "title": "T"},
        "agents": [{"id": "a", "name": "A", "dose_mg": 1, "route": "PO", "frequency": "QD"}],
        "sources": {name: {"path": f"{name}.csv"} for name in ("subjects", "exposure", "adverse_events")},
    } | sections


def test_config_defaults_when_the_sections_are_absent():
    model = TrialConfigModel.model_validate(minimal_config())
    assert model.sites == {}
    assert model.data_currency.max_days_since_contact == 90
    assert model.demographics.age_group_bounds == [65]
    assert model.exposure.low_rdi_percent == 80


def test_bundled_trial_names_its_six_sites():
    sites = load_trial_config(BUNDLED_CONFIG).model.sites
    assert sorted(sites) == ["S01", "S02", "S03", "S04", "S05", "S06"]
    assert sites["S01"].name == "广州 研究中心 01 (Guangzhou site 01)"


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[sites.S01]\nname = "x"\nlabel = "y"\n', "sites.S01.label", "unknown key"),
        ("[data_currency]\nmax_days_since_contact = 0\n", "data_currency.max_days_since_contact", "greater than or equal to 1"),
        ("[demographics]\nage_group_bounds = [65, 45]\n", "demographics.age_group_bounds", "ascending"),
        ("[exposure]\nlow_rdi_percent = 120\n", "exposure.low_rdi_percent", "less than or equal to 100"),
    ],
)
def test_bad_config_values_name_the_key(tmp_path, text, key, problem):
    base = BUNDLED_CONFIG.read_text(encoding="utf-8")
    for section in ("[sites.S01]", "[data_currency]", "[demographics]", "[exposure]"):
        if text.startswith(section):
            # drop the bundled section of the same name, so the test's own is the only one
            start = base.index(section)
            end = base.index("\n[", start + 1)
            base = base[:start] + base[end + 1:]
    path = tmp_path / "trial.toml"
    path.write_text(base + "\n" + text, encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_trial_config(path)
    assert key in str(error.value) and problem in str(error.value)


@pytest.mark.parametrize(
    ("bounds", "labels"),
    [([], ["All ages"]), ([65], ["< 65", ">= 65"]), ([18, 45, 65], ["< 18", "18-44", "45-64", ">= 65"])],
)
def test_age_groups_from_the_bounds(tmp_path, bounds, labels):
    base = BUNDLED_CONFIG.read_text(encoding="utf-8").replace("age_group_bounds = [45, 65]", f"age_group_bounds = {bounds}")
    path = tmp_path / "trial.toml"
    path.write_text(base, encoding="utf-8")
    assert age_groups_frame(load_trial_config(path))["age_group"].to_list() == labels


# --- the bundled trial, against the source files read independently -----------------------------

BUNDLED_CUT = date(2026, 6, 30)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> dict[str, pl.DataFrame]:
    """Every study-status model of the bundled trial at its data cut, built in a store of its own."""
    from flows.stages import ingest
    from safetydb.models import build_cut_models

    folder = tmp_path_factory.mktemp("bundled")
    for path in BUNDLED_CONFIG.parent.iterdir():
        if path.is_file() and path.suffix in (".csv", ".toml"):
            shutil.copy(path, folder / path.name)
    loaded = ingest(folder / "trial.toml", cut_date=BUNDLED_CUT, out_root=folder / "out", database=folder / "store.duckdb")
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, loaded.config, loaded.cut_id, BUNDLED_CUT)
        return {name: store.model(name) for name in STATUS_MODELS}


def source_subjects() -> pl.DataFrame:
    return pl.read_csv(BUNDLED_CONFIG.parent / "subjects.csv", infer_schema=False).with_columns(
        pl.col(c).str.to_date(strict=False) for c in ("enrolment_date", "last_contact_date", "death_date", "end_of_treatment_date")
    )


def source_treated() -> set[str]:
    exposure = pl.read_csv(BUNDLED_CONFIG.parent / "exposure.csv", infer_schema=False)
    dosed = exposure.filter(pl.col("dose_mg").cast(pl.Float64, strict=False) > 0)
    return set(dosed["subject_id"])


@pytest.mark.slow  # loads the bundled trial: a few seconds
def test_bundled_enrolment_by_site(bundled):
    """60 subjects at 6 sites, 24 at the largest (S02); each site's count as the subjects file has it."""
    subjects = source_subjects()
    per_site = dict(subjects.group_by("site_id").len().iter_rows())
    table = bundled["t_enrolment_by_site"]
    sites = table.filter(pl.col("site_id") != "(all sites)")
    assert rows_by(sites, "site_id", "enrolled") == {site: (n,) for site, n in per_site.items()}
    assert (subjects.height, len(per_site), max(per_site.values())) == (60, 6, 24)
    total = table.filter(pl.col("site_id") == "(all sites)").row(0, named=True)
    assert (total["enrolled"], total["treated"]) == (60, len(source_treated() & set(subjects["subject_id"])))
    assert sites.filter(pl.col("site_id") == "S02")["site_name"].item() == "南宁 研究中心 02 (Nanning site 02)"


@pytest.mark.slow
def test_bundled_disposition(bundled):
    """End of treatment: progression 44, toxicity 7, completed 2; 7 still on treatment."""
    subjects = source_subjects()
    reasons = dict(subjects.filter(pl.col("end_of_treatment_date") <= BUNDLED_CUT).group_by("end_of_treatment_reason").len().iter_rows())
    assert reasons == {"progression": 44, "toxicity": 7, "completed": 2}
    dead = (pl.col("death_date").is_not_null() | pl.col("death_cause").is_not_null())
    on_treatment = subjects.filter(pl.col("end_of_treatment_date").is_null() & ~dead).height
    table = rows_by(bundled["t_disposition"], "category", "subjects")
    for reason, n in reasons.items():
        assert table[f"Ended treatment: {reason}"] == (n,)
    assert table["On treatment at the cut"] == (on_treatment,) == (7,)
    assert table["Ended treatment"] == (53,)
    assert table["Died"] == (subjects.filter(dead).height,)


@pytest.mark.slow
def test_bundled_data_currency_finds_exactly_the_two_stale_subjects(bundled):
    subjects = source_subjects()
    alive = subjects.filter(pl.col("death_date").is_null() & pl.col("death_cause").is_null())
    stale = alive.filter(
        (pl.col("last_contact_date") < BUNDLED_CUT - timedelta(days=90)) | pl.col("last_contact_date").is_null()
    )
    table = bundled["t_data_currency"]
    assert set(table["subject_id"]) == set(stale["subject_id"]) == {"NPC-02-0003", "NPC-05-0002"}
    expected_days = {s: (BUNDLED_CUT - contact).days for s, contact in stale.select("subject_id", "last_contact_date").iter_rows()}
    assert dict(table.select("subject_id", "days_before_cut").iter_rows()) == expected_days


@pytest.mark.slow
def test_bundled_demographics_and_monthly_enrolment(bundled):
    subjects = source_subjects()
    treated = subjects.filter(pl.col("subject_id").is_in(source_treated()))
    table = bundled["t_demographics"]
    for column, characteristic in (("sex", "Sex"), ("recurrence_type", "Recurrence type"), ("prior_reirradiation", "Prior re-irradiation")):
        expected = {value or "Missing": n for value, n in treated.group_by(column).len().iter_rows()}
        shown = dict(table.filter(pl.col("characteristic") == characteristic).select("category", "subjects").iter_rows())
        assert shown == expected, characteristic
    ages = treated["age"].cast(pl.Int64)
    age = table.filter(pl.col("category") == "Median (range)").row(0, named=True)
    assert (age["median"], age["minimum"], age["maximum"]) == (ages.median(), ages.min(), ages.max())

    months = bundled["t_enrolment_by_month"]
    by_month = dict(subjects.group_by(pl.col("enrolment_date").dt.truncate("1mo")).len().iter_rows())
    assert dict(months.filter(pl.col("enrolled") > 0).select("month", "enrolled").iter_rows()) == by_month
    assert months["cumulative_enrolled"].to_list()[-1] == 60
    assert months["month"].to_list()[-1] == date(2026, 6, 1)


@pytest.mark.slow
@pytest.mark.parametrize("model", STATUS_MODELS)
def test_bundled_grain_is_unique(bundled, model):
    assert bundled[model].height > 0
    assert bundled[model].select(model_grain(model)).is_duplicated().sum() == 0


def test_models_are_listed_in_the_store():
    from safetydb.store import DERIVED_MODELS, TABLE_MODELS

    assert "int_subject_status" in DERIVED_MODELS
    assert set(STATUS_MODELS[1:]) <= set(TABLE_MODELS)
    assert all((Path(__file__).parents[2] / "safetydb" / "sql" / f"{name}.sql").is_file() for name in STATUS_MODELS)
