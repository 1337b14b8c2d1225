"""The synthetic trial written as SDTM (synth/sdtm.py) and read back through readers/sdtm.py gives
the native trial's tables: the two routes are independent computations of the same review.

Each trial is run twice through the stages without Prefect (flows/stages.py ingest, analyse,
publish): once from its own files, once from the SDTM domains ``write_sdtm`` wrote. Every table in
tables/ (Parquet) must be identical, and queries.csv must hold the same queries (same checks,
records, fields, values, effects, fixes), but for what docs/sources.md ("A synthetic trial as
SDTM") lists as differing (flags.json too, but for the cut's identifier):

* t_sae_listing: ``onset_date_given`` and ``resolution_date_given`` are empty in the native route
  (its files give complete dates and no date as given), and in the SDTM route hold AESTDTC and
  AEENDTC as given: the SDTM reader keeps every date as given beside the date it reads
  (docs/sources.md, "Partial dates"). Here every date is complete, so each equals the date itself
  (the resolution only where it is in the cut).
* queries.csv: ``file`` is the domain file (ae.csv for adverse_events.csv, and so on); ``row`` is
  the same line for every source but the tumour assessments, where an assessment is two RS
  records (the overall response, then the new-lesion result when one is given): the n-th
  assessment's overall response is on line 1 + sum over the earlier assessments of (1 + 1 if it
  gives new_lesions) + 1, worked out below from the native file itself.

Two trials: 20 subjects (seed 7) with no injected error, and the bundled trial (60 subjects,
injected errors at 2 % of the AE rows: misspelt terms, grades not allowed, a duplicated ae_id, an
unknown subject, off-scale attributions, lab unit slips, exposure dose and date slips, tumour
response codes), copied out of the repository so its own store is not touched.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from flows import stages
from synth import generate_trial
from synth.sdtm import write_sdtm
from synth.trial import SOURCE_FILE_NAMES
from tests.synth.conftest import BUNDLED_DIR

pytestmark = pytest.mark.slow

LISTING = "t_sae_listing"
GIVEN_DATES = {"onset_date_given": "onset_date", "resolution_date_given": "resolution_date"}
DOMAIN_FILE = {
    "subjects.csv": "dm.csv", "exposure.csv": "ex.csv", "adverse_events.csv": "ae.csv", "labs.csv": "lb.csv",
    "vitals.csv": "vs.csv", "tumour_assessments.csv": "rs.csv",
}


def _review(config: Path, out_root: Path) -> Path:
    """The review's published output folder (OUT/<trial>/<cut>) of one config."""
    loaded = stages.ingest(config, out_root=out_root)
    try:
        analysis = stages.analyse(loaded)
        stages.write_manifest(loaded, timings=analysis["timings"], reconciliation_queries=analysis["reconciliation_queries"])
        return stages.publish(loaded)
    except BaseException:
        stages.discard(loaded)
        raise


def _both_routes(native: Path, root: Path) -> tuple[Path, Path, Path]:
    sdtm_config = write_sdtm(native, root / "sdtm")
    return native, _review(native / "trial.toml", root / "out-native"), _review(sdtm_config, root / "out-sdtm")


@pytest.fixture(scope="module")
def clean_routes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("sdtm_route_clean")
    generate_trial(20, 7, root / "native", error_rate=0.0)
    return _both_routes(root / "native", root)


@pytest.fixture(scope="module")
def bundled_routes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("sdtm_route_bundled")
    native = root / "native"
    native.mkdir()
    for name in [*SOURCE_FILE_NAMES.values(), "trial.toml"]:
        shutil.copyfile(BUNDLED_DIR / name, native / name)
    return _both_routes(native, root)


ROUTES = ["clean_routes", "bundled_routes"]


@pytest.mark.parametrize("routes", ROUTES)
def test_every_table_is_identical_but_the_dates_as_given(routes: str, request: pytest.FixtureRequest) -> None:
    _, native, sdtm = request.getfixturevalue(routes)
    assert native.name == sdtm.name  # the same data cut
    tables = sorted(path.relative_to(native / "tables") for path in (native / "tables").rglob("*.parquet"))
    assert sorted(path.relative_to(sdtm / "tables") for path in (sdtm / "tables").rglob("*.parquet")) == tables
    assert len(tables) > 30
    for table in tables:
        from_native, from_sdtm = pl.read_parquet(native / "tables" / table), pl.read_parquet(sdtm / "tables" / table)
        if table.stem == LISTING:
            continue
        assert from_sdtm.equals(from_native), table

    listing_native, listing_sdtm = (pl.read_parquet(folder / "tables" / f"{LISTING}.parquet") for folder in (native, sdtm))
    others = [column for column in listing_native.columns if column not in GIVEN_DATES]
    assert listing_sdtm.select(others).equals(listing_native.select(others))
    assert listing_native.height > 0
    for given, date in GIVEN_DATES.items():
        assert listing_native[given].null_count() == listing_native.height
        assert listing_sdtm[given].to_list() == listing_native[date].cast(pl.String).to_list(), given


@pytest.mark.parametrize("routes", ROUTES)
def test_stopping_rules_and_expedited_reports_agree(routes: str, request: pytest.FixtureRequest) -> None:
    """flags.json (stopping rules, their history, expedited-report status) is the same but for the
    cut's identifier, which is derived from the load and so from the input files."""
    _, native, sdtm = request.getfixturevalue(routes)
    flags_native, flags_sdtm = (json.loads((folder / "flags.json").read_text(encoding="utf-8")) for folder in (native, sdtm))
    assert flags_native.pop("cut_id") != flags_sdtm.pop("cut_id")
    assert flags_sdtm == flags_native


def _queries(folder: Path) -> pl.DataFrame:
    return pl.read_csv(folder / "queries.csv", infer_schema=False)


@pytest.mark.parametrize("routes", ROUTES)
def test_the_same_queries_are_raised(routes: str, request: pytest.FixtureRequest) -> None:
    trial, native, sdtm = request.getfixturevalue(routes)
    from_native, from_sdtm = _queries(native), _queries(sdtm)
    by_check = ["source", "check"]
    assert (
        from_sdtm.group_by(by_check).len().sort(by_check).equals(from_native.group_by(by_check).len().sort(by_check))
    )
    if routes == "bundled_routes":
        # Every kind of injected error is there to be compared.
        checks = set(from_native["check"])
        assert {"term_known", "grade_allowed_for_term", "field_uniqueness", "subject_known", "isin"} <= checks, checks

    # The same queries, each on the same record and line of the domain file that holds it.
    expected = from_native.with_columns(pl.col("file").replace(DOMAIN_FILE))
    tumour_lines = _overall_response_lines(trial / "tumour_assessments.csv")
    expected = expected.with_columns(
        pl.when((pl.col("source") == "tumour_assessments") & (pl.col("file") == "rs.csv"))
        .then(pl.col("row").replace_strict(tumour_lines, default=None))
        .otherwise(pl.col("row"))
        .alias("row")
    )
    order = ["query_id", "source", "check", "field"]
    assert from_sdtm.sort(order).equals(expected.sort(order))


def _overall_response_lines(path: Path) -> dict[str, str]:
    """Line of each tumour assessment in the native file -> line of its overall response in rs.csv."""
    assessments = pl.read_csv(path, infer_schema=False)
    lines, rs_line = {}, 1
    for position, new_lesions in enumerate(assessments["new_lesions"].to_list(), start=2):
        rs_line += 1
        lines[str(position)] = str(rs_line)
        rs_line += new_lesions is not None
    return lines
