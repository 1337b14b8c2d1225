"""The DSMB closed report (dsmb_report_closed.html): the arms side by side, written only for a
trial of two or more arms.

The two-arm trial is the bundled synthetic trial (the files ``generate_trial(60, 20240115, dir,
error_rate=0.02)`` writes, tests/synth/test_trial.py) with its subjects' arm rewritten by row:
rows 1-24 arm "A", rows 25-59 arm "B", row 60 (NPC-06-0004, treated, died 2025-04-21) "Not
assigned", an arm the config does not list. Every subject of the bundled trial is dosed, so the
arms' N are 24 and 35, and All arms 60: NPC-06-0004 counts there only.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
import pytest

from flows.stages import analyse, ingest, render, render_pdf, write_manifest
from reports.render import environment
from reports.sections.by_arm import (
    NO_ARM,
    ArmColumn,
    closed_context,
    percent_of,
    soc_term_by_arm,
    worst_grade_by_arm,
    write_closed_report,
)
from tests.conftest import REPO_ROOT
from tests.reports.artefacts import artefact_folder
from trial.config import load_trial_config

BUNDLED = REPO_ROOT / "data" / "trials" / "npc-apatinib-pd1"
CUT = date(2026, 6, 30)
TEAE_END_DAYS = 30
ARMS_TOML = """
[[arms]]
id = "a"
value = "A"
label = "Arm A"
agents = ["apatinib", "anti_pd1"]

