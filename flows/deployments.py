"""A trial's scheduled reports (`[[schedules]]`) with their next run times.

Plain data from the trial config, computed without importing Prefect, so that listing the
schedules is instant and works where no Prefect server runs.
"""

from __future__ import annotations

from datetime import datetime, timezone

from trial.config import TrialConfig

def deployment_plan(config: TrialConfig, *, now: datetime | None = None, runs: int = 3) -> list[dict]:
    """One entry per schedule: deployment name, report, cron, time zone and the next ``runs`` times."""
    now = now or datetime.now(timezone.utc)
    plan = []
    for schedule in config.model.schedules:
        upcoming = schedule.next_runs(now, runs)
        plan.append(
            {
                "deployment": f"{config.id}/{schedule.name}",
                "report": schedule.report,
                "cron": schedule.cron,
                "timezone": schedule.timezone,
                "next_runs": [run.isoformat() for run in upcoming],
                "next_runs_utc": [run.astimezone(timezone.utc).isoformat() for run in upcoming],
            }
        )
    return plan
