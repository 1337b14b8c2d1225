"""One message per fault, on every command: one line on stderr naming the file or key, the
problem and the fix; exit 1; no Python traceback unless --debug.

Exit 2 means "finished, and validation errors were queried", so a usage error must not use
argparse's 2. Faults that had no toxwatch message before: a store locked by another process,
`database` pointing at a file that is not a DuckDB database, `output_dir` pointing at a file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import main
from tests.conftest import REPO_ROOT, make_mini_trial
from trial.errors import InputError

CUT = "2025-07-01"  # the mini trial's last data date


def without_waiting_notes(stderr: str) -> str:
    """stderr without the note a run prints while it waits for a store held by another process."""
    return "\n".join(line for line in stderr.splitlines() if not line.startswith("toxwatch: note: waiting for the store"))


def one_message(stderr: str) -> str:
    """The single line a fault prints: toxwatch's own, with a fix, and no traceback."""
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("toxwatch: error: ") and "Fix: " in lines[0], lines[0]
    return lines[0]


def set_trial_key(config: Path, key: str, value: str) -> None:
    """Set a key of the [trial] section of the mini trial's config (it has both database and output_dir)."""
    lines = config.read_text().splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if line.startswith(f"{key} = ")]
    lines[index] = f'{key} = "{value}"\n'
    config.write_text("".join(lines))


@pytest.fixture
def store_holder(monkeypatch):
    """Another process holding a DuckDB file open for writing, as a running toxwatch does
    (which toxwatch waits for, here for one second)."""
    monkeypatch.setenv("TOXWATCH_STORE_WAIT_SECONDS", "1")
    holders = []

    def hold(path: Path) -> subprocess.Popen:
        code = "import duckdb, sys; connection = duckdb.connect(sys.argv[1]); print('holding', flush=True); sys.stdin.read()"
        holder = subprocess.Popen([sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        holders.append(holder)
        assert holder.stdout.readline().strip() == "holding"
        return holder

    yield hold
    for holder in holders:
        holder.stdin.close()  # the holder reads stdin to its end, then exits and releases the lock
        holder.wait(timeout=30)


# ---- usage errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["run", "trial.toml", "--cut", "2026-13-45"], "--cut"),
        (["tables", "trial.toml"], "--out"),
        (["frobnicate"], "frobnicate"),
        ([], "COMMAND"),
        (["rules", "boundary", "--kind", "tobxdry", "--looks", "20"], "--kind"),
    ],
)
def test_a_usage_error_exits_1_not_2(argv, named, capsys):
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code == 1
    message = one_message(capsys.readouterr().err)
    assert named in message and "--help" in message


def test_a_bad_cut_date_from_the_shell(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(tmp_path / "trial.toml"), "--cut", "2026-13-45"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert one_message(result.stderr) == (
        "toxwatch: error: run: argument --cut: not a date (YYYY-MM-DD): '2026-13-45'. Fix: see `toxwatch run --help`"
    )


# ---- the store --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("adverse_events.csv", "ae_id,subject_id\nAE1,S1\n", "is not a DuckDB database file"),
        ("notes.txt", "", "is not a DuckDB database file"),  # empty: DuckDB refuses it too, in its own words
        ("store", None, "is a folder, not a DuckDB database file"),
    ],
)
def test_a_store_that_is_not_a_duckdb_file_is_refused_untouched(tmp_path, name, content, problem):
    from safetydb.store import SafetyStore

    path = tmp_path / name
    if content is None:
        path.mkdir()
    else:
        path.write_text(content)
    with pytest.raises(InputError) as error:
        SafetyStore(path)
    assert (error.value.file, error.value.problem) == (str(path), problem)
    assert "`trial.database`" in error.value.fix
    if content is not None:
        assert path.read_text() == content  # DuckDB would have opened the CSV as a view and kept nothing


def test_a_locked_store_names_the_process_holding_it(tmp_path, store_holder):
    from safetydb.store import SafetyStore

    path = tmp_path / "toxwatch.duckdb"
    holder = store_holder(path)
    with pytest.raises(InputError) as error:
        SafetyStore(path)
    assert error.value.file == str(path)
    assert f"locked by another process (PID {holder.pid})" in error.value.problem
    assert error.value.fix == f"wait for that run to finish, or stop process {holder.pid}, then run again"


