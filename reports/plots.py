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

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{MARGIN_LEFT}" y1="{HEIGHT - MARGIN_BOTTOM}" x2="{WIDTH - MARGIN_RIGHT}" y2="{HEIGHT - MARGIN_BOTTOM}" class="axis"/>',
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{HEIGHT - MARGIN_BOTTOM}" class="axis"/>',
    ]
    for tick in _ticks(max_n):
        parts.append(f'<text x="{sx(tick):.1f}" y="{HEIGHT - MARGIN_BOTTOM + 14}" class="tick" text-anchor="middle">{tick}</text>')
    for tick in _ticks(max_x):
        parts.append(f'<text x="{MARGIN_LEFT - 6}" y="{sy(tick) + 4:.1f}" class="tick" text-anchor="end">{tick}</text>')
    parts.append(f'<text x="{(MARGIN_LEFT + WIDTH) / 2:.0f}" y="{HEIGHT - 6}" class="label" text-anchor="middle">evaluable subjects (n)</text>')
    parts.append(f'<text x="12" y="{(HEIGHT) / 2:.0f}" class="label" text-anchor="middle" transform="rotate(-90 12 {(HEIGHT) / 2:.0f})">subjects with event (x)</text>')

    if shown_curve:
        # Stop region: the first count that crosses the boundary (r + 1) as a step line.
        points = []
        previous_n = shown_curve[0]["n"]
        for point in shown_curve:
            stop_at = min(point["r"] + 1, max_x)
            points.append(f"{sx(previous_n):.1f},{sy(stop_at):.1f}")
            points.append(f"{sx(point['n']):.1f},{sy(stop_at):.1f}")
            previous_n = point["n"]
        parts.append(f'<polyline points="{" ".join(points)}" class="boundary"/>')
    if path:
        # The path keeps only the points where x steps up: draw across, then up.
        steps = [f"{sx(0):.1f},{sy(0):.1f}"]
        previous_x = 0
        for point in path:
            steps.append(f"{sx(point['n']):.1f},{sy(previous_x):.1f}")
            steps.append(f"{sx(point['n']):.1f},{sy(point['x']):.1f}")
            previous_x = point["x"]
        parts.append(f'<polyline points="{" ".join(steps)}" class="observed"/>')
        last = path[-1]
        parts.append(f'<circle cx="{sx(last["n"]):.1f}" cy="{sy(last["x"]):.1f}" r="4" class="observed-point"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _ticks(maximum: int) -> list[int]:
    step = max(1, round(maximum / 5))
    return list(range(0, maximum + 1, step))
