"""Arms that plan different doses or give a placebo: the subject's own planned dose in the RDI
(int_agent_exposure, t_dose_intensity), the placebo subjects' lab baseline (lab_grades
first_dose_dates), per-agent denominators of the related TEAEs (t_attribution), and a death of
unknown cause beside a fatal AE (q_fatal_ae_other_death_cause).

Hand-made exposure, rows as stg_exposure gives them (administered: a dose above 0 mg, or a placebo
with planned dose 0 neither held nor discontinued), cut 2025-03-31. Agents from the bundled config
(apatinib QD 250 mg, anti-PD-1 Q2W 200 mg) plus a placebo (QD, dose_mg 0). Three arms: "full"
(apatinib 250 mg + anti-PD-1), "low" (apatinib at doses_mg 125 mg + anti-PD-1) and "placebo"
(placebo + anti-PD-1).

| subject | arm | apatinib | anti-PD-1 | placebo |
|---|---|---|---|---|
| F1 | full | 01-01..01-28 250 of 250 | 01-01, 01-15 at 200 | - |
| F2 | full | 01-01..01-05 250, planned dose not given | 01-01 at 200 | - |
| L1 | low | 01-01..01-20 125 of 125 | 01-01 at 200 | - |
| L2 | low | 01-01..01-10 125, 01-11..01-15 held (0 of 125), 01-16..01-20 125 | 01-01 200, 01-15 100 (reduced) | - |
| L3 | low | 01-01..01-10 250 of 250, then 01-11..01-20 125 of 125 | 01-01 at 200 | - |
| P1 | placebo | - | 01-01, 01-15 at 200 | 01-01..01-14 0 of 0 |
| P2 | placebo | - | 01-01 at 200 | 01-01..01-07 0 of 0, discontinued |

Relative dose intensity against the subject's planned dose (the highest planned_dose_mg of their
administered records of the agent; the agent's dose_mg when none is given):
- F1 apatinib: 28 days x 250 = 7000 of 7000 mg: 100%. F2: planned 250 from the config, 5 x 250 =
  1250 of 1250: 100%.
- L1 apatinib: 20 x 125 = 2500 of 20 x 125 = 2500: 100% (against the config's 250 it would be 50%).
- L2 apatinib: 15 days at 125 = 1875 of 20 x 125 = 2500: 75% (37.5% against 250). L2 anti-PD-1:
  days 01-01..01-15 apart 14 // 14 + 1 = 2 planned administrations, 400 mg planned, 300 given: 75%.
- L3 apatinib: planned 250 (the higher of 250 and 125): 10 x 250 + 10 x 125 = 3750 of 20 x 250 =
  5000: 75%.
- P1 placebo: a row (placebo given), planned dose 0, cumulative 0 of 0: no RDI. P2's discontinued
  placebo is no administration: no placebo row for P2.
- Apatinib over its 5 subjects: RDI 100, 100, 100, 75, 75: median 100, range 75-100, below 80%: 2
  of 5 = 40.0%.

Related TEAEs by agent (t_attribution), denominators = the subjects who received the agent:
apatinib 5 (F1, F2, L1, L2, L3), anti-PD-1 7 (everyone), placebo 1 (P1; P2's was discontinued).

| AE | subject | term | grade | TEAE | apatinib | anti-PD-1 | placebo |
|---|---|---|---|---|---|---|---|
| X1 | F1 | Hypertension | 3 | yes | probable | unlikely | |
| X2 | L1 | Hypertension | 2 | yes | possible | possible | |
| X3 | L1 | Diarrhea | 1 | yes | | definite | |
| X4 | P1 | Rash maculo-papular | 2 | yes | | probable | possible |
| X5 | P2 | Fatigue | 1 | yes | | not assessed (related) | |
| X6 | L2 | Hypertension | 3 | no | definite | | |
| X7 | L3 | Proteinuria | 2 | yes | unlikely | | |

- apatinib (any): F1, L1 = 2 of 5 = 40.0%, 2 events (possible 1, probable 1), grade >= 3: F1 = 1;
  Hypertension the same. X6 is not treatment-emergent, X7 unrelated.
- anti-PD-1 (any): L1 (X2, X3), P1 (X4), P2 (X5) = 3 of 7 = 42.9%, 4 events (possible 1, probable
  1, definite 1, not assessed 1), grade >= 3: 0; Diarrhea, Fatigue, Hypertension, Rash
  maculo-papular 1 each = 14.3%.
- placebo (any): P1 = 1 of 1 = 100.0%; Rash maculo-papular 1 of 1.
  (Against all 7 treated subjects the placebo would read 14.3% and apatinib 28.6%.)
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from safetydb.lab_grades import first_dose_dates, lab_baselines
from safetydb.store import ModelParameters, SafetyStore, model_grain
from safetydb.study_tables import register_study_tables
from tests.conftest import BUNDLED_CONFIG
from trial.config import load_trial_config

CUT = date(2025, 3, 31)
PLACEBO_AND_ARMS = """
[[agents]]
id = "placebo"
name = "Placebo"
dose_mg = 0
route = "PO"
frequency = "QD"

