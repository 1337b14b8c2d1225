"""Bryant and Day (Biometrics 1995;51:1372-83) two-stage design: response and toxicity together.

The design. ``n1`` subjects enter stage 1 and ``n`` in all. Toxicity is counted, as in the paper,
by the subjects WITHOUT the toxic event ("non-toxic"). After stage 1 the trial stops when
responders <= ``r1`` or non-toxic subjects <= ``t1``; otherwise it goes on to ``n``, and the
regimen is declared acceptable (promising and tolerable) only when responders > ``r`` and
non-toxic subjects > ``t``.

Operating characteristics, exactly, with response and toxicity independent (the paper's
assumption). With X1, X2 the responders of the two stages (binomial with n1 and n - n1 subjects,
rate p) and Y1, Y2 the non-toxic subjects (rate q):

    P(pass stage 1)      = P(X1 > r1) * P(Y1 > t1)
    P(acceptable | p, q) = P(X1 > r1, X1 + X2 > r) * P(Y1 > t1, Y1 + Y2 > t)
    P(X1 > r1, X > r)    = sum over x1 > r1 of P(X1 = x1) * P(X2 > r - x1)
    E(N | p, q)          = n1 + (n - n1) * P(pass stage 1)

under the four hypotheses (p0, q0) both unacceptable, (p0, q1) response too low: alpha_R =
P(acceptable | p0, q1), (p1, q0) too toxic: alpha_T = P(acceptable | p1, q0), and (p1, q1) both
acceptable: the power. ``find_design`` searches every (n1, r1, r, t1, t) for each n in a range
for designs with alpha_R and alpha_T at most their bounds and power at least its bound, and
keeps the one with the smallest expected size under the unacceptable hypotheses: by default the
larger of E(N | p0, q1) and E(N | p1, q0) (E(N | p0, q0) is never larger), which reproduces the
paper's worked design (n1 19, n 33, r1 5, r 12, t1 11, t 22 for p 0.3 / 0.5, q 0.6 / 0.8,
alpha_R = alpha_T = beta = 0.15); or, with ``criterion="doubly_bad"``, E(N | p0, q0).

Monitoring at a data cut. The design's subjects are the treated subjects in the order of their
first dose: stage 1 the first ``n1``, the whole design the first ``n``. Toxicity is counted by
the same code as the stopping rules (``rule_events`` / ``rule_subjects`` with the design's event
definition): a subject is non-toxic once they completed the event's window without the event.
The response endpoint has a fixed window: a subject is a responder when their best overall
response is CR or PR (``safetydb.efficacy``, confirmed as the trial config says) and the response
was first seen by study day ``response_evaluable_days`` (day 1 = the efficacy time origin; the
confirming assessment may come later). A subject is evaluable for response once a responder,
after progression or death, or once followed to that day (a non-responder for the design, even
if a response is first seen later: it is listed in the efficacy tables, not counted here). With
the window fixed, counts can only move one way for the subjects already settled, so a stage is
decided before every subject is evaluable when the outcome is already certain: STOP when even
every unsettled subject turning out well could not pass a bound, MET when both bounds are
passed already; PENDING otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
from scipy.stats import binom

from safetydb.export import write_csv
from safetydb.store import SafetyStore
from signals.rules import _event_parameters as event_parameters  # the stopping rules' reading of an event definition
from trial.config import BryantDay, TrialConfig

CRITERIA = ("worst_unacceptable", "doubly_bad")

OC_SCHEMA = {
    "hypothesis": pl.String,
    "response_rate": pl.Float64,
    "no_toxicity_rate": pl.Float64,
    "meaning": pl.String,
    "early_termination": pl.Float64,
    "acceptable": pl.Float64,
    "expected_subjects": pl.Float64,
    "requirement": pl.String,
    "met": pl.Boolean,
}
STATUS_SCHEMA = {
    "stage": pl.String,
    "planned_subjects": pl.Int64,
    "treated": pl.Int64,
    "response_evaluable": pl.Int64,
    "responders": pl.Int64,
    "stop_if_responders_at_most": pl.Int64,
    "toxicity_evaluable": pl.Int64,
    "non_toxic": pl.Int64,
    "with_toxic_event": pl.Int64,
    "stop_if_non_toxic_at_most": pl.Int64,
    "status": pl.String,
    "current": pl.Boolean,
    "statement": pl.String,
}


@dataclass(frozen=True)
class Design:
    """Stage sizes and bounds: stop at stage 1 if responders <= r1 or non-toxic <= t1; acceptable
    at the end only if responders > r and non-toxic > t."""

    n1: int
    n: int
    r1: int
    r: int
    t1: int
    t: int

    def __post_init__(self) -> None:
        if not 1 <= self.n1 < self.n:
            raise ValueError(f"need 1 <= n1 < n, got n1 = {self.n1}, n = {self.n}")
        for name in ("r1", "t1"):
            if not 0 <= getattr(self, name) < self.n1:
                raise ValueError(f"{name} = {getattr(self, name)} must be from 0 to n1 - 1 = {self.n1 - 1}")
        for name in ("r", "t"):
            if not 0 <= getattr(self, name) < self.n:
                raise ValueError(f"{name} = {getattr(self, name)} must be from 0 to n - 1 = {self.n - 1}")

    @classmethod
    def from_config(cls, design: BryantDay) -> Design:
        return cls(design.n1, design.n, design.r1, design.r, design.t1, design.t)


# ---- operating characteristics ---------------------------------------------------------------
def stage1_pass_probability(n1: int, bound1: int, rate: float) -> float:
    """P(X1 > bound1) with X1 ~ Binomial(n1, rate)."""
    return float(binom.sf(bound1, n1, rate))


def pass_probability(n1: int, n: int, bound1: int, bound: int, rate: float) -> float:
    """P(X1 > bound1 and X1 + X2 > bound), X1 ~ Binomial(n1, rate), X2 ~ Binomial(n - n1, rate)."""
    return float(_pass_matrix(n1, n, rate)[bound1, bound])


def _pass_matrix(n1: int, n: int, rate: float) -> np.ndarray:
    """P(X1 > c1 and X > c) for every c1 in 0..n1 and c in 0..n (row c1, column c)."""
    x1 = np.arange(n1 + 1)
    first = binom.pmf(x1, n1, rate)
    # second[x1, c] = P(X2 > c - x1); sf of a negative count is 1.
    second = binom.sf(np.arange(n + 1)[None, :] - x1[:, None], n - n1, rate)
    joint = first[:, None] * second
    # Sum over x1 > c1: a cumulative sum from the top, shifted one row.
    from_top = np.cumsum(joint[::-1], axis=0)[::-1]
    matrix = np.zeros((n1 + 1, n + 1))
    matrix[:n1] = from_top[1:]
    return matrix


def operating_characteristics(
    design: Design,
    *,
    p0: float,
    p1: float,
    q0: float,
    q1: float,
    alpha_response: float | None = None,
    alpha_toxicity: float | None = None,
    power: float | None = None,
) -> pl.DataFrame:
    """Probability of early termination, of declaring the regimen acceptable and the expected
    number of subjects under each (response rate, probability of no toxicity) hypothesis. When
    the bounds are given, ``requirement`` and ``met`` say whether the design meets them."""
    _check_rates(p0, p1, q0, q1)
    rows = []
    hypotheses = (
        ("p0, q0", p0, q0, "response too low and too toxic", None),
        ("p0, q1", p0, q1, "response too low (alpha_R)", ("<=", alpha_response)),
        ("p1, q0", p1, q0, "too toxic (alpha_T)", ("<=", alpha_toxicity)),
        ("p1, q1", p1, q1, "both acceptable (power)", (">=", power)),
    )
    for hypothesis, p, q, meaning, bound in hypotheses:
        passes_stage1 = stage1_pass_probability(design.n1, design.r1, p) * stage1_pass_probability(design.n1, design.t1, q)
        acceptable = pass_probability(design.n1, design.n, design.r1, design.r, p) * pass_probability(
            design.n1, design.n, design.t1, design.t, q
        )
        requirement, met = None, None
        if bound is not None and bound[1] is not None:
            sign, value = bound
            requirement = f"{sign} {value:g}"
            met = acceptable <= value if sign == "<=" else acceptable >= value
        rows.append(
            {
                "hypothesis": hypothesis,
                "response_rate": p,
                "no_toxicity_rate": q,
                "meaning": meaning,
                "early_termination": 1 - passes_stage1,
                "acceptable": acceptable,
                "expected_subjects": design.n1 + (design.n - design.n1) * passes_stage1,
                "requirement": requirement,
                "met": met,
            }
        )
    return pl.DataFrame(rows, schema=OC_SCHEMA)


# ---- design search ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchResult:
    design: Design
    expected_subjects: float  # the minimised criterion
    criterion: str


def find_design(
    p0: float,
    p1: float,
    q0: float,
    q1: float,
    *,
    alpha_response: float = 0.10,
    alpha_toxicity: float = 0.10,
    power: float = 0.80,
    n_min: int = 2,
    n_max: int,
    criterion: str = "worst_unacceptable",
) -> SearchResult | None:
    """The design with the smallest expected size among all (n, n1, r1, r, t1, t) with n from
    ``n_min`` to ``n_max`` meeting the bounds; None when no design of that size meets them.

    Exhaustive: for each (n, n1) every pair (r1, r) with r1 <= r and every pair (t1, t) with
    t1 <= t is tried. Ties go to the smaller n, then n1, r1, r, t1, t. A few seconds for
    n_max = 40, a few tens for 60.
    """
    _check_rates(p0, p1, q0, q1)
    if criterion not in CRITERIA:
        raise ValueError(f"criterion: expected one of {CRITERIA}, got {criterion!r}")
    if not 2 <= n_min <= n_max:
        raise ValueError(f"need 2 <= n_min <= n_max, got {n_min} and {n_max}")
    best: tuple | None = None
    for n in range(n_min, n_max + 1):
        for n1 in range(1, n):
            found = _best_for_sizes(n1, n, p0, p1, q0, q1, alpha_response, alpha_toxicity, power, criterion)
            if found is not None and (best is None or found < best):
                best = found
    if best is None:
        return None
    expected, n, n1, r1, r, t1, t = best
    return SearchResult(Design(n1, n, r1, r, t1, t), expected, criterion)


def _best_for_sizes(n1, n, p0, p1, q0, q1, alpha_response, alpha_toxicity, power, criterion) -> tuple | None:
    response_bad, response_good = _pass_matrix(n1, n, p0), _pass_matrix(n1, n, p1)
    toxicity_bad, toxicity_good = _pass_matrix(n1, n, q0), _pass_matrix(n1, n, q1)
    bounds1, bounds = np.meshgrid(np.arange(n1 + 1), np.arange(n + 1), indexing="ij")
    ordered = (bounds1 <= bounds).ravel()
    # The power is a product of two probabilities: each must reach it alone.
    response_pairs = np.flatnonzero(ordered & (response_good.ravel() >= power))
    toxicity_pairs = np.flatnonzero(ordered & (toxicity_good.ravel() >= power))
    if not response_pairs.size or not toxicity_pairs.size:
        return None
    r_bad, r_good = response_bad.ravel()[response_pairs][:, None], response_good.ravel()[response_pairs][:, None]
    t_bad, t_good = toxicity_bad.ravel()[toxicity_pairs][None, :], toxicity_good.ravel()[toxicity_pairs][None, :]
    feasible = (r_bad * t_good <= alpha_response) & (r_good * t_bad <= alpha_toxicity) & (r_good * t_good >= power)
    if not feasible.any():
        return None
    r1_of = bounds1.ravel()[response_pairs]
    t1_of = bounds1.ravel()[toxicity_pairs]
    continue_r0 = binom.sf(r1_of, n1, p0)[:, None]
    continue_r1 = binom.sf(r1_of, n1, p1)[:, None]
    continue_t0 = binom.sf(t1_of, n1, q0)[None, :]
    continue_t1 = binom.sf(t1_of, n1, q1)[None, :]
    if criterion == "doubly_bad":
        continuing = continue_r0 * continue_t0
    else:
        continuing = np.maximum(continue_r0 * continue_t1, continue_r1 * continue_t0)
    expected = np.where(feasible, n1 + (n - n1) * continuing, np.inf)
    best = expected.min()
    # Among equal expected sizes, the smallest bounds (row-major order of the pairs is r1, r then t1, t).
    i, j = np.argwhere(expected == best)[0]
    r1, r = divmod(int(response_pairs[i]), n + 1)
    t1, t = divmod(int(toxicity_pairs[j]), n + 1)
    return (float(best), n, n1, r1, r, t1, t)


def _check_rates(p0: float, p1: float, q0: float, q1: float) -> None:
    for name, value in (("p0", p0), ("p1", p1), ("q0", q0), ("q1", q1)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must be in (0, 1), got {value}")
    if not p0 < p1:
        raise ValueError(f"p1 ({p1}) must be above p0 ({p0})")
    if not q0 < q1:
        raise ValueError(f"q1 ({q1}) must be above q0 ({q0})")


# ---- monitoring at a cut ---------------------------------------------------------------------
@dataclass(frozen=True)
class StageCounts:
    """A stage's subjects at the cut: ``planned`` (n1 or n), those treated so far, and who is settled."""

    planned: int
    treated: int
    response_evaluable: int  # responders included
    responders: int
    toxicity_evaluable: int  # window completed or event
    with_toxic_event: int

    @property
    def non_toxic(self) -> int:
        return self.toxicity_evaluable - self.with_toxic_event