[[arms]]
id = "b"
value = "B"
label = "Arm B"
agents = ["apatinib", "anti_pd1"]
"""
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def two_arm_trial(folder: Path) -> Path:
    """The bundled trial's files with the arms described in the module docstring; returns trial.toml."""
    folder.mkdir(parents=True)
    for source in BUNDLED.glob("*.csv"):
        shutil.copy(source, folder / source.name)
    subjects = pl.read_csv(folder / "subjects.csv", infer_schema=False)
    row = pl.int_range(pl.len())
    subjects = subjects.with_columns(
        pl.when(row < 24).then(pl.lit("A")).when(row < 59).then(pl.lit("B")).otherwise(pl.lit("Not assigned")).alias("arm")
    )
    subjects.write_csv(folder / "subjects.csv")
    config = folder / "trial.toml"
    config.write_text((BUNDLED / "trial.toml").read_text(encoding="utf-8") + ARMS_TOML, encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The two-arm trial through ingest, analyse and render (no Prefect)."""
    config = two_arm_trial(tmp_path_factory.mktemp("closed") / "trial")
    loaded = ingest(config)
    analyse(loaded)
    reports = render(loaded)
    return {"config": config, "loaded": loaded, "reports": [Path(path) for path in reports]}


@pytest.fixture(scope="module")
def closed(run) -> str:
    return (Path(run["loaded"].out_dir) / "dsmb_report_closed.html").read_text(encoding="utf-8")


# --- independent counts from the CSV files ------------------------------------------------------


def arms_of_subjects(folder: Path) -> pl.DataFrame:
    return pl.read_csv(folder / "subjects.csv", infer_schema=False).select("subject_id", "arm")


def dosing(folder: Path) -> pl.DataFrame:
    """Per subject: first and last dose (a record with a dose above 0, started by the cut; its end,
    or the cut when it runs beyond it). Every exposure record of the bundled trial has an end date."""
    exposure = pl.read_csv(folder / "exposure.csv", infer_schema=False).with_columns(
        pl.col("start_date").str.to_date(), pl.col("end_date").str.to_date(), pl.col("dose_mg").cast(pl.Float64)
    )
    return (
        exposure.filter((pl.col("dose_mg") > 0) & (pl.col("start_date") <= CUT))
        .group_by("subject_id")
        .agg(first_dose=pl.col("start_date").min(), last_dose=pl.min_horizontal("end_date", pl.lit(CUT)).max())
    )


def teae_subjects(folder: Path) -> pl.DataFrame:
    """Subjects with a treatment-emergent AE (onset from the first dose to the last dose + 30 days)
    per arm: any, and serious (serious = "Y")."""
    events = pl.read_csv(folder / "adverse_events.csv", infer_schema=False).with_columns(pl.col("onset_date").str.to_date())
    teae = events.join(dosing(folder), on="subject_id").filter(
        (pl.col("onset_date") >= pl.col("first_dose"))
        & (pl.col("onset_date") <= pl.col("last_dose") + timedelta(days=TEAE_END_DAYS))
        & (pl.col("onset_date") <= CUT)
    )
    return teae.join(arms_of_subjects(folder), on="subject_id").group_by("arm").agg(
        any=pl.col("subject_id").n_unique(), serious=pl.col("subject_id").filter(pl.col("serious") == "Y").n_unique()
    )


def rounded_percent(count: int, denominator: int) -> float:
    return float((Decimal(100 * count) / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# --- reading the report -------------------------------------------------------------------------


def section(report: str, section_id: str) -> str:
    found = re.search(rf'<section id="{section_id}"[^>]*>(.*?)</section>', report, flags=re.S)
    assert found, section_id
    return found.group(1)


def table_rows(fragment: str) -> list[list[str]]:
    """Each row of the fragment's tables as its cells' text (header rows included)."""
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", fragment, flags=re.S)
    ]


def n_and_percent(cell: str) -> tuple[int, float | None]:
    found = re.fullmatch(r"(\d+)(?: \(([\d.]+)%\))?", cell)
    assert found, cell
    return int(found.group(1)), float(found.group(2)) if found.group(2) else None


# --- the closed report of a two-arm trial -------------------------------------------------------


@pytest.mark.slow
def test_written_beside_the_open_report_and_in_the_manifest(run, closed):
    """render() returns both reports; the manifest lists both (reports) and the closed one's
    sha256 (files). The closed report carries its banner and needs no network."""
    loaded = run["loaded"]
    assert [path.name for path in run["reports"]] == ["dsmb_report.html", "dsmb_report_closed.html"]
    manifest = json.loads(write_manifest(loaded, reports=[str(path) for path in run["reports"]]).read_text())
    assert manifest["reports"] == ["dsmb_report.html", "dsmb_report_closed.html"]
    assert "dsmb_report_closed.html" in manifest["files"]
    assert "CLOSED REPORT — arms unblinded: for the DSMB&#39;s closed session only" in closed
    assert re.findall(r'(?:src|href)="(?!#)[^"]*"', closed) == [] and "<script" not in closed
    open_report = (Path(loaded.out_dir) / "dsmb_report.html").read_text(encoding="utf-8")
    assert "CLOSED REPORT" not in open_report and "Arm A" not in open_report


@pytest.mark.slow
def test_arm_headers_give_each_arms_treated_subjects(run, closed):
    """N in each arm's header = subjects with a dose above 0 by the cut, counted from the CSVs:
    24 in A, 35 in B, 60 in All arms (NPC-06-0004 of no configured arm included)."""
    folder = run["config"].parent
    treated = dosing(folder).join(arms_of_subjects(folder), on="subject_id")
    per_arm = dict(treated.group_by("arm").len().iter_rows())
    assert (per_arm["A"], per_arm["B"], treated.height) == (24, 35, 60)
    expected = [f"Arm A (N={per_arm['A']})", f"Arm B (N={per_arm['B']})", f"All arms (N={treated.height})"]
    for section_id in ("t_overview", "t_soc_term", "t_aesi", "t_acute_late", "t_exposure", "stopping-by-arm"):
        header = table_rows(section(closed, section_id))[0]
        assert [cell for cell in header if "(N=" in cell] == expected, section_id
    cover = table_rows(section_fragment(closed, "arms"))
    assert cover[1:] == [["Arm A", "24", "24"], ["Arm B", "35", "35"], ["All arms", "60", "60"]]
    assert "The arms&#39; N add up to 59, All arms has 60" in closed


def section_fragment(report: str, table_id: str) -> str:
    found = re.search(rf'<table id="{table_id}"[^>]*>(.*?)</table>', report, flags=re.S)
    assert found, table_id
    return found.group(1)


@pytest.mark.slow
def test_overview_cells_match_an_independent_count(run, closed):
    """Any TEAE and serious TEAE, per arm: subjects with an AE of onset from the first dose to the
    last dose + 30 days (and serious = "Y"), counted from the CSVs; % of the arm's N."""
    folder = run["config"].parent
    counts = {row["arm"]: row for row in teae_subjects(folder).iter_rows(named=True)}
    n = {"A": 24, "B": 35}
    rows = {row[0]: row[1:] for row in table_rows(section(closed, "t_overview"))[2:]}
    for category, column in (("Any TEAE", "any"), ("Serious TEAE", "serious")):
        for position, arm in enumerate(("A", "B")):
            count, percent = n_and_percent(rows[category][position])
            assert count == counts[arm][column], (category, arm)
            assert percent == (rounded_percent(count, n[arm]) if count else None), (category, arm)
    any_pooled = sum(row["any"] for row in counts.values())
    assert n_and_percent(rows["Any TEAE"][2])[0] == any_pooled


@pytest.mark.slow
def test_listings_keep_every_subject_with_their_arm(run, closed):
    """The deaths listing holds every death of the pooled listing, each with its subject's arm from
    subjects.csv; NPC-06-0004 (arm "Not assigned", died 2025-04-21) is listed last, under the
    no-arm label, not dropped."""
    folder = run["config"].parent
    arms = dict(arms_of_subjects(folder).iter_rows())
    labels = {"A": "Arm A", "B": "Arm B"}
    pooled = pl.read_csv(Path(run["loaded"].out_dir) / "tables" / "t_deaths.csv", infer_schema=False)
    rows = table_rows(section(closed, "t_deaths"))[1:]
    assert sorted(row[1] for row in rows) == sorted(pooled["subject_id"].to_list())
    for arm_shown, subject, *_ in rows:
        assert arm_shown == labels.get(arms[subject], NO_ARM), subject
    assert rows[-1][:3] == [NO_ARM, "NPC-06-0004", "2025-04-21"]
    shown = [row[0] for row in rows]
    assert shown == sorted(shown, key=["Arm A", "Arm B", NO_ARM].index)


@pytest.mark.slow
def test_stopping_rules_by_arm_match_flags(run, closed):
    """Each rule's status per arm is flags.json by_arm's, and the pooled column is the open report's."""
    flags = json.loads((Path(run["loaded"].out_dir) / "flags.json").read_text())
    rows = {row[0]: row[1:] for row in table_rows(section(closed, "stopping-by-arm"))}
    for rule in flags["rules"]:
        cells = next(cells for label, cells in rows.items() if label.startswith(rule["title"]))
        expected = [next(r for r in arm["rules"] if r["rule_id"] == rule["rule_id"]) for arm in flags["by_arm"]] + [rule]
        for cell, result in zip(cells, expected, strict=True):
            assert cell.startswith(result["status"]), rule["rule_id"]
            assert f"x = {result['events']} of n = {result['evaluable']}" in cell, rule["rule_id"]
    assert [cell.split()[0] for cell in rows["Overall stopping status"]] == [
        *(arm["stopping"]["status"] for arm in flags["by_arm"]), flags["stopping"]["status"]
    ]


@pytest.mark.slow
def test_severity_graded_trial_names_its_levels(run, tmp_path):
    """The same tables read with [trial] grading = "severity": grade columns say severe or fatal,
    the worst-grade rows Mild, Moderate, Severe, Fatal (no grade 4)."""
    text = run["config"].read_text(encoding="utf-8").replace('ctcae_version = "5.0"', 'ctcae_version = "5.0"\ngrading = "severity"', 1)
    severity_config = run["config"].with_name("severity.toml")
    severity_config.write_text(text, encoding="utf-8")
    config = load_trial_config(severity_config)
    loaded = run["loaded"]
    summary = {"cut_date": loaded.cut_date, "cut_id": loaded.cut_id, "load_id": loaded.load_id, "dictionary": loaded.dictionary}
    windows = {"teae": "treatment-emergent", "acute": "acute", "late": "late", "cycles": "cycles"}
    context = closed_context(Path(loaded.out_dir), loaded_cut=summary, config=config, windows=windows)
    tables = {table.key: table for part in context["sections"] for table in part["tables"]}
    assert tables["t_soc_term"].columns == ["Any grade n (%)", "Severe or fatal n (%)"]
    assert [row.cells[0] for row in tables["t_worst_grade"].rows] == ["Any TEAE", "Mild", "Moderate", "Severe", "Fatal"]


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)")
def test_closed_report_screenshot_is_not_blank(run, tmp_path):
    """A full screenshot in a real headless browser, kept in the test artefacts (closed_report/)."""
    shot = artefact_folder(tmp_path, "closed_report") / "dsmb_report_closed.png"
    page = Path(run["loaded"].out_dir) / "dsmb_report_closed.html"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--proxy-server=127.0.0.1:9",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,3000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120,
    )
    assert shot.stat().st_size > 20_000  # a blank white page compresses to a few kB


