"""Stopping boundaries: published references, result shape, look parsing, input validation.

The toxbdry references are the R outputs printed in clinfun's own documentation (the four
examples of ``?toxbdry``). Boundaries must match exactly; OC values are printed to 3 decimals
(expected N to 1 decimal), so they are compared within half a unit of the last printed digit.
"""

from __future__ import annotations

import json

import pytest
from scipy import stats

from signals.boundaries import (
    Boundary,
    OCRow,
    bayes,
    crossing_probability,
    parse_looks,
    pocock,
    sprt,
    toxbdry,
)
from signals.toxbdry import binomial_quantile

SMALL_SAMPLE_WARNING = "Max sample size {n} may be small for the specified stopping probabilities"


def expand_printed(printed: str, looks) -> tuple[int, ...]:
    """Expand clinfun's printed form "1/3 2/8 ..." (r up to and including n) into one r per look."""
    steps = [tuple(int(part) for part in item.split("/")) for item in printed.split()]
    boundary = []
    for look in looks:
        r = next(r for r, last_n in steps if look <= last_n)
        boundary.append(r)
    return tuple(boundary)


def assert_oc_matches(rows: tuple[OCRow, ...], printed: list[tuple[float, float, float, float]]) -> None:
    assert len(rows) == len(printed)
    for row, (p, p_cross, p_stop, ess) in zip(rows, printed):
        assert row.p == pytest.approx(p, abs=1e-12)
        assert abs(row.p_cross - p_cross) <= 5e-4 + 1e-12, (row, p_cross)
        assert abs(row.p_early_stop - p_stop) <= 5e-4 + 1e-12, (row, p_stop)
        assert abs(row.expected_n - ess) <= 0.05 + 1e-9, (row, ess)


# ------------------------------------------------------------------------------------------
# Published clinfun::toxbdry outputs
# ------------------------------------------------------------------------------------------


def test_toxbdry_group_sequential_reference():
    """toxbdry(0.2, 0.35, c(20,40,60,75)): lo 7/20 12/40 17/60 20/75, hi ... 21/75, no warning."""
    result = toxbdry(0.2, 0.35, looks=(20, 40, 60, 75))
    assert result.kind == "toxbdry"
    assert result.looks == (20, 40, 60, 75)
    assert result.lo == (7, 12, 17, 20)
    assert result.stop_above == (7, 12, 17, 21)
    assert result.warnings == ()
    # ptox, pcross, pstop, ess for the lo and the hi boundary, as printed by R.
    assert_oc_matches(
        result.lo_oc,
        [
            (0.20, 0.101, 0.079, 72.0),
            (0.23, 0.247, 0.188, 68.1),
            (0.26, 0.456, 0.354, 62.1),
            (0.29, 0.672, 0.548, 54.7),
            (0.32, 0.838, 0.727, 47.0),
            (0.35, 0.935, 0.859, 39.9),
        ],
    )
    assert_oc_matches(
        result.oc,
        [
            (0.20, 0.088, 0.079, 72.0),
            (0.23, 0.214, 0.188, 68.1),
            (0.26, 0.406, 0.354, 62.1),
            (0.29, 0.619, 0.548, 54.7),
            (0.32, 0.797, 0.727, 47.0),
            (0.35, 0.911, 0.859, 39.9),
        ],
    )


def test_toxbdry_continuous_monitoring_reference():
    """toxbdry(0.1, 0.3, 2:30): stop at >=2 of 2-3, >=3 of 4-8, >=4 of 9-13, >=5 of 14-19,
    >=6 of 20-26, >=7 of 27-30 (hi boundary); crossing .097 at 0.1 and .898 at 0.3."""
    looks = range(2, 31)
    result = toxbdry(0.1, 0.3, looks=looks)
    expected_hi = [1] * 2 + [2] * 5 + [3] * 5 + [4] * 6 + [5] * 7 + [6] * 4
    assert result.stop_above == tuple(expected_hi)
    assert result.stop_above == expand_printed("1/3 2/8 3/13 4/19 5/26 6/30", looks)
    assert result.lo == expand_printed("1/3 2/8 3/13 4/20 5/26 6/30", looks)
    assert result.warnings == ()
    assert_oc_matches(
        result.lo_oc,
        [
            (0.10, 0.100, 0.099, 28.1),
            (0.14, 0.250, 0.245, 25.7),
            (0.18, 0.448, 0.437, 22.4),
            (0.22, 0.644, 0.631, 18.8),
            (0.26, 0.799, 0.786, 15.5),
            (0.30, 0.901, 0.891, 12.6),
        ],
    )
    assert_oc_matches(
        result.oc,
        [
            (0.10, 0.097, 0.096, 28.1),
            (0.14, 0.245, 0.239, 25.8),
            (0.18, 0.441, 0.430, 22.5),
            (0.22, 0.638, 0.624, 19.0),
            (0.26, 0.795, 0.781, 15.6),
            (0.30, 0.898, 0.888, 12.7),
        ],
    )


