"""The CDISC pilot (pharmaverse SDTM) reviewed end to end: `toxwatch init --from-sdtm` writes the
trial config, the stages run on it with no hand edit, and the tables by arm give the counts the
reference folder's README states, and those of an independent computation on the ADaM datasets
derived from the same SDTM by pharmaverse admiral (ADSL TRTSDT/TRTEDT, ADAE ASTDT).

Hand-checked counts (../shared/reference/sdtm/README.md, "Known properties"; safety population
SAFFL = Y, treatment-emergent TRTEMFL = Y, which admiral derives with a 30-day end window):

* planned arm (ARM, ADaM TRT01P): N 86 / 84 / 84 (Placebo / Low / High); subjects with a TEAE
  65 / 77 / 75, events 281 / 412 / 429 (1122 in all);
* actual arm (ACTARM, TRT01A): N 86 / 96 / 72; subjects with a TEAE 65 / 84 / 68;
* no end window (onset on or after the first dose): subject 01-705-1303 (High dose) has 4 AEs
  starting 37 days after the last dose, so High becomes 76 subjects and 433 events.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from flows.stages import analyse, ingest, publish, write_manifest
from tests.conftest import REPO_ROOT

SDTM = REPO_ROOT.parent / "shared" / "reference" / "sdtm" / "pharmaversesdtm"
ADAM = REPO_ROOT.parent / "shared" / "reference" / "sdtm" / "pharmaverseadam"
ARMS = ("Placebo", "Xanomeline Low Dose", "Xanomeline High Dose")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SDTM.is_dir() or not ADAM.is_dir(), reason="reference data not present (../shared/reference/sdtm)"),
]


def written_config(folder: Path, *, arm_variable: str = "ARM", teae_end_days: str = "30") -> Path:
    """The config `toxwatch init --from-sdtm` writes for the pilot, with one choice changed the
    way a user would: the arm variable or the treatment-emergent window."""
    from readers.init_config import config_from_cdisc

    path = folder / "trial.toml"
    text = config_from_cdisc(SDTM, standard="sdtm", out=path)
    text, arms = re.subn(r'(?m)^arm_variable = "ARM"', f'arm_variable = "{arm_variable}"', text)
    text, windows = re.subn(r"(?m)^teae_end_days = 30\b", f"teae_end_days = {teae_end_days}", text)
    assert arms == 1 and windows == 1, "init no longer writes arm_variable / teae_end_days as the test expects"
    path.write_text(text, encoding="utf-8")
    return path


def reviewed(folder: Path, config_path: Path) -> Path:
    loaded = ingest(config_path, out_root=folder / "out", database=folder / "store.duckdb")
    analysis = analyse(loaded)
    write_manifest(loaded, timings=analysis["timings"], reconciliation_queries=analysis["reconciliation_queries"])
    return publish(loaded)


def overview_by_arm(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "tables" / "by_arm" / "t_overview.parquet")


def any_teae(out: Path) -> dict[str, tuple[int, int, int]]:
    """arm -> (N, subjects with a TEAE, TEAEs) from the review's overview by arm."""
    rows = overview_by_arm(out).filter(pl.col("ord") == 1)
    return {row["arm"]: (row["denominator"], row["subjects"], row["events"]) for row in rows.iter_rows(named=True)}


def independent_counts(arm_variable: str, end_window: int | None) -> dict[str, tuple[int, int, int]]:
    """The same counts from admiral's ADaM: ADSL safety population by TRT01P/TRT01A, ADAE onset
    ASTDT (partial dates imputed by admiral) against TRTSDT and TRTEDT."""
    adsl = pl.read_parquet(ADAM / "adsl.parquet").filter(pl.col("SAFFL") == "Y")
    arm = {"ARM": "TRT01P", "ACTARM": "TRT01A"}[arm_variable]
    adsl = adsl.select("USUBJID", pl.col(arm).alias("arm"), "TRTSDT", "TRTEDT")
    events = pl.read_parquet(ADAM / "adae.parquet").join(adsl, on="USUBJID")
    emergent = pl.col("ASTDT") >= pl.col("TRTSDT")
    if end_window is not None:
        emergent &= pl.col("ASTDT") <= pl.col("TRTEDT") + pl.duration(days=end_window)
    teae = events.filter(emergent).group_by("arm").agg(pl.col("USUBJID").n_unique().alias("subjects"), pl.len().alias("events"))
    n = adsl.group_by("arm").len()
    joined = n.join(teae, on="arm", how="left").fill_null(0)
    return {row["arm"]: (row["len"], row["subjects"], row["events"]) for row in joined.iter_rows(named=True)}


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pilot-planned")
    return reviewed(folder, written_config(folder))


def test_planned_arm_counts_are_the_readmes(planned):
    counts = any_teae(planned)
    assert {arm: counts[arm] for arm in ARMS} == {
        "Placebo": (86, 65, 281), "Xanomeline Low Dose": (84, 77, 412), "Xanomeline High Dose": (84, 75, 429),
    }
    assert counts["All arms"] == (254, 217, 1122)
    assert {arm: counts[arm] for arm in ARMS} == independent_counts("ARM", 30)


def test_actual_arm_counts_are_the_readmes(tmp_path):
    counts = any_teae(reviewed(tmp_path, written_config(tmp_path, arm_variable="ACTARM")))
    assert {arm: counts[arm][:2] for arm in ARMS} == {"Placebo": (86, 65), "Xanomeline Low Dose": (96, 84), "Xanomeline High Dose": (72, 68)}
    assert {arm: counts[arm] for arm in ARMS} == independent_counts("ACTARM", 30)


def test_no_end_window_keeps_the_four_late_events(tmp_path):
    counts = any_teae(reviewed(tmp_path, written_config(tmp_path, teae_end_days='"none"')))
    assert counts["Xanomeline High Dose"] == (84, 76, 433)
    assert {arm: counts[arm] for arm in ARMS} == independent_counts("ARM", None)


def test_screen_failures_stay_out_of_the_safety_population(planned):
    """DM holds 306 subjects: 254 randomised and dosed, 52 screen failures with no exposure."""
    rows = pl.read_parquet(planned / "tables" / "t_overview.parquet").filter(pl.col("ord") == 1)
    assert rows["denominator"].to_list() == [254]
    manifest = (planned / "manifest.json").read_text(encoding="utf-8")
    assert '"rows_in": 306' in manifest


def test_placebo_events_are_never_related_to_the_active_agent(planned):
    """A placebo subject never received xanomeline: no TEAE of the placebo arm is attributed to it."""
    attribution = pl.read_parquet(planned / "tables" / "by_arm" / "t_attribution.parquet")
    placebo = attribution.filter((pl.col("arm") == "Placebo") & (pl.col("agent") == "xanomeline"))
    assert placebo.is_empty() or placebo["subjects"].sum() == 0