@pytest.mark.slow  # validates the mini trial before it reaches the store: about 2 s each
@pytest.mark.parametrize("command", ["tables", "rules check"])
def test_every_command_stops_at_a_locked_store_with_one_line(tmp_path, store_holder, capsys, command):
    config = make_mini_trial(tmp_path / "trial")
    holder = store_holder(config.parent / "toxwatch.duckdb")
    argv = ["tables", str(config), "--out", str(tmp_path / "out")] if command == "tables" else ["rules", "check", str(config)]
    assert main(argv) == 1
    lines = capsys.readouterr().err.splitlines()
    waiting = [line for line in lines if line.startswith("toxwatch: note: waiting for the store")]
    assert len(waiting) == 1 and f"(PID {holder.pid})" in waiting[0]
    message = one_message(without_waiting_notes("\n".join(lines)))
    assert message.startswith(f"toxwatch: error: {config.parent / 'toxwatch.duckdb'}: the store is locked by another process (PID {holder.pid})")
    assert "(waited 1 s)" in message
    assert not (tmp_path / "out" / "npc-apatinib-pd1" / CUT).exists()
    assert not list((tmp_path / "out").glob("*/.*"))  # the failed run's unfinished folder is gone


@pytest.mark.slow  # validates the mini trial first: about 2 s
def test_database_pointing_at_a_csv_is_one_line(tmp_path, capsys):
    config = make_mini_trial(tmp_path / "trial")
    set_trial_key(config, "database", "adverse_events.csv")
    before = (config.parent / "adverse_events.csv").read_text()
    assert main(["tables", str(config), "--out", str(tmp_path / "out")]) == 1
    assert one_message(capsys.readouterr().err) == (
        f"toxwatch: error: {config.parent / 'adverse_events.csv'}: is not a DuckDB database file. "
        "Fix: point `trial.database` in the trial config at a DuckDB file (toxwatch creates it if it does not exist)"
    )
    assert (config.parent / "adverse_events.csv").read_text() == before


# ---- the output folder --------------------------------------------------------------------------


@pytest.mark.slow  # validates the mini trial first: about 1 s
def test_output_dir_pointing_at_a_file_is_one_line(tmp_path, capsys):
    config = make_mini_trial(tmp_path / "trial")
    set_trial_key(config, "output_dir", "subjects.csv")
    assert main(["validate", str(config)]) == 1
    assert one_message(capsys.readouterr().err) == (
        f"toxwatch: error: {config}: trial.output_dir: {config.parent / 'subjects.csv'} is a file, not a folder. "
        "Fix: set output_dir to a folder toxwatch may write (it is created if missing)"
    )


@pytest.mark.slow  # validates the mini trial first: about 1 s
def test_out_pointing_at_a_file_is_one_line(tmp_path, capsys):
    config = make_mini_trial(tmp_path / "trial")
    assert main(["validate", str(config), "--out", str(config)]) == 1
    assert one_message(capsys.readouterr().err) == (
        f"toxwatch: error: {config}: --out: is a file, not a folder. Fix: give --out a folder toxwatch may write (it is created if missing)"
    )


# ---- --debug, and faults toxwatch does not foresee -------------------------------------------------


def test_debug_adds_the_traceback_before_the_message(tmp_path, capsys):
    missing = tmp_path / "missing.toml"
    assert main(["validate", str(missing)]) == 1
    plain = capsys.readouterr().err
    assert main(["--debug", "validate", str(missing)]) == 1
    debug = capsys.readouterr().err
    assert "Traceback" in debug and "trial.errors.InputError" in debug
    assert debug.strip().splitlines()[-1] == one_message(plain)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (PermissionError(13, "Permission denied", "/data/trial/subjects.csv"), "toxwatch: error: /data/trial/subjects.csv: Permission denied. Fix: check that the path exists and that toxwatch may read and write it"),
        (RuntimeError("boom"), "toxwatch: error: unexpected RuntimeError: boom. Fix: this is a fault in toxwatch; run again with --debug and report the traceback"),
    ],
)
def test_an_unforeseen_fault_is_still_one_line(tmp_path, capsys, monkeypatch, fault, expected):
    import flows.stages

    def fail(*args, **kwargs):
        raise fault

    monkeypatch.setattr(flows.stages, "ingest", fail)
    assert main(["validate", str(tmp_path / "trial.toml")]) == 1
    assert one_message(capsys.readouterr().err) == expected


