"""Atomic output folders: a run killed with SIGKILL at any point leaves either no folder or the
previous complete one, never a half-written folder or a mix of two runs; the next run clears
what the killed one left and publishes a folder equal to an uninterrupted run's.

The runs are the plain stages in the order the Prefect flow calls them (ingest, analyse,
render, write_manifest, publish), each in its own process. A driver process imports the
stages once and forks a child per run, which saves the import time (about 10 s here) on each
of the 20-odd runs; the driver itself never touches Polars or DuckDB, so forking it is safe.
A kill point is installed in the child only, by replacing a stage with a wrapper that sends
SIGKILL to its own process: production code has no hook for it.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import logging
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import REPO_ROOT, make_mini_trial

TRIAL_ID, CUT = "npc-apatinib-pd1", "2025-07-01"  # the mini trial's id and its last data date

DRIVER = r'''
import json, os, signal, sys, traceback
from pathlib import Path

import polars as pl

from flows import stages


def review(config, out_root, kill_at):
    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def die_after(name):
        original = getattr(stages, name)

        def then_die(*args, **kwargs):
            original(*args, **kwargs)
            die()

        setattr(stages, name, then_die)

    if kill_at == "after-ingest":  # queries.csv written, the cut stored
        die_after("ingest")
    elif kill_at == "mid-tables":  # the fifth table's Parquet file written, its CSV not
        write_parquet, written = pl.DataFrame.write_parquet, []

        def write_then_count(frame, *args, **kwargs):
            write_parquet(frame, *args, **kwargs)
            written.append(frame)
            if len(written) == 5:
                die()

        pl.DataFrame.write_parquet = write_then_count
    elif kill_at == "after-flags":  # tables and flags.json written, reconciliation queries not appended
        stages.write_queries = lambda *args, **kwargs: die()
    elif kill_at == "after-render":  # the report written, no manifest
        die_after("render")
    elif kill_at == "before-publish":  # the folder complete with its manifest, not renamed into place
        die_after("write_manifest")
    elif kill_at == "mid-publish":  # the published folder renamed aside, the new one not yet in
        die_after("set_aside_published")

    loaded = stages.ingest(config, out_root=Path(out_root))
    try:
        analysis = stages.analyse(loaded)
        reports = stages.render(loaded)
        pdf = stages.render_pdf(loaded)  # as the review flow does (flows/safety_review.py)
        stages.write_manifest(
            loaded, reports=reports, pdf=pdf, timings=analysis["timings"], reconciliation_queries=analysis["reconciliation_queries"]
        )
        stages.publish(loaded)
    except BaseException:
        stages.discard(loaded)
        raise


for line in sys.stdin:
    request = json.loads(line)
    child = os.fork()
    if child == 0:
        with open(request["stderr"], "w") as stderr:
            os.dup2(stderr.fileno(), 2)
        code = 1
        try:
            review(request["config"], request["out_root"], request["kill_at"])
            code = 0
        except BaseException:
            traceback.print_exc()
        sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(child, 0)
    killed_by = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    print(json.dumps({"pid": child, "killed_by": killed_by, "exit_code": exit_code}), flush=True)
'''

KILL_POINTS = ["after-ingest", "mid-tables", "after-flags", "after-render", "before-publish", "mid-publish"]


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    """Run one review in a fresh process: review(config, out_root, kill_at=None) -> outcome."""
    logs = tmp_path_factory.mktemp("review-logs")
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(logs / "driver.err").open("w"),
        text=True,
    )
    runs = itertools.count()

    def run(config: Path, out_root: Path, kill_at: str | None = None) -> dict:
        stderr = logs / f"run-{next(runs)}.err"
        driver.stdin.write(json.dumps({"config": str(config), "out_root": str(out_root), "kill_at": kill_at, "stderr": str(stderr)}) + "\n")
        driver.stdin.flush()
        ready, _, _ = select.select([driver.stdout], [], [], 300)
        line = driver.stdout.readline() if ready else ""
        if not line:
            driver.kill()
            pytest.fail(f"the review driver gave no answer: {(logs / 'driver.err').read_text()[-2000:]}")
        return json.loads(line) | {"stderr": stderr.read_text()}

    yield run
    driver.stdin.close()
    driver.wait(timeout=60)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, review) -> dict[str, str]:
    """The files of an uninterrupted run's folder of the mini trial, with their sha256."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    outcome = review(make_mini_trial(folder / "trial"), folder / "out")
    assert outcome["exit_code"] == 0, outcome["stderr"]
    return complete_folder(folder / "out" / TRIAL_ID / CUT)


