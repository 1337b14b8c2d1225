"""The `[privacy]` section: optional, strict, its files found relative to the config."""

from pathlib import Path

import pytest

from ctcae.home import data_path
from tests.conftest import BUNDLED_CONFIG
from trial.config import load_trial_config
from trial.errors import InputError


def write(folder: Path, privacy: str) -> Path:
    path = folder / "trial.toml"
    path.write_text(BUNDLED_CONFIG.read_text() + "\n[privacy]\n" + privacy)
    return path


def test_without_the_section_nothing_is_dropped_and_free_text_stays_out_of_the_open_report():
    config = load_trial_config(BUNDLED_CONFIG)
    privacy = config.model.privacy
    assert privacy.identifier_columns == []
    assert privacy.open_report_free_text is False
    assert config.free_text_patterns_path == data_path("privacy", "identifier_patterns.csv")
    assert config.free_text_patterns_path.is_file()
    assert config.names_path is None


def test_files_are_relative_to_the_config(tmp_path):
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "names.txt").write_text("Zhang Wei\n")
    (tmp_path / "lists" / "patterns.csv").write_text("pattern,regex,description,note\n")
    config = load_trial_config(write(tmp_path, 'identifier_columns = ["patient_name", "dob"]\n'
                                               'names_file = "lists/names.txt"\n'
                                               'free_text_patterns = "lists/patterns.csv"\n'
                                               "open_report_free_text = true\n"))
    assert config.model.privacy.identifier_columns == ["patient_name", "dob"]
    assert config.names_path == tmp_path.resolve() / "lists" / "names.txt"
    assert config.free_text_patterns_path == tmp_path.resolve() / "lists" / "patterns.csv"
    assert config.model.privacy.open_report_free_text is True


@pytest.mark.parametrize(
    ("privacy", "key", "problem"),
    [
        ("open_report_freetext = true\n", "privacy.open_report_freetext", "unknown key"),
        ('open_report_free_text = "no"\n', "privacy.open_report_free_text", "boolean"),
        ('names_file = "names.txt"\n', "privacy.names_file", "file 'names.txt' not found"),
        ('free_text_patterns = "patterns.csv"\n', "privacy.free_text_patterns", "file 'patterns.csv' not found"),
        ('identifier_columns = ["dob", "dob"]\n', "privacy.identifier_columns", "listed twice"),
        ('identifier_columns = [" "]\n', "privacy.identifier_columns", "must not be empty"),
    ],
)
def test_bad_privacy_section_names_key_and_problem(tmp_path, privacy, key, problem):
    with pytest.raises(InputError) as caught:
        load_trial_config(write(tmp_path, privacy))
    assert f": {key}: " in caught.value.message
    assert problem in caught.value.message


def test_an_identifier_column_cannot_be_read_as_a_contract_column(tmp_path):
    """A column declared an identifier must never be read: mapping a canonical column to it is refused."""
    path = tmp_path / "trial.toml"
    text = BUNDLED_CONFIG.read_text().replace(
        '[sources.subjects]\npath = "subjects.csv"\n',
        '[sources.subjects]\npath = "subjects.csv"\ncolumns = { subject_id = "patient_name" }\n',
    )
    path.write_text(text + '\n[privacy]\nidentifier_columns = ["patient_name"]\n')
    with pytest.raises(InputError) as caught:
        load_trial_config(path)
    assert caught.value.field == "privacy.identifier_columns"
    assert "[sources.subjects].columns reads it as 'subject_id'" in caught.value.problem
