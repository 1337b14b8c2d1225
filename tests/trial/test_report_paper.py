"""[report] paper: the page size of dsmb_report.pdf, A4 unless the trial config says Letter."""

import re

import pytest

from tests.conftest import BUNDLED_CONFIG
from trial.config import load_trial_config
from trial.errors import InputError


def with_paper(tmp_path, value: str):
    """The bundled config with ``[report] paper = value`` (added to its [report] table, if it has one)."""
    text = BUNDLED_CONFIG.read_text()
    assert not re.search(r"^paper\s*=", text, flags=re.M)
    line = f'paper = "{value}"'
    text = text.replace("\n[report]\n", f"\n[report]\n{line}\n", 1) if "\n[report]\n" in text else f"{text}\n[report]\n{line}\n"
    path = tmp_path / "trial.toml"
    path.write_text(text)
    return path


def test_a4_unless_the_config_says_otherwise():
    assert load_trial_config(BUNDLED_CONFIG).model.report.paper == "A4"


def test_letter(tmp_path):
    assert load_trial_config(with_paper(tmp_path, "Letter")).model.report.paper == "Letter"


def test_another_paper_is_refused_with_the_key_named(tmp_path):
    path = with_paper(tmp_path, "A3")
    with pytest.raises(InputError) as caught:
        load_trial_config(path)
    assert ": report.paper: " in caught.value.message
    assert "'A4' or 'Letter'" in caught.value.message