def file_hashes(folder: Path) -> dict[str, str]:
    """Every file under the folder with its sha256, computed here, not by toxwatch."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def complete_folder(folder: Path) -> dict[str, str]:
    """Check that the manifest names every other file with its sha256; return the files but
    the manifest (whose timings differ from run to run)."""
    files = file_hashes(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    del files["manifest.json"]
    assert manifest["files"] == files
    return files


def hidden_entries(trial_folder: Path) -> list[str]:
    return sorted(path.name for path in trial_folder.iterdir() if path.name.startswith("."))


def remove_last_adverse_event(config: Path) -> None:
    """New inputs for a re-run: the mini trial without its last AE (AE14, a queried record)."""
    events = config.parent / "adverse_events.csv"
    lines = events.read_text().splitlines(keepends=True)
    events.write_text("".join(lines[:-1]))


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(finished.stdout)


def folder_with_manifest(path: Path, text: str) -> Path:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(text)
    return path


class NoteList(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_the_next_run_clears_only_what_dead_runs_left(tmp_path, monkeypatch):
    from flows.stages import clear_unpublished, notes

    noted = NoteList()
    monkeypatch.setattr(notes, "handlers", [noted])
    monkeypatch.setattr(notes, "propagate", False)

    dead, alive = dead_pid(), os.getpid()
    unfinished = folder_with_manifest(tmp_path / f".{CUT}.partial-{dead}-0a1b", "unfinished")
    running = folder_with_manifest(tmp_path / f".{CUT}.partial-{alive}-2c3d", "still being written")
    set_aside = folder_with_manifest(tmp_path / f".{CUT}.replaced-{dead}-4e5f", "the complete folder")
    superseded = folder_with_manifest(tmp_path / f".2025-06-01.replaced-{dead}-6a7b", "older")
    folder_with_manifest(tmp_path / "2025-06-01", "published after it")
    clear_unpublished(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([running.name, CUT, "2025-06-01"])
    assert (tmp_path / CUT / "manifest.json").read_text() == "the complete folder"  # put back
    assert (tmp_path / "2025-06-01" / "manifest.json").read_text() == "published after it"
    assert sorted(noted.messages) == sorted([
        f"put back {tmp_path / CUT}: a killed run (process {dead}) had moved it aside to replace it",
        f"removed {unfinished}: left by a killed run (process {dead})",
        f"removed {superseded}: left by a killed run (process {dead})",
    ])
    assert not set_aside.exists()


def test_publish_refuses_a_folder_without_its_manifest(tmp_path):
    from flows.stages import publish

    partial = tmp_path / f".{CUT}.partial-1-ab"
    partial.mkdir()
    with pytest.raises(RuntimeError, match="manifest.json"):
        publish(SimpleNamespace(out_dir=str(partial), final_dir=str(tmp_path / CUT)))
    assert not (tmp_path / CUT).exists()


def test_publish_puts_the_old_folder_back_when_the_new_one_cannot_go_in(tmp_path, monkeypatch):
    from flows.stages import publish

    published = folder_with_manifest(tmp_path / CUT, "old")
    partial = folder_with_manifest(tmp_path / f".{CUT}.partial-1-ab", "new")
    rename = Path.rename

    def refuse_the_new_folder(self, target):
        if self == partial:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", refuse_the_new_folder)
    with pytest.raises(PermissionError):
        publish(SimpleNamespace(out_dir=str(partial), final_dir=str(published)))
    assert (published / "manifest.json").read_text() == "old"
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([CUT, partial.name])  # the caller discards the partial


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", KILL_POINTS[:-1])  # mid-publish: no earlier folder to set aside on a first run
def test_a_killed_first_run_publishes_nothing_and_the_next_run_completes_the_folder(tmp_path, review, uninterrupted, kill_at):
    config = make_mini_trial(tmp_path / "trial")
    trial_folder = tmp_path / "out" / TRIAL_ID

    killed = review(config, tmp_path / "out", kill_at)
    assert killed["killed_by"] == 9
    assert not (trial_folder / CUT).exists()
    (unfinished,) = hidden_entries(trial_folder)
    assert unfinished.startswith(f".{CUT}.partial-{killed['pid']}-")

    rerun = review(config, tmp_path / "out")
    assert rerun["exit_code"] == 0, rerun["stderr"]
    assert f".{CUT}.partial-{killed['pid']}-" in rerun["stderr"] and "killed run" in rerun["stderr"]  # the one-line note
    assert hidden_entries(trial_folder) == []
    # The same files, byte for byte (tables, flags.json, queries.csv, the report) as an uninterrupted run.
    assert complete_folder(trial_folder / CUT) == uninterrupted


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_a_killed_rerun_leaves_the_complete_folder_intact(tmp_path, review, uninterrupted, kill_at):
    from flows.stages import clear_unpublished

    config = make_mini_trial(tmp_path / "trial")
    trial_folder = tmp_path / "out" / TRIAL_ID
    first = review(config, tmp_path / "out")
    assert first["exit_code"] == 0, first["stderr"]
    published = file_hashes(trial_folder / CUT)
    remove_last_adverse_event(config)

    killed = review(config, tmp_path / "out", kill_at)
    assert killed["killed_by"] == 9
    if kill_at == "mid-publish":
        # Killed between its two renames: the old folder is whole, set aside; the next run puts it back.
        assert not (trial_folder / CUT).exists()
        (aside,) = [name for name in hidden_entries(trial_folder) if name.startswith(f".{CUT}.replaced-{killed['pid']}-")]
        assert file_hashes(trial_folder / aside) == published
        clear_unpublished(trial_folder)  # what the next run does first
    assert file_hashes(trial_folder / CUT) == published

    rerun = review(config, tmp_path / "out")
    assert rerun["exit_code"] == 0, rerun["stderr"]
    assert hidden_entries(trial_folder) == []
    new = complete_folder(trial_folder / CUT)
    assert new["queries.csv"] != published["queries.csv"]  # the re-run's own inputs, published whole
    assert set(new) == set(uninterrupted)


@pytest.mark.slow  # two Prefect flow runs on the embedded server: about 90 s
def test_toxwatch_run_killed_mid_run_is_cleared_and_completed_by_the_next_run(tmp_path, uninterrupted):
    config = make_mini_trial(tmp_path / "trial")
    trial_folder = tmp_path / "out" / TRIAL_ID
    command = [sys.executable, "-m", "flows.cli", "run", str(config), "--out", str(tmp_path / "out")]
    env = os.environ | {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    # Its own session, so that the kill reaches the embedded Prefect server it starts as well.
    killed = subprocess.Popen(command, cwd=REPO_ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not (trial_folder.is_dir() and hidden_entries(trial_folder)):  # ingest has opened its folder
        assert killed.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "the run never opened its output folder"
        time.sleep(0.02)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    assert not (trial_folder / CUT).exists()
    (unfinished,) = hidden_entries(trial_folder)
    assert unfinished.startswith(f".{CUT}.partial-{killed.pid}-")

    rerun = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 2, rerun.stderr  # the mini trial has queried rows
    assert rerun.stderr.splitlines() == [
        f"toxwatch: note: removed {trial_folder / unfinished}: left by a killed run (process {killed.pid})"
    ]
    assert hidden_entries(trial_folder) == []
    assert complete_folder(trial_folder / CUT) == uninterrupted
