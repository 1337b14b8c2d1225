"""The cover of the DSMB report: which package the committee holds and where its numbers come from.

Mini trial (tests/data/mini), two data cuts in one store: 2025-04-01, then the latest date in
the data, 2025-07-01. The second report's cover names the first cut as the previous review.
"""

from __future__ import annotations

import html
import re
from datetime import date
from importlib import metadata
from pathlib import Path

import pytest

from flows.stages import analyse, ingest, render
from tests.conftest import make_mini_trial

pytestmark = pytest.mark.slow  # two reviews of the mini trial


@pytest.fixture(scope="module")
def two_cuts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cover")
    config = make_mini_trial(folder / "mini")
    first = ingest(config, cut_date=date(2025, 4, 1), out_root=folder / "out")
    analyse(first)
    render(first)
    second = ingest(config, out_root=folder / "out")
    analyse(second)
    (path,) = render(second)
    return first, second, Path(path)


def cover_of(report: str) -> dict[str, str]:
    """The cover's facts, term -> text, tags removed."""
    cover = re.search(r'<header id="cover" class="cover">(.*?)</header>', report, flags=re.S).group(1)
    facts = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", cover, flags=re.S)
    return {term: " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split()) for term, text in facts}


def test_the_cover_names_the_trial_the_cuts_and_the_provenance(two_cuts):
    first, second, path = two_cuts
    report = path.read_text(encoding="utf-8")
    assert second.cut_date == "2025-07-01" and first.cut_id != second.cut_id
    assert cover_of(report) == {
        "Trial": "npc-apatinib-pd1 · registry NCT04350190",
        "Data cut": f"2025-07-01 · cut id {second.cut_id}",
        "Previous review": f"data cut 2025-04-01 · cut id {first.cut_id}",
        "Safety population": "4 treated subjects (at least one dose by the cut)",
        "CTCAE dictionary": second.dictionary,
        "Made by": f"toxwatch {metadata.version('toxwatch')} · load id {second.load_id}",
    }
    assert "<h1>DSMB safety review: Apatinib + anti-PD-1 in recurrent or metastatic nasopharyngeal carcinoma (phase II)</h1>" in report
    assert "Open report: arms pooled, no treatment-arm comparisons are shown." in report


def test_a_first_cut_has_no_previous_review(two_cuts, tmp_path):
    first, _second, _path = two_cuts
    report = (Path(first.out_dir) / "dsmb_report.html").read_text(encoding="utf-8")
    assert cover_of(report)["Previous review"] == "none: this is the trial's first data cut in the store"


def test_no_date_of_generation(two_cuts):
    """The same inputs give the same report: rendering it again changes no byte, and the day of
    the run appears nowhere in it (the mini trial's dates are all in 2025)."""
    _first, second, path = two_cuts
    before = path.read_bytes()
    render(second)
    assert path.read_bytes() == before
    assert date.today().isoformat() not in before.decode("utf-8")
