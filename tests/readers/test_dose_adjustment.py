"""The dose adjustment of CDISC exposure records (readers/cdisc.py with_dose_adjustment).

The rule, per subject and agent in start order: 0 mg of an agent planned above 0 mg is a hold; a
dose below the last dose above 0 mg the subject had of the agent before it is a reduction, so a
subject who resumes at a lower dose after a hold has been reduced; anything else, the first
record included, is "none". A placebo's 0 mg is a dose given.
"""

from __future__ import annotations

import polars as pl
import pytest

from readers.cdisc import with_dose_adjustment

ORDER = ["subject_id", "agent", "start_date", "_row"]


def adjustments(doses: list[str], planned: str = "81") -> list[str]:
    """The adjustments of one subject's records of one agent, given in start order."""
    frame = pl.DataFrame(
        {
            "_row": [str(position) for position in range(1, len(doses) + 1)],
            "subject_id": ["01-701-1015"] * len(doses),
            "agent": ["xanomeline"] * len(doses),
            "start_date": [f"2014-01-{day:02d}" for day in range(1, len(doses) + 1)],
            "dose_mg": doses,
            "planned_dose_mg": [planned] * len(doses),
        }
    )
    return with_dose_adjustment(frame, order=ORDER)["adjustment"].to_list()


@pytest.mark.parametrize(
    ("doses", "expected"),
    [
        # 81, a hold, then 54: below the last dose given (81), a reduction.
        (["81", "0", "54"], ["none", "held", "reduced"]),
        # 54 after 54 after a hold: the last dose given was 54, no change.
        (["81", "0", "54", "0", "54"], ["none", "held", "reduced", "held", "none"]),
        (["81", "54", "0", "54"], ["none", "reduced", "held", "none"]),
        # Resuming at the dose given before the hold is no reduction.
        (["81", "0", "81"], ["none", "held", "none"]),
        # Two holds in a row: the dose after them still compares with 81.
        (["81", "0", "0", "54"], ["none", "held", "held", "reduced"]),
        # A hold first: nothing given before the 54, so no reduction to read.
        (["0", "54"], ["held", "none"]),
        # A record without a dose is no dose above 0 mg: 54 compares with the 81 before it.
        (["81", "", "54"], ["none", "none", "reduced"]),
    ],
)
def test_a_reduction_is_against_the_last_dose_given(doses, expected):
    assert adjustments(doses) == expected


def test_a_placebo_given_at_0_mg_is_no_hold():
    """Placebo, planned 0 mg: every 0 mg record is a dose given, none held or reduced."""
    assert adjustments(["0", "0", "0"], planned="0") == ["none", "none", "none"]


def test_each_subject_and_agent_has_its_own_sequence_and_the_rows_keep_their_order():
    """Rows given out of start order and interleaved. Subject 1 xanomeline, by start date: 01-01
    81 (none), 01-08 0 (held), 01-15 54 (reduced: below 81). Subject 2 xanomeline: 01-03 54 (its
    first: none; subject 1's 81 is not its previous dose). Subject 1 agent b (planned 10): 01-09 10
    (first: none), 01-16 0 (held). The result keeps the input's row order."""
    frame = pl.DataFrame(
        {
            "_row": ["1", "2", "3", "4", "5", "6"],
            "subject_id": ["1", "2", "1", "1", "1", "1"],
            "agent": ["xanomeline", "xanomeline", "b", "xanomeline", "b", "xanomeline"],
            "start_date": ["2014-01-15", "2014-01-03", "2014-01-16", "2014-01-01", "2014-01-09", "2014-01-08"],
            "dose_mg": ["54", "54", "0", "81", "10", "0"],
            "planned_dose_mg": ["81", "81", "10", "81", "10", "81"],
        }
    )
    adjusted = with_dose_adjustment(frame, order=ORDER)
    assert adjusted["_row"].to_list() == ["1", "2", "3", "4", "5", "6"]
    assert adjusted["adjustment"].to_list() == ["reduced", "none", "held", "none", "none", "held"]
