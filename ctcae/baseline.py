"""Grading a pre-treatment result: against the normal range, never against itself.

CTCAE v5.0 grades ALT, AST, ALP and blood bilirubin by x ULN "if baseline was normal" and by
x baseline "if baseline was abnormal". Those branches describe a change from baseline, so they
apply to post-baseline results only. A baseline result (and any other result collected before
treatment) has no earlier baseline: it is graded as if its own baseline were normal, that is by
x ULN / x LLN. Graded against itself instead, a baseline ALT of 2.5 x ULN would meet the
abnormal branch at 1.0 x baseline and come out grade 0.

The evaluator (``ctcae.grade_value``) takes one baseline number per result, so this module gives the
number that makes the evaluator read the pre-treatment result that way:

* a test with baseline-conditioned bands whose direction is "high" (v5.0: ALT, AST, ALP,
  bilirubin): baseline = ULN. The criteria read baseline == ULN as normal, so the normal
  branch (x ULN) applies, and every x baseline band of such a test is an abnormal-branch band,
  which then does not apply. A test whose conditioned bands are all "low": baseline = LLN.
* any other test that uses a baseline (v5.0: creatinine, whose x baseline rule applies whatever
  the baseline): baseline = the value itself. Every x baseline cut-point of v5.0 is above 1 x
  baseline, so the rule is never met and the x ULN rule decides, as for a normal baseline.
* tests that use no baseline: the number is not read.
"""

from __future__ import annotations

import polars as pl

from ctcae.criteria import criteria_table


def baseline_as_normal(
    *,
    version: str,
    test_code: str = "test_code",
    value: str = "value",
    lln: str = "lln",
    uln: str = "uln",
) -> pl.Expr:
    """Expression: the baseline to grade a pre-treatment result with (see the module docstring).

    Column names are keyword options; the result is Float64, null when the number it needs
    (ULN or LLN) is missing, which leaves the evaluator to say the result is not gradable.
    """
    criteria = criteria_table(version)
    conditioned = criteria.filter(pl.col("baseline_condition") != "any")
    high_tests = sorted(set(conditioned.filter(pl.col("direction") == "high")["test_code"].to_list()))
    low_only_tests = sorted(set(conditioned["test_code"].to_list()) - set(high_tests))
    test = pl.col(test_code)
    return (
        pl.when(test.is_in(high_tests)).then(pl.col(uln).cast(pl.Float64))
        .when(test.is_in(low_only_tests)).then(pl.col(lln).cast(pl.Float64))
        .otherwise(pl.col(value).cast(pl.Float64))
    )