# --- who gets a closed report -------------------------------------------------------------------


def test_no_closed_report_for_one_arm_or_when_turned_off(tmp_path):
    """No [[arms]], or one: the open report only. Two arms with [report] closed_report = false:
    none either. Nothing is read or written in those cases."""
    base = (BUNDLED / "trial.toml").read_text(encoding="utf-8")
    assert "[report]" not in base
    one_arm = ARMS_TOML.split("\n\n[[arms]]")[0]
    variants = {
        "no_arms.toml": base,
        "one_arm.toml": base + one_arm,
        "turned_off.toml": base + "\n[report]\nclosed_report = false\n" + ARMS_TOML,
    }
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for name, text in variants.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        config = load_trial_config(tmp_path / name)
        assert write_closed_report(environment(), out_dir, loaded_cut={}, config=config, windows={}) is None, name
    assert list(out_dir.iterdir()) == []


# --- pivoting, checked on hand-made tables ------------------------------------------------------

ARMS = [ArmColumn("a", "Arm A", treated=4, enrolled=4), ArmColumn("b", "Arm B", treated=2, enrolled=3), ArmColumn("total", "All arms", treated=6, enrolled=7)]


def soc_term_frame() -> pl.DataFrame:
    """t_soc_term by arm for six treated subjects, a1-a4 in arm A, b1-b2 in arm B, by worst grade:
    a1 hypertension 3; a2 hypertension 2 and weight loss 1; a3 ALT increased 1; a4 hypertension 1;
    b1 hypertension 3; b2 weight loss 2. Rows: arm, SOC, term, subjects, percent, grade >= 3,
    subjects at worst grade 1-5. All arms: Vascular disorders 4 subjects, Investigations 3, so
    Vascular comes first although its name sorts later; within Investigations, weight loss (2)
    before ALT increased (1)."""
    rows = [
        ("a", "(any)", "(any)", 4, 100.0, 1, (2, 1, 1, 0, 0)),
        ("a", "Investigations", "(any)", 2, 50.0, 0, (2, 0, 0, 0, 0)),
        ("a", "Investigations", "ALT increased", 1, 25.0, 0, (1, 0, 0, 0, 0)),
        ("a", "Investigations", "Weight loss", 1, 25.0, 0, (1, 0, 0, 0, 0)),
        ("a", "Vascular disorders", "(any)", 3, 75.0, 1, (1, 1, 1, 0, 0)),
        ("a", "Vascular disorders", "Hypertension", 3, 75.0, 1, (1, 1, 1, 0, 0)),
        ("b", "(any)", "(any)", 2, 100.0, 1, (0, 1, 1, 0, 0)),
        ("b", "Investigations", "(any)", 1, 50.0, 0, (0, 1, 0, 0, 0)),
        ("b", "Investigations", "Weight loss", 1, 50.0, 0, (0, 1, 0, 0, 0)),
        ("b", "Vascular disorders", "(any)", 1, 50.0, 1, (0, 0, 1, 0, 0)),
        ("b", "Vascular disorders", "Hypertension", 1, 50.0, 1, (0, 0, 1, 0, 0)),
        ("total", "(any)", "(any)", 6, 100.0, 2, (2, 2, 2, 0, 0)),
        ("total", "Investigations", "(any)", 3, 50.0, 0, (2, 1, 0, 0, 0)),
        ("total", "Investigations", "ALT increased", 1, 16.7, 0, (1, 0, 0, 0, 0)),
        ("total", "Investigations", "Weight loss", 2, 33.3, 0, (1, 1, 0, 0, 0)),
        ("total", "Vascular disorders", "(any)", 4, 66.7, 2, (1, 1, 2, 0, 0)),
        ("total", "Vascular disorders", "Hypertension", 4, 66.7, 2, (1, 1, 2, 0, 0)),
    ]
    return pl.DataFrame(
        [
            {"arm_id": arm, "arm": arm, "meddra_soc": soc, "term": term, "subjects": n, "percent": percent, "grade_3_plus": high}
            | {f"worst_grade_{grade}": count for grade, count in enumerate(worst, start=1)}
            for arm, soc, term, n, percent, high, worst in rows
        ]
    )


