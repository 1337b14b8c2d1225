"""The open DSMB report (dsmb_report.html) when the arms receive different agents.

Rule: the open report pools the arms. When one arm receives an agent another does not (a
placebo, an active drug in one arm only), whatever names an agent beside subjects' data would
reveal the arm: the tables by agent (t_exposure, t_dose_intensity, t_time_to_modification,
t_attribution, t_aesi_dose_actions), the swimmer plot (t_swimmer), the attribution column of the
SAE listing and the suspected / unexpected-for columns of the SUSAR table are left out of it, and
its cover says why. When every arm receives the same agents, or there is one arm, nothing is left
out.

Trials (each run through ingest, analyse and render, without Prefect):
- blinded: the bundled trial in two arms as tests/reports/test_closed_report.py builds it (rows
  1-24 arm A, 25-59 arm B, row 60 "Not assigned"), arm A receiving apatinib + anti-PD-1 and arm B
  anti-PD-1 only; arm B's apatinib exposure records are taken out, as arm B never receives it.
  Apatinib is the agent that reveals the arm.
- same agents: the same two arms, both receiving apatinib + anti-PD-1 (the files unchanged).
- one arm: the mini trial (tests/data/mini), no [[arms]].
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from flows.stages import analyse, ingest, render
from reports.render import ARM_REVEALING_COLUMNS, ARM_REVEALING_TABLES, _blinded
from reports.tables import report_table
from tests.conftest import BUNDLED_CONFIG, make_mini_trial
from tests.reports.test_closed_report import ARMS_TOML, section, table_rows, two_arm_trial
from trial.config import load_trial_config

# What the open report leaves out when the arms' agents differ, listed by hand from the rule above.
HIDDEN_SECTIONS = {"t_exposure", "t_dose_intensity", "t_time_to_modification", "t_attribution", "t_aesi_dose_actions", "t_swimmer"}
HIDDEN_SAE_COLUMNS = {"Attribution"}
HIDDEN_SUSAR_COLUMNS = {"Suspected for", "Unexpected for", "Why unexpected"}
ARM_B_WITHOUT_APATINIB = ARMS_TOML.replace(
    'label = "Arm B"\nagents = ["apatinib", "anti_pd1"]', 'label = "Arm B"\nagents = ["anti_pd1"]'
)
SUBJECT_ID = re.compile(r"NPC-\d\d-\d{4}")
AGENT_WORDS = ("apatinib", "Apatinib", "VEGFR")  # the id, the name "Apatinib mesylate", its class


# --- which agents reveal an arm (trial/config.py) -----------------------------------------------------


def config_with(tmp_path: Path, extra: str) -> object:
    path = tmp_path / "trial.toml"
    path.write_text(BUNDLED_CONFIG.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return load_trial_config(path)


def test_agents_that_reveal_an_arm(tmp_path):
    """No arms (the bundled trial): none. Two arms with the same agents: none. Arm B without
    apatinib: apatinib. A placebo arm (placebo + anti-PD-1) beside apatinib + anti-PD-1: apatinib
    and the placebo, in the config's order of agents."""
    assert load_trial_config(BUNDLED_CONFIG).arm_revealing_agents == []
    assert config_with(tmp_path, ARMS_TOML).arm_revealing_agents == []
    assert config_with(tmp_path, ARM_B_WITHOUT_APATINIB).arm_revealing_agents == ["apatinib"]
    placebo_arm = (
        '\n[[agents]]\nid = "placebo"\nname = "Placebo"\ndose_mg = 0\nroute = "PO"\nfrequency = "QD"\n'
        + ARMS_TOML.replace('label = "Arm B"\nagents = ["apatinib", "anti_pd1"]', 'label = "Arm B"\nagents = ["placebo", "anti_pd1"]')
    )
    assert config_with(tmp_path, placebo_arm).arm_revealing_agents == ["apatinib", "placebo"]


def test_one_arm_reveals_nothing(tmp_path):
    one_arm = '\n[[arms]]\nid = "a"\nvalue = "A"\nagents = ["apatinib"]\n'
    assert config_with(tmp_path, one_arm).arm_revealing_agents == []


# --- the tables left out (reports/render.py _blinded, reports/tables.py Table.without_columns) ----------


def test_without_columns_drops_the_named_fields_and_their_cells():
    """A table of the frame's fields a, b, c shown as A, B, C: without b, the columns A, C and each
    row's first and third cell."""
    frame = pl.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [3.0, 4.0]})
    table = report_table(frame, "t", "Caption", "Note.", {"a": "A", "b": "B", "c": "C"})
    trimmed = table.without_columns(("b", "not shown"))
    assert (trimmed.columns, trimmed.rows, trimmed.fields) == (["A", "C"], [[1, 3.0], [2, 4.0]], ("a", "c"))
    assert (trimmed.key, trimmed.caption, trimmed.note) == ("t", "Caption", "Note.")
    assert table.without_columns(("d",)) is table