def test_toxbdry_small_sample_reference_both_miss_power():
    """toxbdry(0.2, 0.3, c(20,40,60,75), cP0=0.15, cP1=0.8): both boundaries cross < 0.8 at
    pHi (.777 and .758), so R warns that N = 75 may be small."""
    result = toxbdry(0.2, 0.3, looks=(20, 40, 60, 75), cp0=0.15, cp1=0.8)
    assert result.lo == (6, 12, 16, 20)
    assert result.stop_above == (7, 12, 16, 20)
    assert result.warnings == (SMALL_SAMPLE_WARNING.format(n=75),)
    assert_oc_matches(
        result.lo_oc,
        [
            (0.20, 0.152, 0.140, 69.1),
            (0.22, 0.253, 0.229, 65.7),
            (0.24, 0.381, 0.342, 61.4),
            (0.26, 0.522, 0.469, 56.5),
            (0.28, 0.659, 0.598, 51.2),
            (0.30, 0.777, 0.715, 45.9),
        ],
    )
    assert_oc_matches(
        result.oc,
        [
            (0.20, 0.117, 0.103, 71.6),
            (0.22, 0.213, 0.186, 69.0),
            (0.24, 0.341, 0.297, 65.4),
            (0.26, 0.487, 0.427, 61.0),
            (0.28, 0.632, 0.562, 56.1),
            (0.30, 0.758, 0.688, 51.0),
        ],
    )


def test_toxbdry_priority_alt_reference_both_exceed_type_one_error():
    """toxbdry(0.1, 0.3, 2:25, priority="alt"): the search brackets cP1 at pHi instead of cP0;
    both boundaries then cross > 0.1 at pLo (.146, .140), so R warns that N = 25 may be small."""
    looks = range(2, 26)
    result = toxbdry(0.1, 0.3, looks=looks, priority="alt")
    assert result.lo == expand_printed("1/4 2/10 3/16 4/23 5/25", looks)
    assert result.stop_above == expand_printed("1/4 2/10 3/16 4/22 5/25", looks)
    assert result.warnings == (SMALL_SAMPLE_WARNING.format(n=25),)
    assert_oc_matches(
        result.lo_oc,
        [
            (0.10, 0.146, 0.145, 22.8),
            (0.14, 0.312, 0.310, 20.5),
            (0.18, 0.504, 0.499, 17.8),
            (0.22, 0.679, 0.673, 15.0),
            (0.26, 0.813, 0.807, 12.5),
            (0.30, 0.902, 0.897, 10.3),
        ],
    )
    assert_oc_matches(
        result.oc,
        [
            (0.10, 0.140, 0.139, 22.8),
            (0.14, 0.300, 0.296, 20.5),
            (0.18, 0.488, 0.480, 17.8),
            (0.22, 0.663, 0.652, 15.1),
            (0.26, 0.800, 0.790, 12.5),
            (0.30, 0.893, 0.885, 10.3),
        ],
    )


def test_binomial_quantile_follows_r_qbinom():
    """r_k = qbinom(1 - alpha_k, n_k, pLo): the smallest x with P(X <= x) >= prob, where a
    probability equal to P(X <= x) up to rounding (R's 64-epsilon fuzz) still selects x."""
    assert binomial_quantile(0.95, 20, 0.2) == 7  # P(X <= 6) = 0.913, P(X <= 7) = 0.968
    assert binomial_quantile(0.5, 10, 0.5) == 5
    assert binomial_quantile(1.0, 12, 0.3) == 12
    at_three = stats.binom.cdf(3, 10, 0.2)
    assert binomial_quantile(at_three, 10, 0.2) == 3
    assert binomial_quantile(at_three * (1 + 1e-15), 10, 0.2) == 3
    assert binomial_quantile(at_three * (1 + 1e-12), 10, 0.2) == 4