# ---- the Prefect flow --------------------------------------------------------------------------


@pytest.mark.slow  # imports Prefect: a few seconds
def test_the_ingest_task_retries_io_faults_only():
    """retries=1 is for a share that drops for a moment; an InputError is the same on every try."""
    from prefect.states import Failed

    from flows.safety_review import ingest_task, retry_on_io_fault

    assert ingest_task.retries == 1 and ingest_task.retry_condition_fn is retry_on_io_fault
    unusable = InputError("trial.toml", "windows.acute_days", "must be at least 1", "correct the value")
    assert not retry_on_io_fault(ingest_task, None, Failed(data=unusable))
    assert retry_on_io_fault(ingest_task, None, Failed(data=OSError(5, "Input/output error", "subjects.csv")))
    assert not retry_on_io_fault(ingest_task, None, Failed(data=ValueError("a fault in toxwatch")))


def toxwatch_run(config: Path, out: Path, prefect_home: Path, **popen) -> subprocess.Popen:
    """`toxwatch run` in its own process, with its own Prefect home (the embedded server's database)."""
    env = os.environ | {"PREFECT_HOME": str(prefect_home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run", str(config), "--out", str(out)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen,
    )


@pytest.mark.slow  # a Prefect flow run on the embedded server: about 30 s
def test_a_config_error_through_the_flow_is_one_line(tmp_path):
    config = make_mini_trial(tmp_path / "trial")
    config.write_text(config.read_text().replace("acute_days = 90", "acute_days = -1"))
    run = toxwatch_run(config, tmp_path / "out", tmp_path / "prefect")
    _, stderr = run.communicate(timeout=600)
    assert run.returncode == 1
    assert one_message(stderr) == (
        f"toxwatch: error: {config}: windows.acute_days: Input should be greater than or equal to 1. "
        "Fix: correct the value (see docs/trial-config.md)"
    )


@pytest.mark.slow  # a Prefect flow run on the embedded server: about 30 s
def test_a_locked_store_through_the_flow_is_one_line(tmp_path, store_holder):
    config = make_mini_trial(tmp_path / "trial")
    holder = store_holder(config.parent / "toxwatch.duckdb")
    run = toxwatch_run(config, tmp_path / "out", tmp_path / "prefect")
    _, stderr = run.communicate(timeout=600)
    assert run.returncode == 1
    assert f"the store is locked by another process (PID {holder.pid})" in one_message(without_waiting_notes(stderr))
    assert not (tmp_path / "out" / "npc-apatinib-pd1" / CUT).exists()
    assert not list((tmp_path / "out").glob("*/.*"))


@pytest.mark.slow  # two Prefect flow runs at once: about 60 s
def test_two_runs_at_once_on_one_store_both_finish(tmp_path):
    """Each stage opens the store briefly; a run that finds it held waits for it (saying so) and
    goes on, so both runs finish (exit 2: the mini trial has queried rows). Never a raw DuckDB error."""
    config = make_mini_trial(tmp_path / "trial")
    runs = [toxwatch_run(config, tmp_path / "out", tmp_path / f"prefect-{n}") for n in (1, 2)]
    outcomes = [(run.returncode, stderr) for run in runs for _, stderr in [run.communicate(timeout=600)]]
    for returncode, stderr in outcomes:
        assert "IOException" not in stderr and "IO Error" not in stderr and "Traceback" not in stderr
        assert returncode == 2, stderr
    published = tmp_path / "out" / "npc-apatinib-pd1" / CUT
    manifest = json.loads((published / "manifest.json").read_text())
    present = {path.relative_to(published).as_posix() for path in published.rglob("*") if path.is_file()}
    assert set(manifest["files"]) == present - {"manifest.json"}
    assert not list((tmp_path / "out").glob("*/.*"))  # no unfinished folder left by either
