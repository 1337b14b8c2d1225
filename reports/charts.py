"""Charts drawn with matplotlib and inlined as SVG: the AE heatmap, the swimmer plot, Kaplan-Meier
curves and enrolment over time.

Every chart is drawn from a table the report also writes to ``tables/`` and computes nothing
clinical: it places the table's numbers. The SVG is made for inlining in a self-contained report:
no scripts, no links out, text kept as text (the page's fonts render it, a CJK font after DejaVu
Sans), a ``<title>`` and ``<desc>`` named by ``aria-labelledby``, element ids prefixed with the
chart's key so that several charts share a page, and the same bytes for the same data (fixed
``svg.hashsalt``, no date). Grades are told apart by text and marker shape as well as by colour,
so a chart printed in grey still reads.

matplotlib is imported when a chart is drawn, not when this module is imported: the command line
starts without it.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import polars as pl
from markupsafe import Markup, escape

DAYS_PER_MONTH = 30.4375  # as safetydb.incidence: months on the axis are 365.25 / 12 days
FONTS = ["DejaVu Sans", "Noto Sans CJK SC", "WenQuanYi Zen Hei", "sans-serif"]
STYLE = {
    "svg.fonttype": "none",  # text stays text, rendered by the page's fonts
    "svg.hashsalt": "toxwatch",  # clip-path and marker ids from content, not from a random salt
    "font.family": "sans-serif",
    "font.sans-serif": FONTS,
    "font.size": 8,
    "axes.edgecolor": "#6b7280",
    "axes.labelcolor": "#1d1d1f",
    "xtick.color": "#5f6368",
    "ytick.color": "#5f6368",
    "axes.spines.top": False,
    "axes.spines.right": False,
}
INK, MUTED, GRID, EMPTY = "#1d1d1f", "#5f6368", "#e5e7eb", "#f4f4f6"
WIDTH_INCHES = 10.5  # 756 pt: the report's 1100 px column

# Worst CTCAE grade: a sequential palette, light to dark, grade 5 black; light grades carry dark text.
GRADE_COLOURS = {1: "#fdd49e", 2: "#fc8d59", 3: "#d7301f", 4: "#7f0000", 5: "#000000"}
GRADE_TEXT = {1: INK, 2: INK, 3: "#ffffff", 4: "#ffffff", 5: "#ffffff"}
GRADE_NAMES = {1: "Grade 1", 2: "Grade 2", 3: "Grade 3", 4: "Grade 4", 5: "Grade 5 (fatal)"}
# Agents (Okabe-Ito, safe for colour-blind readers), in the order the trial config lists them.
AGENT_COLOURS = ("#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#E69F00")
# Swimmer marks: each a shape of its own, so they read without colour.
GRADE_MARKERS = {3: "o", 4: "D", 5: "*"}
PROGRESSION_COLOUR = "#6a3d9a"
# Kaplan-Meier: one colour and one line style per endpoint.
CURVE_STYLES = (("#0072B2", "-"), ("#D55E00", "--"), ("#009E73", ":"), ("#CC79A7", "-."))
AT_RISK_MONTHS = (0, 3, 6, 12, 18, 24)

HEATMAP_ANY = "(any)"  # the totals row of t_heatmap
AFTER_TREATMENT = "After treatment"
LABEL_CHARACTERS = 44  # a longer term is cut with an ellipsis in the chart; tables/ holds it whole


@dataclass(frozen=True)
class Chart:
    """An inline SVG chart and the sentence that says in words what it shows."""

    key: str
    svg: Markup
    alternative: str


# ---- the AE heatmap -------------------------------------------------------------------------
def heatmap_chart(cells: pl.DataFrame, *, title: str, terms: int = 20, key: str = "t_heatmap") -> Chart:
    """TEAE terms by onset cycle: a row per term, a column per cycle (after treatment last).

    ``cells`` is the table t_heatmap (safetydb/sql/t_heatmap.sql): one row per (meddra_soc, term,
    cycle_label) with ``subjects`` and ``worst_grade``, the '(any)' rows for every cycle, and
    ``term_rank``. The chart shows the '(any)' row and the ``terms`` terms of lowest rank (the most
    frequent). A cell's colour is the worst grade in the cycle among the subjects with the term,
    its text the number of subjects; an empty cell has neither. Under each column: the subjects
    on treatment in it (the denominator).
    """
    if terms < 1:
        raise ValueError(f"terms: at least one term is shown, got {terms}")
    columns = (
        cells.filter(pl.col("term") == HEATMAP_ANY)
        .select("cycle", "cycle_label", "denominator")
        .unique()
        .sort("cycle", nulls_last=True)
    )
    shown = cells.filter(pl.col("term_rank") <= terms).sort("term_rank", "cycle", nulls_last=True)
    rows = shown.select("term_rank", "meddra_soc", "term", "term_subjects", "term_worst_grade").unique().sort("term_rank")
    column_of = {label: position for position, label in enumerate(columns["cycle_label"].to_list())}
    row_of = {rank: position for position, rank in enumerate(rows["term_rank"].to_list())}
    n_columns, n_rows = max(columns.height, 1), max(rows.height, 1)
    total_terms = cells.filter(pl.col("term") != HEATMAP_ANY)["term_rank"].n_unique()

    alternative = _heatmap_alternative(shown, rows, columns, terms_shown=rows.height - 1, total_terms=total_terms)
    with _drawing() as plt_figure:
        height = 1.5 + 0.24 * n_rows
        figure = plt_figure(figsize=(WIDTH_INCHES, height))
        axes = figure.add_axes((0.27, 0.9 / height, 0.71, (height - 1.5) / height))
        axes.set_xlim(0, n_columns)
        axes.set_ylim(n_rows, 0)
        axes.set_facecolor(EMPTY)
        for spine in axes.spines.values():
            spine.set_visible(False)
        # Light lines between the cells, so an empty cell reads as empty, not as missing.
        axes.vlines(range(n_columns + 1), 0, n_rows, color="#ffffff", linewidth=1.2)
        axes.hlines(range(n_rows + 1), 0, n_columns, color="#ffffff", linewidth=1.2)
        if rows.height > 1:
            axes.axhline(1, color=MUTED, linewidth=1.0)  # under the totals row

        from matplotlib.collections import PatchCollection
        from matplotlib.patches import Patch, Rectangle

        filled = shown.filter(pl.col("subjects") > 0)
        rectangles, colours = [], []
        for cell in filled.iter_rows(named=True):
            x, y = column_of[cell["cycle_label"]], row_of[cell["term_rank"]]
            grade = cell["worst_grade"]
            rectangles.append(Rectangle((x + 0.04, y + 0.06), 0.92, 0.88))
            colours.append(GRADE_COLOURS[grade])
            text = axes.text(
                x + 0.5, y + 0.53, str(cell["subjects"]), ha="center", va="center", fontsize=7,
                color=GRADE_TEXT[grade], fontweight="bold" if grade >= 3 else "normal",
            )
            text.set_gid(f"count-{y}-{x}")
        # One path per non-empty cell, in one group: the chart's cells.
        axes.add_collection(PatchCollection(rectangles, facecolors=colours, edgecolors="none", gid="cells"))

        axes.xaxis.tick_top()
        axes.set_xticks([x + 0.5 for x in range(columns.height)])
        axes.set_xticklabels(["After" if label == AFTER_TREATMENT else label for label in columns["cycle_label"]], fontsize=7)
        axes.tick_params(axis="both", length=0, pad=3)
        axes.set_xlabel("Cycle of onset (After: after the last dose, within the treatment-emergent window)", fontsize=8, labelpad=6)
        axes.xaxis.set_label_position("top")
        axes.set_yticks([y + 0.5 for y in range(rows.height)])
        axes.set_yticklabels(
            [
                f"Any TEAE ({row['term_subjects']})" if row["term"] == HEATMAP_ANY else f"{_shorten(row['term'])} ({row['term_subjects']})"
                for row in rows.iter_rows(named=True)
            ],
            fontsize=7.5,
        )
        for x, denominator in enumerate(columns["denominator"].to_list()):
            axes.text(x + 0.5, n_rows + 0.25, str(denominator), ha="center", va="top", fontsize=6.5, color=MUTED)
        axes.text(-0.15, n_rows + 0.25, "N on treatment", ha="right", va="top", fontsize=7, color=MUTED, transform=axes.transData)
        figure.legend(
            handles=[Patch(facecolor=GRADE_COLOURS[g], label=GRADE_NAMES[g]) for g in GRADE_COLOURS],
            loc="lower left", bbox_to_anchor=(0.27, 0.0), ncol=5, frameon=False, fontsize=7.5,
            title="Cell colour: worst grade in the cycle; cell number: subjects with the term; (n): subjects with the term in any cycle",
            title_fontsize=7.5, alignment="left",
        )
        svg = _svg(figure, key=key, title=title, description=alternative)
    return Chart(key=key, svg=svg, alternative=alternative)


def _heatmap_alternative(shown: pl.DataFrame, rows: pl.DataFrame, columns: pl.DataFrame, *, terms_shown: int, total_terms: int) -> str:
    cycles = [label for label in columns["cycle_label"].to_list() if label != AFTER_TREATMENT]
    span = f"cycles {cycles[0]}-{cycles[-1]}" if len(cycles) > 1 else (f"cycle {cycles[0]}" if cycles else "no cycle")
    if AFTER_TREATMENT in columns["cycle_label"].to_list():
        span += " and after treatment"
    terms = rows.filter(pl.col("term") != HEATMAP_ANY)
    if terms.is_empty():
        return f"No treatment-emergent adverse event in {span}."
    top = terms.row(0, named=True)
    sentence = f"{top['term']} is the most frequent treatment-emergent term: {_count(top['term_subjects'], 'subject')}, worst grade {top['term_worst_grade']}"
    reached = shown.filter((pl.col("term_rank") == top["term_rank"]) & (pl.col("worst_grade") == top["term_worst_grade"]))
    if reached.height:
        label = reached.row(0, named=True)["cycle_label"]
        sentence += " after treatment" if label == AFTER_TREATMENT else f" in cycle {label}"
    any_row = shown.filter((pl.col("term") == HEATMAP_ANY) & (pl.col("subjects") > 0)).sort("subjects", "cycle", descending=[True, False], nulls_last=True)
    if any_row.height:
        busiest = any_row.row(0, named=True)
        where = "after treatment" if busiest["cycle_label"] == AFTER_TREATMENT else f"cycle {busiest['cycle_label']}"
        sentence += (
            f". Most subjects with a TEAE onset: {where}, {busiest['subjects']} of {busiest['denominator']} on treatment"
        )
    return f"{sentence}. The chart shows the {terms_shown} most frequent of {total_terms} terms across {span}."


# ---- the swimmer plot -----------------------------------------------------------------------
SWIMMER_KINDS = ("on_study", "on_agent", "hold", "reduction", "grade_3_plus", "death", "progression", "on_treatment_at_cut")


def swimmer_chart(
    events: pl.DataFrame,
    *,
    title: str,
    agents: dict[str, str] | None = None,
    max_subjects: int = 100,
    key: str = "t_swimmer",
) -> Chart:
    """One lane per treated subject, longest on study at the top, in months from the first dose.

    ``events`` is the table t_swimmer (safetydb/sql/t_swimmer.sql). A lane holds a grey line for
    the time on study, a bar per agent from its first to its last dose, an open square at each
    dose hold and a triangle at each reduction (on the agent's bar), grade >= 3 AE onsets (circle
    grade 3, diamond grade 4, star grade 5), a cross at death, a plus at the first progression and
    an arrow at the cut for a subject still on treatment. ``agents`` names the agents, in the
    order their bars are drawn; agents missing from it follow under their ids.

    With more than ``max_subjects`` subjects, the lanes shown are the subjects with a grade >= 3
    AE or a death first, then the others by time on study; the text says how many are left out.
    """
    if max_subjects < 1:
        raise ValueError(f"max_subjects: at least one lane is drawn, got {max_subjects}")
    unknown = set(events["kind"].unique().to_list()) - set(SWIMMER_KINDS)
    if unknown:
        raise ValueError(f"events: unknown kind(s) {sorted(unknown)}; expected one of {SWIMMER_KINDS}")
    names = dict(agents or {})
    for agent in sorted(events["agent"].drop_nulls().unique().to_list()):
        names.setdefault(agent, agent)
    agent_order = [agent for agent in names if agent in set(events["agent"].drop_nulls().to_list())] or list(names)

    lanes = events.group_by("subject_id").agg(
        pl.col("days_on_study").max(),
        pl.col("kind").is_in(["grade_3_plus", "death"]).any().alias("serious_course"),
    )
    total = lanes.height
    if total > max_subjects:
        lanes = lanes.sort(["serious_course", "days_on_study", "subject_id"], descending=[True, True, False], nulls_last=True).head(max_subjects)
    lanes = lanes.sort(["days_on_study", "subject_id"], descending=[True, False], nulls_last=True)
    lane_of = {subject: position for position, subject in enumerate(lanes["subject_id"].to_list())}
    drawn = events.filter(pl.col("subject_id").is_in(list(lane_of)))
    left_out = total - lanes.height

    alternative = _swimmer_alternative(drawn, lanes.height, left_out, max_subjects)
    n_lanes = max(lanes.height, 1)
    last_day = max([d for d in (drawn["end_day"].max(), drawn["start_day"].max(), drawn["days_on_study"].max()) if d is not None] + [1])
    # The axis ends just past the last mark (a lane to day 731 is not worth three empty months); ticks every 3 months.
    months = max(3.0, last_day / DAYS_PER_MONTH + 0.4)

    with _drawing() as plt_figure:
        from matplotlib.collections import PolyCollection
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        height = 1.6 + 0.15 * n_lanes
        figure = plt_figure(figsize=(WIDTH_INCHES, height))
        axes = figure.add_axes((0.12, 0.55 / height, 0.85, (height - 1.35) / height))
        axes.set_ylim(n_lanes - 0.5, -0.5)
        axes.set_xlim(0, months)
        axes.set_xticks(range(0, math.floor(months) + 1, 3))
        axes.grid(axis="x", color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        axes.set_xlabel("Months since the first dose", fontsize=8)
        axes.set_yticks([])
        axes.spines["left"].set_visible(False)
        # Subject ids as plain text beside the lanes (far lighter to draw than one tick per lane).
        for subject, lane in lane_of.items():
            axes.text(-0.01, lane, subject, transform=axes.get_yaxis_transform(), ha="right", va="center",
                      fontsize=6.5 if n_lanes > 40 else 7.5, color=MUTED)

        n_agents = max(len(agent_order), 1)
        bar_height = 0.7 / n_agents
        offset = {agent: -0.35 + bar_height * (i + 0.5) for i, agent in enumerate(agent_order)}
        colour = {agent: AGENT_COLOURS[i % len(AGENT_COLOURS)] for i, agent in enumerate(agent_order)}

        def month(day: int) -> float:
            return (day - 1) / DAYS_PER_MONTH  # study day 1 = the first dose = month 0

        def rows(kind: str) -> list[dict]:
            return drawn.filter(pl.col("kind") == kind).sort("subject_id", "agent", "start_day", "ae_id", nulls_last=True).to_dicts()

        # One group per kind of mark (and per agent, per grade): a test or a reader counts its members.
        spans = [r for r in rows("on_study") if r["start_day"] is not None and r["end_day"] is not None]
        axes.hlines([lane_of[r["subject_id"]] for r in spans], [month(r["start_day"]) for r in spans],
                    [month(r["end_day"] + 1) for r in spans], color="#9ca3af", linewidth=0.8, gid="on-study")
        for agent in agent_order:
            courses = [r for r in rows("on_agent") if r["agent"] == agent]
            boxes = []
            for r in courses:
                y, start, end = lane_of[r["subject_id"]] + offset[agent], month(r["start_day"]), month(r["end_day"] + 1)
                half = bar_height * 0.45
                boxes.append([(start, y - half), (end, y - half), (end, y + half), (start, y + half)])
            axes.add_collection(PolyCollection(boxes, facecolors=colour[agent], edgecolors="none", gid=f"on-agent-{agent}"))
        marks = {
            "hold": dict(marker="s", markersize=4, markerfacecolor="#ffffff", markeredgecolor=INK, markeredgewidth=0.7),
            "reduction": dict(marker="v", markersize=5, markerfacecolor=INK, markeredgecolor="#ffffff", markeredgewidth=0.4),
            "progression": dict(marker="P", markersize=6.5, markerfacecolor=PROGRESSION_COLOUR, markeredgecolor="#ffffff", markeredgewidth=0.4),
            "death": dict(marker="X", markersize=7, markerfacecolor=INK, markeredgecolor="#ffffff", markeredgewidth=0.5),
            "on_treatment_at_cut": dict(marker=">", markersize=6.5, markerfacecolor=INK, markeredgecolor=INK),
        }
        grade_marks = {
            grade: dict(marker=GRADE_MARKERS[grade], markersize={3: 5.5, 4: 5.5, 5: 8.5}[grade], markerfacecolor=GRADE_COLOURS[grade],
                        markeredgecolor="#ffffff", markeredgewidth=0.5)
            for grade in GRADE_MARKERS
        }

        def place(points: list[dict], gid: str, style: dict) -> None:
            points = [r for r in points if r["start_day"] is not None]  # a death of unknown date has no place
            if points:
                y = [lane_of[r["subject_id"]] + offset.get(r["agent"], 0.0) for r in points]
                axes.plot([month(r["start_day"]) for r in points], y, linestyle="none", gid=gid, **style)

        for kind in ("hold", "reduction"):
            place(rows(kind), kind, marks[kind])
        severe = rows("grade_3_plus")
        for grade in GRADE_MARKERS:
            place([r for r in severe if min(r["grade"], 5) == grade], f"grade-{grade}", grade_marks[grade])
        for kind in ("progression", "death", "on_treatment_at_cut"):
            place(rows(kind), kind.replace("_", "-"), marks[kind])

        handles = [Patch(facecolor=colour[a], label=f"on {names[a]} (first to last dose)") for a in agent_order]
        handles += [
            Line2D([], [], color="#9ca3af", linewidth=0.8, label="on study (to death or last contact)"),
            Line2D([], [], linestyle="none", label="dose hold", **marks["hold"]),
            Line2D([], [], linestyle="none", label="dose reduction", **marks["reduction"]),
        ]
        handles += [Line2D([], [], linestyle="none", label=f"grade {g} AE onset", **grade_marks[g]) for g in GRADE_MARKERS]
        handles += [
            Line2D([], [], linestyle="none", label="death", **marks["death"]),
            Line2D([], [], linestyle="none", label="first progression (PD)", **marks["progression"]),
            Line2D([], [], linestyle="none", label="on treatment at the cut", **marks["on_treatment_at_cut"]),
        ]
        figure.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.12, 1.0), ncol=4, frameon=False, fontsize=7.5, borderaxespad=0.3)
        svg = _svg(figure, key=key, title=title, description=alternative)
    return Chart(key=key, svg=svg, alternative=alternative)


def _swimmer_alternative(drawn: pl.DataFrame, lanes: int, left_out: int, max_subjects: int) -> str:
    if lanes == 0:
        return "No treated subject at this data cut."

    def count(kind: str) -> tuple[int, int]:
        rows = drawn.filter(pl.col("kind") == kind)
        return rows.height, rows["subject_id"].n_unique()

    longest = drawn["days_on_study"].max()
    parts = [f"{_count(lanes, 'treated subject')}, one lane each"]
    if longest is not None:
        parts[0] += f", the longest {(longest - 1) / DAYS_PER_MONTH:.1f} months on study"
    severe, severe_subjects = count("grade_3_plus")
    parts.append(f"{_count(severe, 'grade ≥3 AE onset')} in {_count(severe_subjects, 'subject')}")
    deaths = drawn.filter(pl.col("kind") == "death")
    undated = deaths.filter(pl.col("start_day").is_null()).height
    parts.append(_count(deaths.height, "death") + (f" ({undated} of unknown date, not drawn)" if undated else ""))
    progressions, _ = count("progression")
    if progressions:
        parts.append(_count(progressions, "first progression"))
    ongoing, _ = count("on_treatment_at_cut")
    parts.append(f"{_count(ongoing, 'subject')} still on treatment at the cut")
    holds, _ = count("hold")
    reductions, _ = count("reduction")
    parts.append(f"{_count(holds, 'dose hold')} and {_count(reductions, 'dose reduction')}")
    sentence = "; ".join(parts) + "."
    if left_out:
        sentence += (
            f" With more than {max_subjects} subjects the plot shows {lanes}: those with a grade ≥3 AE or a death first, "
            f"then the longest on study; {_count(left_out, 'subject')} {'is' if left_out == 1 else 'are'} left out (all are in the table)."
        )
    return sentence


# ---- Kaplan-Meier curves --------------------------------------------------------------------
def km_chart(
    curves: pl.DataFrame,
    *,
    title: str,
    labels: dict[str, str] | None = None,
    at_risk_months: Sequence[int] = AT_RISK_MONTHS,
    origin: str = "the first dose",
    key: str = "km_curves",
) -> Chart:
    """Kaplan-Meier curves with their 95% bands, censoring ticks and the numbers at risk.

    ``curves`` holds one row per endpoint and distinct time from 0: ``endpoint``, ``time_days``,
    ``survival``, ``ci_lower``, ``ci_upper`` (fractions), ``at_risk`` (subjects with a time at or
    after it), ``events``, ``censored``. The x axis is months from the origin, to the last of
    ``at_risk_months``; under it, per endpoint, the subjects at risk at each of those months: the
    ``at_risk`` of the first time at or after the month, 0 past the last time. ``labels`` names
    the endpoints (default: the endpoint in capitals); ``origin`` names time 0 on the axis.
    """
    required = {"endpoint", "time_days", "survival", "ci_lower", "ci_upper", "at_risk", "events", "censored"}
    missing = required - set(curves.columns)
    if missing:
        raise ValueError(f"curves: missing column(s) {sorted(missing)}")
    endpoints = list(dict.fromkeys(curves["endpoint"].to_list()))
    names = {endpoint: (labels or {}).get(endpoint, endpoint.upper()) for endpoint in endpoints}
    months = max(at_risk_months) if at_risk_months else 24
    series = {endpoint: curves.filter(pl.col("endpoint") == endpoint).sort("time_days") for endpoint in endpoints}
    at_risk = {endpoint: [_at_risk(series[endpoint], m * DAYS_PER_MONTH) for m in at_risk_months] for endpoint in endpoints}
    alternative = _km_alternative(series, names)

    with _drawing() as plt_figure:
        height = 3.4 + 0.18 * len(endpoints)
        figure = plt_figure(figsize=(7.5, height))
        risk_height = (0.35 + 0.18 * len(endpoints)) / height
        axes = figure.add_axes((0.16, risk_height + 0.6 / height, 0.8, 1 - risk_height - 0.85 / height))
        for position, endpoint in enumerate(endpoints):
            frame = series[endpoint]
            line_colour, line_style = CURVE_STYLES[position % len(CURVE_STYLES)]
            x = [t / DAYS_PER_MONTH for t in frame["time_days"].to_list()]
            axes.fill_between(
                # No interval where the estimate is 0 (empty in the table): a gap in the band, not an error.
                x, frame["ci_lower"].cast(pl.Float64).fill_null(math.nan).to_list(),
                frame["ci_upper"].cast(pl.Float64).fill_null(math.nan).to_list(), step="post", color=line_colour, alpha=0.15,
                linewidth=0, gid=f"band-{endpoint}",
            )
            axes.step(x, frame["survival"].to_list(), where="post", color=line_colour, linestyle=line_style, linewidth=1.6,
                      label=names[endpoint], gid=f"curve-{endpoint}")
            censored = frame.filter(pl.col("censored") > 0)
            axes.plot(
                [t / DAYS_PER_MONTH for t in censored["time_days"].to_list()], censored["survival"].to_list(), linestyle="none",
                marker="|", markersize=6, markeredgewidth=1.0, color=line_colour, gid=f"censored-{endpoint}",
            )
        axes.set_xlim(0, months)
        axes.set_ylim(0, 1.02)
        axes.set_xticks(list(at_risk_months))
        axes.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        axes.set_yticklabels(["0%", "25%", "50%", "75%", "100%"])
        axes.grid(color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        axes.set_xlabel(f"Months since {origin}", fontsize=8)
        axes.set_ylabel("Estimated probability (95% band)", fontsize=8)
        if endpoints:
            axes.legend(loc="upper right", frameon=False, fontsize=8, title="| censored", title_fontsize=7)
        axes.text(0, -0.2, "Number at risk", transform=axes.transAxes, fontsize=7.5, fontweight="bold", va="top")
        for position, endpoint in enumerate(endpoints):
            y = -0.28 - 0.075 * position
            axes.text(-0.02, y, names[endpoint], transform=axes.transAxes, ha="right", va="top", fontsize=7.5, color=CURVE_STYLES[position % len(CURVE_STYLES)][0])
            for m, n in zip(at_risk_months, at_risk[endpoint]):
                text = axes.text(m / months, y, str(n), transform=axes.transAxes, ha="center", va="top", fontsize=7.5, color=INK)
                text.set_gid(f"at-risk-{endpoint}-{m}")
        svg = _svg(figure, key=key, title=title, description=alternative)
    return Chart(key=key, svg=svg, alternative=alternative)


def _at_risk(frame: pl.DataFrame, day: float) -> int:
    later = frame.filter(pl.col("time_days") >= day)
    return int(later["at_risk"][0]) if later.height else 0


def _km_alternative(series: dict[str, pl.DataFrame], names: dict[str, str]) -> str:
    sentences = []
    for endpoint, frame in series.items():
        if frame.is_empty():
            sentences.append(f"{names[endpoint]}: no subject.")
            continue
        subjects = int(frame["at_risk"][0])
        events = int(frame["events"].sum())
        sentence = f"{names[endpoint]}: {_count(subjects, 'subject')}, {_count(events, 'event')}"
        for months in (12, 6):
            reached = frame.filter(pl.col("time_days") <= months * DAYS_PER_MONTH)
            if frame["time_days"].max() >= months * DAYS_PER_MONTH and reached.height:
                point = reached.row(-1, named=True)
                sentence += (
                    f"; {100 * point['survival']:.0f}% at {months} months (95% band {100 * point['ci_lower']:.0f}-{100 * point['ci_upper']:.0f}%)"
                )
                break
        sentences.append(sentence + ".")
    return " ".join(sentences) or "No subject."


# ---- enrolment over time --------------------------------------------------------------------
def enrolment_chart(months: pl.DataFrame, *, title: str, key: str = "t_enrolment_by_month") -> Chart:
    """Subjects enrolled each month (bars) and in total (line), from ``month`` (the first day of
    the month), ``enrolled`` and ``cumulative_enrolled``."""
    frame = months.sort("month")
    alternative = _enrolment_alternative(frame)
    with _drawing() as plt_figure:
        figure = plt_figure(figsize=(7.5, 3.2))
        axes = figure.add_axes((0.09, 0.22, 0.88, 0.68))
        labels = [_month_label(m) for m in frame["month"].to_list()]
        positions = list(range(frame.height))
        bars = axes.bar(positions, frame["enrolled"].to_list(), color="#a9bcd0", width=0.7, label="enrolled in the month")
        for position, bar in enumerate(bars):
            bar.set_gid(f"enrolled-{position}")
        axes.plot(positions, frame["cumulative_enrolled"].to_list(), color="#0072B2", marker="o", markersize=3, linewidth=1.6,
                  label="enrolled in total", gid="cumulative")
        if frame.height:
            last = frame.row(-1, named=True)
            axes.annotate(str(last["cumulative_enrolled"]), (positions[-1], last["cumulative_enrolled"]), xytext=(4, 4),
                          textcoords="offset points", fontsize=8, color="#0072B2")
        step = max(1, -(-len(labels) // 18))
        axes.set_xticks(positions[::step])
        axes.set_xticklabels(labels[::step], rotation=45, ha="right", fontsize=7)
        axes.set_xlim(-0.6, max(frame.height, 1) - 0.4)
        axes.set_ylim(0, max([*frame["cumulative_enrolled"].to_list(), 1]) * 1.12)
        axes.set_ylabel("Subjects", fontsize=8)
        axes.grid(axis="y", color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        axes.legend(loc="upper left", frameon=False, fontsize=8)
        svg = _svg(figure, key=key, title=title, description=alternative)
    return Chart(key=key, svg=svg, alternative=alternative)


def _enrolment_alternative(frame: pl.DataFrame) -> str:
    enrolling = frame.filter(pl.col("enrolled") > 0)
    if enrolling.is_empty():
        return "No subject enrolled."
    first, last = enrolling["month"].min(), enrolling["month"].max()
    busiest = enrolling.sort(["enrolled", "month"], descending=[True, False]).row(0, named=True)
    total = frame["cumulative_enrolled"].max()
    return (
        f"{_count(total, 'subject')} enrolled from {_month_name(first)} to {_month_name(last)}; "
        f"the most in one month: {busiest['enrolled']}, in {_month_name(busiest['month'])}."
    )


def _month_label(month: date) -> str:
    return f"{month.year}-{month.month:02d}"


def _month_name(month: date) -> str:
    return month.strftime("%B %Y")


# ---- SVG ------------------------------------------------------------------------------------
@contextmanager
def _drawing():
    """matplotlib with the report's style, for one chart: yields the Figure class (no pyplot, no
    GUI backend, no global state left behind)."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE), warnings.catch_warnings():
        # Text is measured with DejaVu Sans where no CJK font is installed; the page renders it.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        yield Figure


