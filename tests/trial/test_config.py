"""Loading the trial configuration: everything validated, one clear message per problem."""

from pathlib import Path

import pytest

from tests.conftest import BUNDLED_CONFIG
from trial.errors import InputError
from trial.config import load_trial_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "trial.toml"
    path.write_text(text)
    return path


def test_bundled_config_describes_the_seed_trial():
    config = load_trial_config(BUNDLED_CONFIG)
    model = config.model
    assert model.trial.ctcae_version == "5.0"
    assert model.trial.cycle_length_days == 28
    assert [(a.id, a.dose_mg, a.route, a.frequency) for a in model.agents] == [
        ("apatinib", 250, "PO", "QD"),
        ("anti_pd1", 200, "IV", "Q2W"),
    ]
    assert config.teae_end_days == 30
    assert model.windows.acute_days == 90
    assert model.attribution.related_levels == ["possible", "probable", "definite"]
    assert [(rule.id, rule.kind) for rule in model.stopping_rules] == [
        ("related_death", "event_count"),
        ("severe_hemorrhage", "event_count"),
        ("severe_trae_rate", "bayes"),
    ]
    assert list(model.aesi) == [
        "hemorrhage", "hypertension", "hand_foot", "proteinuria", "necrosis", "colitis", "hepatitis", "pneumonitis",
        "thyroid", "hypophysitis", "adrenal", "diabetes", "myocarditis", "nephritis", "skin", "rccep",
    ]


def test_no_end_window_is_allowed(tmp_path):
    text = BUNDLED_CONFIG.read_text().replace("teae_end_days = 30", 'teae_end_days = "none"')
    assert load_trial_config(write(tmp_path, text)).teae_end_days is None


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        ("acute_days = 90", "acute_dayz = 90", "windows.acute_dayz", "unknown key"),
        ("p_max = 0.35", "p_max = 1.35", "stopping_rules[3].p_max", "less than 1"),
        ('cycle_length_days = 28', 'cycle_length_days = "four weeks"', "trial.cycle_length_days", "integer"),
        ('related_levels = ["possible", "probable", "definite"]', 'related_levels = ["maybe"]', "attribution.related_levels", "invalid related attribution levels ['maybe']"),
        ('event = { grade_min = 3, aesi = ["hemorrhage"] }', 'event = { grade_min = 3, aesi = ["bleeding"] }', "stopping_rules[2].event.aesi", "unknown AESI set"),
        ('timezone = "Asia/Shanghai"\n\n[[schedules]]', 'timezone = "Mars/Olympus"\n\n[[schedules]]', "schedules[1].timezone", "unknown IANA time zone"),
    ],
)
def test_bad_config_names_file_key_and_problem(tmp_path, old, new, key, problem):
    text = BUNDLED_CONFIG.read_text()
    assert old in text
    path = write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(InputError) as caught:
        load_trial_config(path)
    message = caught.value.message
    assert str(path) in message
    assert f": {key}: " in message
    assert problem in message
    assert "Fix:" in message


def test_missing_section_is_named(tmp_path):
    text = BUNDLED_CONFIG.read_text().replace("[sources.exposure]\npath = \"exposure.csv\"\n", "")
    with pytest.raises(InputError, match="sources.exposure: required key is missing"):
        load_trial_config(write(tmp_path, text))


def test_invalid_toml_is_one_message(tmp_path):
    with pytest.raises(InputError, match="not valid TOML"):
        load_trial_config(write(tmp_path, "[trial\nid = 1"))