def test_blinded_leaves_out_the_tables_by_agent_and_the_agent_columns():
    """Shown: t_overview, t_attribution, the SAE listing (subject, AE, attribution) and the SUSAR
    table (subject, suspected for, unexpected for, why, clock). Blinded: t_overview as it is, no
    t_attribution, the listing without its attribution, the SUSAR table without its three agent
    columns; exposure and AESI sections keep only their tables not by agent; no swimmer plot; the
    heatmap stays."""
    listing = pl.DataFrame({"subject_id": ["S1"], "ae_id": ["AE1"], "attribution": ["apatinib: probable"]})
    susars = pl.DataFrame({
        "subject_id": ["S1"], "suspected_for": ["apatinib"], "unexpected_for": ["apatinib"],
        "expectedness_reason": ["not in the RSI"], "status": ["overdue"],
    })
    one = pl.DataFrame({"x": [1]})
    shown = [
        report_table(one, "t_overview", "Overview", "", {"x": "X"}),
        report_table(one, "t_attribution", "By agent", "", {"x": "X"}),
        report_table(listing, "t_sae_listing", "SAEs", "", {"subject_id": "Subject", "ae_id": "AE", "attribution": "Attribution"}),
        report_table(susars, "expedited_reports", "SUSARs", "", {
            "subject_id": "Subject", "suspected_for": "Suspected for", "unexpected_for": "Unexpected for",
            "expectedness_reason": "Why unexpected", "status": "Clock",
        }),
    ]
    exposure = {"tables": [report_table(one, key, key, "", {"x": "X"}) for key in ("t_exposure", "t_dose_intensity", "t_time_to_modification", "t_eair")], "other": 1}
    aesi = {"tables": [report_table(one, key, key, "", {"x": "X"}) for key in ("t_aesi_management", "t_aesi_dose_actions", "t_aesi_timing")]}
    figures = {"swimmer": "a swimmer plot", "heatmap": "a heatmap"}

    kept, exposure_kept, aesi_kept, figures_kept = _blinded(shown, exposure, aesi, figures)
    assert [table.key for table in kept] == ["t_overview", "t_sae_listing", "expedited_reports"]
    assert (kept[1].columns, kept[1].rows) == (["Subject", "AE"], [["S1", "AE1"]])
    assert (kept[2].columns, kept[2].rows) == (["Subject", "Clock"], [["S1", "overdue"]])
    assert [table.key for table in exposure_kept["tables"]] == ["t_eair"] and exposure_kept["other"] == 1
    assert [table.key for table in aesi_kept["tables"]] == ["t_aesi_management", "t_aesi_timing"]
    assert figures_kept == {"swimmer": None, "heatmap": "a heatmap"}
    # the lists in render.py name the same tables and columns as the rule
    assert ARM_REVEALING_TABLES | {"t_swimmer"} == HIDDEN_SECTIONS
    assert set(ARM_REVEALING_COLUMNS) == {"t_sae_listing", "expedited_reports"}


# --- the reports of the three trials --------------------------------------------------------------------


def run_trial(config: Path) -> dict[str, str]:
    loaded = ingest(config)
    analyse(loaded)
    render(loaded)
    out_dir = Path(loaded.out_dir)
    closed = out_dir / "dsmb_report_closed.html"
    return {
        "open": (out_dir / "dsmb_report.html").read_text(encoding="utf-8"),
        "closed": closed.read_text(encoding="utf-8") if closed.is_file() else "",
    }


@pytest.fixture(scope="module")
def blinded(tmp_path_factory) -> dict[str, str]:
    config = two_arm_trial(tmp_path_factory.mktemp("blinded") / "trial")
    config.write_text(config.read_text(encoding="utf-8").replace(ARMS_TOML, ARM_B_WITHOUT_APATINIB), encoding="utf-8")
    arm_b = pl.read_csv(config.parent / "subjects.csv", infer_schema=False).filter(pl.col("arm") == "B")["subject_id"]
    exposure = pl.read_csv(config.parent / "exposure.csv", infer_schema=False)
    exposure.filter(~((pl.col("agent") == "apatinib") & pl.col("subject_id").is_in(arm_b.implode()))).write_csv(config.parent / "exposure.csv")
    assert load_trial_config(config).arm_revealing_agents == ["apatinib"]
    return run_trial(config)


@pytest.fixture(scope="module")
def same_agents(tmp_path_factory) -> dict[str, str]:
    return run_trial(two_arm_trial(tmp_path_factory.mktemp("same_agents") / "trial"))


