"""The safety review against a real Prefect server (not the embedded one), started on loopback."""

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import REPO_ROOT, make_mini_trial

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
        ("render-reports", "COMPLETED"),
        ("tables-and-signals", "COMPLETED"),
    ]