def stage_status(counts: StageCounts, *, response_bound: int, toxicity_bound: int, responses_known: bool = True) -> tuple[str, str]:
    """(status, reason) of one stage: STOP when a bound can no longer be passed, MET when both
    are passed, PENDING otherwise; NOT EVALUABLE when responses are unknown and toxicity alone
    does not decide."""
    most_responders = counts.responders + (counts.planned - counts.response_evaluable)
    most_non_toxic = counts.planned - counts.with_toxic_event
    failed = []
    if responses_known and most_responders <= response_bound:
        failed.append(f"responders cannot exceed {response_bound}")
    if most_non_toxic <= toxicity_bound:
        failed.append(f"subjects without the toxic event cannot exceed {toxicity_bound}")
    if failed:
        return "STOP", "; ".join(failed)
    if not responses_known:
        return "NOT EVALUABLE", "no tumour assessments at this cut: responses cannot be counted"
    if counts.responders > response_bound and counts.non_toxic > toxicity_bound:
        return "MET", f"responders {counts.responders} > {response_bound} and subjects without the toxic event {counts.non_toxic} > {toxicity_bound}"
    waiting = []
    if counts.responders <= response_bound:
        waiting.append(f"{counts.planned - counts.response_evaluable} subject(s) not yet evaluable for response")
    if counts.non_toxic <= toxicity_bound:
        waiting.append(f"{counts.planned - counts.toxicity_evaluable} subject(s) not yet evaluable for toxicity")
    return "PENDING", "; ".join(waiting)