@pytest.fixture(scope="module")
def one_arm(tmp_path_factory) -> dict[str, str]:
    return run_trial(make_mini_trial(tmp_path_factory.mktemp("one_arm") / "mini"))


def section_ids(report: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', report)


def header(report: str, key: str) -> list[str]:
    return table_rows(section(report, key))[0]


@pytest.mark.slow
def test_open_report_leaves_out_the_tables_by_agent(blinded, same_agents):
    """The blinded open report has every section of the same-agents open report but the six
    left out, in the same order."""
    expected = [key for key in section_ids(same_agents["open"]) if key not in HIDDEN_SECTIONS]
    assert HIDDEN_SECTIONS <= set(section_ids(same_agents["open"]))
    assert section_ids(blinded["open"]) == expected
    contents = re.search(r'<nav id="contents".*?</nav>', blinded["open"], flags=re.S).group(0)
    assert not [key for key in HIDDEN_SECTIONS if f'href="#{key}"' in contents]


@pytest.mark.slow
def test_open_report_leaves_out_the_agent_columns(blinded, same_agents):
    """The SAE listing without Attribution and the SUSAR table without Suspected for, Unexpected
    for and Why unexpected; their other columns, in order, and their rows (the same SAEs: every
    serious AE by the cut, whatever the arm) as in the same-agents report."""
    for key, hidden in (("t_sae_listing", HIDDEN_SAE_COLUMNS), ("expedited_reports", HIDDEN_SUSAR_COLUMNS)):
        full = header(same_agents["open"], key)
        assert hidden <= set(full), key
        assert header(blinded["open"], key) == [column for column in full if column not in hidden], key
    listed = [row[:2] for row in table_rows(section(blinded["open"], "t_sae_listing"))[1:]]
    assert listed == [row[:2] for row in table_rows(section(same_agents["open"], "t_sae_listing"))[1:]]
    assert len(listed) > 0


@pytest.mark.slow
def test_no_row_of_a_subject_names_the_agent(blinded):
    """No table row (or chart) of the blinded open report that shows a subject id names apatinib
    (its id, its name or its class)."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", blinded["open"], flags=re.S)
    subject_rows = [row for row in rows if SUBJECT_ID.search(row)]
    assert len(subject_rows) > 0
    assert [row for row in subject_rows if any(word in row for word in AGENT_WORDS)] == []
    charts = re.findall(r"<svg.*?</svg>", blinded["open"], flags=re.S)
    assert [chart for chart in charts if SUBJECT_ID.search(chart) and any(word in chart for word in AGENT_WORDS)] == []


@pytest.mark.slow
def test_the_cover_says_why(blinded, same_agents, one_arm):
    cover = re.search(r'<header id="cover".*?</header>', blinded["open"], flags=re.S).group(0)
    assert "The arms receive different agents (apatinib)" in cover
    assert "they are in the closed report only" in cover
    for report in (same_agents["open"], one_arm["open"]):
        assert "The arms receive different agents" not in report


@pytest.mark.slow
def test_same_agents_or_one_arm_leave_nothing_out(same_agents, one_arm):
    for name, report in (("same agents", same_agents["open"]), ("one arm", one_arm["open"])):
        assert HIDDEN_SECTIONS <= set(section_ids(report)), name
        assert HIDDEN_SAE_COLUMNS <= set(header(report, "t_sae_listing")), name
        assert HIDDEN_SUSAR_COLUMNS <= set(header(report, "expedited_reports")), name
    assert one_arm["closed"] == ""  # one arm: no closed report


@pytest.mark.slow
def test_closed_report_keeps_the_exposure_and_the_attribution_of_each_sae(blinded):
    """The closed report of the blinded trial still shows exposure by arm (t_exposure) and the SAE
    listing by arm with its Attribution column."""
    assert "t_exposure" in section_ids(blinded["closed"])
    assert {"Arm", "Attribution"} <= set(header(blinded["closed"], "t_sae_listing"))


@pytest.mark.slow
def test_closed_report_has_everything_the_open_report_sends_there(blinded):
    """The open report's cover says the tables it leaves out "are in the closed report only": each
    is a section of the closed report, and the closed report names the suspected agent of each
    SUSAR; the swimmer plot is said to be left out, its table named."""
    closed = blinded["closed"]
    # The closed report's sections by agent carry "_by_arm"; the exposure table keeps its key; the
    # swimmer plot is in neither report (the open cover says so; tables/t_swimmer holds it).
    expected = {key if key == "t_exposure" else f"{key}_by_arm" for key in HIDDEN_SECTIONS - {"t_swimmer"}}
    missing = sorted(expected - set(section_ids(closed)))
    if "Suspected for" not in closed:
        missing.append("expedited_reports: Suspected for")
    assert missing == []
    assert "the swimmer plot is left out (its table, tables/t_swimmer" in blinded["open"]