[[arms]]
id = "full"
value = "Full dose"
agents = ["apatinib", "anti_pd1"]

[[arms]]
id = "low"
value = "Low dose"
agents = ["apatinib", "anti_pd1"]
doses_mg = { apatinib = 125 }

[[arms]]
id = "placebo"
value = "Placebo"
agents = ["placebo", "anti_pd1"]
"""


def d(text: str) -> date:
    return date.fromisoformat(f"2025-{text}")


EXPOSURE = [
    # subject, agent, start, end, dose, planned (None: not given), adjustment
    ("F1", "apatinib", "01-01", "01-28", 250, 250, "none"),
    ("F1", "anti_pd1", "01-01", "01-01", 200, 200, "none"),
    ("F1", "anti_pd1", "01-15", "01-15", 200, 200, "none"),
    ("F2", "apatinib", "01-01", "01-05", 250, None, "none"),
    ("F2", "anti_pd1", "01-01", "01-01", 200, 200, "none"),
    ("L1", "apatinib", "01-01", "01-20", 125, 125, "none"),
    ("L1", "anti_pd1", "01-01", "01-01", 200, 200, "none"),
    ("L2", "apatinib", "01-01", "01-10", 125, 125, "none"),
    ("L2", "apatinib", "01-11", "01-15", 0, 125, "held"),
    ("L2", "apatinib", "01-16", "01-20", 125, 125, "none"),
    ("L2", "anti_pd1", "01-01", "01-01", 200, 200, "none"),
    ("L2", "anti_pd1", "01-15", "01-15", 100, 200, "reduced"),
    ("L3", "apatinib", "01-01", "01-10", 250, 250, "none"),
    ("L3", "apatinib", "01-11", "01-20", 125, 125, "none"),
    ("L3", "anti_pd1", "01-01", "01-01", 200, 200, "none"),
    ("P1", "placebo", "01-01", "01-14", 0, 0, "none"),
    ("P1", "anti_pd1", "01-01", "01-01", 200, 200, "none"),
    ("P1", "anti_pd1", "01-15", "01-15", 200, 200, "none"),
    ("P2", "placebo", "01-01", "01-07", 0, 0, "discontinued"),
    ("P2", "anti_pd1", "01-01", "01-01", 200, 200, "none"),
]

ADVERSE_EVENTS = [
    # ae_id, subject, term, grade, teae
    ("X1", "F1", "Hypertension", 3, True),
    ("X2", "L1", "Hypertension", 2, True),
    ("X3", "L1", "Diarrhea", 1, True),
    ("X4", "P1", "Rash maculo-papular", 2, True),
    ("X5", "P2", "Fatigue", 1, True),
    ("X6", "L2", "Hypertension", 3, False),
    ("X7", "L3", "Proteinuria", 2, True),
]

ATTRIBUTIONS = [
    # ae_id, agent, attribution (related: possible, probable, definite, not assessed)
    ("X1", "apatinib", "probable"), ("X1", "anti_pd1", "unlikely"),
    ("X2", "apatinib", "possible"), ("X2", "anti_pd1", "possible"),
    ("X3", "anti_pd1", "definite"),
    ("X4", "anti_pd1", "probable"), ("X4", "placebo", "possible"),
    ("X5", "anti_pd1", "not_assessed"),
    ("X6", "apatinib", "definite"),
    ("X7", "apatinib", "unlikely"),
]
RELATED = {"possible", "probable", "definite", "not_assessed"}


def stg_exposure() -> pl.DataFrame:
    rows = []
    for subject, agent, start, end, dose, planned, adjustment in EXPOSURE:
        placebo_given = planned == 0 and adjustment not in ("held", "discontinued")
        rows.append({
            "subject_id": subject, "agent": agent, "start_date": d(start), "end_date": d(end),
            "dose_mg": float(dose), "dose_recorded": True,
            "planned_dose_mg": None if planned is None else float(planned), "adjustment": adjustment, "adjustment_reason": None,
            "administered": dose > 0 or placebo_given,
        })
    return pl.DataFrame(rows, schema_overrides={"adjustment_reason": pl.String, "planned_dose_mg": pl.Float64})


def int_adverse_events() -> pl.DataFrame:
    return pl.DataFrame(
        [{"ae_id": a, "subject_id": s, "ae_term": t, "grade": g, "teae": teae} for a, s, t, g, teae in ADVERSE_EVENTS],
        schema={"ae_id": pl.String, "subject_id": pl.String, "ae_term": pl.String, "grade": pl.Int32, "teae": pl.Boolean},
    )


def stg_ae_attribution() -> pl.DataFrame:
    return pl.DataFrame(
        [{"ae_id": a, "agent": agent, "attribution": level, "related": level in RELATED} for a, agent, level in ATTRIBUTIONS],
        schema={"ae_id": pl.String, "agent": pl.String, "attribution": pl.String, "related": pl.Boolean},
    )


@pytest.fixture(scope="module")
def arm_models(tmp_path_factory) -> dict[str, pl.DataFrame]:
    folder = tmp_path_factory.mktemp("arm_fixes")
    config_path = folder / "trial.toml"
    config_path.write_text(BUNDLED_CONFIG.read_text(encoding="utf-8") + PLACEBO_AND_ARMS, encoding="utf-8")
    config = load_trial_config(config_path)
    parameters = ModelParameters(cut_id="x", cut_date=CUT, cycle_days=28, teae_end_days=30, acute_days=90, related_levels=[]).as_dict()
    names = ("int_agent_exposure", "t_dose_intensity", "t_attribution")
    with SafetyStore(folder / "store.duckdb") as store:
        store.register_table("stg_exposure", stg_exposure())
        store.register_table("int_adverse_events", int_adverse_events())
        store.register_table("stg_ae_attribution", stg_ae_attribution())
        # every subject here is treated (at least one administration of some agent)
        store.register_table("int_subject_dosing", pl.DataFrame({"subject_id": sorted({row[0] for row in EXPOSURE}), "treated": True}))
        register_study_tables(store, config)
        for name in names:
            store.run_model_into(name, parameters)
        return {name: store.model(name) for name in names}


def exposure_row(models, subject: str, agent: str) -> dict:
    frame = models["int_agent_exposure"].filter((pl.col("subject_id") == subject) & (pl.col("agent") == agent))
    assert frame.height == 1, (subject, agent)
    return frame.row(0, named=True)


# --- 4. relative dose intensity against the subject's planned dose --------------------------------


def test_an_arm_with_its_own_dose_has_rdi_against_that_dose(arm_models):
    """L1 received the low arm's 125 mg every day: 100%, not 50% of the config's 250 mg."""
    row = exposure_row(arm_models, "L1", "apatinib")
    assert (row["planned_dose_mg"], row["treatment_days"], row["cumulative_dose_mg"], row["planned_cumulative_dose_mg"]) == (125, 20, 2500, 2500)
    assert row["rdi_percent"] == pytest.approx(100.0)


def test_a_hold_in_the_low_dose_arm(arm_models):
    """L2: 15 of 20 days at 125 mg = 1875 of 2500 mg: 75% (not 37.5%). Its anti-PD-1 (a dose of the
    config's 200 mg, then 100 mg): 300 of 2 x 200 mg = 75%."""
    row = exposure_row(arm_models, "L2", "apatinib")
    assert (row["planned_dose_mg"], row["cumulative_dose_mg"], row["planned_cumulative_dose_mg"]) == (125, 1875, 2500)
    assert row["rdi_percent"] == pytest.approx(75.0)
    anti_pd1 = exposure_row(arm_models, "L2", "anti_pd1")
    assert (anti_pd1["planned_dose_mg"], anti_pd1["planned_administrations"], anti_pd1["cumulative_dose_mg"]) == (200, 2, 300)
    assert anti_pd1["rdi_percent"] == pytest.approx(75.0)


def test_the_highest_planned_dose_of_the_subject_is_their_plan(arm_models):
    """L3's planned dose fell from 250 to 125 mg: planned 250, 3750 of 5000 mg = 75%."""
    row = exposure_row(arm_models, "L3", "apatinib")
    assert (row["planned_dose_mg"], row["cumulative_dose_mg"], row["planned_cumulative_dose_mg"]) == (250, 3750, 5000)
    assert row["rdi_percent"] == pytest.approx(75.0)


def test_full_dose_and_the_config_dose_when_no_planned_dose_is_given(arm_models):
    """F1 at 250 of 250 mg: 100%. F2's records give no planned dose (the contract requires one,
    the model does not rely on it): the agent's dose_mg, 250 mg: 1250 of 1250 mg = 100%."""
    full = exposure_row(arm_models, "F1", "apatinib")
    assert (full["planned_dose_mg"], full["cumulative_dose_mg"], full["rdi_percent"]) == (250, 7000, pytest.approx(100.0))
    fallback = exposure_row(arm_models, "F2", "apatinib")
    assert (fallback["planned_dose_mg"], fallback["planned_cumulative_dose_mg"], fallback["rdi_percent"]) == (250, 1250, pytest.approx(100.0))


def test_a_placebo_is_received_without_an_rdi(arm_models):
    """P1's placebo (0 of 0 mg, given): a row, planned dose 0, no RDI (0 / 0). P2's placebo was
    discontinued before any was given: no row."""
    row = exposure_row(arm_models, "P1", "placebo")
    assert (row["planned_dose_mg"], row["treatment_days"], row["cumulative_dose_mg"], row["rdi_percent"]) == (0, 14, 0, None)
    assert arm_models["int_agent_exposure"].filter((pl.col("subject_id") == "P2") & (pl.col("agent") == "placebo")).height == 0


def test_dose_intensity_table_over_the_arms(arm_models):
    """Apatinib RDI 100, 100, 100, 75, 75: median 100, range 75-100, 2 of 5 below 80% (40.0%)."""
    table = {row["agent"]: row for row in arm_models["t_dose_intensity"].iter_rows(named=True)}
    apatinib = table["apatinib"]
    assert (apatinib["subjects_dosed"], apatinib["rdi_median_percent"], apatinib["rdi_min_percent"], apatinib["rdi_max_percent"]) == (5, 100, 75, 100)
    assert (apatinib["subjects_low_rdi"], apatinib["percent_low_rdi"]) == (2, 40.0)
    placebo = table["placebo"]
    assert (placebo["subjects_dosed"], placebo["subjects_with_rdi"], placebo["rdi_median_percent"]) == (1, 0, None)


# --- 6. related TEAEs: the denominator per agent is the subjects who received it --------------------


def attribution(models) -> dict[tuple[str, str], dict]:
    return {(row["agent"], row["term"]): row for row in models["t_attribution"].iter_rows(named=True)}


def test_attribution_grain_is_unique(arm_models):
    assert arm_models["t_attribution"].select(model_grain("t_attribution")).is_duplicated().sum() == 0


def test_each_agent_over_the_subjects_who_received_it(arm_models):
    rows = attribution(arm_models)
    columns = ("subjects", "events", "grade_3_plus", "denominator", "percent")
    shown = {key: tuple(row[c] for c in columns) for key, row in rows.items()}
    assert shown == {
        ("apatinib", "(any)"): (2, 2, 1, 5, 40.0),
        ("apatinib", "Hypertension"): (2, 2, 1, 5, 40.0),
        ("anti_pd1", "(any)"): (3, 4, 0, 7, 42.9),
        ("anti_pd1", "Diarrhea"): (1, 1, 0, 7, 14.3),
        ("anti_pd1", "Fatigue"): (1, 1, 0, 7, 14.3),
        ("anti_pd1", "Hypertension"): (1, 1, 0, 7, 14.3),
        ("anti_pd1", "Rash maculo-papular"): (1, 1, 0, 7, 14.3),
        ("placebo", "(any)"): (1, 1, 0, 1, 100.0),
        ("placebo", "Rash maculo-papular"): (1, 1, 0, 1, 100.0),
    }


def test_attribution_levels_behind_the_counts(arm_models):
    rows = attribution(arm_models)
    levels = ("events_possible", "events_probable", "events_definite", "events_not_assessed")
    assert tuple(rows[("apatinib", "(any)")][c] for c in levels) == (1, 1, 0, 0)
    assert tuple(rows[("anti_pd1", "(any)")][c] for c in levels) == (1, 1, 1, 1)
    assert tuple(rows[("placebo", "(any)")][c] for c in levels) == (1, 0, 0, 0)


# --- 5. a placebo subject's first dose, and so their lab baseline ----------------------------------


def test_first_dose_counts_a_placebo_given():
    """Exposure records (dose, planned dose, adjustment) and the first dose each subject gets:
    - P1: placebo 0 of 0 on 01-05, given: 01-05.
    - P2: placebo held on 01-03, then given on 01-10: 01-10 (a held placebo is no dose).
    - P3: placebo discontinued on 01-04 only: never dosed, no row.
    - P4: placebo given on 01-07, adjustment not recorded: 01-07.
    - A1: apatinib held (0 of 250) on 01-02, then 250 on 01-04: 01-04.
    - A2: apatinib on 01-06 with the dose missing (the planned 250 given): 01-06."""
    exposure = pl.DataFrame(
        {
            "subject_id": ["P1", "P2", "P2", "P3", "P4", "A1", "A1", "A2"],
            "start_date": [d("01-05"), d("01-03"), d("01-10"), d("01-04"), d("01-07"), d("01-02"), d("01-04"), d("01-06")],
            "dose_mg": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 250.0, None],
            "planned_dose_mg": [0.0, 0.0, 0.0, 0.0, 0.0, 250.0, 250.0, 250.0],
            "adjustment": ["none", "held", "none", "discontinued", None, "held", "none", "none"],
        }
    )
    first = dict(first_dose_dates(exposure).iter_rows())
    assert first == {"P1": d("01-05"), "P2": d("01-10"), "P4": d("01-07"), "A1": d("01-04"), "A2": d("01-06")}