def monitor(
    design: Design,
    subjects: pl.DataFrame,
    *,
    responses_known: bool = True,
) -> pl.DataFrame:
    """bryant_day_status: the two stages at the cut.

    ``subjects``: one row per treated subject with subject_id, first_dose_date, responder,
    response_evaluable, toxicity_evaluable, had_event (booleans). Stage 1 is the first n1 by
    first dose date (then subject id), the whole design the first n.
    """
    ordered = subjects.sort("first_dose_date", "subject_id")
    rows = []
    stages = (("Stage 1", design.n1, design.r1, design.t1), ("Final", design.n, design.r, design.t))
    for name, planned, response_bound, toxicity_bound in stages:
        cohort = ordered.head(planned)
        counts = StageCounts(
            planned=planned,
            treated=cohort.height,
            response_evaluable=int(cohort["response_evaluable"].sum()),
            responders=int(cohort["responder"].sum()),
            toxicity_evaluable=int(cohort["toxicity_evaluable"].sum()),
            with_toxic_event=int(cohort["had_event"].sum()),
        )
        status, reason = stage_status(
            counts, response_bound=response_bound, toxicity_bound=toxicity_bound, responses_known=responses_known
        )
        rows.append(
            {
                "stage": name,
                "planned_subjects": planned,
                "treated": counts.treated,
                "response_evaluable": counts.response_evaluable if responses_known else None,
                "responders": counts.responders if responses_known else None,
                "stop_if_responders_at_most": response_bound,
                "toxicity_evaluable": counts.toxicity_evaluable,
                "non_toxic": counts.non_toxic,
                "with_toxic_event": counts.with_toxic_event,
                "stop_if_non_toxic_at_most": toxicity_bound,
                "status": status,
                "current": False,
                "statement": _statement(name, status, reason, counts, response_bound, toxicity_bound, responses_known),
            }
        )
    if rows[0]["status"] == "STOP":
        beyond = rows[1]["treated"] - design.n1
        if beyond > 0:
            # Enrolment did not pause for the stage-1 look: the committee reads how far it went.
            rows[0]["statement"] += (
                f" By this cut {rows[1]['treated']} of the design's {design.n} subjects were treated, {beyond} beyond stage 1."
            )
        # What the first n show is kept for information, with what the final bounds would say; no
        # final decision is made.
        final_outcome = {
            "STOP": "would not be declared acceptable", "MET": "would meet both final bounds", "PENDING": "are not yet decided",
        }.get(rows[1]["status"], "are not evaluable")
        rows[1]["status"] = "NOT REACHED"
        rows[1]["statement"] = (
            f"Not reached: the design stops at stage 1. For information, the first {design.n} {final_outcome}. "
            + rows[1]["statement"].split(". ", 1)[1]
        )
    # The stage reached: the final stage once stage 1 is met, else stage 1.
    rows[1 if rows[0]["status"] == "MET" else 0]["current"] = True
    return pl.DataFrame(rows, schema=STATUS_SCHEMA)


