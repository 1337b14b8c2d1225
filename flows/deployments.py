"""A trial's scheduled reports (`[[schedules]]`) with their next run times.

Plain data from the trial config, computed without importing Prefect, so that listing the
schedules is instant and works where no Prefect server runs.
"""

from __future__ import annotations

from datetime import datetime, timezone

from trial.config import TrialConfig

# The Prefect flow each report kind runs (flows/scheduled.py), named here so that listing the
# deployments needs no Prefect import.
FLOW_NAME_OF_REPORT = {"validation": "validate_sources", "digest": "safety_digest", "dsmb": "dsmb_package"}

def deployment_plan(config: TrialConfig, *, now: datetime | None = None, runs: int = 3) -> list[dict]:
    """One entry per schedule: deployment name, report, cron, time zone and the next ``runs`` times."""
    now = now or datetime.now(timezone.utc)
    plan = []
    for schedule in config.model.schedules:
        upcoming = schedule.next_runs(now, runs)
        plan.append(
            {
                "deployment": f"{FLOW_NAME_OF_REPORT[schedule.report]}/{deployment_name(config, schedule.name)}",
                "report": schedule.report,
                "cron": schedule.cron,
                "timezone": schedule.timezone,
                "next_runs": [run.isoformat() for run in upcoming],
                "next_runs_utc": [run.astimezone(timezone.utc).isoformat() for run in upcoming],
            }
        )
    return plan


def deployment_name(config: TrialConfig, schedule_name: str) -> str:
    """A deployment's name in Prefect: one per trial and schedule (the flow names the report kind)."""
    return f"{config.id}-{schedule_name}"


def runner_deployments(configs: list[TrialConfig]) -> list:
    """Every `[[schedules]]` entry of the trials as a Prefect deployment of the flow its report
    kind runs (``flows.scheduled.FLOW_OF_REPORT``): cron in the schedule's own time zone, the
    trial config as parameter. Imports Prefect: only ``toxwatch serve`` calls it."""
    from prefect.schedules import Cron

    from flows.scheduled import FLOW_OF_REPORT

    deployments = []
    for config in configs:
        for schedule in config.model.schedules:
            flow = FLOW_OF_REPORT[schedule.report]
            deployments.append(
                flow.to_deployment(
                    name=deployment_name(config, schedule.name),
                    schedules=[Cron(schedule.cron, timezone=schedule.timezone)],
                    parameters={"config_path": str(config.path)},
                    tags=[config.id, schedule.report],
                    description=f"{config.model.trial.title}: {schedule.report} ({schedule.cron}, {schedule.timezone})",
                )
            )
    return deployments
