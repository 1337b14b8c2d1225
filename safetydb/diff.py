"""What changed between two data cuts of a trial, from the store's history.

Each cut is a load read as of a date, so two cuts compare record by record: new and removed
AEs, each changed field (grade, term, outcome, seriousness, dates, attribution per agent), new
deaths, stopping rules whose status changed, and each source's row count. The comparisons are
the SQL models ``d_*.sql``; this module runs them and names the cuts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from safetydb.store import Cut, Load, SafetyStore, read_model

DIFF_MODELS = ("d_ae_changes", "d_new_deaths", "d_rule_changes")


@dataclass(frozen=True)
class CutDiff:
    from_cut: Cut
    to_cut: Cut
    ae_changes: pl.DataFrame  # d_ae_changes
    new_deaths: pl.DataFrame  # d_new_deaths
    rule_changes: pl.DataFrame  # d_rule_changes
    sources: pl.DataFrame  # source, rows_before, rows_after (rows in each load's files)

    def count(self, *changes: str) -> int:
        return self.ae_changes.filter(pl.col("change").is_in(changes)).select(pl.col("ae_id").n_unique()).item()

    def summary(self) -> dict[str, int]:
        new = self.ae_changes.filter(pl.col("change") == "new")
        return {
            "new_aes": new.height,
            "new_serious_aes": new.filter(pl.col("serious") == "Y").height + self.count("became serious"),
            "new_grade_3_or_more": new.filter(pl.col("grade") >= 3).height,
            "grade_upgrades": self.count("grade upgraded"),
            "grade_downgrades": self.count("grade downgraded"),
            "resolved": self.count("resolved"),
            "changed": self.count("changed"),
            "removed_aes": self.count("removed"),
            "new_deaths": self.new_deaths.height,
            "rule_status_changes": self.rule_changes.height,
        }

    def to_dict(self) -> dict:
        return {
            "from": _cut_dict(self.from_cut),
            "to": _cut_dict(self.to_cut),
            "summary": self.summary(),
            "ae_changes": _rows(self.ae_changes),
            "new_deaths": _rows(self.new_deaths),
            "rule_changes": _rows(self.rule_changes),
            "sources": _rows(self.sources),
        }


def diff_cuts(store: SafetyStore, from_cut: Cut, to_cut: Cut) -> CutDiff:
    """Compare two cuts of one trial (``from_cut`` the earlier)."""
    parameters = {
        "from_load": from_cut.load_id, "from_date": from_cut.cut_date, "from_cut": from_cut.cut_id,
        "to_load": to_cut.load_id, "to_date": to_cut.cut_date, "to_cut": to_cut.cut_id,
    }
    frames = {}
    for name in DIFF_MODELS:
        sql = read_model(name)
        used = {key: value for key, value in parameters.items() if f"${key}" in sql}
        frames[name] = store.connection.sql(sql, params=used).pl()
    return CutDiff(
        from_cut=from_cut,
        to_cut=to_cut,
        ae_changes=frames["d_ae_changes"],
        new_deaths=frames["d_new_deaths"],
        rule_changes=frames["d_rule_changes"],
        sources=source_sizes(store.get_load(from_cut.load_id), store.get_load(to_cut.load_id)),
    )


def source_sizes(before: Load, after: Load) -> pl.DataFrame:
    names = list(dict.fromkeys([*before.accounting, *after.accounting]))
    return pl.DataFrame(
        {
            "source": names,
            "rows_before": [before.accounting.get(name, {}).get("rows_in") for name in names],
            "rows_after": [after.accounting.get(name, {}).get("rows_in") for name in names],
        },
        schema={"source": pl.String, "rows_before": pl.Int64, "rows_after": pl.Int64},
    )


def find_cut(store: SafetyStore, trial_id: str, given: str) -> Cut:
    """A cut named on the command line: its id, or a cut date (the latest cut made at that date)."""
    cuts = store.cuts(trial_id)
    by_id = [cut for cut in cuts if cut.cut_id == given]
    if by_id:
        return by_id[0]
    try:
        wanted = date.fromisoformat(given)
    except ValueError:
        wanted = None
    by_date = [cut for cut in cuts if cut.cut_date == wanted]
    if by_date:
        return by_date[-1]
    known = ", ".join(sorted({cut.cut_date.isoformat() for cut in cuts})) or "none"
    raise LookupError(f"no data cut {given!r} of trial {trial_id!r} in the store (cut dates: {known})")


def _cut_dict(cut: Cut) -> dict[str, str]:
    return {"cut_id": cut.cut_id, "cut_date": cut.cut_date.isoformat(), "load_id": cut.load_id}


def _rows(frame: pl.DataFrame) -> list[dict]:
    return [
        {key: (value.isoformat() if isinstance(value, date) else value) for key, value in row.items()}
        for row in frame.to_dicts()
    ]
