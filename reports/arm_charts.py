"""Charts of the closed report that compare the arms: the AE dot plot with risk differences, and the
cumulative incidence of the first grade >= 3 AE by arm.

Drawn as reports/charts.py draws the open report's charts (matplotlib, inline SVG, text kept as
text, a title and a description, ids prefixed with the chart's key, the same bytes for the same
data), from tables of ``tables/by_arm/``; they place the tables' numbers and compute nothing
clinical. Arms are told apart by marker shape and line style as well as by colour, so a chart
printed in grey still reads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

from reports.charts import CURVE_STYLES, DAYS_PER_MONTH, GRID, INK, MUTED, WIDTH_INCHES, Chart, _count, _drawing, _shorten, _svg

# The reference (control) arm: an open black circle; the other arms, in the trial config's order, a
# colour (Okabe-Ito) and a filled shape each.
REFERENCE_MARK = {"color": INK, "marker": "o", "markerfacecolor": "#ffffff"}
ARM_MARKS = (
    {"color": "#D55E00", "marker": "^"},
    {"color": "#0072B2", "marker": "s"},
    {"color": "#009E73", "marker": "D"},
    {"color": "#CC79A7", "marker": "v"},
    {"color": "#E69F00", "marker": "P"},
)
BAND = "#f4f4f6"  # every other term's row, so that a dot reads across to its term
LISTED = 3  # the sentence under the dot plot names this many differences on each side of 0, the largest first


def arm_marks(arm_ids: Sequence[str], reference: str | None) -> dict[str, dict]:
    """Each arm's marker style: the reference arm's, then the others' in order."""
    others = [arm_id for arm_id in arm_ids if arm_id != reference]
    marks = {arm_id: ARM_MARKS[position % len(ARM_MARKS)] for position, arm_id in enumerate(others)}
    if reference is not None:
        marks[reference] = REFERENCE_MARK
    return marks