def test_first_dose_of_a_placebo_without_an_adjustment_column():
    """Exposure without an adjustment column: a placebo record (planned 0) is a dose given."""
    exposure = pl.DataFrame(
        {"subject_id": ["P1"], "start_date": [d("02-01")], "dose_mg": [0.0], "planned_dose_mg": [0.0]}
    )
    assert dict(first_dose_dates(exposure).iter_rows()) == {"P1": d("02-01")}


def test_a_placebo_subject_has_a_lab_baseline():
    """P1 (placebo from 01-05): ALT 30 U/L on 01-01 and 35 on 01-04, both before the first dose,
    80 on 01-20: the baseline is the last before it, 35 on 01-04. P3 (placebo discontinued, never
    dosed) has no baseline."""
    exposure = pl.DataFrame(
        {
            "subject_id": ["P1", "P3"], "start_date": [d("01-05"), d("01-04")], "dose_mg": [0.0, 0.0],
            "planned_dose_mg": [0.0, 0.0], "adjustment": ["none", "discontinued"],
        }
    )
    labs = pl.DataFrame(
        {
            "subject_id": ["P1", "P1", "P1", "P3"],
            "test_code": ["ALT", "ALT", "ALT", "ALT"],
            "collection_date": [d("01-01"), d("01-04"), d("01-20"), d("01-01")],
            "_row": [1, 2, 3, 4],
            "value": [30.0, 35.0, 80.0, 40.0],
            "unit": ["U/L"] * 4,
        }
    )
    baselines = lab_baselines(labs, first_dose_dates(exposure))
    assert baselines.select("subject_id", "test_code", "collection_date", "value").rows() == [("P1", "ALT", d("01-04"), 35.0)]


