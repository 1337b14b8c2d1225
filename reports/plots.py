"""Inline SVG charts: no scripts, no network, readable when printed."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT = 520, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 48, 16, 16, 40


def boundary_chart(path: list[dict], curve: list[dict], *, title: str) -> Markup:
    """Cumulative subjects with the event against evaluable subjects, with the stopping boundary.

    ``path`` holds (n, x) points in the order subjects became evaluable; ``curve`` the boundary
    (n, r): the rule stops when x > r, so the stop region starts at r + 1.
    """
    max_n = max([p["n"] for p in path] + [c["n"] for c in curve] + [1])
    shown_curve = [c for c in curve if c["n"] <= max(max_n, 1)]
    max_x = max([p["x"] for p in path] + [min(c["r"] + 1, c["n"]) for c in shown_curve] + [1])

    def sx(n: float) -> float:
        return MARGIN_LEFT + (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) * n / max_n

    def sy(x: float) -> float:
        return HEIGHT - MARGIN_BOTTOM - (HEIGHT - MARGIN_TOP - MARGIN_BOTTOM) * x / max_x

    # Colours and strokes as SVG attributes too: a PDF renderer applies no page CSS inside an SVG.
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}" font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{MARGIN_LEFT}" y1="{HEIGHT - MARGIN_BOTTOM}" x2="{WIDTH - MARGIN_RIGHT}" y2="{HEIGHT - MARGIN_BOTTOM}" stroke="{MUTED}" class="axis"/>',
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{HEIGHT - MARGIN_BOTTOM}" stroke="{MUTED}" class="axis"/>',
    ]
    for tick in _ticks(max_n):
        parts.append(f'<text x="{sx(tick):.1f}" y="{HEIGHT - MARGIN_BOTTOM + 14}" font-size="11" fill="{MUTED}" class="tick" text-anchor="middle">{tick}</text>')
    for tick in _ticks(max_x):
        parts.append(f'<text x="{MARGIN_LEFT - 6}" y="{sy(tick) + 4:.1f}" font-size="11" fill="{MUTED}" class="tick" text-anchor="end">{tick}</text>')
    parts.append(f'<text x="{(MARGIN_LEFT + WIDTH) / 2:.0f}" y="{HEIGHT - 6}" font-size="11" fill="{MUTED}" class="label" text-anchor="middle">evaluable subjects (n)</text>')
    parts.append(f'<text x="12" y="{(HEIGHT) / 2:.0f}" font-size="11" fill="{MUTED}" class="label" text-anchor="middle" transform="rotate(-90 12 {(HEIGHT) / 2:.0f})">subjects with event (x)</text>')

    if shown_curve:
        # Stop region: the first count that crosses the boundary (r + 1) as a step line.
        points = []
        previous_n = shown_curve[0]["n"]
        for point in shown_curve:
            stop_at = min(point["r"] + 1, max_x)
            points.append(f"{sx(previous_n):.1f},{sy(stop_at):.1f}")
            points.append(f"{sx(point['n']):.1f},{sy(stop_at):.1f}")
            previous_n = point["n"]
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{STOP_COLOUR}" stroke-width="2" stroke-dasharray="5 3" class="boundary"/>')
    if path:
        # The path keeps only the points where x steps up: draw across, then up.
        steps = [f"{sx(0):.1f},{sy(0):.1f}"]
        previous_x = 0
        for point in path:
            steps.append(f"{sx(point['n']):.1f},{sy(previous_x):.1f}")
            steps.append(f"{sx(point['n']):.1f},{sy(point['x']):.1f}")
            previous_x = point["x"]
        parts.append(f'<polyline points="{" ".join(steps)}" fill="none" stroke="{INCIDENCE_COLOUR}" stroke-width="2" class="observed"/>')
        last = path[-1]
        parts.append(f'<circle cx="{sx(last["n"]):.1f}" cy="{sy(last["x"]):.1f}" r="4" fill="{INCIDENCE_COLOUR}" class="observed-point"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _ticks(maximum: int) -> list[int]:
    step = max(1, round(maximum / 5))
    return list(range(0, maximum + 1, step))


INCIDENCE_COLOUR = "#1a56b3"
STOP_COLOUR = "#b3261e"
MUTED = "#6b7280"
DAYS_PER_MONTH = 30.4375  # as safetydb.incidence: months on the axis are 365.25 / 12 days
PANEL_COLUMNS = 3
HEADLINE_HEIGHT = 230
SMALL_CAPTION_HEIGHT = 24
SMALL_HEIGHT, SMALL_GAP = 140, 8
SMALL_LABEL_CHARACTERS = 26  # what fits a third of the width at 10px bold; the text alternative keeps it whole


def cumulative_incidence_chart(curves: list[dict], title: str, *, months: int = 24) -> Markup:
    """Cumulative incidence curves: the first endpoint large, the others as small multiples.

    ``curves`` holds (endpoint, label, day, cumulative_incidence in percent) step points, the
    rows of the curve frame ``safetydb.incidence.cumulative_incidence`` returns
    (``curves.to_dicts()``): any grade >= 3 first, then the AESI sets. The first endpoint is
    drawn on its own scale; the AESIs share one scale so their panels compare at a glance. The
    x axis is months from the first dose, 0 to ``months``.
    """
    series: dict[str, dict] = {}
    for row in curves:
        entry = series.setdefault(row["endpoint"], {"label": row["label"], "points": []})
        entry["points"].append((row["day"], row["cumulative_incidence"]))
    for entry in series.values():
        entry["points"] = sorted(p for p in entry["points"] if p[0] <= months * DAYS_PER_MONTH)

    endpoints = list(series)
    headline, small = endpoints[:1], endpoints[1:]
    small_rows = -(-len(small) // PANEL_COLUMNS)
    height = HEADLINE_HEIGHT + (SMALL_CAPTION_HEIGHT + small_rows * (SMALL_HEIGHT + SMALL_GAP) if small else 0)
    summary = "; ".join(_incidence_summary(series[e]) for e in endpoints) or "no treated subjects"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-label="{escape(title)}. {escape(summary)}." font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(summary)}.</desc>",
    ]
    for endpoint in headline:
        box = (0, 0, WIDTH, HEADLINE_HEIGHT)
        y_max = _nice_ceiling(_highest(series[endpoint]))
        parts += _incidence_panel(endpoint, series[endpoint], box, y_max, months, large=True)
    small_y_max = _nice_ceiling(max([_highest(series[e]) for e in small] + [0]))
    panel_width = WIDTH / PANEL_COLUMNS
    if small:
        parts.append(
            f'<text x="{WIDTH / 2:.0f}" y="{HEADLINE_HEIGHT + 14}" font-size="11" fill="{MUTED}" class="label" '
            'text-anchor="middle">Adverse events of special interest, any grade: one scale, months since first dose</text>'
        )
    for position, endpoint in enumerate(small):
        row, column = divmod(position, PANEL_COLUMNS)
        panel_top = HEADLINE_HEIGHT + SMALL_CAPTION_HEIGHT + row * (SMALL_HEIGHT + SMALL_GAP)
        box = (column * panel_width, panel_top, panel_width, SMALL_HEIGHT)
        parts += _incidence_panel(endpoint, series[endpoint], box, small_y_max, months, large=False)
    parts.append("</svg>")
    return Markup("".join(parts))


def _highest(entry: dict) -> float:
    return max([percent for _, percent in entry["points"]] + [0])


def _incidence_panel(endpoint: str, entry: dict, box: tuple, y_max: float, months: int, *, large: bool) -> list[str]:
    """One panel: axes in months and percent, the step line, the label with the last value."""
    left, top, width, height = box
    margin_left, margin_right = (48, 16) if large else (36, 10)
    margin_top, margin_bottom = (28, 40) if large else (38, 28)
    x0, x1 = left + margin_left, left + width - margin_right
    y0, y1 = top + height - margin_bottom, top + margin_top

    def sx(month: float) -> float:
        return x0 + (x1 - x0) * month / months

    def sx_day(day: float) -> float:
        return sx(day / DAYS_PER_MONTH)

    def sy(percent: float) -> float:
        return y0 - (y0 - y1) * percent / y_max

    font = 11 if large else 10
    if large:
        heading = [(_incidence_summary(entry), 12, "bold", top + margin_top - 10)]
    else:
        label = entry["label"]
        if len(label) > SMALL_LABEL_CHARACTERS:
            label = label[: SMALL_LABEL_CHARACTERS - 1] + "\u2026"
        heading = [
            (label, 10, "bold", top + 12),
            (_incidence_summary(entry, with_label=False), 10, "normal", top + 25),
        ]
    parts = [
        f'<text x="{left + 8:.1f}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" fill="#111827">{escape(text)}</text>'
        for text, size, weight, y in heading
    ]
    parts += [
        f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y0:.1f}" stroke="{MUTED}" class="axis"/>',
        f'<line x1="{x0:.1f}" y1="{y1:.1f}" x2="{x0:.1f}" y2="{y0:.1f}" stroke="{MUTED}" class="axis"/>',
    ]
    month_ticks = [0, 3, 6, 12, 18, 24] if large and months == 24 else [0, months // 2, months]
    for month in month_ticks:
        parts.append(
            f'<text x="{sx(month):.1f}" y="{y0 + 13:.1f}" font-size="{font}" fill="{MUTED}" class="tick" '
            f'text-anchor="middle">{month}</text>'
        )
    for percent in (0, y_max / 2, y_max):
        if percent:  # a light grid line; the x axis is the line at 0
            parts.append(
                f'<line x1="{x0:.1f}" y1="{sy(percent):.1f}" x2="{x1:.1f}" y2="{sy(percent):.1f}" stroke="#e5e7eb"/>'
            )
        parts.append(
            f'<text x="{x0 - 4:.1f}" y="{sy(percent) + 4:.1f}" font-size="{font}" fill="{MUTED}" class="tick" '
            f'text-anchor="end">{percent:g}%</text>'
        )
    if large:
        parts.append(
            f'<text x="{(x0 + x1) / 2:.0f}" y="{top + height - 8:.0f}" font-size="{font}" fill="{MUTED}" class="label" '
            'text-anchor="middle">months since first dose</text>'
        )
    # Steps: across at the previous value, then up at the day the estimate rises.
    steps, previous = [], None
    for day, percent in entry["points"]:
        if previous is not None:
            steps.append(f"{sx_day(day):.1f},{sy(previous):.1f}")
        steps.append(f"{sx_day(day):.1f},{sy(percent):.1f}")
        previous = percent
    parts.append(
        f'<polyline class="incidence" data-endpoint="{escape(endpoint)}" fill="none" stroke="{INCIDENCE_COLOUR}" '
        f'stroke-width="{2 if large else 1.5}" points="{" ".join(steps)}"/>'
    )
    return parts


def _incidence_summary(entry: dict, *, with_label: bool = True) -> str:
    prefix = f"{entry['label']}: " if with_label else ""
    if not entry["points"]:
        return f"{prefix}no follow-up"
    day, percent = entry["points"][-1]
    # Whole months reached on that day, as safetydb.incidence counts them (24 months = day 730).
    return f"{prefix}{percent:.1f}% by month {int((day + 0.5) // DAYS_PER_MONTH)}"


def _nice_ceiling(percent: float) -> float:
    """The smallest round percent at or above ``percent`` for an axis top (1% at least)."""
    for nice in (1, 2, 5, 10, 20, 30, 40, 50, 60, 80, 100):
        if percent <= nice:
            return nice
    return percent
