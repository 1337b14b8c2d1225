"""The tables behind the report's AE heatmap (t_heatmap) and swimmer plot (t_swimmer), on the mini
trial, against values worked out by hand and, for the heatmap, an independent Polars computation.

Mini trial (tests/data/mini, see tests/safetydb/test_tables.py), cut 2025-07-01, calendar cycles of
28 days, TEAE window last dose + 30 days. Treated: S1 (first dose 01-10), S2 (01-15), S3 (02-01),
S5 (05-01). On treatment: cycle 1 all 4; cycles 2-3 S1, S2, S5; cycles 4-7 S1. After treatment:
denominator 4 (every last dose is before the cut), no TEAE there.

TEAEs (study day, grade as counted, cycle): S1 AE1 Hypertension (11, 2, 1), AE10 Myocarditis
(51, 1, 2), AE13 "Skin ... - Other, specify" (52, 1, 2), AE3 Hypothyroidism (96, 2, 4), AE2
Hypertension (112, 3, 4); S2 AE4 Palmar-plantar erythrodysesthesia syndrome (27, 3, 1), AE12
"Hypertenshun" (46, 1, 2; not coded to CTCAE); S3 AE7 Epistaxis (5, 3, 1), AE6 Pharyngeal
hemorrhage (18, 5, 1); S5 AE8 Diarrhea (20, 1, 1).

Tumour assessments added here: S1 SD 03-07, PD 05-02 (day 113), PD 06-27; S2 PD 01-10 (before its
first dose: not a progression on treatment) and SD 03-12; S3 and S5 none.
"""

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from flows.stages import analyse, ingest
from safetydb.export import read_tables
from safetydb.store import SafetyStore
from tests.conftest import make_mini_trial

TUMOUR_ROWS = [
    "S1,Week 8,2025-03-07,SD,N,CT",
    "S1,Week 16,2025-05-02,PD,Y,CT",
    "S1,Week 24,2025-06-27,PD,Y,CT",
    "S2,Screening,2025-01-10,PD,N,CT",
    "S2,Week 8,2025-03-12,SD,N,CT",
]


@pytest.fixture(scope="module")
def mini_run(tmp_path_factory):
    config = make_mini_trial(tmp_path_factory.mktemp("figures"))
    assessments = config.parent / "tumour_assessments.csv"
    assessments.write_text(assessments.read_text() + "\n".join(TUMOUR_ROWS) + "\n")
    loaded = ingest(config)
    analyse(loaded)
    return loaded


@pytest.fixture(scope="module")
def tables(mini_run) -> dict[str, pl.DataFrame]:
    return read_tables(Path(mini_run.out_dir) / "tables")


def cell(heatmap: pl.DataFrame, term: str, cycle_label: str) -> dict:
    rows = heatmap.filter((pl.col("term") == term) & (pl.col("cycle_label") == cycle_label))
    assert rows.height == 1, (term, cycle_label)
    return rows.row(0, named=True)


def test_heatmap_totals_row_has_every_cycle(tables):
    """The '(any)' row, one cell per cycle and After treatment: cycle 1 S1, S2, S3, S5 (5 events:
    AE1, AE4, AE6, AE7, AE8; worst grade 5, AE6); cycle 2 S1, S2 (AE10, AE13, AE12; worst 1);
    cycle 4 S1 (AE3, AE2; worst 3); cycles 3, 5, 6, 7 and After treatment: none. Its subjects per
    cycle are t_by_cycle's."""
    totals = tables["t_heatmap"].filter(pl.col("term") == "(any)").sort("cycle", nulls_last=True)
    assert totals["cycle_label"].to_list() == ["1", "2", "3", "4", "5", "6", "7", "After treatment"]
    assert totals["denominator"].to_list() == [4, 3, 3, 1, 1, 1, 1, 4]
    assert totals["subjects"].to_list() == [4, 2, 0, 1, 0, 0, 0, 0]
    assert totals["events"].to_list() == [5, 3, 0, 2, 0, 0, 0, 0]
    assert totals["worst_grade"].to_list() == [5, 1, None, 3, None, None, None, None]
    assert set(totals["term_rank"].to_list()) == {0}
    by_cycle = tables["t_by_cycle"].sort("cycle", nulls_last=True)
    assert totals["subjects"].to_list() == by_cycle["subjects"].to_list()


def test_heatmap_cells_by_term(tables):
    """Hypertension (S1): grade 2 in cycle 1 (AE1), grade 3 in cycle 4 (AE2); one subject in all,
    worst grade 3. A term has no row for a cycle without an onset of it."""
    heatmap = tables["t_heatmap"]
    first, fourth = cell(heatmap, "Hypertension", "1"), cell(heatmap, "Hypertension", "4")
    assert (first["subjects"], first["worst_grade"], first["denominator"], first["percent"]) == (1, 2, 4, 25.0)
    assert (fourth["subjects"], fourth["worst_grade"], fourth["denominator"], fourth["percent"]) == (1, 3, 1, 100.0)
    assert (first["term_subjects"], first["term_worst_grade"]) == (1, 3)
    assert heatmap.filter(pl.col("term") == "Hypertension").height == 2
    assert cell(heatmap, "Hypertenshun", "2")["meddra_soc"] == "Not coded to CTCAE"


