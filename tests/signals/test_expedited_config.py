"""Reference safety information as the trial configuration gives it: entries, refusals, docs.

The catch-all refusal is tested through ``load_trial_config`` on a temporary copy of the bundled
trial.toml, because that is where a safety officer meets it.
"""

import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from signals.expedited import expedited_reports
from tests.conftest import BUNDLED_CONFIG, REPO_ROOT
from trial.errors import InputError
from trial.config import DEFAULT_EXPECTED_MAX_GRADE, Expedited, RsiEntry, load_trial_config

HEPATITIS = '{ term = "Hepatobiliary disorders - Other, specify", specify = "Immune-mediated hepatitis" }'


def refused(tmp_path: Path, old: str, new: str) -> str:
    text = BUNDLED_CONFIG.read_text()
    assert old in text
    path = tmp_path / "trial.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError) as caught:
        load_trial_config(path)
    assert str(path) in caught.value.message
    return caught.value.message


def test_a_bare_catch_all_term_is_refused_at_load(tmp_path):
    """anti-PD-1's 13th entry is the hepatitis table; made a bare catch-all it would cover every hepatobiliary event."""
    message = refused(tmp_path, HEPATITIS, '"Hepatobiliary disorders - Other, specify"')
    assert ": expedited.reference_safety_information.anti_pd1[13]: " in message
    assert "catch-all term 'Hepatobiliary disorders - Other, specify' without specify" in message
    assert 'Fix: name the expected reaction: { term = "Hepatobiliary disorders - Other, specify", specify = ' in message


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        (HEPATITIS, '{ term = "Hepatobiliary disorders - Other, specify", max_grade = 3 }', "anti_pd1[13]", "without specify"),
        ('{ term = "Epistaxis", max_grade = 4 }', '{ term = "Epistaxis", specify = "nosebleed" }', "apatinib[9]", "is not an \"<SOC> - Other, specify\" term"),
        ('{ term = "Epistaxis", max_grade = 4 }', '{ term = "Epistaxis", max_grade = 6 }', "apatinib[9].max_grade", "less than or equal to 5"),
        ('{ term = "Epistaxis", max_grade = 4 }', '{ term = "Epistaxis", max_grade = 4, fatal_expected = true }', "apatinib[9]", "fatal_expected = true means max_grade 5"),
        ('{ term = "Epistaxis", max_grade = 4 }', '{ term = "Epistaxis", grade_max = 4 }', "apatinib[9].grade_max", "unknown key"),
        ('{ term = "Epistaxis", max_grade = 4 }', "4", "apatinib[9]", "an RSI entry is a CTCAE term"),
        ('{ term = "Epistaxis", max_grade = 4 }', '{ term = " ", max_grade = 4 }', "apatinib[9].term", "should match pattern"),
    ],
)
def test_bad_rsi_entries_name_the_key(tmp_path, old, new, key, problem):
    message = refused(tmp_path, old, new)
    assert f": expedited.reference_safety_information.{key}: " in message
    assert problem in message
    assert "Fix:" in message


def test_entries_state_their_expected_maximum_grade():
    """A string expects up to the default grade 3; max_grade and fatal_expected raise it."""
    entries = Expedited.model_validate(
        {"reference_safety_information": {"a": ["Fatigue", {"term": "Epistaxis", "max_grade": 4}, {"term": "Myocarditis", "fatal_expected": True}]}}
    ).reference_safety_information["a"]
    assert DEFAULT_EXPECTED_MAX_GRADE == 3
    assert [(e.term, e.expected_max_grade) for e in entries] == [("Fatigue", 3), ("Epistaxis", 4), ("Myocarditis", 5)]
    assert RsiEntry(term="hepatobiliary disorders -  other, SPECIFY").is_catch_all


def test_bundled_rsi_names_its_catch_all_reactions():
    rsi = load_trial_config(BUNDLED_CONFIG).model.expedited.reference_safety_information
    catch_alls = [(agent, e.term, e.specify) for agent, entries in rsi.items() for e in entries if e.is_catch_all]
    assert catch_alls == [
        ("anti_pd1", "Hepatobiliary disorders - Other, specify", "Immune-mediated hepatitis"),
        ("anti_pd1", "Skin and subcutaneous tissue disorders - Other, specify", "Reactive cutaneous capillary endothelial proliferation (RCCEP)"),
    ]
    raised = {(agent, e.term): e.expected_max_grade for agent, entries in rsi.items() for e in entries if e.expected_max_grade != 3}
    assert raised == {("apatinib", "Epistaxis"): 4, ("apatinib", "Pharyngeal hemorrhage"): 4}


def test_bundled_rsi_on_hand_made_events():
    """The bundled RSI, events aware 03-01, cut 03-20, each suspected for anti-PD-1 only.

    RCCEP under its skin catch-all term: listed -> expected. Vitiligo under the same term: not
    listed (the catch-all no longer covers it) -> SUSAR. Fatal epistaxis suspected for apatinib:
    listed up to grade 4 -> SUSAR on the 7-day clock.
    """
    skin = "Skin and subcutaneous tissue disorders - Other, specify"
    saes = pl.DataFrame(
        [
            {"ae_id": "R1", "ctcae_term": skin, "other_specify": "Reactive cutaneous capillary endothelial proliferation (RCCEP)", "grade": 3, "serious_criteria": "hospitalisation"},
            {"ae_id": "R2", "ctcae_term": skin, "other_specify": "Vitiligo", "grade": 3, "serious_criteria": "hospitalisation"},
            {"ae_id": "R3", "ctcae_term": "Epistaxis", "other_specify": None, "grade": 5, "serious_criteria": "death"},
        ],
        schema={"ae_id": pl.String, "ctcae_term": pl.String, "other_specify": pl.String, "grade": pl.Int64, "serious_criteria": pl.String},
    ).with_columns(
        subject_id=pl.lit("S1"), awareness_date=pl.lit(date(2025, 3, 1)), expedited_report_date=pl.lit(None, dtype=pl.Date)
    )
    attribution = pl.DataFrame(
        {"ae_id": ["R1", "R2", "R3"], "agent": ["anti_pd1", "anti_pd1", "apatinib"], "attribution": ["probable"] * 3, "related": [True] * 3}
    )
    expedited = load_trial_config(BUNDLED_CONFIG).model.expedited
    reports = expedited_reports(saes, attribution, reference_safety_information=expedited.reference_safety_information, cut_date=date(2025, 3, 20))
    assert dict(reports.select("ae_id", "susar").iter_rows()) == {"R1": False, "R2": True, "R3": True}
    assert reports.filter(pl.col("ae_id") == "R3")["clock_days"].item() == 7


def test_docs_describe_every_expedited_key_and_the_default_maximum():
    text = (REPO_ROOT / "docs" / "trial-config.md").read_text()
    section = text.split("## `[expedited]`", 1)[1].split("\n## ", 1)[0]
    for key in [*Expedited.model_fields, *RsiEntry.model_fields]:
        assert f"`{key}`" in section, key
    assert re.search(rf"`max_grade` \|[^\n]*default \*\*{DEFAULT_EXPECTED_MAX_GRADE}\*\*", section)
