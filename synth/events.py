"""Adverse-event episodes: which subjects have which AE, of what grade, when, how often.

Drawn per AE term for all subjects at once, from the profile's incidence (raised for a
nasopharyngeal recurrence or re-irradiation), grade probabilities and lognormal onset and
duration; an episode may recur after the previous one resolved. A subject dies of at most
one AE, and nothing starts after it. Each episode then gets its attribution per agent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from synth.arrays import cumsum_within_groups, per_subject_min
from synth.cohort import Cohort, natural_stop_rel
from synth.contract import AGENTS
from synth.days import NEVER
from synth.draws import cumulative_rows, draw_categories, draw_days, stage_rng
from synth.profile import AeProfile

# A subject's probability of any one AE type is capped here, whatever the multipliers.
MAX_INCIDENCE = 0.95


def draw_event_candidates(cohort: Cohort, profile: AeProfile, seed: int, params: dict[str, Any]) -> pl.DataFrame:
    """Every AE episode of every subject within the natural observation window.

    Drawn per term for all subjects at once: whether the subject has the term (incidence
    times the local-recurrence and re-irradiation multipliers), onset (lognormal), grade,
    duration, and recurrences that start after the previous episode resolved.
    """
    rng = stage_rng(seed, "events")
    events_params = params["events"]
    collection_days = params["course"]["ae_collection_days_after_last_dose"]
    stop_rel = natural_stop_rel(cohort)
    window_end = np.minimum.reduce([
        stop_rel - 1 + collection_days,
        cohort.last_contact_alive_rel,
        cohort.natural_death_rel,
    ])
    grade_cumulative = cumulative_rows(profile.grade_probability)
    pieces: list[dict[str, np.ndarray]] = []

    for term in range(profile.size):
        probability = profile.incidence[term] * np.where(
            cohort.local_recurrence, profile.local_multiplier[term], 1.0
        ) * np.where(cohort.reirradiated, profile.reirradiation_multiplier[term], 1.0)
        probability = np.clip(probability, 0.0, MAX_INCIDENCE)
        subject = np.flatnonzero(rng.random(cohort.size) < probability)
        count = len(subject)
        onset = draw_days(rng, profile.onset_median[term], profile.onset_log_sd[term], count, rounding=np.floor)
        grade = draw_categories(rng, np.repeat(grade_cumulative[term:term + 1], count, axis=0)) + 1
        duration = draw_days(rng, profile.duration_median[term], profile.duration_log_sd[term], count)
        episode = np.ones(count, dtype=np.int64)
        episodes = [(subject, onset, grade, duration, episode)]

        for number in range(2, events_params["max_episodes"] + 1):
            previous_subject, previous_onset, previous_grade, previous_duration, _ = episodes[-1]
            count = len(previous_subject)
            recurs = (rng.random(count) < profile.recurrence_probability[term]) & (previous_grade < 5)
            gap_median = max(profile.recurrence_gap_median[term], 1.0)
            gap = draw_days(rng, gap_median, events_params["recurrence_gap_log_sd"], count)
            new_grade = draw_categories(rng, np.repeat(grade_cumulative[term:term + 1], count, axis=0)) + 1
            new_duration = draw_days(rng, profile.duration_median[term], profile.duration_log_sd[term], count)
            keep = np.flatnonzero(recurs)
            # A recurrence is no worse than the episode before it; both grades are allowed,
            # so their minimum is allowed too.
            episodes.append((
                previous_subject[keep],
                previous_onset[keep] + previous_duration[keep] + gap[keep],
                np.minimum(previous_grade[keep], new_grade[keep]),
                new_duration[keep],
                np.full(len(keep), number, dtype=np.int64),
            ))

        for subject_part, onset_part, grade_part, duration_part, episode_part in episodes:
            inside = onset_part <= window_end[subject_part]
            pieces.append({
                "subject": subject_part[inside], "term": np.full(inside.sum(), term, dtype=np.int64),
                "episode": episode_part[inside], "onset": onset_part[inside],
                "grade": grade_part[inside], "duration": duration_part[inside],
            })

    columns = {key: np.concatenate([piece[key] for piece in pieces]) for key in pieces[0]}
    events = pl.DataFrame(columns).sort("subject", "onset", "term", "episode")
    if not profile.allowed[events["term"].to_numpy(), events["grade"].to_numpy() - 1].all():
        raise AssertionError("generated a grade the term does not allow")
    return events


def keep_events_until_first_death(events: pl.DataFrame, cohort: Cohort, seed: int,
                                  params: dict[str, Any]) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Keep one fatal event per subject at most and drop what would start after the death.

    Returns the events and, per subject, the onset of the fatal AE and the day of the death
    it caused (NEVER if none).
    """
    rng = stage_rng(seed, "details", block=1)
    subject = events["subject"].to_numpy()
    onset = events["onset"].to_numpy()
    fatal = events["grade"].to_numpy() == 5
    first_fatal_onset = per_subject_min(cohort.size, subject[fatal], onset[fatal])
    delay = rng.integers(0, params["events"]["fatal_event_max_days_to_death"] + 1, cohort.size)
    fatal_death_rel = np.where(
        first_fatal_onset < NEVER,
        np.minimum.reduce([first_fatal_onset + delay, cohort.horizon_rel, cohort.natural_death_rel]),
        NEVER,
    )
    # Only the earliest fatal event of a subject stays fatal; anything starting after the
    # first fatal onset (including another fatal event) did not happen.
    fatal_onset_of_row = first_fatal_onset[subject]
    earliest_fatal = fatal & (onset == fatal_onset_of_row)
    first_of_day = earliest_fatal & (cumsum_within_groups(earliest_fatal.astype(np.int64), subject) == 1)
    same_day_not_fatal = (onset == fatal_onset_of_row) & ~fatal
    keep = (onset < fatal_onset_of_row) | first_of_day | same_day_not_fatal
    return events.filter(pl.Series(keep)), first_fatal_onset, fatal_death_rel


def draw_attribution(events: pl.DataFrame, profile: AeProfile, seed: int) -> dict[str, np.ndarray]:
    """5-level attribution per agent, drawn from the term's weights (index into ATTRIBUTION_LEVELS)."""
    rng = stage_rng(seed, "attribution")
    term = events["term"].to_numpy()
    levels = {}
    for agent in AGENTS:
        cumulative = cumulative_rows(profile.attribution_weights[agent])
        levels[agent] = draw_categories(rng, cumulative[term])
    return levels
