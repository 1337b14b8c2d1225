"""Exact stopping boundaries for continuous toxicity monitoring, with operating characteristics.

Convention for every method: at look k with n_k cumulative evaluable subjects, r_k is the
largest acceptable cumulative count of events, and the rule stops when the count exceeds r_k.
r_k >= n_k means the rule cannot stop at that look. (Rules written as "stop at >= b_k events"
have b_k = r_k + 1.)

Methods:

* :func:`toxbdry`: repeated significance tests with a Pocock to O'Brien-Fleming shape,
  searched to bracket a type-I error and power (Ivanova, Qaqish & Schell 2005; the clinfun
  ``toxbdry`` algorithm; Jennison & Turnbull 2000, ch. 12).
* :func:`pocock`: the same nominal level at every look, calibrated exactly to alpha.
* :func:`bayes`: posterior probability of exceeding p_max (Thall, Simon & Estey 1995).
* :func:`sprt`: truncated Wald SPRT, calibrated exactly to alpha.
* :func:`crossing_probability`: exact operating characteristics of any boundary.
* :func:`boundary_at_n`: the boundary in force at any n: before the first look, between looks,
  or past the planned size (where each method's own rule is applied at n).
"""

from __future__ import annotations

from signals.boundary_at_n import BoundaryAtN, boundary_at_n
from signals.calibrated import bayes, pocock, sprt
from signals.looks import parse_looks
from signals.oc import Boundary, OCRow, crossing_probability
from signals.toxbdry import toxbdry

__all__ = [
    "Boundary",
    "BoundaryAtN",
    "OCRow",
    "bayes",
    "boundary_at_n",
    "crossing_probability",
    "parse_looks",
    "pocock",
    "sprt",
    "toxbdry",
]
