"""TEAE incidence of each arm against the reference (control) arm: risk differences with Newcombe's interval.

``t_ae_risk_difference`` (written to ``tables/by_arm/`` only), grain (meddra_soc, term, arm_id):
for each treatment-emergent term of ``t_soc_term`` (an "Other, specify" event under its
specified text, in the SOC of its catch-all term) and each arm that is not the reference arm,

- ``subjects`` / ``denominator`` / ``percent``: the arm's subjects with a TEAE of the term, its
  treated subjects (the arm's safety population, ``t_overview``'s denominator) and the percent;
- ``reference_subjects`` / ``reference_denominator`` / ``reference_percent``: the same in the
  reference arm (``[[arms]] reference = true``);
- ``risk_difference``: percent minus reference_percent, in percentage points, with ``ci_lower``
  and ``ci_upper``, the 95% interval of Newcombe's hybrid score method (method 10 of Newcombe,
  Statistics in Medicine 1998;17:873-890): each arm's Wilson score interval, combined by the
  square-and-add rule. It stays inside [-100, 100], and it is defined when a count is 0 (where
  the Wald interval collapses), which a term seen in one arm only often has. Computed by
  statsmodels' ``confint_proportions_2indep(method="newcomb")``;
- ``term_rank``: the terms ordered by the subjects with the term in all arms pooled (the
  "All arms" rows of t_soc_term), most first, then by ``highest_arm_percent`` (the term's highest
  percent in any configured arm, the reference arm included), then SOC and term;
- ``method``: how the interval was computed.

A trial without a reference arm has a row for every arm, the reference columns, the difference
and its interval empty: there is nothing to compare with. An arm with no treated subject has no
percent and no difference. Percents and differences are rounded to one decimal, halves away from
zero, as the SQL models round (``round(100.0 * n / N, 1)``); a difference is computed from the
exact counts before rounding, not from the rounded percents.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import polars as pl

TABLE = "t_ae_risk_difference"
CONFIDENCE = 0.95
METHOD = "Newcombe hybrid score interval (method 10), 95%"
ANY = "(any)"  # the totals rows of t_soc_term
ARM_ID, ARM_LABEL = "arm_id", "arm"  # as safetydb.export names them (not imported: export imports this module)

SCHEMA = {
    "term_rank": pl.Int64,
    "meddra_soc": pl.String,
    "term": pl.String,
    "arm_id": pl.String,
    "arm": pl.String,
    "subjects": pl.Int64,
    "denominator": pl.Int64,
    "percent": pl.Float64,
    "reference_arm_id": pl.String,
    "reference_arm": pl.String,
    "reference_subjects": pl.Int64,
    "reference_denominator": pl.Int64,
    "reference_percent": pl.Float64,
    "risk_difference": pl.Float64,
    "ci_lower": pl.Float64,
    "ci_upper": pl.Float64,
    "method": pl.String,
    "all_arms_subjects": pl.Int64,
    "highest_arm_percent": pl.Float64,
}


def newcombe_difference(
    events: int, subjects: int, reference_events: int, reference_subjects: int
) -> tuple[float, float, float]:
    """The difference of two independent proportions, events / subjects minus reference_events /
    reference_subjects, and its 95% interval by Newcombe's hybrid score method (method 10):
    proportions, not percents. Both groups need at least one subject."""
    if subjects < 1 or reference_subjects < 1:
        raise ValueError(f"subjects: each group needs at least one subject, got {subjects} and {reference_subjects}")
    if not (0 <= events <= subjects and 0 <= reference_events <= reference_subjects):
        raise ValueError(f"events: {events} of {subjects} and {reference_events} of {reference_subjects} are not counts of subjects")
    # statsmodels brings pandas and patsy, a second or more to import: only the interval needs it.
    from statsmodels.stats.proportion import confint_proportions_2indep

    lower, upper = confint_proportions_2indep(
        events, subjects, reference_events, reference_subjects, method="newcomb", compare="diff", alpha=1 - CONFIDENCE
    )
    return events / subjects - reference_events / reference_subjects, float(lower), float(upper)


def ae_risk_differences(
    soc_term: pl.DataFrame,
    overview: pl.DataFrame,
    arms: Sequence[tuple[str, str]],
    *,
    reference: str | None,
    total: str = "total",
) -> pl.DataFrame:
    """``t_ae_risk_difference`` from the tables by arm (module docstring).

    ``soc_term`` and ``overview`` are t_soc_term and t_overview by arm (each row led by
    ``arm_id`` and ``arm``; all arms pooled under ``total``); ``arms`` the configured arms as
    (id, label) in the trial config's order; ``reference`` the id of the reference arm, or None.
    Rows: terms by ``term_rank``, then the arms in the given order."""
    arm_ids = [arm_id for arm_id, _ in arms]
    if reference is not None and reference not in arm_ids:
        raise ValueError(f"reference: {reference!r} is not one of the arms {arm_ids}")
    labels = dict(arms)
    denominators = _denominators(overview, arm_ids)
    terms = soc_term.filter((pl.col("meddra_soc") != ANY) & (pl.col("term") != ANY))
    counts = {
        (row[ARM_ID], row["meddra_soc"], row["term"]): row["subjects"]
        for row in terms.select(ARM_ID, "meddra_soc", "term", "subjects").iter_rows(named=True)
    }
    keys = sorted({(row[1], row[2]) for row in counts})
    pooled = {key: counts.get((total, *key), 0) for key in keys}
    highest = {key: _highest_percent(counts, key, denominators) for key in keys}
    ranked = sorted(keys, key=lambda key: (-pooled[key], -(highest[key] or 0.0), key[0], key[1]))

    rows = []
    for rank, key in enumerate(ranked, start=1):
        soc, term = key
        reference_subjects = counts.get((reference, *key), 0) if reference is not None else None
        reference_denominator = denominators[reference] if reference is not None else None
        for arm_id in arm_ids:
            if arm_id == reference:
                continue
            subjects, denominator = counts.get((arm_id, *key), 0), denominators[arm_id]
            row = {
                "term_rank": rank, "meddra_soc": soc, "term": term, "arm_id": arm_id, "arm": labels[arm_id],
                "subjects": subjects, "denominator": denominator, "percent": percent(subjects, denominator),
                "reference_arm_id": reference, "reference_arm": labels.get(reference) if reference is not None else None,
                "reference_subjects": reference_subjects, "reference_denominator": reference_denominator,
                "reference_percent": percent(reference_subjects, reference_denominator) if reference is not None else None,
                "risk_difference": None, "ci_lower": None, "ci_upper": None,
                "method": METHOD if reference is not None else None,
                "all_arms_subjects": pooled[key], "highest_arm_percent": highest[key],
            }
            if reference is not None and denominator and reference_denominator:
                _, lower, upper = newcombe_difference(subjects, denominator, reference_subjects, reference_denominator)
                difference = Fraction(subjects, denominator) - Fraction(reference_subjects, reference_denominator)
                row |= {
                    "risk_difference": rounded(100 * difference),
                    "ci_lower": rounded(Fraction(100 * lower)),
                    "ci_upper": rounded(Fraction(100 * upper)),
                }
            rows.append(row)
    return pl.DataFrame(rows, schema=SCHEMA, orient="row") if rows else pl.DataFrame(schema=SCHEMA)


def dot_plot_terms(table: pl.DataFrame, *, min_percent: float, max_terms: int) -> pl.DataFrame:
    """The rows of ``t_ae_risk_difference`` a dot plot shows: the terms whose incidence reaches
    ``min_percent`` in at least one arm (``highest_arm_percent``, the rounded percent the tables
    print), the ``max_terms`` of lowest ``term_rank`` among them (the most frequent), in rank order."""
    if max_terms < 1:
        raise ValueError(f"max_terms: at least one term is shown, got {max_terms}")
    shown = (
        table.filter(pl.col("highest_arm_percent") >= min_percent)
        .select("term_rank")
        .unique()
        .sort("term_rank")
        .head(max_terms)
    )
    return table.join(shown, on="term_rank", how="semi").sort("term_rank", maintain_order=True)


def percent(count: int | None, denominator: int | None) -> float | None:
    """``count`` as a percent of ``denominator``, one decimal, halves away from zero; None without a denominator."""
    if count is None or not denominator:
        return None
    return rounded(Fraction(100 * count, denominator))


def rounded(value: Fraction) -> float:
    """One decimal, halves away from zero (DuckDB's round, as the SQL models use it), from an exact value."""
    tenths = abs(value) * 10
    whole = math.floor(tenths + Fraction(1, 2))
    return math.copysign(whole / 10, value) if whole else 0.0


def _highest_percent(counts: dict[tuple, int], key: tuple[str, str], denominators: dict[str, int]) -> float | None:
    """The term's highest percent over the configured arms (None when no arm has a treated subject)."""
    percents = [percent(counts.get((arm_id, *key), 0), denominator) for arm_id, denominator in denominators.items()]
    return max((value for value in percents if value is not None), default=None)


def _denominators(overview: pl.DataFrame, arm_ids: list[str]) -> dict[str, int]:
    """Each arm's treated subjects: t_overview's denominator (0 for an arm with no row)."""
    found = dict(overview.group_by(ARM_ID).agg(pl.col("denominator").max()).iter_rows())
    return {arm_id: int(found.get(arm_id) or 0) for arm_id in arm_ids}