# --- 7. a fatal AE and a death of unknown cause: no query ------------------------------------------


DEATHS = [
    # subject, AE grade, AE onset, death date, death cause; query expected?
    ("D1", 5, "03-01", "03-05", "unknown", False),  # unknown is no other cause
    ("D2", 5, "03-01", "03-05", "adverse_event", False),
    ("D3", 5, "03-01", "03-05", "disease_progression", True),  # another cause
    ("D4", 5, "03-10", "03-05", "unknown", True),  # the death came before the AE started
    ("D5", 5, "03-01", None, "unknown", False),  # no date: nothing to compare
    ("D6", 5, "03-01", "03-05", None, True),  # a dated death without its cause is not recorded as unknown
    ("D7", 4, "03-01", "03-05", "other", False),  # not counted as fatal
]


@pytest.fixture(scope="module")
def fatal_queries(tmp_path_factory) -> pl.DataFrame:
    events = pl.DataFrame(
        [
            {"ae_id": f"AE-{s}", "subject_id": s, "ae_term": "Pharyngeal hemorrhage", "onset_date": d(onset), "grade": grade,
             "grade_reported": grade, "outcome": "fatal" if grade == 5 else "not_recovered"}
            for s, grade, onset, _, _, _ in DEATHS
        ],
        schema_overrides={"grade": pl.Int32, "grade_reported": pl.Int32},
    )
    subjects = pl.DataFrame(
        [{"subject_id": s, "death_date": None if death is None else d(death), "death_cause": cause} for s, _, _, death, cause, _ in DEATHS],
        schema={"subject_id": pl.String, "death_date": pl.Date, "death_cause": pl.String},
    )
    with SafetyStore(tmp_path_factory.mktemp("fatal") / "store.duckdb") as store:
        store.register_table("int_adverse_events", events)
        store.register_table("int_subject_dosing", subjects)
        store.run_model_into("q_fatal_ae_other_death_cause", {})
        return store.model("q_fatal_ae_other_death_cause")


