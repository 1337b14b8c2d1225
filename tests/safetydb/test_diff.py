"""The diff between two hand-made cuts of the mini trial (tests/data/mini).

Cut A: the mini trial's files, cut at 2025-04-01. Counted AEs with onset by then: AE1, AE4, AE6,
AE7, AE9, AE10, AE12, AE13 (AE11: subject S9 not enrolled; AE14: onset 2025-02-30; S5 and S6
enrolled 2025-04-20).

Cut B: a later delivery, cut at 2025-07-01, in which
- AE1 was deleted                                   -> removed: AE1
- AE4's grade went from 3 to 4                      -> grade upgraded: AE4
- AE13 resolved 2025-03-20, outcome recovered       -> resolved: AE13; changed: AE13 outcome
- AE9 resolved 2025-06-01                           -> resolved: AE9
- AE10's anti-PD-1 attribution possible -> unrelated -> changed: AE10 attribution_anti_pd1
- S4 died 2025-06-15 (disease_progression)         -> new death: S4, death record (S3 died before A)
- AE2 (serious, grade 3), AE3, AE5, AE8 have onsets after 2025-04-01 -> new: 4, serious 1, grade >= 3: 1
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from flows.cli import main
from flows.stages import analyse, discard, ingest
from safetydb.diff import diff_cuts
from safetydb.store import SafetyStore
from tests.conftest import make_mini_trial

EDITS = [
    ("adverse_events.csv", "AE1,S1,high blood pressure,Hypertension,,2,2025-01-20,2025-02-20,N,,recovered,probable,unlikely,dose_not_changed,dose_not_changed,\n", ""),
    ("adverse_events.csv", "AE4,S2,hand-foot syndrome,Palmar-plantar erythrodysesthesia syndrome,,3,", "AE4,S2,hand-foot syndrome,Palmar-plantar erythrodysesthesia syndrome,,4,"),
    ("adverse_events.csv", '"Skin and subcutaneous tissue disorders - Other, specify",,1,2025-03-02,,N,,not_recovered,', '"Skin and subcutaneous tissue disorders - Other, specify",,1,2025-03-02,2025-03-20,N,,recovered,'),
    ("adverse_events.csv", "AE9,S4,tiredness,Fatigue,,1,2025-01-05,,", "AE9,S4,tiredness,Fatigue,,1,2025-01-05,2025-06-01,"),
    ("adverse_events.csv", "AE10,S1,myocarditis,Myocarditis,,1,2025-03-01,2025-03-10,N,,recovered,unlikely,possible,", "AE10,S1,myocarditis,Myocarditis,,1,2025-03-01,2025-03-10,N,,recovered,unlikely,unrelated,"),
    ("subjects.csv", "S4,02,Apatinib + anti-PD-1,M,39,2025-01-01,regional,N,,,2025-07-01,,", "S4,02,Apatinib + anti-PD-1,M,39,2025-01-01,regional,N,,,2025-07-01,2025-06-15,disease_progression"),
]


@pytest.fixture(scope="module")
def two_cuts(tmp_path_factory):
    """The two cuts analysed (so their rule statuses are in the flag history); yields
    (config, cut A, cut B, flags A, flags B)."""
    config = make_mini_trial(tmp_path_factory.mktemp("diff"))
    cut_a = ingest(config, cut_date=date(2025, 4, 1))
    analyse(cut_a)
    flags_a = json.loads((_folder(cut_a) / "flags.json").read_text())
    discard(cut_a)
    for name, old, new in EDITS:
        path = config.parent / name
        text = path.read_text()
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new))
    cut_b = ingest(config, cut_date=date(2025, 7, 1))
    analyse(cut_b)
    flags_b = json.loads((_folder(cut_b) / "flags.json").read_text())
    discard(cut_b)
    return config, cut_a, cut_b, flags_a, flags_b


def _folder(loaded):
    from pathlib import Path

    return Path(loaded.out_dir)


@pytest.fixture(scope="module")
def changes(two_cuts):
    _, cut_a, cut_b, _, _ = two_cuts
    with SafetyStore(cut_b.database_path) as store:
        return diff_cuts(store, store.get_cut(cut_a.cut_id), store.get_cut(cut_b.cut_id))


@pytest.mark.slow  # two loads and two analyses: about 4 s
def test_summary_counts_each_kind_of_change(changes):
    assert changes.summary() == {
        "new_aes": 4,
        "new_serious_aes": 1,
        "new_grade_3_or_more": 1,
        "grade_upgrades": 1,
        "grade_downgrades": 0,
        "resolved": 2,
        "changed": 2,
        "removed_aes": 1,
        "new_deaths": 1,
        "rule_status_changes": changes.rule_changes.height,
    }


@pytest.mark.slow
def test_each_change_names_the_record_and_its_values(changes):
    rows = {(r["change"], r["ae_id"], r["field"], r["before"], r["after"]) for r in changes.ae_changes.iter_rows(named=True)}
    assert rows == {
        ("new", "AE2", None, None, None),
        ("new", "AE3", None, None, None),
        ("new", "AE5", None, None, None),
        ("new", "AE8", None, None, None),
        ("removed", "AE1", None, None, None),
        ("grade upgraded", "AE4", "grade", "3", "4"),
        ("resolved", "AE13", "resolution_date", None, "2025-03-20"),
        ("changed", "AE13", "outcome", "not_recovered", "recovered"),
        ("resolved", "AE9", "resolution_date", None, "2025-06-01"),
        ("changed", "AE10", "attribution_anti_pd1", "possible", "unrelated"),
    }
    deaths = changes.new_deaths.select("subject_id", "death_date", "death_cause", "evidence").rows()
    assert deaths == [("S4", date(2025, 6, 15), "disease_progression", "death record")]


@pytest.mark.slow
def test_rule_changes_match_the_two_cuts_flags(two_cuts, changes):
    """Independent route: each cut's flags.json, as written when it was analysed."""
    *_, flags_a, flags_b = two_cuts
    before = {rule["rule_id"]: rule["status"] for rule in flags_a["rules"]}
    after = {rule["rule_id"]: rule["status"] for rule in flags_b["rules"]}
    expected = {(rule, before.get(rule), after.get(rule)) for rule in before | after if before.get(rule) != after.get(rule)}
    assert set(changes.rule_changes.select("rule_id", "before", "after").rows()) == expected


@pytest.mark.slow
def test_toxwatch_diff_prints_the_changes_between_the_latest_two_cuts(two_cuts, capsys):
    config, cut_a, cut_b, _, _ = two_cuts
    assert main(["diff", str(config)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == f"changes from cut 2025-04-01 ({cut_a.cut_id}) to cut 2025-07-01 ({cut_b.cut_id})"
    assert "  new aes: 4" in text and "  new deaths: 1" in text
    assert "grade upgraded: AE4 S2 Palmar-plantar erythrodysesthesia syndrome grade 4: grade 3 -> 4" in text
    assert "new death: S4 2025-06-15 (death record)" in text
    assert main(["diff", str(config), "--from", "2025-07-01", "--to", "2025-04-01", "--json"]) == 0
    reverse = json.loads(capsys.readouterr().out)
    assert reverse["summary"]["removed_aes"] == 4  # the four new AEs, seen backwards
    assert main(["diff", str(config), "--from", "2024-01-01"]) == 1
    assert "no data cut '2024-01-01'" in capsys.readouterr().err
