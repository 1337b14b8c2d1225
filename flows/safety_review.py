"""The Prefect flow: the safety review as a handful of coarse tasks over the plain stages.

Tasks pass small references (paths, ids); each stage reads and writes the DuckDB file and the
output folder itself. Retries only where input files are read, and only after an I/O fault.
The outputs are written into a partial folder and published whole at the end; a failed run
removes its partial folder and leaves the published one as it was.
"""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

# The first flow run starts Prefect's embedded server, which can take 20 s on a small machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from prefect import flow, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402

from flows import stages  # noqa: E402
from trial.errors import InputError  # noqa: E402


def retry_on_io_fault(task, task_run, state) -> bool:
    """Retry after an I/O fault (a share that dropped for a moment); an unusable input or
    configuration (InputError) fails the same way every time, so it is never retried."""
    fault = state.result(raise_on_failure=False)
    return isinstance(fault, OSError) and not isinstance(fault, InputError)


@task(name="ingest-validate-store", retries=1, retry_delay_seconds=2, retry_condition_fn=retry_on_io_fault)
def ingest_task(config_path: str, cut_date: date | None, out_root: str | None, database: str | None) -> stages.LoadedCut:
    return stages.ingest(
        config_path,
        cut_date=cut_date,
        out_root=Path(out_root) if out_root else None,
        database=Path(database) if database else None,
    )


@task(name="tables-and-signals")
def analyse_task(loaded: stages.LoadedCut) -> dict:
    return stages.analyse(loaded)


@task(name="render-reports")
def render_task(loaded: stages.LoadedCut) -> list[str]:
    return stages.render(loaded)


@task(name="render-pdf")
def pdf_task(loaded: stages.LoadedCut) -> dict:
    return stages.render_pdf(loaded)


@task(name="send-alerts")
def alerts_task(loaded: stages.LoadedCut) -> dict:
    """Webhook alerts of the review (``[alerts]``); written to alerts.json in the folder before
    it is published. A failed delivery is logged and tried again at the next run."""
    from flows.alerts import deliver_alerts

    return deliver_alerts(Path(loaded.out_dir), loaded.config, Path(loaded.database_path))


@task(name="publish-outputs")
def publish_task(loaded: stages.LoadedCut) -> str:
    return str(stages.publish(loaded))


@flow(name="safety_review", log_prints=False)
def safety_review(
    config_path: str, cut_date: date | None = None, out_root: str | None = None, database: str | None = None
) -> dict:
    """Ingest, validate and store a data cut, build tables and flags, render the reports,
    publish the output folder."""
    started = time.perf_counter()
    loaded = ingest_task(config_path, cut_date, out_root, database)
    try:
        analysis = analyse_task(loaded)
        rendered = time.perf_counter()
        reports = render_task(loaded)
        timings = analysis["timings"] | {"report_s": round(time.perf_counter() - rendered, 3)}
        laid_out = time.perf_counter()
        pdf = pdf_task(loaded)
        timings["pdf_s"] = round(time.perf_counter() - laid_out, 3)
        if pdf["written"]:
            reports = [*reports, str(Path(loaded.out_dir) / pdf["file"])]
        if pdf.get("closed_file"):
            reports = [*reports, str(Path(loaded.out_dir) / pdf["closed_file"])]
        alerts = alerts_task(loaded)
        timings["pipeline_s"] = round(time.perf_counter() - started, 3)
        stages.write_manifest(
            loaded, reports=reports, pdf=pdf, timings=timings, reconciliation_queries=analysis["reconciliation_queries"]
        )
        out_dir = Path(publish_task(loaded))
    except BaseException:
        stages.discard(loaded)
        raise
    summary = {
        "out_dir": str(out_dir),
        "trial_id": loaded.trial_id,
        "cut_date": loaded.cut_date,
        "stopping": analysis["stopping"],
        "reporting": analysis["reporting"],
        "queries": loaded.queries + analysis["reconciliation_queries"],
        "manifest": str(out_dir / "manifest.json"),
        "reports": [str(out_dir / Path(report).name) for report in reports],
        "alerts": alerts,
    }
    review_artifact(summary, loaded.accounting)
    return summary


def review_artifact(summary: dict, accounting: dict[str, dict[str, int]]) -> None:
    """A markdown summary of the run in Prefect: aggregate counts and where the outputs are;
    never a subject-level row (Prefect's database is not a safety database)."""
    lines = [
        f"# Safety review {summary['trial_id']}, data cut {summary['cut_date']}",
        f"- Stopping rules: **{summary['stopping']}**",
        f"- Expedited reporting: **{summary['reporting']}**",
        f"- Queries: {summary['queries']}",
        f"- Alerts: {summary['alerts'].get('sent', 0)} sent, {summary['alerts'].get('failed', 0)} failed",
        f"- Output folder: `{summary['out_dir']}`",
        "",
        "| source | rows in | clean | counted with queries | excluded |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {c['rows_in']} | {c['clean']} | {c['counted_with_queries']} | {c['excluded']} |"
            for name, c in accounting.items()
        ),
    ]
    create_markdown_artifact("\n".join(lines), key=artifact_key("review", summary["trial_id"]), description="Safety review: counts only")


def artifact_key(kind: str, trial_id: str) -> str:
    """Prefect artifact keys take lower-case letters, digits and dashes."""
    return f"{kind}-{trial_id}".lower().replace("_", "-")
