"""The scheduled and on-demand jobs around a review, as plain stages (no Prefect): the data
manager's validation run, the safety officer's digest, and the DSMB package. ``flows.scheduled``
orchestrates them; ``toxwatch validate`` calls ``validation_run`` directly.

Each job writes a partial folder beside its final place and publishes it whole with a
manifest, like a review (flows/stages.py):

- ``OUT/<trial-id>/<cut-date>-validation/``: queries, the query report, row accounting;
- ``OUT/<trial-id>/digests/<cut-date>/``: the digest of a published review since the previous digest;
- ``OUT/<trial-id>/dsmb/<review-date>/``: a published review frozen for a DSMB meeting.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl

from flows import stages
from flows.stages import LoadedCut, open_output_folder, publish_folder, write_folder_manifest
from safetydb.identity import toolkit_version
from safetydb.store import SafetyStore
from trial.config import load_trial_config
from trial.errors import InputError


def validation_run(config_path: Path | str, *, cut_date: date | None = None, out_root: Path | None = None) -> dict:
    """Validate the sources without storing them, render the query report, publish the folder."""
    loaded = stages.ingest(config_path, cut_date=cut_date, out_root=out_root, store=False)
    try:
        report = render_query_report(loaded)  # before the manifest, which lists its files
        stages.write_manifest(loaded)
        out_dir = stages.publish(loaded)
    except BaseException:
        stages.discard(loaded)
        raise
    return {
        "out_dir": str(out_dir),
        "trial_id": loaded.trial_id,
        "cut_date": loaded.cut_date,
        "accounting": loaded.accounting,
        "queries": loaded.queries,
        "query_report": str(out_dir / report.name),
    }


def render_query_report(loaded: LoadedCut) -> Path:
    """The data manager's query report in the unpublished folder, this run's queries against
    those of the trial's previous published run (the published folder of this same cut too)."""
    from reports.query_report import previous_queries, read_queries
    from reports.query_report import render_query_report as render

    out_dir, final_dir = Path(loaded.out_dir), Path(loaded.final_dir)
    previous = previous_queries(final_dir.parent, out_dir.name)
    if previous is not None:
        # validate runs no cross-source check: a review's reconciliation queries are neither open nor resolved here.
        previous = previous.filter(pl.col("file") != "(reconciliation)")
    sites = loaded.subject_sites
    subjects = pl.DataFrame({"subject_id": list(sites), "site_id": list(sites.values())}, schema={"subject_id": pl.String, "site_id": pl.String})
    html, *_csv_files = render(
        out_dir,
        queries=read_queries(out_dir / "queries.csv"),
        previous=previous,
        subjects=subjects,
        accounting=loaded.accounting,
        trial_id=loaded.trial_id,
        cut_date=loaded.cut_date,
    )
    return html


def digest_run(review_dir: Path | str, *, config_path: Path | str, database: Path | str | None = None, out_root: Path | None = None) -> dict:
    """The digest of a published review since the previous digest, published to
    OUT/<trial-id>/digests/<cut-date>/; returns its facts (counts only) and where it is."""
    from reports.digest import previous_digest, render_digest

    review_dir = Path(review_dir)
    config = load_trial_config(config_path)
    flags = _read_json(review_dir / "flags.json")
    cut_date = flags["cut_date"]
    partial, final_dir = open_output_folder(config, out_root, f"digests/{cut_date}")
    try:
        since = previous_digest(final_dir.parent, cut_date)
        with SafetyStore(Path(database or config.database_path)) as store:
            paths = render_digest(review_dir, store=store, config=config, since_cut_id=since, out_dir=partial)
        facts = _read_json(partial / "digest.json")
        write_folder_manifest(partial, {"toolkit": "toxwatch", "toolkit_version": toolkit_version(), "kind": "digest",
                                        "trial_id": config.id, "cut_id": flags["cut_id"], "cut_date": cut_date,
                                        "review": review_dir.name, "since_cut_id": since})
        out_dir = publish_folder(partial, final_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return {"out_dir": str(out_dir), "files": [str(out_dir / path.name) for path in paths], "facts": facts}


def dsmb_freeze(review_dir: Path | str, *, config_path: Path | str, review_date: date | None = None, out_root: Path | None = None) -> dict:
    """Freeze a published review for a DSMB meeting: a copy of its folder, with freeze.json
    naming the meeting date, the cut and load it was made from and the review's manifest
    checksum, published to OUT/<trial-id>/dsmb/<review-date>/. The store keeps the cut, so the
    package can be made again identically from it."""
    review_dir = Path(review_dir)
    config = load_trial_config(config_path)
    review_date = review_date or date.today()
    manifest = _read_json(review_dir / "manifest.json")
    partial, final_dir = open_output_folder(config, out_root, f"dsmb/{review_date.isoformat()}")
    try:
        shutil.copytree(review_dir, partial, dirs_exist_ok=True)
        (partial / "manifest.json").rename(partial / "review_manifest.json")
        freeze = {
            "review_date": review_date.isoformat(),
            "frozen_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "trial_id": config.id,
            "cut_id": manifest["cut_id"],
            "cut_date": manifest["cut_date"],
            "load_id": manifest.get("load", {}).get("load_id"),
            "review_manifest_sha256": _file_sha256(review_dir / "manifest.json"),
        }
        (partial / "freeze.json").write_text(json.dumps(freeze, indent=2), encoding="utf-8")
        write_folder_manifest(partial, {"toolkit": "toxwatch", "toolkit_version": toolkit_version(), "kind": "dsmb package"} | freeze)
        out_dir = publish_folder(partial, final_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return {"out_dir": str(out_dir), **freeze}


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise InputError(path, None, "not found", "run the review first: the job reads its published folder")
    return json.loads(path.read_text(encoding="utf-8"))


def _file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()