def _statement(stage, status, reason, counts, response_bound, toxicity_bound, responses_known) -> str:
    who = f"the first {counts.planned} treated subjects ({counts.treated} treated so far)"
    responses = (
        f"{counts.responders} responder(s) among {counts.response_evaluable} evaluable for response (fails if at most {response_bound})"
        if responses_known else "responses not known (no tumour assessments)"
    )
    toxicity = (
        f"{counts.non_toxic} of {counts.toxicity_evaluable} evaluable for toxicity without the toxic event "
        f"(fails if at most {toxicity_bound})"
    )
    outcome = {
        ("Stage 1", "STOP"): "Stage 1 boundary crossed: stop the trial",
        ("Stage 1", "MET"): "Stage 1 passed: continue to stage 2",
        ("Stage 1", "PENDING"): "Stage 1 not yet decided",
        ("Final", "STOP"): "The regimen cannot be declared acceptable",
        ("Final", "MET"): "The regimen is declared acceptable (promising and tolerable)",
        ("Final", "PENDING"): "Final analysis not yet decided",
    }.get((stage, status), f"{stage}: not evaluable")
    return f"{outcome} ({reason}). {stage}, {who}: {responses}; {toxicity}."


def evaluate_bryant_day(
    store: SafetyStore,
    config: TrialConfig,
    efficacy_subjects: pl.DataFrame,
    *,
    cut_date: date,
) -> dict[str, pl.DataFrame]:
    """``bryant_day_oc`` and ``bryant_day_status`` for the cut built in ``store``; empty frames
    when the trial configures no design (``[efficacy.bryant_day]``)."""
    settings = config.model.efficacy.bryant_day
    if settings is None:
        return {"bryant_day_oc": pl.DataFrame(schema=OC_SCHEMA), "bryant_day_status": pl.DataFrame(schema=STATUS_SCHEMA)}
    design = Design.from_config(settings)
    oc = operating_characteristics(
        design, p0=settings.p0, p1=settings.p1, q0=settings.q0, q1=settings.q1,
        alpha_response=settings.alpha_response, alpha_toxicity=settings.alpha_toxicity, power=settings.power,
    )
    parameters = event_parameters(config, settings)
    store.run_model_into("rule_events", parameters)
    store.run_model_into("rule_subjects", parameters)
    toxicity = store.model("rule_subjects").select(
        "subject_id", "first_dose_date", pl.col("evaluable").alias("toxicity_evaluable"), "had_event"
    )
    subjects = design_subjects(toxicity, efficacy_subjects, cut_date=cut_date, response_evaluable_days=settings.response_evaluable_days)
    status = monitor(design, subjects, responses_known=not efficacy_subjects.is_empty())
    return {"bryant_day_oc": oc, "bryant_day_status": status}