def test_soc_term_arms_as_columns_sorted_by_the_total():
    """Rows: any TEAE, then SOCs by the All arms count, terms by count within each. Hypertension,
    grade >= 3: A 1 of 4 = 25.0%, B 1 of 2 = 50.0%, All arms 2 of 6 = 33.3%. Arm B has no ALT
    increased: "0" in both of its columns."""
    table = soc_term_by_arm(soc_term_frame(), ARMS, high="Grade ≥3", note="")
    assert table.arms == ["Arm A (N=4)", "Arm B (N=2)", "All arms (N=6)"]
    assert table.columns == ["Any grade n (%)", "Grade ≥3 n (%)"]
    assert [(row.cells[0], row.level) for row in table.rows] == [
        ("Any TEAE", 0), ("Vascular disorders", 0), ("Hypertension", 2),
        ("Investigations", 0), ("Weight loss", 2), ("ALT increased", 2),
    ]
    rows = {row.cells[0]: row.cells[1:] for row in table.rows}
    assert rows["Hypertension"] == ["3 (75.0%)", "1 (25.0%)", "1 (50.0%)", "1 (50.0%)", "4 (66.7%)", "2 (33.3%)"]
    assert rows["ALT increased"] == ["1 (25.0%)", "0", "0", "0", "1 (16.7%)", "0"]