# ---- the AE dot plot ------------------------------------------------------------------------
def dot_plot_chart(
    rows: pl.DataFrame,
    *,
    title: str,
    arms: Sequence[tuple[str, str]],
    reference: str | None,
    key: str = "t_ae_risk_difference",
) -> Chart:
    """The dot plot of Amit, Heiberger and Lane (Pharmaceutical Statistics 2008): a row per term,
    the most frequent at the top; left, each arm's incidence (% of its subjects) as a dot; right,
    with a reference arm, each other arm's risk difference against it with its 95% interval.

    ``rows`` are the rows of ``t_ae_risk_difference`` to draw (``safetydb.risk_difference.
    dot_plot_terms``): a term's rows share its ``term_rank``, one row per arm other than the
    reference; the reference arm's incidence is in the ``reference_*`` columns. ``arms`` are the
    configured arms (id, label) in order; ``reference`` the reference arm's id, or None (no
    right panel).
    """
    arm_ids = [arm_id for arm_id, _ in arms]
    labels = dict(arms)
    marks = arm_marks(arm_ids, reference)
    terms = rows.select("term_rank", "meddra_soc", "term").unique().sort("term_rank")
    position = {rank: index for index, rank in enumerate(terms["term_rank"].to_list())}
    incidence = _incidence_by_arm(rows, reference)
    denominators = _denominators(rows, reference)
    drawn_arms = ([reference] if reference is not None else []) + [arm_id for arm_id in arm_ids if arm_id != reference]
    compared = [arm_id for arm_id in drawn_arms if arm_id != reference] if reference is not None else []
    alternative = _dot_plot_alternative(rows, terms.height, incidence, labels, reference)
    n_rows = max(terms.height, 1)

    with _drawing() as plt_figure:
        from matplotlib.lines import Line2D

        height = 1.45 + 0.2 * n_rows
        figure = plt_figure(figsize=(WIDTH_INCHES, height))
        bottom, top = 0.6 / height, 1 - 0.75 / height
        left_width = 0.33 if reference is not None else 0.68
        incidence_axes = figure.add_axes((0.28, bottom, left_width, top - bottom))
        panels = [incidence_axes]
        if reference is not None:
            difference_axes = figure.add_axes((0.28 + left_width + 0.03, bottom, 0.97 - 0.31 - left_width, top - bottom))
            panels.append(difference_axes)
        for axes in panels:
            axes.set_ylim(n_rows - 0.5, -0.5)
            for row in range(0, n_rows, 2):
                axes.axhspan(row - 0.5, row + 0.5, color=BAND, linewidth=0, zorder=0)
            axes.grid(axis="x", color=GRID, linewidth=0.6)
            axes.set_axisbelow(True)
            axes.tick_params(axis="y", length=0)
        incidence_axes.set_yticks(range(terms.height))
        incidence_axes.set_yticklabels([_shorten(term) for term in terms["term"].to_list()], fontsize=7.5)

        highest = 0.0
        for arm_id in drawn_arms:
            points = [(position[rank], value) for rank, value in incidence.get(arm_id, {}).items() if value is not None]
            highest = max([highest, *(value for _, value in points)])
            if points:
                incidence_axes.plot(
                    [value for _, value in points], [row for row, _ in points], linestyle="none", markersize=5,
                    markeredgewidth=0.9, gid=f"incidence-{arm_id}", **_marker(marks[arm_id]),
                )
        end = _nice_ceiling(highest * 1.08, minimum=10)
        incidence_axes.set_xlim(-0.015 * end, end)  # a dot at 0 shows whole, beside the axis
        incidence_axes.set_xlabel("Incidence (% of the arm's subjects)", fontsize=8)

        if reference is not None:
            offsets = {arm_id: (index - (len(compared) - 1) / 2) * min(0.22, 0.6 / len(compared)) for index, arm_id in enumerate(compared)}
            extent = [0.0]
            for arm_id in compared:
                estimates = rows.filter((pl.col("arm_id") == arm_id) & pl.col("risk_difference").is_not_null())
                y = [position[rank] + offsets[arm_id] for rank in estimates["term_rank"].to_list()]
                lower, upper = estimates["ci_lower"].to_list(), estimates["ci_upper"].to_list()
                extent += lower + upper
                difference_axes.hlines(y, lower, upper, color=marks[arm_id]["color"], linewidth=1.1, gid=f"interval-{arm_id}")
                difference_axes.plot(
                    estimates["risk_difference"].to_list(), y, linestyle="none", markersize=4.5, markeredgewidth=0.8,
                    gid=f"difference-{arm_id}", **_marker(marks[arm_id]),
                )
            difference_axes.set_xlim(-_nice_ceiling(-min(extent) * 1.05, minimum=5), _nice_ceiling(max(extent) * 1.05, minimum=5))
            difference_axes.axvline(0, color=MUTED, linewidth=0.9, gid="no-difference")
            difference_axes.set_yticks([])
            reference_label = _shorten(labels[reference])
            difference_axes.set_xlabel(f"Risk difference vs {reference_label} (percentage points, 95% CI)", fontsize=8)
            side = {"transform": difference_axes.transAxes, "fontsize": 7, "color": MUTED, "va": "bottom"}
            difference_axes.text(0.01, 1.01, f"← higher in {reference_label}", **side)
            difference_axes.text(0.99, 1.01, "higher in the other arm →", ha="right", **side)

        handles = [
            Line2D(
                [], [], linestyle="none", markersize=5, markeredgewidth=0.9, label=_arm_legend(arm_id, labels, denominators, reference),
                **_marker(marks[arm_id]),
            )
            for arm_id in drawn_arms
        ]
        figure.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(0.28, 1.0), ncol=min(len(handles), 4), frameon=False, fontsize=7.5,
            borderaxespad=0.3,
        )
        svg = _svg(figure, key=key, title=title, description=alternative)
    return Chart(key=key, svg=svg, alternative=alternative)


def _marker(mark: dict) -> dict:
    """matplotlib's keywords for an arm's mark: a filled shape, or the reference arm's open circle."""
    return {
        "marker": mark["marker"], "color": mark["color"], "markeredgecolor": mark["color"],
        "markerfacecolor": mark.get("markerfacecolor", mark["color"]),
    }


def _incidence_by_arm(rows: pl.DataFrame, reference: str | None) -> dict[str, dict[int, float | None]]:
    """arm id -> term rank -> percent; the reference arm's from the reference columns."""
    incidence: dict[str, dict[int, float | None]] = {}
    for row in rows.iter_rows(named=True):
        incidence.setdefault(row["arm_id"], {})[row["term_rank"]] = row["percent"]
        if reference is not None:
            incidence.setdefault(reference, {})[row["term_rank"]] = row["reference_percent"]
    return incidence