def test_a_death_of_unknown_cause_raises_no_fatal_ae_query(fatal_queries):
    expected = sorted(f"AE-{s}" for s, *_, query in DEATHS if query)
    assert sorted(fatal_queries["record_key"]) == expected == ["AE-D3", "AE-D4", "AE-D6"]


def test_the_queries_say_why(fatal_queries):
    problems = dict(fatal_queries.select("subject_id", "problem").iter_rows())
    assert problems["D3"].endswith("is recorded as disease_progression")
    assert problems["D4"].endswith("is recorded as unknown, before the event started")
    assert problems["D6"].endswith("is recorded as of unknown cause")


def test_a_subject_with_an_event_related_to_an_agent_never_given_joins_its_denominator(tmp_path):
    """Add X8: P2 (placebo and anti-PD-1, never apatinib) with a TEAE of fatigue, grade 1, that
    the investigator relates to apatinib (possible). Apatinib's related subjects become F1, L1, P2
    = 3, and its denominator the 5 who received it plus P2 = 6: 3 of 6 = 50.0%, so that no
    numerator exceeds its denominator. The other agents are unchanged (anti-PD-1 3 of 7)."""
    config_path = tmp_path / "trial.toml"
    config_path.write_text(BUNDLED_CONFIG.read_text(encoding="utf-8") + PLACEBO_AND_ARMS, encoding="utf-8")
    config = load_trial_config(config_path)
    parameters = ModelParameters(cut_id="x", cut_date=CUT, cycle_days=28, teae_end_days=30, acute_days=90, related_levels=[]).as_dict()
    events = pl.concat([int_adverse_events(), pl.DataFrame(
        [{"ae_id": "X8", "subject_id": "P2", "ae_term": "Fatigue", "grade": 1, "teae": True}], schema=int_adverse_events().schema
    )])
    attributions = pl.concat([stg_ae_attribution(), pl.DataFrame(
        [{"ae_id": "X8", "agent": "apatinib", "attribution": "possible", "related": True}], schema=stg_ae_attribution().schema
    )])
    with SafetyStore(tmp_path / "store.duckdb") as store:
        store.register_table("stg_exposure", stg_exposure())
        store.register_table("int_adverse_events", events)
        store.register_table("stg_ae_attribution", attributions)
        store.register_table("int_subject_dosing", pl.DataFrame({"subject_id": sorted({row[0] for row in EXPOSURE}), "treated": True}))
        register_study_tables(store, config)
        for name in ("int_agent_exposure", "t_attribution"):
            store.run_model_into(name, parameters)
        rows = attribution({"t_attribution": store.model("t_attribution")})
    assert tuple(rows[("apatinib", "(any)")][c] for c in ("subjects", "denominator", "percent")) == (3, 6, 50.0)
    assert tuple(rows[("anti_pd1", "(any)")][c] for c in ("subjects", "denominator", "percent")) == (3, 7, 42.9)
