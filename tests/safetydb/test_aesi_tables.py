"""The AESI tables (t_aesi_timing, t_aesi_management, t_aesi_dose_actions, t_aesi_by_subgroup) of
the hand-made trial in tests/safetydb/aesi_trial.py, against counts worked out there by hand.

Set and group membership of the treatment-emergent events (E7 is after P2's window, E11 belongs
to the never-dosed P4):
  thyroid      E1, E12 (P1), E6 (P2)          pneumonitis  E5 (P2), E9 (P3)
  hypertension E2 (P1), E8 (P3), E10 (P5)     bleeding     E3 (P1)
  necrosis     E4 (P1)
  immune (group) = thyroid + pneumonitis: E1, E12, E6, E5, E9 in P1, P2, P3
  vegf (group) = hypertension + bleeding: E2, E8, E10, E3 in P1, P3, P5
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from flows.stages import ingest
from safetydb.models import build_cut_models
from safetydb.store import SafetyStore, model_grain
from tests.safetydb.aesi_trial import CUT, make_aesi_trial
from trial.config import load_trial_config

AESI_MODELS = ("int_ae_aesi_units", "t_aesi_timing", "t_aesi_management", "t_aesi_dose_actions", "t_aesi_by_subgroup")


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, pl.DataFrame]:
    config_path = make_aesi_trial(tmp_path_factory.mktemp("aesi"))
    loaded = ingest(config_path, cut_date=date.fromisoformat(CUT))
    config = load_trial_config(config_path)
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, config, loaded.cut_id, date.fromisoformat(CUT))
        return {name: store.model(name) for name in AESI_MODELS}


def row(frame: pl.DataFrame, **where) -> dict:
    matches = frame.filter(*[pl.col(k) == v for k, v in where.items()])
    assert matches.height == 1, where
    return matches.row(0, named=True)


@pytest.mark.parametrize("model", AESI_MODELS)
def test_grain_is_unique(models, model):
    frame = models[model]
    assert frame.height > 0
    assert frame.select(model_grain(model)).is_duplicated().sum() == 0


def test_rows_are_groups_then_their_sets_then_the_ungrouped(models):
    """Groups in [aesi_groups] order, each followed by its sets in config order; necrosis last."""
    timing = models["t_aesi_timing"].sort("position")
    assert timing["aesi"].to_list() == ["immune", "thyroid", "pneumonitis", "vegf", "hypertension", "bleeding", "necrosis"]
    assert timing["kind"].to_list() == ["group", "set", "set", "group", "set", "set", "set"]
    assert timing["aesi_group"].to_list() == ["immune", "immune", "immune", "vegf", "vegf", "vegf", None]


@pytest.mark.parametrize(
    ("aesi", "subjects", "onset", "episodes", "resolved", "duration", "fatal", "unresolved"),
    [
        # first onset days: P1 41, P2 20; episodes E1 (open), E12 (30 days), E6 (30 days)
        ("thyroid", 2, (30.5, 20, 41), 3, 2, (30.0, 30, 30), 0, 1),
        # P2 32, P3 38; E5 resolved (20 days), E9 fatal: its resolution date does not make it resolved
        ("pneumonitis", 2, (35.0, 32, 38), 2, 1, (20.0, 20, 20), 1, 0),
        # P1 15, P3 5, P5 5; E2 resolved (10 days); E8 open; E10 resolves after the cut
        ("hypertension", 3, (5.0, 5, 15), 3, 1, (10.0, 10, 10), 0, 2),
        ("bleeding", 1, (60.0, 60, 60), 1, 1, (1.0, 1, 1), 0, 0),  # resolved on its onset day: 1 day
        ("necrosis", 1, (91.0, 91, 91), 1, 0, (None, None, None), 0, 1),
        # a subject's first onset in any set of the group: P1 41, P2 20, P3 38; durations 30, 30, 20
        ("immune", 3, (38.0, 20, 41), 5, 3, (30.0, 20, 30), 1, 1),
        # P1 15, P3 5, P5 5; durations 10, 1
        ("vegf", 3, (5.0, 5, 15), 4, 2, (5.5, 1, 10), 0, 2),
    ],
)
def test_timing(models, aesi, subjects, onset, episodes, resolved, duration, fatal, unresolved):
    line = row(models["t_aesi_timing"], aesi=aesi)
    assert (line["subjects"], line["denominator"], line["percent"]) == (subjects, 4, round(100 * subjects / 4, 1))
    assert (line["median_first_onset_day"], line["min_first_onset_day"], line["max_first_onset_day"]) == onset
    assert (line["episodes"], line["resolved_episodes"], line["fatal_episodes"], line["unresolved_episodes"]) == (
        episodes, resolved, fatal, unresolved
    )
    assert (line["median_episode_days"], line["min_episode_days"], line["max_episode_days"]) == duration


def test_a_set_with_no_event_keeps_its_row(tmp_path):
    """Every configured set has its row, zero and empty where nothing happened: P1-P5 have no
    Myocarditis."""
    config_path = make_aesi_trial(tmp_path / "trial")
    config_path.write_text(config_path.read_text() + '\n[aesi.myocarditis]\nlabel = "Myocarditis"\ngroup = "immune"\nterms = ["Myocarditis"]\n')
    loaded = ingest(config_path, cut_date=date.fromisoformat(CUT))
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, load_trial_config(config_path), loaded.cut_id, date.fromisoformat(CUT))
        timing = row(store.model("t_aesi_timing"), aesi="myocarditis")
        management = row(store.model("t_aesi_management"), aesi="myocarditis")
    assert (timing["subjects"], timing["episodes"], timing["median_first_onset_day"]) == (0, 0, None)
    assert (management["subjects"], management["events"], management["percent"]) == (0, 0, 0.0)


# (subjects, grade >= 3, corticosteroid, hormone replacement, antihypertensive, other, not recorded,
#  reduced, interrupted, withdrawn), then episodes by outcome (recovered, with sequelae, recovering,
#  not recovered, fatal, unknown).
MANAGEMENT = {
    # P1 worst 2, P2 1; E1 hormone replacement; E1 open, E12 and E6 recovered
    "thyroid": ((2, 0, 0, 1, 0, 0, 0, 0, 0, 0), (2, 0, 0, 1, 0, 0)),
    # P3 grade 5; corticosteroid E5 and E9; E5 interrupted anti-PD-1 (P2), E9 withdrew both (P3)
    "pneumonitis": ((2, 1, 2, 0, 0, 0, 0, 0, 1, 1), (1, 0, 0, 0, 1, 0)),
    # P1 grade 3, antihypertensive; P3 "steroids" counts as other; P5 not recorded; E2 reduced
    # apatinib; E10 "recovered" but resolved after the cut: not recovered at it
    "hypertension": ((3, 1, 0, 0, 1, 1, 1, 1, 0, 0), (1, 0, 0, 2, 0, 0)),
    "bleeding": ((1, 0, 0, 0, 0, 0, 0, 0, 0, 0), (1, 0, 0, 0, 0, 0)),
    "necrosis": ((1, 1, 0, 0, 0, 1, 0, 0, 1, 0), (0, 0, 1, 0, 0, 0)),
    "immune": ((3, 1, 2, 1, 0, 0, 0, 0, 1, 1), (3, 0, 0, 1, 1, 0)),
    "vegf": ((3, 1, 0, 0, 1, 1, 1, 1, 0, 0), (2, 0, 0, 2, 0, 0)),
}


@pytest.mark.parametrize("aesi", list(MANAGEMENT))
def test_management(models, aesi):
    subjects, outcomes = MANAGEMENT[aesi]
    line = row(models["t_aesi_management"], aesi=aesi)
    assert tuple(line[c] for c in (
        "subjects", "grade_3_plus", "subjects_corticosteroid", "subjects_hormone_replacement", "subjects_antihypertensive",
        "subjects_other_treatment", "subjects_treatment_not_recorded", "subjects_dose_reduced", "subjects_drug_interrupted",
        "subjects_drug_withdrawn",
    )) == subjects
    assert tuple(line[c] for c in (
        "events_recovered", "events_recovered_with_sequelae", "events_recovering", "events_not_recovered", "events_fatal",
        "events_unknown",
    )) == outcomes
    assert line["events"] == sum(outcomes)  # every episode has one outcome
    assert line["denominator"] == 4


# (subjects, reduced, interrupted, withdrawn, action not recorded) per agent
DOSE_ACTIONS = {
    ("hypertension", "apatinib"): (3, 1, 0, 0, 1),  # E2 reduced (P1); E8's action is empty (P3)
    ("hypertension", "anti_pd1"): (3, 0, 0, 0, 0),
    ("pneumonitis", "apatinib"): (2, 0, 0, 1, 0),  # E9 (P3)
    ("pneumonitis", "anti_pd1"): (2, 0, 1, 1, 0),  # E5 interrupted (P2), E9 withdrawn (P3)
    ("necrosis", "apatinib"): (1, 0, 1, 0, 0),
    ("immune", "anti_pd1"): (3, 0, 1, 1, 0),
    ("vegf", "apatinib"): (3, 1, 0, 0, 1),
    ("thyroid", "anti_pd1"): (2, 0, 0, 0, 0),
}


@pytest.mark.parametrize(("aesi", "agent"), list(DOSE_ACTIONS))
def test_dose_actions_per_agent(models, aesi, agent):
    line = row(models["t_aesi_dose_actions"], aesi=aesi, agent=agent)
    assert tuple(line[c] for c in (
        "subjects", "subjects_reduced", "subjects_interrupted", "subjects_withdrawn", "subjects_action_unknown"
    )) == DOSE_ACTIONS[(aesi, agent)]
    assert models["t_aesi_dose_actions"].height == 7 * 2  # every set and group, for each agent


def test_subgroup_levels_in_order_with_missing_and_unlisted_values(models):
    """Prior re-irradiation: Y (P1), N (P2, P5), then Missing (P3, empty); P4 is not treated.
    Recurrence: local (P1), distant (P2), then the unlisted value regional (P5), then Missing (P3)."""
    table = models["t_aesi_by_subgroup"]
    levels = (
        table.filter(pl.col("aesi") == "grade_3_plus")
        .sort("subgroup_position", "level_position")
        .select("variable", "level", "level_label", "subjects_in_level")
        .rows()
    )
    assert levels == [
        ("prior_reirradiation", "Y", "Re-irradiated", 1),
        ("prior_reirradiation", "N", "N", 2),
        ("prior_reirradiation", None, "Missing", 1),
        ("recurrence_type", "local", "local", 1),
        ("recurrence_type", "distant", "distant", 1),
        ("recurrence_type", "regional", "regional", 1),
        ("recurrence_type", None, "Missing", 1),
    ]


@pytest.mark.parametrize(
    ("variable", "level_label", "aesi", "with_event", "in_level"),
    [
        ("prior_reirradiation", "Re-irradiated", "grade_3_plus", 1, 1),  # P1: E2, E4 grade 3
        ("prior_reirradiation", "N", "grade_3_plus", 0, 2),  # P2 worst 2, P5 worst 1
        ("prior_reirradiation", "Missing", "grade_3_plus", 1, 1),  # P3: E9 grade 5
        ("prior_reirradiation", "Re-irradiated", "necrosis", 1, 1),
        ("prior_reirradiation", "N", "necrosis", 0, 2),
        ("prior_reirradiation", "N", "thyroid", 1, 2),  # P2's E6; E7 is past the TEAE window
        ("prior_reirradiation", "N", "hypertension", 1, 2),  # P5
        ("prior_reirradiation", "N", "immune", 1, 2),  # P2
        ("prior_reirradiation", "Missing", "vegf", 1, 1),  # P3's E8
        ("recurrence_type", "regional", "hypertension", 1, 1),  # P5
        ("recurrence_type", "local", "thyroid", 1, 1),  # P1; P4 (local) is not treated
        ("recurrence_type", "Missing", "pneumonitis", 1, 1),  # P3
        ("recurrence_type", "distant", "bleeding", 0, 1),
    ],
)
def test_subgroup_counts(models, variable, level_label, aesi, with_event, in_level):
    line = row(models["t_aesi_by_subgroup"], variable=variable, level_label=level_label, aesi=aesi)
    assert (line["subjects_with_event"], line["subjects_in_level"]) == (with_event, in_level)
    assert line["percent"] == round(100 * with_event / in_level, 1)


def test_every_treated_subject_is_in_one_level(models):
    """Per subgroup and outcome the levels add up to the 4 treated subjects: none left out."""
    table = models["t_aesi_by_subgroup"]
    totals = table.group_by("variable", "aesi").agg(pl.col("subjects_in_level").sum())
    assert set(totals["subjects_in_level"]) == {4}
    assert table.height == 7 * (7 + 1)  # 7 levels over both subgroups, x (5 sets + 2 groups + grade >= 3)


def test_the_management_sql_names_the_treatment_vocabulary():
    """t_aesi_management counts the values of data/ctcae/ae_treatments.csv by name: each named value
    is in the list, and every value but "other" (the rest) is named in the list of known ones."""
    import re

    from safetydb.store import read_model
    from validators.treatments import ae_treatments

    sql = read_model("t_aesi_management")
    counted = set(re.findall(r"list_contains\(treatments, '(\w+)'\)", sql))
    known = set(re.findall(r"'(\w+)'", re.search(r"NOT IN \(([^)]*)\)", sql).group(1)))
    assert counted == {"corticosteroid", "hormone_replacement", "antihypertensive"}
    assert known == set(ae_treatments()) - {"other"}