def test_heatmap_ranks_terms_by_subjects_then_worst_grade(tables):
    """Every term has one subject, so the worst grade orders them, then SOC and term: Pharyngeal
    hemorrhage (5); the grade 3 terms by SOC: Epistaxis (Respiratory...), Palmar-plantar
    erythrodysesthesia syndrome (Skin...), Hypertension (Vascular...); Hypothyroidism (2); the
    grade 1 terms by SOC: Myocarditis (Cardiac), Diarrhea (Gastrointestinal), Hypertenshun (Not
    coded to CTCAE), the skin catch-all (Skin...)."""
    ranks = tables["t_heatmap"].filter(pl.col("term") != "(any)").select("term_rank", "term").unique().sort("term_rank")
    assert ranks["term"].to_list() == [
        "Pharyngeal hemorrhage", "Epistaxis", "Palmar-plantar erythrodysesthesia syndrome", "Hypertension",
        "Hypothyroidism", "Myocarditis", "Diarrhea", "Hypertenshun", "Skin and subcutaneous tissue disorders - Other, specify",
    ]
    assert ranks["term_rank"].to_list() == list(range(1, 10))


def test_heatmap_term_totals_agree_with_the_soc_term_table(tables):
    """term_subjects and term_worst_grade are t_soc_term's subjects and highest worst grade for
    every (SOC, term), the totals row included: the same TEAEs, counted once per subject."""
    soc_term = tables["t_soc_term"].with_columns(
        pl.max_horizontal(
            [pl.when(pl.col(f"worst_grade_{g}") > 0).then(pl.lit(g)) for g in range(1, 6)]
        ).alias("highest_grade")
    )
    terms = tables["t_heatmap"].select("meddra_soc", "term", "term_subjects", "term_worst_grade").unique()
    joined = terms.join(soc_term, on=["meddra_soc", "term"], how="left")
    assert joined.height == 10  # 9 terms and the totals row
    assert joined["term_subjects"].to_list() == joined["subjects"].to_list()
    assert joined["term_worst_grade"].to_list() == joined["highest_grade"].to_list()


def test_heatmap_against_an_independent_computation(mini_run, tables):
    """Every term cell recomputed in plain Polars from the AE and cycle derivations of the cut:
    TEAEs placed in their onset cycle, or After treatment; subjects, events, worst grade, and the
    subjects on treatment in the cycle."""
    from safetydb.models import build_cut_models
    from trial.config import load_trial_config

    config = load_trial_config(mini_run.config_path)
    with SafetyStore(mini_run.database_path) as store:
        build_cut_models(store, config, mini_run.cut_id, date(2025, 7, 1))
        events = store.model("int_adverse_events")
        cycles = store.model("int_subject_cycles")
    placed = events.filter(pl.col("teae")).with_columns(
        pl.when(pl.col("cycle").is_not_null()).then(pl.col("cycle").cast(pl.String))
        .when(pl.col("after_treatment")).then(pl.lit("After treatment")).alias("cycle_label")
    ).filter(pl.col("cycle_label").is_not_null())
    expected = placed.group_by("meddra_soc", "ae_term", "cycle_label").agg(
        pl.col("subject_id").n_unique().alias("subjects"), pl.len().alias("events"), pl.col("grade").max().alias("worst_grade")
    )
    on_treatment = cycles.group_by("cycle").agg(pl.len().alias("denominator")).with_columns(pl.col("cycle").cast(pl.String).alias("cycle_label"))
    expected = expected.join(on_treatment.select("cycle_label", "denominator"), on="cycle_label", how="left").with_columns(
        pl.col("denominator").fill_null(4)  # After treatment: the 4 treated subjects, every last dose before the cut
    )
    actual = tables["t_heatmap"].filter(pl.col("term") != "(any)").rename({"term": "ae_term"})
    columns = ["meddra_soc", "ae_term", "cycle_label", "subjects", "events", "worst_grade", "denominator"]
    assert actual.select(columns).sort(columns[:3]).to_dicts() == expected.select(columns).cast({"events": pl.Int64}).sort(columns[:3]).to_dicts()


