"""The built wheel is a whole toxwatch: installed into a fresh virtual environment, away from the
repository, it runs the demo and answers CTCAE look-ups from the data it carries.

Slow (a wheel build, a fresh environment, the demo on an embedded Prefect server): about a
minute when uv's cache holds the dependencies. The dependencies come from the package index.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow

# What the wheel must carry: the repository's shipped data folders (as ctcae/_shipped/), the SQL
# models and the report templates.
SHIPPED_DATA_FOLDERS = ("ctcae", "synth", "privacy", "dosing", "recist", "cdisc", "trials/npc-apatinib-pd1")
INSTALLED_DATA_PREFIX = "ctcae/_shipped/"
BUNDLED_TRIAL = "trials/npc-apatinib-pd1"
# Written beside a trial.toml when the bundled trial is run from a checkout; never shipped.
RUN_ARTEFACTS = (".duckdb", ".duckdb.wal")


def run(command: list, *, cwd: Path, env: dict, timeout: float) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{command} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def repository_data_files() -> set[str]:
    """The shipped data files as paths under data/, e.g. 'ctcae/lab_tests.csv'."""
    data = REPO_ROOT / "data"
    files = set()
    for folder in SHIPPED_DATA_FOLDERS:
        for path in (data / folder).rglob("*"):
            relative = path.relative_to(data)
            if path.is_file() and not path.name.endswith(RUN_ARTEFACTS) and "out" not in relative.parts:
                files.add(relative.as_posix())
    return files


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """Build the wheel, install it into a new virtual environment; the paths and environment to use."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    root = tmp_path_factory.mktemp("wheel")
    # Nothing may leak in from the checkout or from the environment running the tests.
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env |= {
        "PREFECT_HOME": str(root / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "TOXWATCH_HOME": str(root / "toxwatch-home"),
    }
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

    run([uv, "build", "--wheel", "-o", root / "dist"], cwd=REPO_ROOT, env=env, timeout=300)
    (wheel,) = (root / "dist").glob("toxwatch-*.whl")
    venv = root / "venv"
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    run([uv, "venv", "--python", python_version, venv], cwd=root, env=env, timeout=300)
    python = venv / "bin" / "python"
    run([uv, "pip", "install", "--python", python, wheel], cwd=root, env=env, timeout=900)

    elsewhere = root / "elsewhere"  # outside the repository: nothing importable from the checkout
    elsewhere.mkdir()
    return {"root": root, "wheel": wheel, "venv": venv, "python": python, "cwd": elsewhere, "env": env}


def test_wheel_carries_the_packages_the_data_the_sql_and_the_templates(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    shipped = {name.removeprefix(INSTALLED_DATA_PREFIX) for name in names if name.startswith(INSTALLED_DATA_PREFIX)}
    assert shipped == repository_data_files()

    sql = {path.name for path in (REPO_ROOT / "safetydb" / "sql").glob("*.sql")}
    assert sql and {f"safetydb/sql/{name}" for name in sql} <= names
    templates = {path.name for path in (REPO_ROOT / "reports" / "templates").iterdir() if path.is_file()}
    assert templates and {f"reports/templates/{name}" for name in templates} <= names

    packages = {path.parent.name for path in REPO_ROOT.glob("*/__init__.py")} - {"tests"}
    top_level = {name.split("/")[0] for name in names if not name.startswith("toxwatch-")}
    assert top_level == packages, "every package of the repository, and nothing else, at the top of the wheel"
    assert os.path.getsize(installed["wheel"]) < 5_000_000


def test_installed_toxwatch_imports_from_the_virtual_environment(installed):
    code = (
        "import json, ctcae, flows.cli, ctcae.home; "
        "print(json.dumps({'ctcae': ctcae.__file__, 'cli': flows.cli.__file__, 'data': str(ctcae.home.data_path())}))"
    )
    result = run([installed["python"], "-c", code], cwd=installed["cwd"], env=installed["env"], timeout=120)
    found = json.loads(result.stdout)
    venv = installed["venv"].resolve()
    for name, path in found.items():
        assert Path(path).resolve().is_relative_to(venv), (name, path)
    assert Path(found["data"]).name == "_shipped"


def test_installed_demo_writes_the_review(installed):
    out = installed["root"] / "demo"
    (shipped,) = installed["venv"].glob("lib/python*/site-packages/ctcae/_shipped")
    before = sorted(path.relative_to(shipped) for path in shipped.rglob("*"))

    toxwatch = installed["venv"] / "bin" / "toxwatch"
    run([toxwatch, "demo", "--out", out], cwd=installed["cwd"], env=installed["env"], timeout=900)

    (cut_folder,) = (out / "npc-apatinib-pd1").iterdir()
    for name in ("dsmb_report.html", "flags.json", "manifest.json"):
        assert (cut_folder / name).is_file(), name
    json.loads((cut_folder / "flags.json").read_text())
    manifest = json.loads((cut_folder / "manifest.json").read_text())
    # The installed run read the very files of the repository's bundled trial.
    bundled = REPO_ROOT / "data" / BUNDLED_TRIAL
    assert manifest["config"]["sha256"] == hashlib.sha256((bundled / "trial.toml").read_bytes()).hexdigest()
    for source in manifest["inputs"].values():
        assert source["sha256"] == hashlib.sha256((bundled / source["file"]).read_bytes()).hexdigest(), source
    # The run wrote nothing into the installed package (site-packages may be read-only).
    assert sorted(path.relative_to(shipped) for path in shipped.rglob("*")) == before


def test_installed_ctcae_lookup(installed):
    toxwatch = installed["venv"] / "bin" / "toxwatch"
    command = [toxwatch, "ctcae", "lookup", "Hypertension", "--json"]
    result = run(command, cwd=installed["cwd"], env=installed["env"], timeout=120)
    payload = json.loads(result.stdout)
    with (REPO_ROOT / "data" / "ctcae" / "terms_v5.0.csv").open(newline="", encoding="utf-8") as handle:
        (row,) = [row for row in csv.DictReader(handle) if row["ctcae_term"] == "Hypertension"]
    assert payload["term"] == "Hypertension" and payload["match"] == "exact"
    assert payload["soc"] == row["meddra_soc"]
    assert payload["meddra_code"] == int(row["meddra_code"])
    assert payload["allowed_grades"] == [int(grade) for grade in row["allowed_grades"].split(",")]
    assert "curated" in payload["dictionary"]  # a fresh TOXWATCH_HOME: the shipped table answered
