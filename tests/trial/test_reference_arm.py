"""[[arms]] reference: the control arm the closed report compares the other arms with (at most one),
and the AE dot plot's display settings ([report] dot_plot_min_percent, dot_plot_terms)."""

import pytest

from tests.conftest import BUNDLED_CONFIG
from trial.config import load_trial_config
from trial.errors import InputError

ARMS = """
[[arms]]
id = "active"
value = "A"
agents = ["apatinib", "anti_pd1"]
{active}
[[arms]]
id = "control"
value = "B"
agents = ["anti_pd1"]
{control}
"""


def with_arms(tmp_path, *, active: str = "", control: str = "", report: str = "") -> object:
    text = BUNDLED_CONFIG.read_text() + ARMS.format(active=active, control=control)
    if report:
        text = text.replace("\n[report]\n", f"\n[report]\n{report}\n", 1) if "\n[report]\n" in text else f"{text}\n[report]\n{report}\n"
    path = tmp_path / "trial.toml"
    path.write_text(text)
    return load_trial_config(path)


def test_no_reference_arm_unless_one_is_marked(tmp_path):
    config = with_arms(tmp_path)
    assert config.reference_arm is None
    assert [arm.reference for arm in config.arms] == [False, False]


def test_the_marked_arm_is_the_reference(tmp_path):
    assert with_arms(tmp_path, control="reference = true").reference_arm.id == "control"


def test_two_reference_arms_are_refused_with_the_key_named(tmp_path):
    with pytest.raises(InputError) as caught:
        with_arms(tmp_path, active="reference = true", control="reference = true")
    assert "arms[2].reference" in caught.value.message
    assert "2 arms say reference = true" in caught.value.message


def test_dot_plot_settings_default_and_bounds(tmp_path):
    report = load_trial_config(BUNDLED_CONFIG).model.report
    assert (report.dot_plot_min_percent, report.dot_plot_terms) == (5, 30)
    report = with_arms(tmp_path, report="dot_plot_min_percent = 2.5\ndot_plot_terms = 12").model.report
    assert (report.dot_plot_min_percent, report.dot_plot_terms) == (2.5, 12)
    with pytest.raises(InputError, match="report.dot_plot_terms"):
        with_arms(tmp_path, report="dot_plot_terms = 0")
    with pytest.raises(InputError, match="report.dot_plot_min_percent"):
        with_arms(tmp_path, report="dot_plot_min_percent = 101")
