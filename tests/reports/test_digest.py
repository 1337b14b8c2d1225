"""The safety officer's digest of two hand-made cuts of the mini trial (tests/data/mini).

Cut A: the mini trial's files, cut at 2025-04-01. Counted AEs with onset by then: AE1, AE4, AE6,
AE7, AE9, AE10, AE12, AE13 (AE11: subject S9 not enrolled; AE14: onset 2025-02-30).

Cut B: a later delivery, cut at 2025-07-01, in which
- AE4 (S2, palmar-plantar erythrodysesthesia, onset 2025-02-10) went from grade 3 to 4 -> grade upgrade
- AE10 (S1, myocarditis grade 1, onset 2025-03-01) became serious (hospitalisation)     -> became serious
- S4 died 2025-06-15 of disease progression (no fatal AE)                              -> new death
- AE15 was added: S1, "Skin and subcutaneous tissue disorders - Other, specify" with a free
  text, grade 3, serious, onset 2025-06-05, sponsor aware 2025-06-18, possibly related to
  anti-PD-1 only
- AE2 (S1 hypertension grade 3, serious, onset 2025-05-01), AE3 (grade 2), AE5 (grade 1) and AE8
  (grade 1) have onsets after 2025-04-01: new at B, as AE15 is.

So, B since A: new AEs 5 (AE2, AE3, AE5, AE8, AE15); new serious 3 (new and serious: AE2, AE15;
became serious: AE10); new grade >= 3: 2 (AE2, AE15); grade upgrades 1 (AE4 3 -> 4); new deaths
1 (S4); no resolution, downgrade, removal or other change (every resolution date is before A or
missing in both). Rule status changes: read from each cut's flags.json (an independent route).

Expedited reports at B (clock 7 days if fatal or life-threatening, else 15; due soon within 3):
- AE6 (S3, fatal pharyngeal hemorrhage, probable for apatinib, whose RSI lists it up to grade 4
  only): a SUSAR, aware 2025-02-19, due 2025-02-26, never submitted: overdue by 125 days at
  2025-07-01 (3 days of February + 31 + 30 + 31 + 30 + 1).
- AE15: anti-PD-1's RSI covers its "Other, specify" term only for RCCEP, so it is unexpected: a
  SUSAR, not fatal, aware 2025-06-18, due 2025-07-03: due soon, in 2 days.
- AE2 (hypertension grade 3), AE7 (epistaxis grade 3), AE10 (myocarditis grade 1): listed in the
  RSI of the agent they are suspected for, at or below the grade listed: not SUSARs.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from flows.stages import analyse, ingest, publish, render, write_manifest
from reports.digest import previous_digest, render_digest
from safetydb.store import SafetyStore
from tests.conftest import make_mini_trial
from trial.config import load_trial_config

FREE_TEXT = "Pustules after gardening with Dr Wong"
EDITS = [
    ("adverse_events.csv", "AE4,S2,hand-foot syndrome,Palmar-plantar erythrodysesthesia syndrome,,3,", "AE4,S2,hand-foot syndrome,Palmar-plantar erythrodysesthesia syndrome,,4,"),
    ("adverse_events.csv", "AE10,S1,myocarditis,Myocarditis,,1,2025-03-01,2025-03-10,N,,", "AE10,S1,myocarditis,Myocarditis,,1,2025-03-01,2025-03-10,Y,hospitalisation,"),
    ("subjects.csv", "S4,02,Apatinib + anti-PD-1,M,39,2025-01-01,regional,N,,,2025-07-01,,", "S4,02,Apatinib + anti-PD-1,M,39,2025-01-01,regional,N,,,2025-06-15,2025-06-15,disease_progression"),
]
NEW_AE = (
    f'AE15,S1,skin pustules,"Skin and subcutaneous tissue disorders - Other, specify",{FREE_TEXT},3,2025-06-05,,Y,hospitalisation,'
    "not_recovered,unrelated,possible,dose_not_changed,drug_interrupted,2025-06-18\n"
)
MINI_IDS = {f"AE{n}" for n in range(1, 16)} | {f"S{n}" for n in range(1, 10)}


def _review(config: Path, cut_date: date, out_root: Path):
    """The stages of a review, as the flow runs them; returns the loaded cut and its published folder."""
    loaded = ingest(config, cut_date=cut_date, out_root=out_root)
    analysis = analyse(loaded)
    reports = render(loaded)
    write_manifest(loaded, reports=reports, reconciliation_queries=analysis["reconciliation_queries"])
    return loaded, publish(loaded)


@pytest.fixture(scope="module")
def two_reviews(tmp_path_factory):
    """Cut A and cut B reviewed and published; yields (config path, loaded A, folder A, loaded B, folder B)."""
    root = tmp_path_factory.mktemp("digest")
    config = make_mini_trial(root / "trial")
    loaded_a, folder_a = _review(config, date(2025, 4, 1), root / "out")
    for name, old, new in EDITS:
        path = config.parent / name
        text = path.read_text()
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new))
    with (config.parent / "adverse_events.csv").open("a") as file:
        file.write(NEW_AE)
    loaded_b, folder_b = _review(config, date(2025, 7, 1), root / "out")
    return config, loaded_a, folder_a, loaded_b, folder_b


def _digest(two_reviews, folder, since_cut_id, out_dir):
    config, *_ = two_reviews
    with SafetyStore(config.parent / "toxwatch.duckdb") as store:
        paths = render_digest(folder, store=store, config=load_trial_config(config), since_cut_id=since_cut_id, out_dir=out_dir)
    return {path.name: path.read_text(encoding="utf-8") for path in paths}


@pytest.fixture(scope="module")
def digest_b(two_reviews, tmp_path_factory):
    """The digest of cut B since the previous digest, which covered cut A."""
    _, loaded_a, _, _, folder_b = two_reviews
    return _digest(two_reviews, folder_b, loaded_a.cut_id, tmp_path_factory.mktemp("digests") / "2025-07-01")


def _flat(text: str) -> str:
    """The text with line wraps undone, to find a sentence wherever the e-mail layout broke it."""
    return " ".join(text.split())


@pytest.mark.slow  # two reviews (load, tables, signals, reports): about 10 s
def test_digest_json_holds_the_facts_and_the_counts_worked_out_by_hand(two_reviews, digest_b):
    _, loaded_a, folder_a, loaded_b, folder_b = two_reviews
    facts = json.loads(digest_b["digest.json"])
    statuses = lambda folder: {r["rule_id"]: r["status"] for r in json.loads((folder / "flags.json").read_text())["rules"]}  # noqa: E731
    before, after = statuses(folder_a), statuses(folder_b)
    rule_changes = sum(before.get(rule) != after.get(rule) for rule in before | after)
    assert facts["trial_id"] == "npc-apatinib-pd1"
    assert (facts["cut_id"], facts["cut_date"]) == (loaded_b.cut_id, "2025-07-01")
    assert facts["since"] == {"cut_id": loaded_a.cut_id, "cut_date": "2025-04-01", "basis": "previous digest"}
    assert facts["changes"] == {
        "new_aes": 5, "new_serious_aes": 3, "new_grade_3_or_more": 2, "grade_upgrades": 1, "grade_downgrades": 0,
        "resolved": 0, "changed": 0, "removed_aes": 0, "new_deaths": 1, "rule_status_changes": rule_changes,
    }
    assert facts["expedited"] == {"overdue": 1, "due today": 0, "due soon": 1, "not computable": 0}
    assert facts["reporting_status"] == "OVERDUE"
    assert facts["treated_subjects"] == 4  # S1, S2, S3, S5 have a dose by 2025-07-01; S4 and S6 none


@pytest.mark.slow
def test_digest_json_has_counts_only_no_subject_or_ae_ids(digest_b):
    """digest.json may become a Prefect artifact: aggregate counts only, no subject-level rows."""
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', digest_b["digest.json"])
    assert not MINI_IDS & set(strings)


@pytest.mark.slow
def test_text_lists_the_changes_and_the_reports_due(digest_b):
    text = digest_b["digest.txt"]
    flat = _flat(text)
    assert text.splitlines()[0] == "SAFETY DIGEST - npc-apatinib-pd1 (NCT04350190), data cut 2025-07-01"
    assert re.search(r"^STOPPING STOP \| EXPEDITED REPORTING OVERDUE \| DATA QUALITY OK$", text, flags=re.M)
    assert "Since the previous digest: from cut 2025-04-01" in text
    assert "5 new AEs, 3 new serious, 2 new grade >=3, 1 grade upgrades, 1 new deaths" in flat
    assert "S4 died 2025-06-15 (disease_progression; death record)" in flat
    assert "New SAEs/grade >=3 AEs (3):" in text
    assert "S1 AE2 Hypertension, grade 3, onset 2025-05-01, serious" in flat
    assert "S1 AE10 Myocarditis, grade 1, onset 2025-03-01, became serious" in flat
    assert "S2 AE4 Palmar-plantar erythrodysesthesia syndrome, grade 3 -> 4, onset 2025-02-10" in flat
    assert "S1 AE15 Skin and subcutaneous tissue disorders - Other, specify: (free text omitted), grade 3, onset 2025-06-05" in flat
    assert "Overdue (1): S3 AE6 Pharyngeal hemorrhage, grade 5; aware 2025-02-19, due 2025-02-26: overdue by 125 days" in flat
    assert "Due soon (1): S1 AE15" in flat
    assert "aware 2025-06-18, due 2025-07-03: due soon: in 2 days (unexpected for anti_pd1)" in flat
    assert "No SUSAR reports due today or with a clock not computable." in flat
    assert "STOP: Any treatment-related death [related_death]" in text
    assert "S3 AE6 Pharyngeal hemorrhage, grade 5, onset 2025-02-18" in flat
    assert "2 adverse-event record(s) could not be counted" in flat
    # Mini trial AEs at B: 15 rows = 10 clean + 3 counted with queries + 2 excluded (AE11, AE14).
    assert re.search(r"Rows read for this cut \(6 sources\): \d+ in = \d+ clean \+ \d+ counted with queries \+ 2 excluded \(adverse_events 2\)", flat)


@pytest.mark.slow
def test_text_fits_an_email(digest_b):
    lines = digest_b["digest.txt"].splitlines()
    assert len(lines) <= 60
    assert max(len(line) for line in lines) <= 100


@pytest.mark.slow
def test_html_is_self_contained(digest_b):
    html = digest_b["digest.html"]
    assert "<script" not in html.lower()
    assert not re.search(r"https?://", html)
    assert not re.search(r"(?:src|href)=", html)
    assert '<span class="status status-OVERDUE">OVERDUE</span>' in html
    assert "<td class=\"id\">AE15</td>" in html


@pytest.mark.slow
def test_free_text_is_omitted_by_default(digest_b):
    """privacy.open_report_free_text is false in the bundled config: an "Other, specify" text
    typed at a site is printed as the mark, in every file."""
    for name, content in digest_b.items():
        assert FREE_TEXT not in content, name
        assert "Dr Wong" not in content, name
    assert "(free text omitted)" in digest_b["digest.txt"]
    assert "(free text omitted)" in digest_b["digest.html"]


@pytest.mark.slow
def test_first_digest_compares_with_the_previous_cut_and_says_so(two_reviews, tmp_path):
    _, loaded_a, folder_a, _, folder_b = two_reviews
    first_of_b = _digest(two_reviews, folder_b, None, tmp_path / "b")
    assert json.loads(first_of_b["digest.json"])["since"] == {"cut_id": loaded_a.cut_id, "cut_date": "2025-04-01", "basis": "previous cut"}
    assert f"First digest: compared with the previous cut in the store, 2025-04-01 ({loaded_a.cut_id})." in _flat(first_of_b["digest.txt"])
    first_of_a = _digest(two_reviews, folder_a, None, tmp_path / "a")
    facts = json.loads(first_of_a["digest.json"])
    assert facts["since"] is None and facts["changes"] is None
    assert "This is the trial's first data cut in the store" in first_of_a["digest.txt"]


@pytest.mark.slow
def test_a_digest_of_the_same_cut_says_there_is_no_new_data(two_reviews, tmp_path):
    """The safety officer never sees stale data without being told."""
    *_, loaded_b, folder_b = two_reviews
    again = _digest(two_reviews, folder_b, loaded_b.cut_id, tmp_path)
    assert json.loads(again["digest.json"])["new_data_cut"] is False
    assert "NO NEW DATA CUT since the previous digest" in again["digest.txt"]
    assert "No new data cut since the previous digest" in again["digest.html"]


@pytest.mark.slow
def test_a_since_cut_later_than_the_cut_is_refused(two_reviews, tmp_path):
    _, _, folder_a, loaded_b, _ = two_reviews
    with pytest.raises(ValueError, match="since_cut_id .* is later than the digest's cut"):
        _digest(two_reviews, folder_a, loaded_b.cut_id, tmp_path)


def test_previous_digest_is_the_latest_published_before_the_cut(tmp_path):
    digests = tmp_path / "npc-apatinib-pd1" / "digests"
    for folder, cut_id, cut_date in [
        ("2025-04-01", "cut-a", "2025-04-01"),
        ("2025-07-01", "cut-b", "2025-07-01"),
        (".2025-05-01.partial-1-ab12", "cut-unfinished", "2025-05-01"),  # being written: not a digest yet
    ]:
        (digests / folder).mkdir(parents=True)
        (digests / folder / "digest.json").write_text(json.dumps({"cut_id": cut_id, "cut_date": cut_date}))
    (digests / "2025-06-01").mkdir()  # no digest.json: not a published digest
    assert previous_digest(digests, date(2025, 7, 1)) == "cut-a"
    assert previous_digest(digests, "2025-07-02") == "cut-b"
    assert previous_digest(digests, "2025-04-01") is None
    assert previous_digest(tmp_path / "nowhere", "2025-07-01") is None
