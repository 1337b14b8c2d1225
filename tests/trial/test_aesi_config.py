"""AESI groups and subgroups in the trial configuration: declared once, checked when loaded."""

from pathlib import Path

import pytest

from ctcae.terms import load_curated_dictionary
from tests.conftest import BUNDLED_CONFIG
from trial.config import load_trial_config, subgroup_variables
from trial.errors import InputError

# The two-line start of any config; the sections under test follow.
MINIMAL = """
[trial]
id = "t"
title = "t"

[[agents]]
id = "a"
name = "A"
dose_mg = 1
route = "PO"
frequency = "QD"

[sources.subjects]
path = "s.csv"

[sources.exposure]
path = "e.csv"

[sources.adverse_events]
path = "ae.csv"
"""


def load(tmp_path: Path, text: str):
    path = tmp_path / "trial.toml"
    path.write_text(MINIMAL + text)
    return load_trial_config(path)


def test_a_config_without_groups_or_subgroups_loads(tmp_path):
    """The keys are optional: a set without `group` is ungrouped, and there are no subgroups."""
    model = load(tmp_path, '[aesi.x]\nlabel = "X"\nterms = ["Colitis"]\n').model
    assert model.aesi["x"].group is None
    assert (model.aesi_groups, model.subgroups) == ({}, [])


def test_bundled_groups_hold_the_immune_related_aes_and_the_apatinib_class_effects():
    """The statistician's review: colitis and adrenal insufficiency belong to the immune-related AEs;
    hypertension, hand-foot syndrome, proteinuria and hemorrhage are the apatinib class effects. The
    stopping rules' set ids are kept."""
    model = load_trial_config(BUNDLED_CONFIG).model
    groups: dict[str | None, set[str]] = {}
    for aesi, definition in model.aesi.items():
        groups.setdefault(definition.group, set()).add(aesi)
    assert groups["immune_related"] == {
        "colitis", "hepatitis", "pneumonitis", "thyroid", "hypophysitis", "adrenal", "diabetes", "myocarditis", "nephritis", "skin",
    }
    assert groups["apatinib_class"] == {"hemorrhage", "hypertension", "hand_foot", "proteinuria"}
    assert groups[None] == {"necrosis", "rccep"}
    terms = {term for definition in model.aesi.values() for term in definition.terms}
    assert {"Colitis", "Adrenal insufficiency", "Palmar-plantar erythrodysesthesia syndrome", "Proteinuria"} <= terms
    assert {rule.event.aesi[0] for rule in model.stopping_rules if rule.event.aesi} == {"hemorrhage"}


def test_every_bundled_aesi_term_is_a_ctcae_v5_term_as_nci_spells_it():
    dictionary = load_curated_dictionary("5.0")
    model = load_trial_config(BUNDLED_CONFIG).model
    for aesi, definition in model.aesi.items():
        for term in definition.terms:
            found = dictionary.lookup(term)
            assert found is not None and found.term == term, (aesi, term)


def test_bundled_subgroup_is_prior_reirradiation():
    (subgroup,) = load_trial_config(BUNDLED_CONFIG).model.subgroups
    assert subgroup.variable == "prior_reirradiation"
    assert [(level.value, level.shown) for level in subgroup.levels] == [("Y", "Re-irradiated"), ("N", "Not re-irradiated")]


def test_levels_are_strings_or_tables(tmp_path):
    model = load(tmp_path, '[[subgroups]]\nvariable = "sex"\nlabel = "Sex"\nlevels = ["F", { value = "M", label = "Male" }]\n').model
    assert [(level.value, level.shown) for level in model.subgroups[0].levels] == [("F", "F"), ("M", "Male")]


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[aesi.x]\nlabel = "X"\ngroup = "immune"\nterms = ["Colitis"]\n', "aesi.x.group", "unknown AESI group 'immune'"),
        ('[aesi_groups.x]\nlabel = "X"\n\n[aesi.x]\nlabel = "X"\n', "aesi_groups.x", "is also an AESI set id"),
        ('[aesi_groups.x]\nlabel = "X"\ntitle = "X"\n', "aesi_groups.x.title", "unknown key"),
        ('[aesi_groups.x]\n', "aesi_groups.x.label", "required key is missing"),
        ('[[subgroups]]\nvariable = "age"\nlabel = "Age"\nlevels = ["50"]\n', "subgroups[1].variable", "not a text column of the subjects source"),
        ('[[subgroups]]\nvariable = "subject_id"\nlabel = "S"\nlevels = ["S1"]\n', "subgroups[1].variable", "not a text column"),
        ('[[subgroups]]\nvariable = "sex"\nlabel = "Sex"\nlevels = ["F", "F"]\n', "subgroups[1].levels", "level 'F' is listed twice"),
        ('[[subgroups]]\nvariable = "sex"\nlabel = "Sex"\nlevels = []\n', "subgroups[1].levels", "at least 1"),
        (
            '[[subgroups]]\nvariable = "sex"\nlabel = "Sex"\nlevels = ["F"]\n\n[[subgroups]]\nvariable = "sex"\nlabel = "Sex again"\nlevels = ["M"]\n',
            "subgroups[2].variable", "used twice",
        ),
    ],
)
def test_bad_groups_and_subgroups_name_the_key(tmp_path, text, key, problem):
    with pytest.raises(InputError) as caught:
        load(tmp_path, text)
    assert caught.value.field == key
    assert problem in caught.value.problem


def test_subgroup_variables_are_the_subjects_text_columns():
    assert set(subgroup_variables()) == {
        "site_id", "arm", "sex", "recurrence_type", "prior_reirradiation", "end_of_treatment_reason", "death_cause",
    }
