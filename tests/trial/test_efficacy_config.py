"""The [efficacy] section of the trial config: defaults, the bundled design, and one clear
message per mistake."""

import re

import pytest

from tests.conftest import BUNDLED_CONFIG
from trial.config import Efficacy, load_trial_config
from trial.errors import InputError


def bundled_without_efficacy() -> str:
    """The bundled config with its [efficacy] and [efficacy.bryant_day] tables removed."""
    text = BUNDLED_CONFIG.read_text()
    start = text.index("[efficacy]")
    end = text.index("\n[expedited]", start)
    return text[:start] + text[end + 1 :]


def test_defaults_when_the_section_is_absent(tmp_path):
    path = tmp_path / "trial.toml"
    path.write_text(bundled_without_efficacy())
    efficacy = load_trial_config(path).model.efficacy
    assert efficacy == Efficacy()
    assert (efficacy.confirmation_required, efficacy.confirmation_min_days, efficacy.sd_min_days) == (True, 28, 42)
    assert (efficacy.time_origin, efficacy.population, efficacy.bryant_day) == ("first_dose", "treated", None)


def test_bundled_design():
    design = load_trial_config(BUNDLED_CONFIG).model.efficacy.bryant_day
    assert (design.n1, design.n, design.r1, design.r, design.t1, design.t) == (20, 60, 5, 14, 14, 42)
    assert (design.p0, design.p1, design.q0, design.q1) == (0.20, 0.40, 0.65, 0.85)
    assert design.event.window == "cycle1" and design.event.grade_min == 3


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        ('population = "treated"', 'population = "enrolled"', "efficacy", 'set time_origin = "enrolment"'),
        ("sd_min_days = 42 ", "sd_min_dayz = 42 ", "efficacy.sd_min_dayz", "unknown key"),
        ("n1 = 20 ", "n1 = 60 ", "efficacy.bryant_day", "n1 = 60 must be below n = 60"),
        ("t1 = 14 ", "t1 = 20 ", "efficacy.bryant_day", "t1 = 20 must be below the subjects it counts (20)"),
        ("q1 = 0.85", "q1 = 0.60", "efficacy.bryant_day.q1", "must be above q0"),
        ('event = { grade_min = 3, related_to = ["apatinib", "anti_pd1"], window = "cycle1" }\n\n[expedited]',
         'event = { grade_min = 3, related_to = ["apatinib", "anti_pd1"] }\n\n[expedited]',
         "efficacy.bryant_day", "the toxic event needs a window"),
        ('event = { grade_min = 3, related_to = ["apatinib", "anti_pd1"], window = "cycle1" }\n\n[expedited]',
         'event = { grade_min = 3, related_to = ["apatinib", "nivolumab"], window = "cycle1" }\n\n[expedited]',
         "efficacy.bryant_day.event.related_to", "unknown agent 'nivolumab'"),
    ],
)
def test_bad_efficacy_config_names_the_key_and_the_problem(tmp_path, old, new, key, problem):
    text = BUNDLED_CONFIG.read_text()
    assert old in text, old
    path = tmp_path / "trial.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError) as caught:
        load_trial_config(path)
    assert caught.value.field == key
    assert problem in caught.value.message, caught.value.message


def test_every_efficacy_key_is_documented():
    text = (BUNDLED_CONFIG.parents[3] / "docs" / "trial-config.md").read_text()
    section = text[text.index("## `[efficacy]`") : text.index("## `[expedited]`")]
    first_cells = re.findall(r"^\| ((?:`\w+`(?:, )?)+) \|", section, flags=re.M)
    documented = {name for cell in first_cells for name in re.findall(r"`(\w+)`", cell)}
    from trial.config import BryantDay

    assert "### `[efficacy.bryant_day]`" in section
    assert set(Efficacy.model_fields) - {"bryant_day"} <= documented
    assert set(BryantDay.model_fields) <= documented
