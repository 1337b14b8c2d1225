"""What the AEs do to dosing: intended actions per agent, resolved into each subject's course.

An AE intends an action for each agent (none, interrupt, reduce, withdraw) from its
attribution and the profile's probabilities; the subject's history then decides what
happened (a second reduction is a withdrawal, a withdrawn agent is not acted on again) and
when treatment ended, and why; the AE records carry the recorded action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from synth.arrays import cumsum_within_groups, per_subject_min
from synth.cohort import Cohort, natural_stop_rel
from synth.contract import (
    ACTION_INTERRUPTED, ACTION_NOT_APPLICABLE, ACTION_NOT_CHANGED, ACTION_REDUCED, ACTION_WITHDRAWN, AGENTS,
    DEATH_CAUSE_ADVERSE_EVENT, DEATH_CAUSE_OTHER, DEATH_CAUSE_PROGRESSION, END_REASON_DEATH, END_REASON_TOXICITY,
    NATURAL_END_REASONS, RELATED_LEVEL_CODES,
)
from synth.days import NEVER
from synth.draws import stage_rng
from synth.profile import AeProfile

# Dose actions an AE can intend for one agent, before the subject's history resolves them.
INTENT_NONE, INTENT_INTERRUPT, INTENT_REDUCE, INTENT_WITHDRAW = 0, 1, 2, 3


def draw_intended_actions(events: pl.DataFrame, attribution: dict[str, np.ndarray], profile: AeProfile,
                          seed: int, params: dict[str, Any]) -> dict[str, np.ndarray]:
    """What each AE would do to each agent's dosing if the agent were still being given.

    A related agent is withdrawn or interrupted with the term's probabilities for the
    grade; an interrupted apatinib resumes at the reduced dose with the term's reduction
    share (anti-PD-1 is never reduced, only held). An unrelated agent is still interrupted
    now and then for a severe event. A fatal event ends all treatment.
    """
    rng = stage_rng(seed, "actions")
    term = events["term"].to_numpy()
    grade_index = events["grade"].to_numpy() - 1
    severe = grade_index >= 2
    fatal = grade_index == 4
    unrelated_interrupt = params["dosing"]["unrelated_severe_interrupt_probability"]
    intents = {}
    for agent in AGENTS:
        related = np.isin(attribution[agent], RELATED_LEVEL_CODES)
        withdraw_p = profile.withdraw_probability[term, grade_index]
        interrupt_p = profile.interrupt_probability[term, grade_index]
        uniform = rng.random(len(term))
        intent = np.full(len(term), INTENT_NONE, dtype=np.int64)
        intent[related & (uniform < withdraw_p + interrupt_p)] = INTENT_INTERRUPT
        intent[related & (uniform < withdraw_p)] = INTENT_WITHDRAW
        intent[~related & severe & (uniform < unrelated_interrupt)] = INTENT_INTERRUPT
        if agent == "apatinib":
            reduce = rng.random(len(term)) < profile.reduce_share[term, grade_index]
            intent[(intent == INTENT_INTERRUPT) & related & reduce] = INTENT_REDUCE
        intent[fatal] = INTENT_WITHDRAW
        intents[agent] = intent
    return intents


@dataclass
class TreatmentCourse:
    """Per-subject end of dosing per agent and the resulting end of treatment."""

    stop_rel: dict[str, np.ndarray]  # first day without the agent (exclusive end of dosing)
    withdrawal_rel: dict[str, np.ndarray]  # day the agent was withdrawn for an AE, NEVER if not
    end_of_treatment_rel: np.ndarray  # NEVER when still on treatment
    end_of_treatment_reason: np.ndarray  # object array of contract values, None when ongoing
    death_rel: np.ndarray
    death_cause: np.ndarray  # object array of contract values, None when alive
    last_contact_rel: np.ndarray


def resolve_treatment_course(
    events: pl.DataFrame, intents: dict[str, np.ndarray], fatal_onset_rel: np.ndarray,
    fatal_death_rel: np.ndarray, cohort: Cohort, seed: int, params: dict[str, Any],
) -> tuple[TreatmentCourse, dict[str, np.ndarray]]:
    """Turn intended actions into each subject's dosing history and the AEs' recorded actions.

    Apatinib is withdrawn at the first AE that intends it, or at the second reduction (only
    one reduction level exists below 250 mg). Anti-PD-1 is withdrawn at the first AE that
    intends it. When one agent is withdrawn, the other goes on with the configured
    probability. Treatment ends for toxicity only when both agents have been withdrawn.
    """
    rng = stage_rng(seed, "actions", block=1)
    dosing = params["dosing"]
    subject = events["subject"].to_numpy()
    onset = events["onset"].to_numpy()
    natural_stop = natural_stop_rel(cohort)
    on_natural_treatment = onset < natural_stop[subject]

    reduce_rank = cumsum_within_groups((intents["apatinib"] == INTENT_REDUCE).astype(np.int64), subject)
    candidate = {
        "apatinib": (intents["apatinib"] == INTENT_WITHDRAW)
        | ((intents["apatinib"] == INTENT_REDUCE) & (reduce_rank >= 2)),
        "anti_pd1": intents["anti_pd1"] == INTENT_WITHDRAW,
    }
    withdrawal = {
        agent: per_subject_min(cohort.size, subject[candidate[agent] & on_natural_treatment],
                               onset[candidate[agent] & on_natural_treatment])
        for agent in AGENTS
    }
    # The other agent follows the first withdrawal unless the subject goes on with it.
    continue_draw = rng.random(cohort.size)
    apatinib_first = withdrawal["apatinib"] < withdrawal["anti_pd1"]
    anti_pd1_first = withdrawal["anti_pd1"] < withdrawal["apatinib"]
    follow_apatinib = apatinib_first & (continue_draw >= dosing["continue_other_after_apatinib_withdrawal"])
    follow_anti_pd1 = anti_pd1_first & (continue_draw >= dosing["continue_other_after_anti_pd1_withdrawal"])
    withdrawal["anti_pd1"] = np.where(follow_apatinib, withdrawal["apatinib"], withdrawal["anti_pd1"])
    withdrawal["apatinib"] = np.where(follow_anti_pd1, withdrawal["anti_pd1"], withdrawal["apatinib"])
    for agent in AGENTS:
        withdrawal[agent] = np.where(withdrawal[agent] < natural_stop, withdrawal[agent], NEVER)
    stop = {agent: np.minimum(natural_stop, withdrawal[agent]) for agent in AGENTS}

    both_withdrawn = (withdrawal["apatinib"] < NEVER) & (withdrawal["anti_pd1"] < NEVER)
    toxicity_end = np.maximum(withdrawal["apatinib"], withdrawal["anti_pd1"])
    death_rel = np.minimum(cohort.natural_death_rel, fatal_death_rel)
    died_of_event = fatal_death_rel < NEVER
    fatal_onset_ends_treatment = both_withdrawn & (toxicity_end == fatal_onset_rel)

    end_rel = np.where(both_withdrawn, toxicity_end, cohort.natural_end_rel)
    end_reason = np.full(cohort.size, None, dtype=object)
    natural_ended = cohort.natural_end_rel < NEVER
    end_reason[natural_ended] = np.array(NATURAL_END_REASONS, dtype=object)[cohort.natural_end_reason[natural_ended]]
    end_reason[both_withdrawn] = END_REASON_TOXICITY
    end_reason[fatal_onset_ends_treatment] = END_REASON_DEATH
    # A natural death ("other" causes) that is also the end of treatment stays "death".

    death_cause = np.full(cohort.size, None, dtype=object)
    died = death_rel < NEVER
    death_cause[died] = DEATH_CAUSE_PROGRESSION
    death_cause[died & cohort.natural_death_other] = DEATH_CAUSE_OTHER
    death_cause[died_of_event & (fatal_death_rel <= cohort.natural_death_rel)] = DEATH_CAUSE_ADVERSE_EVENT
    last_contact_rel = np.where(died, death_rel, cohort.last_contact_alive_rel)

    # Recorded action per AE and agent.
    actions = {}
    for agent, other in (("apatinib", "anti_pd1"), ("anti_pd1", "apatinib")):
        agent_stop = stop[agent][subject]
        causes_withdrawal = (
            (onset == withdrawal[agent][subject])
            & (candidate[agent] | candidate[other] | (events["grade"].to_numpy() == 5))
        )
        action = np.full(len(onset), ACTION_NOT_CHANGED, dtype=object)
        intent = intents[agent]
        action[intent == INTENT_INTERRUPT] = ACTION_INTERRUPTED
        if agent == "apatinib":
            action[(intent == INTENT_REDUCE) & (reduce_rank == 1)] = ACTION_REDUCED
        action[onset >= agent_stop] = ACTION_NOT_APPLICABLE
        action[causes_withdrawal & (withdrawal[agent][subject] < NEVER)] = ACTION_WITHDRAWN
        actions[agent] = action

    course = TreatmentCourse(
        stop_rel=stop, withdrawal_rel=withdrawal, end_of_treatment_rel=end_rel,
        end_of_treatment_reason=end_reason, death_rel=death_rel, death_cause=death_cause,
        last_contact_rel=last_contact_rel,
    )
    return course, actions


def observation_end_rel(course: TreatmentCourse, params: dict[str, Any]) -> np.ndarray:
    """Last day an AE onset is collected: 30 days after the last dose, last contact, death."""
    collection_days = params["course"]["ae_collection_days_after_last_dose"]
    last_dose_stop = np.maximum(course.stop_rel["apatinib"], course.stop_rel["anti_pd1"])
    return np.minimum.reduce([last_dose_stop - 1 + collection_days, course.last_contact_rel, course.death_rel])