ID = re.compile(r'\bid="([^"]+)"')
REFERENCE = re.compile(r'(xlink:href="#|href="#|url\(#)')


def _svg(figure, *, key: str, title: str, description: str) -> Markup:
    """The figure as an SVG element to inline: ids prefixed with ``key``, a title and a
    description, no XML prolog, no metadata, the stylesheet scoped to this chart."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    text = ID.sub(lambda match: f'id="{key}-{match.group(1)}"', text)
    text = REFERENCE.sub(lambda match: f"{match.group(1)}{key}-", text)
    # matplotlib's stylesheet is `*{...}`: scoped, so that it styles this chart and nothing else on the page.
    text = text.replace("<style type=\"text/css\">*{", f"<style type=\"text/css\">#{key}-chart *{{", 1)
    opening_end = text.index(">") + 1
    opening = text[:opening_end]
    # As wide as the column, up to the size drawn; the height follows from the viewBox. (A height
    # attribute would hold when the width shrinks: a PDF renderer then pads the chart above and below.)
    drawn_width = re.search(r' width="([\d.]+pt)"', opening).group(1)
    opening = re.sub(r' width="[\d.]+pt" height="[\d.]+pt"', ' width="100%"', opening, count=1)
    opening = opening.replace(
        "<svg ",
        f'<svg id="{key}-chart" class="chart" role="img" aria-labelledby="{key}-title {key}-desc" '
        f'style="max-width: {drawn_width}" ',
        1,
    )
    heading = f'<title id="{key}-title">{escape(title)}</title><desc id="{key}-desc">{escape(description)}</desc>'
    return Markup(opening + heading + text[opening_end:].rstrip() + "\n")


def _count(number: int, thing: str) -> str:
    """"1 subject", "2 subjects": the sentences under the charts read as written by hand."""
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"


def _shorten(label: str) -> str:
    return label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "\u2026"
