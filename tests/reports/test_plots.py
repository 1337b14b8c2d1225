"""Inline SVG charts: self-contained, with a text alternative, one line per series."""

import re
import xml.etree.ElementTree as ElementTree

import polars as pl

from reports.plots import cumulative_incidence_chart

SVG = "{http://www.w3.org/2000/svg}"

# Any grade >= 3 rises to 25% on day 91 (month 3) and 40% on day 365 (month 12), followed to
# day 730 (month 24); hemorrhage 5% from day 183 (month 6); pneumonitis has no event.
CURVE_FRAME = pl.DataFrame(
    [
        ("grade_3_plus", "Any grade >= 3 AE", 0, 0.0),
        ("grade_3_plus", "Any grade >= 3 AE", 91, 25.0),
        ("grade_3_plus", "Any grade >= 3 AE", 365, 40.0),
        ("grade_3_plus", "Any grade >= 3 AE", 730, 40.0),
        ("hemorrhage", "Hemorrhage", 0, 0.0),
        ("hemorrhage", "Hemorrhage", 183, 5.0),
        ("hemorrhage", "Hemorrhage", 700, 5.0),
        ("hypertension", "Hypertension", 0, 0.0),
        ("hypertension", "Hypertension", 30, 2.5),
        ("hypertension", "Hypertension", 730, 2.5),
        ("pneumonitis", "Pneumonitis", 0, 0.0),
        ("pneumonitis", "Pneumonitis", 730, 0.0),
    ],
    schema=["endpoint", "label", "day", "cumulative_incidence"],
    orient="row",
)
CURVES = CURVE_FRAME.to_dicts()


def test_cumulative_incidence_chart_is_self_contained_with_a_text_alternative():
    svg = str(cumulative_incidence_chart(CURVES, "Cumulative incidence of toxicity, data cut 2025-07-01"))
    root = ElementTree.fromstring(svg)  # well-formed
    assert root.find(f"{SVG}title").text == "Cumulative incidence of toxicity, data cut 2025-07-01"
    assert root.get("role") == "img"
    alternative = root.get("aria-label")
    # The text alternative gives every series' last value, as a reader of the picture sees it.
    for words in ("Any grade &gt;= 3 AE: 40.0% by month 24", "Hemorrhage: 5.0% by month 23", "Pneumonitis: 0.0% by month 24"):
        assert words.replace("&gt;", ">") in alternative
    assert "Any grade &gt;= 3 AE" in svg  # escaped in the markup
    assert not re.search(r"<script|href=|url\(|@import|@font-face", svg)
    assert re.findall(r'https?://[^"]+', svg) == ["http://www.w3.org/2000/svg"]


def test_one_step_line_per_endpoint():
    svg = str(cumulative_incidence_chart(CURVES, "Cumulative incidence"))
    lines = ElementTree.fromstring(svg).findall(f"{SVG}polyline[@class='incidence']")
    assert [line.get("data-endpoint") for line in lines] == ["grade_3_plus", "hemorrhage", "hypertension", "pneumonitis"]
    # Steps: across at the old value, then up: n points give 2n - 1 vertices.
    assert [len(line.get("points").split()) for line in lines] == [7, 5, 5, 3]
    # The headline (any grade >= 3) is drawn large; the AESIs as small multiples.
    assert [line.get("stroke-width") for line in lines] == ["2", "1.5", "1.5", "1.5"]


def test_steps_rise_on_the_day_of_the_event():
    svg = str(cumulative_incidence_chart(CURVE_FRAME.filter(pl.col("endpoint") == "grade_3_plus").to_dicts(), "Any grade >= 3"))
    line = ElementTree.fromstring(svg).find(f"{SVG}polyline[@class='incidence']")
    points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
    # (month 0, 0) -> (month 3, 0) -> (month 3, 25%): the vertical step sits at month 3.
    assert points[1][0] == points[2][0]
    assert points[1][1] == points[0][1] > points[2][1]
    month_3_tick = ElementTree.fromstring(svg).find(f"{SVG}text[@class='tick'][.='3']")
    assert abs(float(month_3_tick.get("x")) - points[1][0]) < 1.0  # day 91 is month 2.99


def test_a_long_aesi_label_is_shortened_in_its_panel_but_whole_in_the_text_alternative():
    long_label = "Immune-mediated adrenal insufficiency"
    curves = [row | {"label": long_label} if row["endpoint"] == "hemorrhage" else row for row in CURVES]
    svg = str(cumulative_incidence_chart(curves, "Cumulative incidence"))
    assert f"{long_label}: 5.0% by month 23" in ElementTree.fromstring(svg).get("aria-label")
    assert ">Immune-mediated adrenal i\u2026<" in svg


def test_an_empty_frame_still_renders():
    svg = str(cumulative_incidence_chart([], "Cumulative incidence"))
    assert "no treated subjects" in svg
    assert "polyline" not in svg
