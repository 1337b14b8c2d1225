"""Follow-up of a subject whose last contact is not recorded: never the data cut.

Mini trial (tests/data/mini), cut 2025-07-01, with S2's last_contact_date emptied. S2 (first dose
2025-01-15, alive) has apatinib records to 2025-03-15 and AEs with onsets 2025-02-10, 2025-03-01
and 2025-04-30 (AE5, study day 106); no labs, no tumour assessments. Worked by hand:

- follow-up ends on the last date S2's records show S2 observed: 2025-04-30 (AE5's onset),
  study day 2025-04-30 - 2025-01-15 + 1 = 106 (not 168, the cut's study day, which the empty date
  gave before: DuckDB's LEAST skips NULL, so LEAST(NULL, cut) was the cut);
- last_contact_date stays empty, last_contact_recorded false;
- S1, whose contact is recorded (2025-07-01), keeps it: first dose 2025-01-10, day 173.
"""

from datetime import date
from pathlib import Path

import pytest

from flows.stages import analyse, ingest
from safetydb.models import build_cut_models
from safetydb.store import SafetyStore
from tests.conftest import make_mini_trial
from trial.config import load_trial_config


@pytest.fixture(scope="module")
def dosing(tmp_path_factory):
    config_path = make_mini_trial(tmp_path_factory.mktemp("follow-up"))
    subjects = Path(config_path).with_name("subjects.csv")
    lines = subjects.read_text().splitlines()
    lines = [line.replace(",2025-03-15,toxicity,2025-07-01,", ",2025-03-15,toxicity,,") if line.startswith("S2,") else line for line in lines]
    subjects.write_text("\n".join(lines) + "\n")
    loaded = ingest(config_path)
    analyse(loaded)
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, load_trial_config(config_path), loaded.cut_id, date(2025, 7, 1))
        frame = store.model("int_subject_dosing")
    return {row["subject_id"]: row for row in frame.iter_rows(named=True)}


def test_follow_up_without_last_contact_ends_at_the_last_record(dosing):
    s2 = dosing["S2"]
    assert s2["last_contact_date"] is None and s2["last_contact_recorded"] is False
    assert s2["follow_up_end"] == date(2025, 4, 30)
    assert s2["days_observed"] == 106


def test_recorded_last_contact_is_kept(dosing):
    s1 = dosing["S1"]
    assert s1["last_contact_date"] == date(2025, 7, 1)
    assert s1["follow_up_end"] == date(2025, 7, 1)
    assert s1["days_observed"] == 173
