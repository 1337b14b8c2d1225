"""The scheduled and on-demand flows: the data manager's validation run, the safety officer's
digest and the DSMB package, each over the plain jobs of ``flows.operations``.

Tasks pass paths and small summaries, never frames. Retries only where files are read, and
only after an I/O fault. A rerun with the same inputs republishes the same folders and sends no
alert twice (the store records deliveries). Each flow leaves a markdown artifact in Prefect
with counts only.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

# The review flow's module first: it sets Prefect's start-up settings (the embedded server's
# start-up timeout among them), which Prefect reads once, when it is first imported.
from flows.safety_review import artifact_key, retry_on_io_fault, safety_review  # isort: skip

from prefect import flow, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402

from flows import operations  # noqa: E402


@task(name="validate-and-report-queries", retries=1, retry_delay_seconds=2, retry_condition_fn=retry_on_io_fault)
def validation_task(config_path: str, cut_date: date | None, out_root: str | None) -> dict:
    return operations.validation_run(config_path, cut_date=cut_date, out_root=_path(out_root))


@task(name="render-digest")
def digest_task(review_dir: str, config_path: str, database: str | None, out_root: str | None) -> dict:
    return operations.digest_run(review_dir, config_path=config_path, database=database, out_root=_path(out_root))


@task(name="freeze-dsmb-package")
def freeze_task(review_dir: str, config_path: str, review_date: date | None, out_root: str | None) -> dict:
    return operations.dsmb_freeze(review_dir, config_path=config_path, review_date=review_date, out_root=_path(out_root))


@flow(name="validate_sources", log_prints=False)
def validate_sources(config_path: str, cut_date: date | None = None, out_root: str | None = None) -> dict:
    """The data manager's quick run: validate every source, write the queries and the query report."""
    result = validation_task(config_path, cut_date, out_root)
    totals = {key: sum(counts[key] for counts in result["accounting"].values()) for key in ("rows_in", "clean", "counted_with_queries", "excluded")}
    create_markdown_artifact(
        "\n".join([
            f"# Validation {result['trial_id']}, data up to {result['cut_date']}",
            f"- Rows in: {totals['rows_in']} = {totals['clean']} clean + {totals['counted_with_queries']} counted with queries + {totals['excluded']} excluded",
            f"- Queries: {result['queries']}",
            f"- Query report: `{result['query_report']}`",
        ]),
        key=artifact_key("validation", result["trial_id"]),
        description="Validation run: counts only",
    )
    return result


@flow(name="safety_digest", log_prints=False)
def safety_digest(config_path: str, cut_date: date | None = None, out_root: str | None = None, database: str | None = None) -> dict:
    """The scheduled digest: the review of the latest data (alerts included), then its digest
    since the previous digest."""
    review = safety_review(config_path, cut_date, out_root, database)
    digest = digest_task(review["out_dir"], config_path, database, out_root)
    facts = digest["facts"]
    create_markdown_artifact(
        "\n".join([
            f"# Safety digest {review['trial_id']}, data cut {review['cut_date']}",
            f"- Stopping rules: **{review['stopping']}**; expedited reporting: **{review['reporting']}**",
            f"- Compared with: {(facts['since'] or {}).get('cut_date', 'nothing (first cut)')}",
            *(f"- {name.replace('_', ' ')}: {value}" for name, value in (facts["changes"] or {}).items()),
            *(f"- expedited reports {level}: {count}" for level, count in facts["expedited"].items()),
            f"- Digest: `{digest['out_dir']}`",
        ]),
        key=artifact_key("digest", review["trial_id"]),
        description="Safety digest: counts only",
    )
    return {"review": review, "digest": digest}


@flow(name="dsmb_package", log_prints=False)
def dsmb_package(
    config_path: str, review_date: date | None = None, cut_date: date | None = None, out_root: str | None = None, database: str | None = None
) -> dict:
    """The DSMB package: the review of a data cut, frozen for the meeting of ``review_date``."""
    review = safety_review(config_path, cut_date, out_root, database)
    frozen = freeze_task(review["out_dir"], config_path, review_date, out_root)
    create_markdown_artifact(
        "\n".join([
            f"# DSMB package {review['trial_id']} for {frozen['review_date']}",
            f"- Data cut {frozen['cut_date']} (cut id {frozen['cut_id']}); stopping rules **{review['stopping']}**",
            f"- Package: `{frozen['out_dir']}`",
        ]),
        key=artifact_key("dsmb", review["trial_id"]),
        description="DSMB package: counts only",
    )
    return {"review": review, "package": frozen}


# The flow each `[[schedules]]` report kind runs (trial.config.Schedule.report).
FLOW_OF_REPORT = {"validation": validate_sources, "digest": safety_digest, "dsmb": dsmb_package}


def _path(text: str | None) -> Path | None:
    return Path(text) if text else None
