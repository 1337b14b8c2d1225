"""The DSMB report's AESI section (reports/sections/aesi.py, sections/_aesi.html.j2) on the hand-made
trial of tests/safetydb/aesi_trial.py: the tables' numbers shown as safetydb counted them (see
tests/safetydb/test_aesi_tables.py for the counts by hand), arranged, never recomputed."""

from __future__ import annotations

import re
from datetime import date

import pytest

from flows.stages import ingest
from reports.render import environment
from reports.sections.aesi import aesi_context
from safetydb.models import build_cut_models
from safetydb.store import SafetyStore
from tests.safetydb.aesi_trial import CUT, make_aesi_trial
from trial.config import load_trial_config

POPULATION = "Data cut 2025-07-01. Safety population: N = 4 treated subjects (at least one dose)."
WINDOW = "treatment-emergent: onset from the first dose to 30 days after the last dose"
TABLES = ("t_aesi_management", "t_aesi_dose_actions", "t_aesi_timing", "t_aesi_by_subgroup")


@pytest.fixture(scope="module")
def section(tmp_path_factory) -> dict:
    config_path = make_aesi_trial(tmp_path_factory.mktemp("aesi-report"))
    loaded = ingest(config_path, cut_date=date.fromisoformat(CUT))
    config = load_trial_config(config_path)
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, config, loaded.cut_id, date.fromisoformat(CUT))
        tables = {name: store.model(name) for name in TABLES}
    context = aesi_context(tables, config, population=POPULATION, teae_window=WINDOW)
    return {table.key: table for table in context["tables"]} | {"_context": context}


def cells(table, label: str) -> dict[str, object]:
    rows = [row for row in table.rows if str(row[0]).strip() == label or str(row[1]).strip() == label]
    assert len(rows) == 1, label
    return dict(zip(table.columns, rows[0]))


def test_four_tables_each_with_cut_population_and_window(section):
    assert [table.key for table in section["_context"]["tables"]] == list(TABLES)
    for key in TABLES:
        assert POPULATION in section[key].note, key
        assert WINDOW in section[key].note, key


def test_groups_first_with_their_sets_indented(section):
    labels = [row[0] for row in section["t_aesi_management"].rows]
    assert labels == [
        "Immune-related: any", "\u2003Thyroid", "\u2003Pneumonitis", "VEGF class: any", "\u2003Hypertension", "\u2003Bleeding",
        "Necrosis",
    ]


def test_management_shows_the_counts(section):
    hypertension = cells(section["t_aesi_management"], "Hypertension")
    assert hypertension["Subjects, n (%)"] == "3 (75.0%)"
    assert (hypertension["Anti\u00adhyper\u00adtensive"], hypertension["Other treat\u00adment"]) == (1, 1)
    assert hypertension["Not recov\u00adered"] == 2


def test_dose_actions_side_by_side_per_agent_by_name(section):
    table = section["t_aesi_dose_actions"]
    assert table.columns[:3] == ["AESI", "Subjects", "Apatinib: reduced"]
    assert "Anti-PD-1: withdrawn" in table.columns
    pneumonitis = cells(table, "Pneumonitis")
    assert (pneumonitis["Apatinib: withdrawn"], pneumonitis["Anti-PD-1: interrupted"], pneumonitis["Anti-PD-1: withdrawn"]) == (1, 1, 1)
    assert cells(table, "Hypertension")["Apatinib: action not recorded"] == 1


def test_timing_median_and_range(section):
    thyroid = cells(section["t_aesi_timing"], "Thyroid")
    assert thyroid["First onset, study day: median (range)"] == "30.5 (20–41)"
    assert thyroid["Duration of resolved episodes, days: median (range)"] == "30 (30–30)"
    assert cells(section["t_aesi_timing"], "Necrosis")["Duration of resolved episodes, days: median (range)"] is None


def test_subgroup_levels_side_by_side(section):
    table = section["t_aesi_by_subgroup"]
    assert table.columns == ["Subgroup", "Event", "Re-irradiated", "N", "Missing", "local", "distant", "regional"]
    first = dict(zip(table.columns, table.rows[0]))
    assert (first["Subgroup"], first["Event"], first["Re-irradiated"], first["N"], first["Missing"]) == (
        "Prior re-irradiation", "Any grade >= 3 TEAE", "1/1 (100.0%)", "0/2 (0.0%)", "1/1 (100.0%)",
    )
    assert first["local"] is None  # a level of the other subgroup
    necrosis = [dict(zip(table.columns, row)) for row in table.rows if row[1] == "Necrosis"]
    assert [row["Re-irradiated"] for row in necrosis] == ["1/1 (100.0%)", None]
    assert [row["local"] for row in necrosis] == [None, "1/1 (100.0%)"]
    assert [row[0] for row in table.rows].count("Recurrence") == 1  # named on its first row only


def test_the_partial_renders_one_section_per_table(section):
    html = environment().get_template("sections/_aesi.html.j2").render(aesi=section["_context"])
    assert re.findall(r'<section id="(\w+)" class="table-section">', html) == list(TABLES)
    assert html.count('<section id="aesi-in-depth">') == 1