def test_worst_grade_rows():
    """Subjects by worst grade over all TEAEs (the overall row): A 2/1/1 of 4 at grades 1/2/3
    (50.0%, 25.0%, 25.0%), B 0/1/1 of 2 (50.0% each), All arms 2/2/2 of 6 (33.3% each)."""
    table = worst_grade_by_arm(soc_term_frame(), ARMS, severity=False, note="")
    rows = {row.cells[0]: row.cells[1:] for row in table.rows}
    assert list(rows) == ["Any TEAE", "Grade 1", "Grade 2", "Grade 3", "Grade 4", "Grade 5"]
    assert rows["Any TEAE"] == ["4 (100.0%)", "2 (100.0%)", "6 (100.0%)"]
    assert rows["Grade 1"] == ["2 (50.0%)", "0", "2 (33.3%)"]
    assert rows["Grade 2"] == rows["Grade 3"] == ["1 (25.0%)", "1 (50.0%)", "2 (33.3%)"]
    assert rows["Grade 5"] == ["0", "0", "0"]


def test_percent_rounds_half_up_like_the_sql_models():
    """DuckDB's round(100.0 * 1 / 16, 1) = round(6.25, 1) = 6.3 (half away from zero); 1 of 8 = 12.5."""
    assert percent_of(1, 16) == 6.3
    assert percent_of(1, 8) == 12.5
    assert percent_of(2, 3) == 66.7
    assert percent_of(0, 0) is None


@pytest.mark.slow
def test_closed_report_on_paper(run):
    """render_pdf writes the closed report's PDF beside the open one's and names it in the
    manifest entry; each page is A4 (595 x 842 pt) in portrait or, for a table of three groups
    or more by arm, landscape. The two-arm trial's tables have six cells a row: all portrait."""
    from reports.pdf import pdf_unavailable

    if pdf_unavailable():
        pytest.skip(f"WeasyPrint cannot load here: {pdf_unavailable()}")
    import pypdfium2 as pdfium

    entry = render_pdf(run["loaded"])
    assert entry["written"] and entry["closed_file"] == "dsmb_report_closed.pdf"
    document = pdfium.PdfDocument(Path(run["loaded"].out_dir) / "dsmb_report_closed.pdf")
    sizes = {tuple(round(value) for value in document[index].get_size()) for index in range(len(document))}
    assert sizes == {(595, 842)}
    text = "".join(document[index].get_textpage().get_text_range() for index in range(len(document)))
    assert "CLOSED REPORT" in text and "Page 1 of" in text


@pytest.mark.slow
def test_a_treated_subject_in_no_configured_arm_is_queried(run):
    """Row 60 of subjects.csv (NPC-06-0004, treated) has the arm "Not assigned", which no [[arms]]
    names: one reconciliation query, arm_not_configured, for that subject alone."""
    queries = pl.read_csv(Path(run["loaded"].out_dir) / "queries.csv", infer_schema=False)
    found = queries.filter(pl.col("check") == "arm_not_configured")
    assert found.select("record_key", "field", "value", "file").rows() == [("NPC-06-0004", "arm", "Not assigned", "(reconciliation)")]
    assert "none of the trial config's arms (A, B)" in found["problem"].item()


@pytest.mark.slow
def test_excluded_aes_are_counted_against_their_own_arm(run):
    """The bundled trial has one AE that cannot be placed (AE-000088 of NPC-02-0008, onset before
    enrolment). Per arm, flags.json by_arm counts it for that subject's arm only (arm A or B as the
    two-arm split puts the subject), 0 for the other, and the pooled count stays 1."""
    out_dir = Path(run["loaded"].out_dir)
    flags = json.loads((out_dir / "flags.json").read_text(encoding="utf-8"))
    arm_of = dict(arms_of_subjects(run["config"].parent).iter_rows())
    label = {arm.value: arm.shown for arm in load_trial_config(run["config"]).arms}
    expected = {entry["arm"]: (1 if entry["arm"] == label[arm_of["NPC-02-0008"]] else 0) for entry in flags["by_arm"]}
    assert {entry["arm"]: entry["excluded_records"]["adverse_events"] for entry in flags["by_arm"]} == expected
    assert flags["excluded_records"]["adverse_events"] == 1