def test_toxbdry_niter_bounds_the_refinements():
    """At most niter refinement steps; the hi boundary still crosses below cP0 at pLo."""
    result = toxbdry(0.1, 0.3, range(2, 31), niter=2)
    assert result.params["iterations"] == 2
    assert result.oc[0].p_cross < 0.1 <= result.lo_oc[0].p_cross
    assert toxbdry(0.1, 0.3, range(2, 31)).params["iterations"] <= 10


def test_toxbdry_two_small_looks_warns():
    """With looks (5, 10) no boundary reaches 90% crossing at 0.35: both miss cP1, so warn."""
    result = toxbdry(0.2, 0.35, looks=(5, 10))
    assert result.oc[-1].p_cross < 0.9 and result.lo_oc[-1].p_cross < 0.9
    assert SMALL_SAMPLE_WARNING.format(n=10) in result.warnings


def test_toxbdry_hi_and_lo_bracket_the_target():
    """Priority null: the hi boundary crosses below cP0 at pLo, the lo boundary at or above it."""
    for p_lo, p_hi, looks in [(0.2, 0.35, (20, 40, 60, 75)), (0.1, 0.3, range(2, 31)), (0.15, 0.3, range(1, 41))]:
        result = toxbdry(p_lo, p_hi, looks, cp0=0.1)
        assert result.oc[0].p_cross < 0.1 <= result.lo_oc[0].p_cross


def test_toxbdry_obrien_fleming_shape_cannot_stop_early_and_reports_decrease():
    """delta = 0.5 (O'Brien-Fleming) gives r_k >= n_k ("cannot stop") at the earliest looks.
    With a very steep level the discrete boundary can even decrease; that is reported."""
    result = toxbdry(0.05, 0.2, looks=range(1, 76), delta=0.5)
    assert result.stop_above[0] >= 1  # n = 1: no stop possible
    assert any("boundary decreases" in warning for warning in result.warnings)


# ------------------------------------------------------------------------------------------
# Result shape
# ------------------------------------------------------------------------------------------


def test_boundary_at_uses_the_largest_look_not_above_n():
    """boundary_at(n) is r at the last completed look; None before the first look."""
    result = toxbdry(0.2, 0.35, looks=(20, 40, 60, 75))
    assert result.boundary_at(19) is None
    assert result.boundary_at(20) == 7
    assert result.boundary_at(39) == 7
    assert result.boundary_at(40) == 12
    assert result.boundary_at(75) == 21
    assert result.boundary_at(200) == 21


def test_to_dict_is_json_ready_with_lo_and_hi_for_toxbdry():
    result = toxbdry(0.2, 0.35, looks=(20, 40, 60, 75))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["kind"] == "toxbdry"
    assert data["looks"] == [20, 40, 60, 75]
    assert data["stop_above"] == data["hi"] == [7, 12, 17, 21]
    assert data["lo"] == [7, 12, 17, 20]
    assert set(data["oc"][0]) == {"p", "p_cross", "p_early_stop", "expected_n"}
    assert data["params"]["cp0"] == 0.1
    assert data["warnings"] == []


@pytest.mark.parametrize(
    "make",
    [
        lambda: pocock(0.2, range(1, 31), alpha=0.05, p1=0.35),
        lambda: bayes(0.3, range(1, 31), prior=(0.6, 1.4), threshold=0.9, p0=0.2),
        lambda: bayes(0.3, range(1, 31), prior=(0.6, 1.4), alpha=0.1, p0=0.2),
        lambda: sprt(0.2, 0.35, range(1, 31), alpha=0.05),
    ],
)
def test_other_methods_shape_and_default_grid(make):
    """Default OC grids contain the reference rates; to_dict is JSON-ready; no lo boundary."""
    result = make()
    assert isinstance(result, Boundary)
    assert result.lo is None and result.lo_oc is None
    assert len(result.stop_above) == len(result.looks) == 30
    rates = [row.p for row in result.oc]
    assert rates == sorted(rates) and 6 <= len(rates) <= 11
    for key in ("p0", "p1", "p_max"):
        if result.params.get(key) is not None:
            assert result.params[key] in rates
    data = json.loads(json.dumps(result.to_dict()))
    assert "lo" not in data and "hi" not in data
    assert data["kind"] == result.kind


def test_oc_rates_override_the_default_grid():
    result = pocock(0.2, range(1, 21), oc_rates=[0.1, 0.5])
    assert [row.p for row in result.oc] == [0.1, 0.5]