def _denominators(rows: pl.DataFrame, reference: str | None) -> dict[str, int | None]:
    found = {arm_id: denominator for arm_id, denominator in rows.select("arm_id", "denominator").unique().iter_rows()}
    if reference is not None and rows.height:
        found[reference] = rows["reference_denominator"][0]
    return found


def _arm_legend(arm_id: str, labels: dict[str, str], denominators: dict[str, int | None], reference: str | None) -> str:
    label = f"{labels[arm_id]} (N={denominators.get(arm_id, 0) or 0})"
    return f"{label}, reference" if arm_id == reference else label


def _nice_ceiling(value: float, *, minimum: float) -> float:
    """The axis end: ``value`` rounded up to a multiple of 5, at least ``minimum``."""
    return max(minimum, 5 * math.ceil(value / 5)) if value > 0 else minimum


def _dot_plot_alternative(
    rows: pl.DataFrame, terms: int, incidence: dict[str, dict[int, float | None]], labels: dict[str, str], reference: str | None
) -> str:
    if terms == 0:
        return "No treatment-emergent term reaches the display threshold in any arm."
    top = max(
        ((value, arm_id, rank) for arm_id, values in incidence.items() for rank, value in values.items() if value is not None),
        key=lambda item: (item[0], -item[2]),
    )
    term_of = dict(rows.select("term_rank", "term").unique().iter_rows())
    sentence = (
        f"{_count(terms, 'term')} shown, the most frequent at the top. Highest incidence: {term_of[top[2]]} in "
        f"{labels[top[1]]}, {top[0]:.1f}%."
    )
    if reference is None:
        return sentence + " No reference arm: no risk differences."
    estimated = rows.filter(pl.col("risk_difference").is_not_null())
    above = estimated.filter(pl.col("ci_lower") > 0).sort("risk_difference", "term_rank", descending=[True, False])
    below = estimated.filter(pl.col("ci_upper") < 0).sort("risk_difference", "term_rank")
    for found, side in ((above, "above"), (below, "below")):
        if found.is_empty():
            sentence += f" No 95% interval lies wholly {side} 0."
            continue
        listed = ", ".join(f"{row['term']} ({row['arm']}, {row['risk_difference']:+.1f} points)" for row in found.head(LISTED).iter_rows(named=True))
        more = f" and {found.height - LISTED} more" if found.height > LISTED else ""
        frequency = "more" if side == "above" else "less"
        sentence += f" The 95% interval lies wholly {side} 0 ({frequency} frequent than in {labels[reference]}) for {listed}{more}."
    return sentence