def design_subjects(
    toxicity: pl.DataFrame, efficacy_subjects: pl.DataFrame, *, cut_date: date, response_evaluable_days: int
) -> pl.DataFrame:
    """The treated subjects (rows of ``toxicity``: subject_id, first_dose_date, toxicity_evaluable,
    had_event) with responder and response_evaluable from ``efficacy_subjects``. A subject
    missing from the efficacy rows is unsettled for response, never a responder."""
    study_day = lambda column: (pl.col(column) - pl.col("origin_date")).dt.total_days() + 1  # noqa: E731 (day 1 = the origin)
    responder = pl.col("best_response").is_in(["CR", "PR"]) & (study_day("first_response_date") <= response_evaluable_days).fill_null(False)
    response = efficacy_subjects.select(
        "subject_id",
        responder.alias("responder"),
        (
            responder
            | pl.col("pfs_event")
            | ((pl.lit(cut_date) - pl.col("origin_date")).dt.total_days() + 1 >= response_evaluable_days)
        ).alias("response_evaluable"),
    )
    return toxicity.join(response, on="subject_id", how="left").with_columns(
        pl.col("responder", "response_evaluable").fill_null(False)
    )


def write_bryant_day(tables: dict[str, pl.DataFrame], folder: Path) -> None:
    """The design's tables beside the others, as CSV and Parquet."""
    for name, frame in tables.items():
        frame.write_parquet(folder / f"{name}.parquet")
        write_csv(frame, folder / f"{name}.csv")
