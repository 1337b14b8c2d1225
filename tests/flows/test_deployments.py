"""The trial's [[schedules]]: cron checked when the config loads, next run times listed."""

from datetime import datetime, timezone

import pytest

from flows.cli import main
from flows.deployments import deployment_plan
from tests.conftest import BUNDLED_CONFIG, REPO_ROOT, make_mini_trial
from trial.config import load_trial_config
from trial.errors import InputError


def test_next_runs_of_the_bundled_schedules_in_their_time_zone():
    """From Saturday 2026-11-28 04:00 UTC (12:00 in Shanghai): the weekly digest (Mondays 07:00
    Asia/Shanghai) next fires Monday 2026-11-30 07:00+08:00 = 2026-11-29 23:00 UTC, then weekly.
    The DSMB package (06:00 on day 1 of every third month from January: Jan, Apr, Jul, Oct) next
    fires 2027-01-01 06:00+08:00, then 2027-04-01 and 2027-07-01."""
    plan = deployment_plan(load_trial_config(BUNDLED_CONFIG), now=datetime(2026, 11, 28, 4, tzinfo=timezone.utc))
    digest, dsmb = plan
    assert digest["deployment"] == "safety_digest/npc-apatinib-pd1-weekly-safety-digest"
    assert digest["next_runs"] == ["2026-11-30T07:00:00+08:00", "2026-12-07T07:00:00+08:00", "2026-12-14T07:00:00+08:00"]
    assert digest["next_runs_utc"][0] == "2026-11-29T23:00:00+00:00"
    assert dsmb["next_runs"] == ["2027-01-01T06:00:00+08:00", "2027-04-01T06:00:00+08:00", "2027-07-01T06:00:00+08:00"]


@pytest.mark.parametrize(
    ("cron", "problem"),
    [("0 25 * * 1", "not a valid cron expression"), ("0 7 * *", "five fields")],
)
def test_a_bad_cron_is_refused_with_its_key(tmp_path, cron, problem):
    text = BUNDLED_CONFIG.read_text().replace('cron = "0 7 * * 1"', f'cron = "{cron}"')
    config = make_mini_trial(tmp_path / "t", config_text=text)
    with pytest.raises(InputError) as caught:
        load_trial_config(config)
    assert caught.value.field == "schedules[1].cron"
    assert problem in caught.value.problem


def test_deployments_command_prints_json(capsys):
    assert main(["deployments", str(BUNDLED_CONFIG), "--json", "--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "\"deployment\": \"dsmb_package/npc-apatinib-pd1-dsmb-package\"" in out


@pytest.mark.slow  # imports Prefect: about 4 s
def test_prefect_yaml_declares_the_bundled_trials_schedules():
    """prefect.yaml (work-pool deployments) says what the trial config's [[schedules]] say, and
    names the flow each report kind runs."""
    import yaml

    from flows.deployments import FLOW_NAME_OF_REPORT, deployment_name
    from flows.scheduled import FLOW_OF_REPORT
    from trial.config import load_trial_config

    assert {kind: flow.name for kind, flow in FLOW_OF_REPORT.items()} == FLOW_NAME_OF_REPORT
    config = load_trial_config(BUNDLED_CONFIG)
    declared = {d["name"]: d for d in yaml.safe_load((REPO_ROOT / "prefect.yaml").read_text())["deployments"]}
    for schedule in config.model.schedules:
        deployment = declared[deployment_name(config, schedule.name)]
        assert deployment["entrypoint"] == f"flows/scheduled.py:{FLOW_NAME_OF_REPORT[schedule.report]}"
        assert deployment["schedules"] == [{"cron": schedule.cron, "timezone": schedule.timezone}]
        assert (REPO_ROOT / deployment["parameters"]["config_path"]).resolve() == BUNDLED_CONFIG.resolve()
