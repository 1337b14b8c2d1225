"""A partial onset date is completed against the first dose: DM RFXSTDTC, else the earliest
EXSTDTC of the subject, so that a DM without RFXSTDTC does not move an onset before treatment.

Hand-made: the test SDTM set of tests/readers/test_sdtm.py with T1-002's RFXSTDTC left empty.
T1-002's headache has AESTDTC "2024-02"; its first EX record starts 2024-02-12 (placebo and
vitamin D, both 2024-02-12). Rule first_or_reference: the first dose falls later in that month,
so the onset is 2024-02-12, flag D (without the EX fallback it would be 2024-02-01, before the
first dose, and the headache would not be treatment-emergent).
"""

from __future__ import annotations

from readers.sdtm import sdtm_source
from tests.readers.test_sdtm import DM, DOMAINS, write_trial
from trial.config import load_trial_config

NO_RFXSTDTC = DM.replace("T1,DM,T1-002,002,2024-02-12,2024-02-25,2024-02-12,2024-02-24,", "T1,DM,T1-002,002,2024-02-12,2024-02-25,,2024-02-24,")


def test_the_first_exposure_record_stands_in_for_rfxstdtc(tmp_path):
    assert NO_RFXSTDTC != DM
    config = load_trial_config(write_trial(tmp_path, domains=DOMAINS | {"dm": NO_RFXSTDTC}))
    frame = sdtm_source(config, "adverse_events").frame
    row = frame.filter(frame["ae_id"] == "T1-002-1").row(0, named=True)
    assert (row["onset_date"], row["onset_date_given"], row["onset_date_imputed"]) == ("2024-02-12", "2024-02", "D")
