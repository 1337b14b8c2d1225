"""Shared fixtures (the repository root, the optional shared reference data, the mini trial)
and the test selection: everyday runs leave out the tests marked `slow`; CI runs them all."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

pytest_plugins = ("pytester",)  # tests/test_selection.py runs pytest on small made-up suites

# Tests never read or write the user's own toxwatch data (imported CTCAE dictionaries).
os.environ["TOXWATCH_HOME"] = tempfile.mkdtemp(prefix="toxwatch-home-")
atexit.register(shutil.rmtree, os.environ["TOXWATCH_HOME"], ignore_errors=True)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO_ROOT.parent / "shared" / "reference"


def reference_path(*parts: str) -> Path:
    """Path of a file in the shared reference folder, or skip the test with the reason."""
    path = SHARED_REFERENCE.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data not present: {Path('..', 'shared', 'reference', *parts)}")
    return path


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


MINI_TRIAL = REPO_ROOT / "tests" / "data" / "mini"
BUNDLED_CONFIG = REPO_ROOT / "data" / "trials" / "npc-apatinib-pd1" / "trial.toml"

# The tables of an output folder's tables/, listed by hand from docs/outputs.md: ten SQL table
# models, the cumulative incidence table and the curves the report draws, the expedited reports.
OUTPUT_TABLES = frozenset({
    "t_overview", "t_soc_term", "t_acute_late", "t_by_cycle", "t_attribution", "t_aesi", "t_lab_shift",
    "t_aesi_timing", "t_aesi_management", "t_aesi_dose_actions", "t_aesi_by_subgroup",
    "t_exposure", "t_sae_listing", "t_deaths",
    "t_heatmap", "t_swimmer",
    "t_dose_intensity", "t_enrolment_by_site", "t_enrolment_by_month", "t_disposition", "t_demographics", "t_data_currency",
    "t_cumulative_incidence", "cumulative_incidence_curves",
    "t_time_to_modification", "t_eair",
    "t_best_response", "efficacy_subjects", "t_survival", "km_curves", "bryant_day_oc", "bryant_day_status",
    "expedited_reports",
})


def make_mini_trial(folder: Path, *, config_text: str | None = None) -> Path:
    """A hand-made 6-subject trial (tests/data/mini) with the bundled trial config; returns trial.toml."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in MINI_TRIAL.glob("*.csv"):
        shutil.copy(source, folder / source.name)
    (folder / "labs.csv").write_text("subject_id,collection_date,test_code,value,unit,lln,uln\n")
    (folder / "vitals.csv").write_text("subject_id,measure_date,sbp_mmhg,dbp_mmhg,heart_rate_bpm,weight_kg\n")
    (folder / "tumour_assessments.csv").write_text("subject_id,visit,assessment_date,overall_response,new_lesions,method\n")
    config = folder / "trial.toml"
    config.write_text(config_text if config_text is not None else BUNDLED_CONFIG.read_text())
    return config


@pytest.fixture
def mini_config(tmp_path: Path) -> Path:
    return make_mini_trial(tmp_path / "mini")


# --- selection: everyday runs leave out the slow tests, CI runs everything ----------------------
# Slow: Prefect flow runs, the headless browser, and tests over about 1 s (marked `slow`). They
# run when CI=true is set (CI sets it), with --slow, when -m names its own selection, or when
# their file or test is named on the command line.

CI_VALUES = ("1", "true", "yes", "on")
LEFT_OUT = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", default=False, help="also run the tests marked slow (CI=true does the same)")


def _runs_everything(config: pytest.Config) -> str | None:
    """Why this run keeps the slow tests, or None for an everyday run."""
    if os.environ.get("CI", "").strip().lower() in CI_VALUES:
        return "CI=true"
    if config.getoption("--slow"):
        return "--slow"
    if config.getoption("markexpr"):
        return f"-m {config.getoption('markexpr')!r}"
    return None


def pytest_report_header(config: pytest.Config) -> str:
    reason = _runs_everything(config)
    if reason is None:
        return "toxwatch selection: everyday, tests marked slow left out unless named; `uv run pytest --slow` or CI=true runs all"
    if reason.startswith("-m"):
        return f"toxwatch selection: {reason} decides; `uv run pytest --slow` or CI=true runs all"
    return f"toxwatch selection: all tests, slow ones included ({reason}); plain `uv run pytest` leaves the slow ones out"


def _named_files(config: pytest.Config) -> set[Path]:
    """Test files named on the command line (a file or a test in it, not a folder)."""
    named = set()
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if path.is_file():
            named.add(path)
    return named


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _runs_everything(config) is not None:
        return
    named = _named_files(config)
    left_out = [item for item in items if item.get_closest_marker("slow") and item.path.resolve() not in named]
    config.stash[LEFT_OUT] = len(left_out)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        left_out_ids = {id(item) for item in left_out}
        items[:] = [item for item in items if id(item) not in left_out_ids]


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """The header line is hidden by -q; the summary says it again when slow tests were left out."""
    left_out = config.stash.get(LEFT_OUT, 0)
    if left_out:
        terminalreporter.write_line(f"{left_out} slow tests left out (everyday run); `uv run pytest --slow` or CI=true runs them")
