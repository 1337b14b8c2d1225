"""Matching investigators' verbatim AE terms to CTCAE terms, for data managers.

Three steps, in order:

1. exact: the verbatim is a CTCAE term once case, spacing and punctuation are folded;
2. synonym: the verbatim is listed in ``data/ctcae/synonyms.csv`` for the dictionary's version
   (clinical shorthand, lay terms, British spellings, previous-version names);
3. fuzzy: ranked suggestions from string similarity (rapidfuzz, score 0-100).

Only an exact or synonym match sets ``MatchResult.term``. A fuzzy match never codes a term by
itself: its suggestions go back to the site as a query, because a near spelling can be a
different clinical concept ("Hypotension" is one letter from "Hypertension").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
from rapidfuzz import fuzz, process

from ctcae.terms import CURATED_DIR, CtcaeDictionary, fold_term, load_dictionary, normalise_version

SYNONYMS_PATH = CURATED_DIR / "synonyms.csv"

# Below this similarity a suggestion is more noise than help.
DEFAULT_SCORE_CUTOFF = 70.0

MatchKind = Literal["exact", "synonym", "fuzzy", "none"]


@dataclass(frozen=True)
class MatchResult:
    """Outcome of matching one verbatim term against a CTCAE dictionary."""

    term: str | None  # set only for an exact or synonym match
    match: MatchKind
    score: float  # 100 for exact and synonym; the best suggestion's score for fuzzy; else 0
    suggestions: list[tuple[str, float]] = field(default_factory=list)  # (CTCAE term, score)


@functools.lru_cache(maxsize=1)
def read_synonyms() -> pl.DataFrame:
    """The synonym table: synonym, ctcae_term, version, note."""
    table = pl.read_csv(SYNONYMS_PATH, infer_schema=False)
    return table.with_columns(pl.col(name).str.strip_chars() for name in table.columns)


def synonyms_for(version: str) -> dict[str, str]:
    """Folded synonym -> CTCAE term, for one CTCAE version."""
    version = normalise_version(version)
    rows = read_synonyms().filter(pl.col("version") == version)
    return {fold_term(s): t for s, t in zip(rows["synonym"], rows["ctcae_term"])}


def exact_match(verbatim: str, dictionary: CtcaeDictionary) -> str | None:
    """The CTCAE term the verbatim spells, case, spacing and punctuation aside."""
    info = dictionary.lookup(verbatim)
    return info.term if info is not None else None


def synonym_match(verbatim: str, dictionary: CtcaeDictionary) -> str | None:
    """The CTCAE term a listed synonym stands for, when that term is in the dictionary."""
    term = synonyms_for(dictionary.version).get(fold_term(verbatim))
    if term is None:
        return None
    info = dictionary.lookup(term)
    return info.term if info is not None else None


def fuzzy_suggestions(
    verbatim: str,
    dictionary: CtcaeDictionary,
    *,
    limit: int = 5,
    score_cutoff: float = DEFAULT_SCORE_CUTOFF,
) -> list[tuple[str, float]]:
    """CTCAE terms ranked by similarity to the verbatim (terms and their synonyms compared).

    A term reached through several synonyms is listed once, with its best score.
    """
    query = fold_term(verbatim)
    if not query or limit <= 0:
        return []
    choices = candidate_keys(dictionary)
    hits = process.extract(
        query,
        list(choices),
        scorer=fuzz.WRatio,
        limit=max(limit * 4, 20),  # room for several synonyms of one term
        score_cutoff=score_cutoff,
    )
    # A term reached through several keys (its name, its synonyms) keeps its best score; on
    # equal scores the key spelled most like the whole verbatim comes first.
    best: dict[str, tuple[float, float]] = {}
    for key, score, _ in hits:
        term = choices[key]
        rank = (round(float(score), 1), fuzz.ratio(query, key))
        if rank > best.get(term, (-1.0, -1.0)):
            best[term] = rank
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    ranked = [(term, score) for term, (score, _) in ranked]
    return ranked[:limit]


def candidate_keys(dictionary: CtcaeDictionary) -> dict[str, str]:
    """Folded strings to compare a verbatim with, each pointing at its CTCAE term."""
    keys: dict[str, str] = {}
    for folded, term in synonyms_for(dictionary.version).items():
        info = dictionary.lookup(term)
        if info is not None:
            keys[folded] = info.term
    for term in dictionary.terms:
        keys[fold_term(term)] = term
    return keys


def match_term(
    verbatim: str | None,
    dictionary: CtcaeDictionary,
    *,
    limit: int = 5,
    score_cutoff: float = DEFAULT_SCORE_CUTOFF,
) -> MatchResult:
    """Match a verbatim term: exact, then synonym, then fuzzy suggestions (never coded)."""
    if verbatim is None or not fold_term(str(verbatim)):
        return MatchResult(term=None, match="none", score=0.0, suggestions=[])
    verbatim = str(verbatim)
    term = exact_match(verbatim, dictionary)
    if term is not None:
        return MatchResult(term=term, match="exact", score=100.0, suggestions=[])
    term = synonym_match(verbatim, dictionary)
    if term is not None:
        return MatchResult(term=term, match="synonym", score=100.0, suggestions=[])
    suggestions = fuzzy_suggestions(verbatim, dictionary, limit=limit, score_cutoff=score_cutoff)
    if suggestions:
        return MatchResult(term=None, match="fuzzy", score=suggestions[0][1], suggestions=suggestions)
    return MatchResult(term=None, match="none", score=0.0, suggestions=[])


def lookup_json(
    term: str,
    version: str = "5.0",
    *,
    home: Path | None = None,
    limit: int = 5,
) -> dict[str, Any]:
    """The answer of ``toxwatch ctcae lookup TERM --json``.

    Keys: term, soc, meddra_code, allowed_grades, version, match, score, suggestions (list of
    {term, score, soc}) and dictionary (where the dictionary came from). term, soc,
    meddra_code and allowed_grades are null unless the match is exact or synonym.
    """
    dictionary = load_dictionary(version, home=home)
    result = match_term(term, dictionary, limit=limit)
    info = dictionary.lookup(result.term) if result.term is not None else None
    suggestions = []
    for suggested, score in result.suggestions:
        suggested_info = dictionary.lookup(suggested)
        suggestions.append(
            {"term": suggested, "score": score, "soc": suggested_info.soc if suggested_info else None}
        )
    return {
        "term": info.term if info else None,
        "soc": info.soc if info else None,
        "meddra_code": info.meddra_code if info else None,
        "allowed_grades": list(info.allowed_grades) if info else None,
        "version": dictionary.version,
        "match": result.match,
        "score": result.score,
        "suggestions": suggestions,
        "dictionary": dictionary.description,
    }
