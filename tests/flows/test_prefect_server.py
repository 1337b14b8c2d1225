"""The safety review against a real Prefect server (not the embedded one), started on loopback;
and the bundled trial's schedules served by `toxwatch serve`, a digest triggered through the API."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import BUNDLED_CONFIG, REPO_ROOT, make_mini_trial

pytestmark = pytest.mark.slow  # starts a Prefect server and runs the flow against it: about 40 s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = os.environ | {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                pytest.fail("prefect server exited before it was healthy")
            time.sleep(1)
        else:
            pytest.fail("prefect server did not become healthy within 180 s")
        yield api, env
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_run_reports_to_the_server(prefect_server, tmp_path):
    api, env = prefect_server
    config = make_mini_trial(tmp_path / "trial")
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(config), "--out", str(tmp_path / "out")],
        env=env | {"PREFECT_API_URL": api},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr  # the mini trial carries queried rows
    flags = json.loads((tmp_path / "out" / "npc-apatinib-pd1" / "2025-07-01" / "flags.json").read_text())
    assert flags["stopping"]["status"] == "STOP"  # S3's grade 5 related hemorrhage (tests/data/mini)

    runs = httpx.post(f"{api}/flow_runs/filter", json={"limit": 10}, timeout=10).json()
    review_runs = [run for run in runs if run["state_type"] == "COMPLETED"]
    assert len(review_runs) == 1
    flow = httpx.get(f"{api}/flows/{review_runs[0]['flow_id']}", timeout=10).json()
    assert flow["name"] == "safety_review"
    tasks = httpx.post(
        f"{api}/task_runs/filter",
        json={"flow_runs": {"id": {"any_": [review_runs[0]["id"]]}}},
        timeout=10,
    ).json()
    assert sorted((task["name"].rsplit("-", 1)[0], task["state_type"]) for task in tasks) == [
        ("ingest-validate-store", "COMPLETED"),
        ("publish-outputs", "COMPLETED"),
        ("render-pdf", "COMPLETED"),
        ("render-reports", "COMPLETED"),
        ("send-alerts", "COMPLETED"),
        ("tables-and-signals", "COMPLETED"),
    ]


def wait_for(what: str, probe, *, seconds: float, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        if process is not None and process.poll() is not None:
            pytest.fail(f"{what}: the process exited ({process.returncode}): {process.stdout.read() if process.stdout else ''}")
        time.sleep(1)
    pytest.fail(f"{what}: not within {seconds:g} s")


def test_served_schedules_run_a_digest_triggered_through_the_api(prefect_server, tmp_path):
    """`toxwatch serve` registers the bundled trial's two schedules (weekly digest, quarterly DSMB
    package) with the server; a digest run created through the API runs in the serving process
    and publishes OUT/npc-apatinib-pd1/digests/2026-06-30/, and its artifact holds counts only."""
    api, env = prefect_server
    trial = tmp_path / "trial"
    shutil.copytree(BUNDLED_CONFIG.parent, trial, ignore=shutil.ignore_patterns("out", "*.duckdb*"))
    serving = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve", str(trial / "trial.toml")],
        env=env | {"PREFECT_API_URL": api},
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        def deployments():
            found = httpx.post(f"{api}/deployments/filter", json={"limit": 20}, timeout=10).json()
            return {d["name"]: d for d in found} if len(found) >= 2 else None

        served = wait_for("deployments registered", deployments, seconds=180, process=serving)
        assert set(served) == {"npc-apatinib-pd1-weekly-safety-digest", "npc-apatinib-pd1-dsmb-package"}
        digest = served["npc-apatinib-pd1-weekly-safety-digest"]
        assert digest["schedules"][0]["schedule"]["cron"] == "0 7 * * 1"
        assert digest["schedules"][0]["schedule"]["timezone"] == "Asia/Shanghai"

        run = httpx.post(f"{api}/deployments/{digest['id']}/create_flow_run", json={}, timeout=10).json()

        def finished():
            state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=10).json()["state_type"]
            return state if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

        assert wait_for("the digest run", finished, seconds=300, process=serving) == "COMPLETED"
        published = trial / "out" / "npc-apatinib-pd1" / "digests" / "2026-06-30"
        assert (published / "digest.txt").read_text().startswith("SAFETY DIGEST - npc-apatinib-pd1")
        assert set(json.loads((published / "manifest.json").read_text())["files"]) == {"digest.html", "digest.txt", "digest.json"}

        artifacts = httpx.post(f"{api}/artifacts/filter", json={"artifacts": {"key": {"any_": ["digest-npc-apatinib-pd1"]}}}, timeout=10).json()
        assert artifacts and "Safety digest npc-apatinib-pd1" in artifacts[0]["data"]
        assert "NPC-" not in artifacts[0]["data"]  # no subject id in Prefect's database
    finally:
        serving.terminate()
        serving.wait(timeout=60)