def test_crossing_probability_of_a_never_stopping_boundary():
    """r_k >= n_k everywhere: no crossing, expected N is the last look."""
    row = crossing_probability((5, 10), (5, 10), 0.9)
    assert row == OCRow(p=0.9, p_cross=0.0, p_early_stop=0.0, expected_n=10.0)


# ------------------------------------------------------------------------------------------
# Look schedules given as text
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20,40,60,75", (20, 40, 60, 75)),
        ("1-40", tuple(range(1, 41))),
        ("2-30", tuple(range(2, 31))),
        ("5,10,15-20", (5, 10, 15, 16, 17, 18, 19, 20)),
        (" 5, 10 , 15 - 17 ", (5, 10, 15, 16, 17)),
        ("7", (7,)),
    ],
)
def test_parse_looks(text, expected):
    assert parse_looks(text) == expected


@pytest.mark.parametrize("text", ["", "20,,40", "20,10", "0-5", "10-5", "a-b", "5,5", "1.5,3"])
def test_parse_looks_rejects_bad_text(text):
    with pytest.raises(ValueError, match="looks"):
        parse_looks(text)


# ------------------------------------------------------------------------------------------
# Input validation: every error names the argument
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: toxbdry(0.4, 0.3, (10, 20)), "p_lo"),
        (lambda: toxbdry(0.0, 0.3, (10, 20)), "p_lo"),
        (lambda: toxbdry(0.2, 1.0, (10, 20)), "p_hi"),
        (lambda: toxbdry(0.2, 0.3, (20, 10)), "looks"),
        (lambda: toxbdry(0.2, 0.3, (0, 10)), "looks"),
        (lambda: toxbdry(0.2, 0.3, (10.5, 20)), "looks"),
        (lambda: toxbdry(0.2, 0.3, "20,40"), "looks"),
        (lambda: toxbdry(0.2, 0.3, (20,)), "looks"),
        (lambda: toxbdry(0.2, 0.3, (10, 20), cp0=1.2), "cp0"),
        (lambda: toxbdry(0.2, 0.3, (10, 20), cp0=0.5, cp1=0.4), "cp1"),
        (lambda: toxbdry(0.2, 0.3, (10, 20), ngrid=1), "ngrid"),
        (lambda: toxbdry(0.2, 0.3, (10, 20), niter=0), "niter"),
        (lambda: toxbdry(0.2, 0.3, (10, 20), delta=0.7), "delta"),
        (lambda: toxbdry(0.2, 0.3, (10, 20), priority="power"), "priority"),
        (lambda: pocock(1.5, (10, 20)), "p0"),
        (lambda: pocock(0.2, (10, 20), alpha=0.0), "alpha"),
        (lambda: pocock(0.2, (10, 20), p1=0.1), "p1"),
        (lambda: pocock(0.2, []), "looks"),
        (lambda: pocock(0.2, (10, 20), oc_rates=[0.1, 1.5]), "oc_rates"),
        (lambda: bayes(0.3, (10, 20), threshold=1.0), "threshold"),
        (lambda: bayes(0.3, (10, 20)), "threshold"),
        (lambda: bayes(0.3, (10, 20), alpha=0.1), "threshold"),
        (lambda: bayes(0.3, (10, 20), threshold=0.9, alpha=0.1, p0=0.2), "threshold"),
        (lambda: bayes(0.3, (10, 20), prior=(0.0, 1.0), threshold=0.9), "prior"),
        (lambda: bayes(0.3, (10, 20), prior=(1.0,), threshold=0.9), "prior"),
        (lambda: bayes(-0.1, (10, 20), threshold=0.9), "p_max"),
        (lambda: bayes(0.3, (10, 20), alpha=0.1, p0=1.0), "p0"),
        (lambda: sprt(0.3, 0.2, (10, 20)), "p1"),
        (lambda: sprt(0.2, 0.35, (10, 20), alpha=2), "alpha"),
        (lambda: crossing_probability((10, 20), (3,), 0.2), "stop_above"),
        (lambda: crossing_probability((10, 20), (3, 4.5), 0.2), "stop_above"),
        (lambda: crossing_probability((10, 20), (3, 4), 1.2), "p"),
    ],
)
def test_invalid_inputs_name_the_argument(call, argument):
    with pytest.raises(ValueError) as error:
        call()
    assert str(error.value).startswith(f"{argument} "), str(error.value)