# ---- time to the first grade >= 3 AE by arm -------------------------------------------------
def incidence_by_arm_chart(
    curves: pl.DataFrame,
    table: pl.DataFrame,
    *,
    title: str,
    arms: Sequence[tuple[str, str]],
    event: str,
    key: str = "cumulative_incidence_by_arm",
) -> Chart:
    """Cumulative incidence curves of one endpoint, a curve per arm, with the subjects at risk under it.

    ``curves`` are the endpoint's rows of ``cumulative_incidence_curves`` by arm (``arm_id``,
    ``day``: study day, day 0 the origin; ``cumulative_incidence``, percent), ``table`` its rows of
    ``t_cumulative_incidence`` by arm (``month``, ``day``, ``subjects``, ``at_risk``, ``events``,
    ``cumulative_incidence``, ``ci_lower``, ``ci_upper``). The axis runs in months of 30.4375
    days to the first of the table's months at or after the last day drawn; the numbers at risk
    are the table's: N (subjects) at 0, ``at_risk`` at each of its months. ``event`` names the
    event in the description ("grade ≥3 AE").
    """
    arm_ids = [arm_id for arm_id, _ in arms if arm_id in set(curves["arm_id"].to_list())]
    labels = dict(arms)
    series = {arm_id: curves.filter(pl.col("arm_id") == arm_id).sort("day") for arm_id in arm_ids}
    rows = {arm_id: table.filter(pl.col("arm_id") == arm_id).sort("month") for arm_id in arm_ids}
    months = sorted(set(table["month"].to_list()))
    last_day = max([int(frame["day"].max()) for frame in series.values() if frame.height] + [1])
    end = next((month for month in months if month * DAYS_PER_MONTH >= last_day), months[-1] if months else 3.0)
    end = max(end, last_day / DAYS_PER_MONTH)
    shown_months = [0.0] + [month for month in months if month <= end]
    alternative = _incidence_alternative(rows, labels, event)

    with _drawing() as plt_figure:
        legend_rows = math.ceil(len(arm_ids) / 2)
        height = 3.4 + 0.18 * len(arm_ids) + 0.16 * legend_rows
        figure = plt_figure(figsize=(7.5, height))
        risk_height = (0.35 + 0.18 * len(arm_ids)) / height
        axes = figure.add_axes((0.22, risk_height + 0.6 / height, 0.74, 1 - risk_height - (0.85 + 0.16 * legend_rows) / height))
        highest = 0.0
        for index, arm_id in enumerate(arm_ids):
            frame = series[arm_id]
            colour, style = CURVE_STYLES[index % len(CURVE_STYLES)]
            values = frame["cumulative_incidence"].to_list()
            highest = max([highest, *values])
            subjects = rows[arm_id]["subjects"].max() if rows[arm_id].height else None
            events = rows[arm_id]["events"].max() if rows[arm_id].height else None
            label = labels[arm_id] + (f" (N={subjects}, {_count(events or 0, 'event')})" if subjects is not None else "")
            axes.step([day / DAYS_PER_MONTH for day in frame["day"].to_list()], values, where="post", color=colour, linestyle=style,
                      linewidth=1.6, label=label, gid=f"curve-{arm_id}")
        axes.set_xlim(0, end)
        axes.set_xticks(_month_ticks(end))
        axes.set_ylim(0, _nice_ceiling(highest * 1.2, minimum=10))
        from matplotlib.ticker import PercentFormatter

        axes.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
        axes.grid(color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        axes.set_xlabel("Months since the first dose", fontsize=8)
        axes.set_ylabel("Cumulative incidence", fontsize=8)
        if arm_ids:  # above the plot, where no curve runs
            figure.legend(loc="upper left", bbox_to_anchor=(0.22, 1.0), ncol=2, frameon=False, fontsize=7.5, borderaxespad=0.3)
        axes.text(0, -0.2, "Number at risk", transform=axes.transAxes, fontsize=7.5, fontweight="bold", va="top")
        for index, arm_id in enumerate(arm_ids):
            y = -0.28 - 0.075 * index
            colour = CURVE_STYLES[index % len(CURVE_STYLES)][0]
            axes.text(-0.02, y, _shorten(labels[arm_id]), transform=axes.transAxes, ha="right", va="top", fontsize=7.5, color=colour)
            at_risk = _at_risk(rows[arm_id], shown_months)
            for month, count in zip(shown_months, at_risk):
                if count is None:
                    continue
                text = axes.text(month / end, y, str(count), transform=axes.transAxes, ha="center", va="top", fontsize=7.5, color=INK)
                text.set_gid(f"at-risk-{arm_id}-{month:g}")
        svg = _svg(figure, key=key, title=title, description=alternative)
    return Chart(key=key, svg=svg, alternative=alternative)


def _month_ticks(end: float) -> list[float]:
    step = 3 if end <= 12 else 6
    return [float(month) for month in range(0, math.floor(end) + 1, step)]


def _at_risk(rows: pl.DataFrame, months: list[float]) -> list[int | None]:
    """N at month 0, then the table's at_risk at each month (None where the table has no row)."""
    if rows.is_empty():
        return [None for _ in months]
    at_month = dict(rows.select("month", "at_risk").iter_rows())
    return [int(rows["subjects"][0]) if month == 0 else at_month.get(month) for month in months]


def _incidence_alternative(rows: dict[str, pl.DataFrame], labels: dict[str, str], event: str) -> str:
    sentences = []
    for arm_id, frame in rows.items():
        if frame.is_empty():
            continue
        subjects, events = int(frame["subjects"].max()), int(frame["events"].max())
        sentence = f"{labels[arm_id]}: {_count(subjects, 'subject')}, {events} with a {event}"
        estimated = frame.filter(pl.col("cumulative_incidence").is_not_null())
        if estimated.height:
            point = estimated.row(-1, named=True)
            interval = (
                f" (95% CI {point['ci_lower']:.1f}-{point['ci_upper']:.1f}%)"
                if point["ci_lower"] is not None and point["ci_upper"] is not None else ""
            )
            sentence += f"; {point['cumulative_incidence']:.1f}% by month {point['month']:g}{interval}"
        sentences.append(sentence + ".")
    return " ".join(sentences) or "No treated subject in any arm."
