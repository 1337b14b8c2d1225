"""The data manager's query report: open queries by site, those resolved since the previous run
(a query keeps its id while its record keeps its problem, wherever its line moves), and the row
accounting per source."""

import csv
import json
import os
from pathlib import Path

import polars as pl
import pytest

from ctcae.terms import load_curated_dictionary
from flows.cli import main
from reports.query_report import UNKNOWN_SUBJECT, previous_queries, render_query_report
from tests.conftest import make_mini_trial
from trial.config import load_trial_config
from validators.validate import QUERY_SCHEMA, validate_trial

PAYLOAD = '=HYPERLINK("http://example.com/x","click")'
# A clean adverse event of S4 (a copy of AE9 under a new id, a day later).
NEW_AE = "AE15,S4,tiredness,Fatigue,,1,2025-01-06,,N,,not_recovered,unrelated,unrelated,not_applicable,not_applicable,"


def run_validate(config: Path, out: Path) -> Path:
    assert main(["validate", str(config), "--out", str(out)]) == 2  # queries were raised
    return out / "npc-apatinib-pd1" / "2025-07-01-validation"


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The mini trial validated twice, with the cut unchanged (2025-07-01), so the second run
    replaces the first run's folder and compares itself with it.

    Before the first run S4's sex (site 02) is set to a spreadsheet formula. Between the runs
    the data manager corrects AE12's term (Hypertenshun -> Hypertension) and, above AE10, a
    blank line and a new clean AE (AE15) appear: AE10 to AE14 move down two lines.
    """
    folder = tmp_path_factory.mktemp("two-runs")
    config = make_mini_trial(folder / "trial")
    subjects = config.parent / "subjects.csv"
    text = subjects.read_text()
    assert text.count("S4,02,Apatinib + anti-PD-1,M,39,") == 1
    subjects.write_text(text.replace("S4,02,Apatinib + anti-PD-1,M,39,", 'S4,02,Apatinib + anti-PD-1,"=HYPERLINK(""http://example.com/x"",""click"")",39,'))
    first_dir = run_validate(config, folder / "out")
    first = {
        "queries": read_csv_rows(first_dir / "queries.csv"),
        "open": read_csv_rows(first_dir / "queries_open.csv"),
        "resolved": read_csv_rows(first_dir / "queries_resolved.csv"),
        "html": (first_dir / "query_report.html").read_text(encoding="utf-8"),
    }

    events = config.parent / "adverse_events.csv"
    lines = events.read_text().splitlines()
    (ae10,) = [index for index, line in enumerate(lines) if line.startswith("AE10,")]
    lines[ae10:ae10] = ["", NEW_AE]
    text = "\n".join(lines) + "\n"
    assert text.count(",Hypertenshun,") == 1
    events.write_text(text.replace(",Hypertenshun,", ",Hypertension,"))
    second_dir = run_validate(config, folder / "out")
    second = {
        "queries": read_csv_rows(second_dir / "queries.csv"),
        "open": read_csv_rows(second_dir / "queries_open.csv"),
        "resolved": read_csv_rows(second_dir / "queries_resolved.csv"),
        "html": (second_dir / "query_report.html").read_text(encoding="utf-8"),
        "manifest": json.loads((second_dir / "manifest.json").read_text(encoding="utf-8")),
    }
    return first, second


def by_key(rows: list[dict[str, str]]) -> dict[tuple[str, str, str], dict[str, str]]:
    return {(row["record_key"], row["field"], row["check"]): row for row in rows}


@pytest.mark.slow  # validates the mini trial twice through the CLI: about 5 s
def test_the_fixed_query_is_resolved_and_every_other_keeps_its_id(two_runs):
    """First run, 9 queries: S4 sex (the formula), S6 sex, S5's infusion ending before it
    starts, AE10 grade, AE11 subject S9 unknown, AE12 term, AE13 Other-specify text, AE14
    attribution and AE14 onset. Second run: AE12's term is fixed, so 8 queries, none new; the
    other AE queries sit two lines lower and keep their ids."""
    first, second = two_runs
    before, after = by_key(first["queries"]), by_key(second["queries"])
    assert len(before) == 9 and len(after) == 8
    fixed = before[("AE12", "ctcae_term", "term_known")]
    assert [row["query_id"] for row in second["resolved"]] == [fixed["query_id"]]
    assert second["resolved"][0]["site_id"] == "01"  # S2's site
    assert set(after) == set(before) - {("AE12", "ctcae_term", "term_known")}
    for key, row in after.items():
        assert row["query_id"] == before[key]["query_id"], key
    # The lines did move: AE10 was line 11 and is now line 13 (a blank line and AE15 above it).
    assert (before[("AE10", "grade", "grade_allowed_for_term")]["row"], after[("AE10", "grade", "grade_allowed_for_term")]["row"]) == ("11", "13")
    assert first["resolved"] == []  # the trial's first run: nothing to compare with
    assert "<strong>1</strong><span>resolved since the previous run</span>" in second["html"]
    assert "<strong>0</strong><span>new since the previous run</span>" in second["html"]
    assert "No previous published run of this trial" in first["html"]
    assert fixed["query_id"] in second["html"]


@pytest.mark.slow  # uses the two validation runs above
def test_open_queries_by_site(two_runs):
    """Sites from the subjects file: S1, S2, S5 and S6 are at site 01, S3 and S4 at site 02;
    S9 is not in the subjects file.

    Second run, 8 open queries: site 01 has 6 (S1: AE10 grade, AE13 Other-specify text; S2:
    AE14 attribution and onset; S5: the infusion; S6: sex), of which 1 excludes its record
    (AE14's onset); site 02 has 1 (S4's sex); the unknown subject S9 has 1 (AE11, excluded).
    """
    _, second = two_runs
    rows = second["open"]
    assert len(rows) == len(second["queries"]) == 8
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["site_id"]] = counts.get(row["site_id"], 0) + 1
    assert counts == {"01": 6, "02": 1, UNKNOWN_SUBJECT: 1}
    assert [row["site_id"] for row in rows] == ["01"] * 6 + ["02", UNKNOWN_SUBJECT]  # sites in order, unknown last
    assert [row["subject_id"] for row in rows if row["site_id"] == "01"] == ["S1", "S1", "S2", "S2", "S5", "S6"]
    excluded = sorted(row["record_key"] for row in rows if row["effect"] == "excluded")
    assert excluded == ["AE11", "AE14"]
    html = second["html"]
    site_table = html[html.index('id="by-site"'):html.index('id="by-check"')]
    cells = lambda *values: "".join(f'<td class="num">{value}</td>' for value in values)  # noqa: E731
    # site, subjects, queries, counted, excluded, new
    assert f"<td>01</td>{cells(4, 6, 5, 1, 0)}" in site_table
    assert f"<td>02</td>{cells(1, 1, 1, 0, 0)}" in site_table
    assert f"<td>{UNKNOWN_SUBJECT}</td>{cells(1, 1, 0, 1, 0)}" in site_table


@pytest.mark.slow  # uses the two validation runs above
def test_row_accounting_and_manifest(two_runs):
    """Adverse events of the second run, by hand: 15 rows in (the 14 lines and AE15; the blank
    line is no row) = 11 clean + 2 counted with queries (AE10, AE13) + 2 excluded (AE11, AE14;
    AE14's attribution query is on an excluded record). The manifest lists the report's files."""
    _, second = two_runs
    accounting = second["manifest"]["row_accounting"]["adverse_events"]
    assert (accounting["rows_in"], accounting["clean"], accounting["counted_with_queries"], accounting["excluded"]) == (15, 11, 2, 2)
    assert {"query_report.html", "queries_open.csv", "queries_resolved.csv"} <= set(second["manifest"]["files"])
    html = second["html"]
    assert '<tr><td>adverse_events</td><td class="num">15</td><td class="num">11</td><td class="num">2</td><td class="num">2</td></tr>' in html


@pytest.mark.slow  # uses the two validation runs above
def test_a_formula_in_a_value_is_neutralised_in_the_csv_and_escaped_in_the_html(two_runs):
    _, second = two_runs
    (sex,) = [row for row in second["open"] if row["record_key"] == "S4"]
    assert sex["value"] == "'" + PAYLOAD  # a spreadsheet shows it as text and runs nothing
    assert PAYLOAD not in second["html"]  # autoescaped: the quotes are entities
    assert "=HYPERLINK(&#34;http://example.com/x&#34;" in second["html"]


def test_resolved_are_the_previous_queries_whose_id_is_gone(tmp_path):
    """Hand-made: Q-1 stays, Q-2 is fixed, Q-3 is new. A subject listed twice in the subjects
    file takes its first site (the join never doubles a query); a query with no subject goes
    under the unknown subject."""
    def queries(*rows):
        return pl.DataFrame(
            [{"query_id": q, "source": "adverse_events", "subject_id": s, "check": "isin", "effect": e} for q, s, e in rows],
            schema={"query_id": pl.String, "source": pl.String, "subject_id": pl.String, "check": pl.String, "effect": pl.String},
        ).with_columns(pl.lit(None, dtype=pl.String).alias(name) for name in QUERY_SCHEMA if name not in ("query_id", "source", "subject_id", "check", "effect"))

    current = queries(("Q-1", "A1", "counted"), ("Q-3", "B1", "excluded"), ("Q-4", None, "excluded"))
    previous = queries(("Q-1", "A1", "counted"), ("Q-2", "A2", "counted"))
    subjects = pl.DataFrame({"subject_id": ["A1", "A2", "B1", "A1"], "site_id": ["10", "10", "20", "99"]})
    paths = render_query_report(
        tmp_path, queries=current, previous=previous, subjects=subjects,
        accounting={"adverse_events": {"rows_in": 3, "clean": 1, "counted_with_queries": 1, "excluded": 1}},
        trial_id="t", cut_date="2025-07-01",
    )
    assert [path.name for path in paths] == ["query_report.html", "queries_open.csv", "queries_resolved.csv"]
    opened = read_csv_rows(tmp_path / "queries_open.csv")
    assert [(row["query_id"], row["site_id"]) for row in opened] == [("Q-1", "10"), ("Q-3", "20"), ("Q-4", UNKNOWN_SUBJECT)]
    resolved = read_csv_rows(tmp_path / "queries_resolved.csv")
    assert [(row["query_id"], row["site_id"]) for row in resolved] == [("Q-2", "10")]
    html = (tmp_path / "query_report.html").read_text(encoding="utf-8")
    assert "<strong>2</strong><span>new since the previous run</span>" in html
    assert "<script" not in html


def test_the_listing_is_capped_and_points_to_the_csv(tmp_path):
    current = pl.DataFrame(
        {"query_id": [f"Q-{n}" for n in range(501)], "subject_id": ["A1"] * 501, "effect": ["counted"] * 501, "check": ["isin"] * 501}
    ).with_columns(pl.lit(None, dtype=pl.String).alias(name) for name in QUERY_SCHEMA if name not in ("query_id", "subject_id", "effect", "check"))
    render_query_report(
        tmp_path, queries=current, previous=None, subjects=pl.DataFrame({"subject_id": ["A1"], "site_id": ["10"]}),
        accounting={}, trial_id="t", cut_date="2025-07-01",
    )
    html = (tmp_path / "query_report.html").read_text(encoding="utf-8")
    assert "Showing the first 500 of 501 open queries" in html
    assert "Q-499</code>" in html and "Q-500</code>" not in html
    assert len(read_csv_rows(tmp_path / "queries_open.csv")) == 501


def published(trial: Path, name: str, cut_date: str, query_id: str, mtime: float) -> None:
    folder = trial / name
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"cut_date": cut_date}))
    (folder / "queries.csv").write_text(f"query_id,source,row\n{query_id},subjects,2\n")
    os.utime(folder, (mtime, mtime))


def test_previous_run_is_the_latest_cut_then_the_latest_folder(tmp_path):
    """Candidates: a review of 2025-06-01, a validation run of 2025-07-01 and a review of
    2025-07-01 written after it; an unfinished (hidden) folder, a folder with no manifest and
    the current folder never count."""
    trial = tmp_path / "trial"
    published(trial, "2025-06-01", "2025-06-01", "Q-june", mtime=3_000)
    published(trial, "2025-07-01-validation", "2025-07-01", "Q-validation", mtime=1_000)
    published(trial, "2025-07-01", "2025-07-01", "Q-review", mtime=2_000)
    published(trial, ".2025-08-01.partial-1-ab", "2025-08-01", "Q-partial", mtime=4_000)
    (trial / "2025-09-01").mkdir()
    (trial / "2025-09-01" / "queries.csv").write_text("query_id\nQ-unfinished\n")
    assert previous_queries(trial, "2025-08-01")["query_id"].to_list() == ["Q-review"]
    assert previous_queries(trial, "2025-07-01")["query_id"].to_list() == ["Q-validation"]
    previous = previous_queries(trial, "2025-07-01")
    assert previous.schema == pl.Schema(QUERY_SCHEMA)  # columns an older folder lacks are empty
    assert previous_queries(tmp_path / "no-such-trial", "2025-07-01") is None
    assert previous_queries(trial / "2025-09-01", "x") is None


@pytest.mark.slow  # validates the mini trial three times: about 2 s
def test_query_ids_follow_the_record_key_not_the_line(tmp_path):
    """AE5 appears twice (a repeated identifier): the first AE5 keeps the id it would have
    alone, the second adds its occurrence, and both keep theirs when a new line is inserted
    at the top of the file. A line that is no record (too many fields) has no key: its id
    follows its line number, so it changes when the line moves."""
    config = make_mini_trial(tmp_path / "trial")
    events = config.parent / "adverse_events.csv"
    header, *records = events.read_text().splitlines()
    (ae5,) = [line for line in records if line.startswith("AE5,")]
    malformed = "AE16,S1,too,many,fields" + "," * 20
    dictionary = load_curated_dictionary("5.0")

    def ids(lines: list[str]) -> pl.DataFrame:
        events.write_text("\n".join([header, *lines]) + "\n")
        queries = validate_trial(load_trial_config(config), dictionary).sources["adverse_events"].queries
        return queries.select("query_id", "record_key", "row", "field", "check")

    alone = ids(records)
    twice = ids([*records, ae5.replace(",1,2025-04-30,", ",2,2025-04-30,"), malformed])
    moved = ids([NEW_AE, *records, ae5.replace(",1,2025-04-30,", ",2,2025-04-30,"), malformed])
    assert twice["query_id"].n_unique() == twice.height
    assert alone.filter(pl.col("record_key") == "AE5").is_empty()
    repeated = twice.filter((pl.col("record_key") == "AE5") & (pl.col("check") == "field_uniqueness"))
    assert repeated.height == 2  # the first AE5 (counted as the first) and the repeat
    keyed = twice.filter(pl.col("record_key").is_not_null())
    moved_keyed = moved.filter(pl.col("record_key").is_not_null())
    assert moved_keyed["query_id"].sort().to_list() == keyed["query_id"].sort().to_list()
    assert (moved_keyed["row"].sort() - 1).to_list() == keyed["row"].sort().to_list()
    line_query = twice.filter(pl.col("check") == "row_format")["query_id"].to_list()
    moved_line_query = moved.filter(pl.col("check") == "row_format")["query_id"].to_list()
    assert len(line_query) == 1 and line_query != moved_line_query
