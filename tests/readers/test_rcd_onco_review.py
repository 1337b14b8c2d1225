"""An oncology ADaM trial with CTCAE grades (random.cdisc.data: ADSL, ADAE, ADEX) reviewed end to
end: `toxwatch init --from-adam` writes the config, the stages run on it, and the tables by arm
agree with a plain Polars computation on the same datasets.

The set's exposure records cover study days -1 to 36 while its AEs run for about three years,
all flagged treatment-emergent (TRTEMFL = Y); its README says so. With the 30-day end window
that init writes, most AEs fall after it; a user reviewing this set sets
`teae_end_days = "none"` (onset on or after the first dose), as the test does. The independent
route counts, per planned arm (TRT01P, which init writes; every subject has SAFFL = Y), the
AEs with ASTDTM on or after TRTSDTM: subjects and events, grade >= 3 (AETOXGR), grade 5, and
subjects by worst grade.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from flows.stages import analyse, ingest, publish, write_manifest
from tests.conftest import REPO_ROOT

RCD_ONCO = REPO_ROOT.parent / "shared" / "reference" / "rcd-onco"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not RCD_ONCO.is_dir(), reason="reference data not present (../shared/reference/rcd-onco)"),
]


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory) -> Path:
    from readers.init_config import config_from_cdisc

    folder = tmp_path_factory.mktemp("rcd-onco")
    path = folder / "trial.toml"
    text = config_from_cdisc(RCD_ONCO, standard="adam", out=path)
    text, changed = re.subn(r"(?m)^teae_end_days = 30\b", 'teae_end_days = "none"', text)
    assert changed == 1 and re.search(r'(?m)^arm_variable = "TRT01P"', text)
    path.write_text(text, encoding="utf-8")
    loaded = ingest(path, out_root=folder / "out", database=folder / "store.duckdb")
    analysis = analyse(loaded)
    write_manifest(loaded, timings=analysis["timings"], reconciliation_queries=analysis["reconciliation_queries"])
    return publish(loaded)


def independent() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per planned arm: N, and the treatment-emergent AEs (onset on or after the first dose)."""
    adsl = pl.read_parquet(RCD_ONCO / "cadsl.parquet").filter(pl.col("SAFFL") == "Y")
    adae = pl.read_parquet(RCD_ONCO / "cadae.parquet").join(adsl.select("USUBJID", "TRT01P", "TRTSDTM"), on="USUBJID")
    teae = adae.filter((pl.col("ASTDTM") >= pl.col("TRTSDTM")) & (pl.col("TRTEMFL") == "Y"))
    return adsl.group_by("TRT01P").len(), teae.with_columns(pl.col("AETOXGR").cast(pl.Int64).alias("grade"))


def test_overview_by_arm_is_the_independent_count(reviewed):
    n, teae = independent()
    expected = {}
    for (arm,), events in teae.group_by("TRT01P"):
        counts = lambda rows: (rows["USUBJID"].n_unique(), rows.height)  # noqa: E731
        expected[arm] = {1: counts(events), 3: counts(events.filter(pl.col("grade") >= 3)), 10: counts(events.filter(pl.col("grade") == 5))}
    overview = pl.read_parquet(reviewed / "tables" / "by_arm" / "t_overview.parquet")
    for arm, rows in expected.items():
        for ord_, (subjects, events) in rows.items():
            row = overview.filter((pl.col("arm") == arm) & (pl.col("ord") == ord_)).row(0, named=True)
            assert (row["subjects"], row["events"]) == (subjects, events), (arm, ord_)
            assert row["denominator"] == n.filter(pl.col("TRT01P") == arm)["len"].item()
    # hand-checked against the README: 1934 AEs, grade 5 = 361
    total = overview.filter((pl.col("arm") == "All arms") & pl.col("ord").is_in([1, 10])).sort("ord")
    assert total["events"].to_list() == [1934, 361] and total["denominator"].to_list() == [400, 400]


def test_subjects_by_worst_grade_per_arm(reviewed):
    _, teae = independent()
    worst = teae.group_by("TRT01P", "USUBJID").agg(pl.col("grade").max()).group_by("TRT01P", "grade").len()
    soc = pl.read_parquet(reviewed / "tables" / "by_arm" / "t_soc_term.parquet").filter(
        (pl.col("meddra_soc") == "(any)") & (pl.col("term") == "(any)")
    )
    for row in soc.filter(pl.col("arm") != "All arms").iter_rows(named=True):
        for grade in range(1, 6):
            expected = worst.filter((pl.col("TRT01P") == row["arm"]) & (pl.col("grade") == grade))["len"].sum()
            assert row[f"worst_grade_{grade}"] == expected, (row["arm"], grade)


def test_every_record_is_accounted_for(reviewed):
    """ADSL 400 subjects and ADAE 1934 AEs, all kept (README); none excluded."""
    manifest = (reviewed / "manifest.json").read_text(encoding="utf-8")
    assert '"rows_in": 400' in manifest and '"rows_in": 1934' in manifest
