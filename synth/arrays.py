"""Array helpers for per-subject and per-group work without Python loops over rows.

Rows are kept sorted by their owner (subject, or any key); these give each row its group's
first row, running sums within a group, per-subject minima, and the expansion of per-owner
counts into rows.
"""

from __future__ import annotations

import numpy as np

from synth.days import NEVER


def group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """For each row of a key-sorted array, the index of the first row with the same key."""
    if len(sorted_keys) == 0:
        return np.zeros(0, dtype=np.int64)
    is_start = np.ones(len(sorted_keys), dtype=bool)
    is_start[1:] = sorted_keys[1:] != sorted_keys[:-1]
    start_positions = np.flatnonzero(is_start)
    return start_positions[np.cumsum(is_start) - 1]


def cumsum_within_groups(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Running sum of `values` restarting at each new key (keys sorted)."""
    running = np.cumsum(values)
    starts = group_starts(sorted_keys)
    return running - running[starts] + values[starts]


def per_subject_min(n_subjects: int, subject: np.ndarray, values: np.ndarray) -> np.ndarray:
    result = np.full(n_subjects, NEVER, dtype=np.int64)
    np.minimum.at(result, subject, values)
    return result


def expand_counts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-owner row counts, the owner of every row and the row's position in its owner."""
    owners = np.repeat(np.arange(len(counts)), counts)
    offsets = np.cumsum(counts) - counts
    positions = np.arange(counts.sum()) - np.repeat(offsets, counts)
    return owners, positions