def test_swimmer_rows_worked_by_hand(tables):
    """Study days from each subject's first dose (day 1), cut 2025-07-01 (S1 day 173, S5 day 62).
    S1: apatinib 01-10..06-30 (days 1-172), anti-PD-1 01-10 and 01-24 (1-15); on study to last
    contact 07-01 (173); AE2 hypertension grade 3 on 05-01 (112), resolved 05-10 (121); first PD
    05-02 (113); no end of treatment and alive: an arrow at the cut (173).
    S2: apatinib 01-15..03-15 (1-60) with a hold 02-11..02-13 (28-30) and a reduction from 02-14
    (31-60), for palmar-plantar erythrodysesthesia syndrome; anti-PD-1 day 1; AE4 grade 3 on 02-10
    (27), resolved 03-01 (46); ended treatment 03-15: no arrow; the PD of 01-10 is before its
    first dose and the SD after it is no progression; on study to 07-01 (168).
    S3: apatinib 02-01..02-18 (1-18), anti-PD-1 day 1; AE7 epistaxis grade 3 on day 5 (resolved
    day 7), AE6 pharyngeal hemorrhage grade 5 on day 18 (resolved day 20); died 02-20 (day 20).
    S5: apatinib 05-01..06-30 (1-61); anti-PD-1 05-01 and 05-15 (its end, 05-14, is before its
    start: read as one day), days 1-15; on study to 07-01 (62); on treatment at the cut (62).
    S4 and S6 were never dosed: no lane."""
    swimmer = tables["t_swimmer"]
    rows = {
        (r["subject_id"], r["kind"], r["agent"], r["ae_id"]): (r["start_day"], r["end_day"], r["grade"])
        for r in swimmer.iter_rows(named=True)
    }
    assert rows == {
        ("S1", "on_study", None, None): (1, 173, None),
        ("S1", "on_agent", "apatinib", None): (1, 172, None),
        ("S1", "on_agent", "anti_pd1", None): (1, 15, None),
        ("S1", "grade_3_plus", None, "AE2"): (112, 121, 3),
        ("S1", "progression", None, None): (113, None, None),
        ("S1", "on_treatment_at_cut", None, None): (173, None, None),
        ("S2", "on_study", None, None): (1, 168, None),
        ("S2", "on_agent", "apatinib", None): (1, 60, None),
        ("S2", "on_agent", "anti_pd1", None): (1, 1, None),
        ("S2", "hold", "apatinib", None): (28, 30, None),
        ("S2", "reduction", "apatinib", None): (31, 60, None),
        ("S2", "grade_3_plus", None, "AE4"): (27, 46, 3),
        ("S3", "on_study", None, None): (1, 20, None),
        ("S3", "on_agent", "apatinib", None): (1, 18, None),
        ("S3", "on_agent", "anti_pd1", None): (1, 1, None),
        ("S3", "grade_3_plus", None, "AE7"): (5, 7, 3),
        ("S3", "grade_3_plus", None, "AE6"): (18, 20, 5),
        ("S3", "death", None, None): (20, None, None),
        ("S5", "on_study", None, None): (1, 62, None),
        ("S5", "on_agent", "apatinib", None): (1, 61, None),
        ("S5", "on_agent", "anti_pd1", None): (1, 15, None),
        ("S5", "on_treatment_at_cut", None, None): (62, None, None),
    }
    assert swimmer.height == len(rows)  # no row twice
    hold = swimmer.filter(pl.col("kind") == "hold").row(0, named=True)
    assert hold["reason"] == "Palmar-plantar erythrodysesthesia syndrome"
    assert swimmer.filter(pl.col("kind") == "death").row(0, named=True)["reason"] == "adverse_event"


def test_swimmer_lanes_ordered_by_time_on_study(tables):
    """Longest on study first: S1 (173 days), S2 (168), S5 (62), S3 (20)."""
    swimmer = tables["t_swimmer"]
    assert swimmer["subject_id"].unique(maintain_order=True).to_list() == ["S1", "S2", "S5", "S3"]
    per_subject = swimmer.group_by("subject_id").agg(pl.col("days_on_study").unique())
    assert {r["subject_id"]: r["days_on_study"] for r in per_subject.iter_rows(named=True)} == {
        "S1": [173], "S2": [168], "S5": [62], "S3": [20],
    }


@pytest.mark.slow  # its own run of the pipeline: about 1.5 s
def test_swimmer_without_tumour_assessments_draws_no_progression(tmp_path):
    """A trial without a tumour-assessment source: no progression rows, every other row stands."""
    config = make_mini_trial(tmp_path / "no-tumour")
    text = config.read_text()
    start = text.index("[sources.tumour_assessments]")
    end = text.index("\n\n", start)
    config.write_text(text[:start] + text[end + 2:])
    (config.parent / "tumour_assessments.csv").unlink()
    loaded = ingest(config)
    analyse(loaded)
    swimmer = read_tables(Path(loaded.out_dir) / "tables")["t_swimmer"]
    assert swimmer.filter(pl.col("kind") == "progression").is_empty()
    assert swimmer.height == 21  # the 22 rows worked by hand above, less S1's progression
