"""CTCAE v5.0 <-> v6.0 term mapping, so that AE tables graded under either version can be pooled.

NCI's "CTCAE v5.0 to v6.0 Mapping" sheet maps every v5.0 (term, grade) to a v6.0 (term, grade).
Most terms keep their name; some were renamed or merged (Platelet count decreased ->
Thrombocytopenia, Proteinuria -> Urinary protein increased, Lung infection -> Pneumonia), and
some grades moved to a different term (Hypertension grade 1 -> "Vascular disorders - Other,
specify" with "Hypertension" as the specification, because v6.0 Hypertension starts at grade 2).

Here the mapping is shown term by term: one row per (v5.0 term, v6.0 term) pair, with

* ``change_type``: the most significant change among the pair's grade and definition rows, in
  NCI's words (Deletion > SOC change > Clarification > No change), or "Addition" for a v6.0
  term that no v5.0 term maps to;
* ``grade_map``: which v5.0 grade became which v6.0 grade, e.g. ``"2->1; 3->1"``;
* ``v6_other_specify``: the text to put in "Other, specify" when the target is such a term.

Source: the imported mapping (``<toxwatch home>/ctcae/mapping_v5.0_v6.0.parquet``, written by
importing the v6.0 workbook) when present, else the curated ``data/ctcae/mapping_v5.0_v6.0.csv``
which covers the curated terms.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ctcae.home import toxwatch_home
from ctcae.terms import CURATED_DIR, fold_term, load_dictionary, normalise_version
from ctcae.workbook import mapping_path

CURATED_MAPPING_PATH = CURATED_DIR / "mapping_v5.0_v6.0.csv"

TERM_MAPPING_SCHEMA = {
    "v5_term": pl.String,
    "v6_term": pl.String,
    "change_type": pl.String,
    "grade_map": pl.String,
    "v6_other_specify": pl.String,
}

MAPPING_TABLE_SCHEMA = {
    "from_version": pl.String,
    "from_term": pl.String,
    "to_version": pl.String,
    "to_term": pl.String,
    "change_type": pl.String,
    "grade_map": pl.String,
    "other_specify": pl.String,
}


@dataclass(frozen=True)
class MappedTerm:
    """Where a term of one CTCAE version goes in another."""

    from_version: str
    from_term: str
    to_version: str
    to_term: str | None  # None: the term has no counterpart (a v6.0 addition mapped to v5.0)
    change_type: str
    grade_map: tuple[tuple[int, int], ...]  # (from grade, to grade) pairs
    other_specify: str | None  # text for "Other, specify" when to_term is such a term

    def target_grades(self, grade: int) -> tuple[int, ...]:
        """Grades of ``to_term`` that ``grade`` of ``from_term`` maps to (empty: not this pair)."""
        return tuple(sorted({to for source, to in self.grade_map if source == grade}))


def change_rank(change_type: str) -> int:
    """Significance of an NCI change type: Deletion > SOC change > Clarification > No change."""
    text = change_type.lower()
    if "deletion" in text:
        return 3
    if "soc change" in text:
        return 2
    if "clarification" in text:
        return 1
    return 0


def format_grade_map(pairs: Iterable[tuple[int, int]]) -> str:
    """Grade pairs as text: [(2, 1), (3, 1)] -> "2->1; 3->1"."""
    return "; ".join(f"{source}->{target}" for source, target in sorted(set(pairs)))


def parse_grade_map(text: str | None) -> tuple[tuple[int, int], ...]:
    """Inverse of format_grade_map: "2->1; 3->1" -> ((2, 1), (3, 1))."""
    if not text:
        return ()
    pairs = []
    for part in text.split(";"):
        source, target = part.split("->")
        pairs.append((int(source), int(target)))
    return tuple(pairs)


def term_level_mapping(grade_rows: pl.DataFrame) -> pl.DataFrame:
    """Collapse NCI's grade-level mapping rows into one row per (v5.0 term, v6.0 term) pair.

    ``grade_rows`` has the columns of the imported mapping (v5_term, v5_item, v5_grade,
    change_type, v6_term, v6_grade, v6_other_specify). Rows without a v5.0 term are v6.0 additions.
    """
    records = []
    pairs = grade_rows.group_by(["v5_term", "v6_term"], maintain_order=True)
    for (v5_term, v6_term), rows in pairs:
        # A deleted navigational note says nothing about how the term or its grades map,
        # so note rows do not set the term-level change type (unless they are all there is).
        graded = rows.filter(pl.col("v5_item").is_null() | (pl.col("v5_item") != "Navigational Note"))
        change_types = (graded if graded.height else rows)["change_type"].to_list()
        grade_pairs = [
            (int(source), int(target))
            for source, target in zip(rows["v5_grade"], rows["v6_grade"])
            if source is not None and target is not None
        ]
        others = sorted(set(rows["v6_other_specify"].drop_nulls().to_list()))
        records.append(
            {
                "v5_term": v5_term,
                "v6_term": v6_term,
                "change_type": max(change_types, key=change_rank),
                "grade_map": format_grade_map(grade_pairs),
                "v6_other_specify": "; ".join(others) or None,
            }
        )
    return pl.DataFrame(records, schema=TERM_MAPPING_SCHEMA)


def read_curated_mapping() -> pl.DataFrame:
    """The curated term-level mapping shipped with toxwatch (empty cells -> null)."""
    table = pl.read_csv(CURATED_MAPPING_PATH, infer_schema=False)
    return table.select(
        [pl.col(name).str.strip_chars().replace("", None).alias(name) for name in TERM_MAPPING_SCHEMA]
    )


def load_term_mapping(*, home: Path | None = None) -> tuple[pl.DataFrame, str]:
    """Term-level v5.0 -> v6.0 mapping and its source ("imported" or "curated")."""
    home = Path(home) if home is not None else toxwatch_home()
    imported = mapping_path(home)
    stamp = imported.stat().st_mtime_ns if imported.exists() else None
    return _load_term_mapping_cached(str(home.resolve()), stamp)


@functools.lru_cache(maxsize=8)
def _load_term_mapping_cached(home: str, imported_stamp: int | None) -> tuple[pl.DataFrame, str]:
    if imported_stamp is not None:
        return term_level_mapping(pl.read_parquet(mapping_path(Path(home)))), "imported"
    return read_curated_mapping(), "curated"


def oriented_mapping(term_mapping: pl.DataFrame, from_version: str, to_version: str) -> pl.DataFrame:
    """The term-level mapping seen from ``from_version`` (one of "5.0"/"6.0") to the other."""
    if from_version == "5.0":
        return term_mapping.filter(pl.col("v5_term").is_not_null()).select(
            pl.lit(from_version).alias("from_version"),
            pl.col("v5_term").alias("from_term"),
            pl.lit(to_version).alias("to_version"),
            pl.col("v6_term").alias("to_term"),
            "change_type",
            "grade_map",
            pl.col("v6_other_specify").alias("other_specify"),
        )
    # v6.0 -> v5.0: reverse each pair; the Other-specify text belongs to the v6.0 side and
    # says nothing about how to code the v5.0 term, so it is left out.
    reversed_maps = [
        format_grade_map((target, source) for source, target in parse_grade_map(text))
        for text in term_mapping["grade_map"].to_list()
    ]
    return term_mapping.with_columns(pl.Series("reversed_map", reversed_maps, dtype=pl.String)).select(
        pl.lit(from_version).alias("from_version"),
        pl.col("v6_term").alias("from_term"),
        pl.lit(to_version).alias("to_version"),
        pl.col("v5_term").alias("to_term"),
        "change_type",
        pl.col("reversed_map").alias("grade_map"),
        pl.lit(None, dtype=pl.String).alias("other_specify"),
    )


def identity_mapping(terms: Iterable[str], version: str, *, home: Path | None) -> pl.DataFrame:
    """Mapping of a version onto itself: each term to itself, every allowed grade unchanged."""
    dictionary = load_dictionary(version, home=home)
    records = []
    for term in terms:
        info = dictionary.lookup(term)
        if info is None:
            continue
        records.append(
            {
                "from_version": version,
                "from_term": info.term,
                "to_version": version,
                "to_term": info.term,
                "change_type": "No change",
                "grade_map": format_grade_map((g, g) for g in info.allowed_grades),
                "other_specify": None,
            }
        )
    return pl.DataFrame(records, schema=MAPPING_TABLE_SCHEMA)


def mapping_table(
    from_version: str = "5.0",
    to_version: str = "6.0",
    *,
    terms: Iterable[str] | None = None,
    home: Path | None = None,
) -> pl.DataFrame:
    """Term-level mapping between two CTCAE versions, for showing beside pooled tables.

    Columns: from_version, from_term, to_version, to_term, change_type, grade_map,
    other_specify. ``terms`` restricts the rows to those terms of ``from_version``
    (spelling folded as in dictionary lookup). From v6.0 to v5.0, terms new in v6.0 appear
    with no to_term and change_type "Addition".
    """
    from_version, to_version = normalise_version(from_version), normalise_version(to_version)
    wanted = None if terms is None else {fold_term(term) for term in terms}
    if from_version == to_version:
        dictionary_terms = load_dictionary(from_version, home=home).terms
        chosen = [t for t in dictionary_terms if wanted is None or fold_term(t) in wanted]
        return identity_mapping(chosen, from_version, home=home)
    term_mapping, _ = load_term_mapping(home=home)
    table = oriented_mapping(term_mapping, from_version, to_version)
    if wanted is not None:
        keys = [fold_term(term) for term in table["from_term"].to_list()]
        table = table.filter(pl.Series([key in wanted for key in keys], dtype=pl.Boolean))
    return table.sort("from_term", "to_term", nulls_last=True, maintain_order=True)


def map_term(
    term: str,
    from_version: str,
    to_version: str,
    *,
    grade: int | None = None,
    home: Path | None = None,
) -> list[MappedTerm]:
    """Where ``term`` of ``from_version`` goes in ``to_version``.

    Several targets are possible when NCI split a term by grade (v5.0 Hypertension grade 1
    went to "Vascular disorders - Other, specify"); give ``grade`` to keep only the targets
    of that grade. An empty list means the mapping in use does not know the term (the
    curated mapping covers the curated terms only; importing the v6.0 workbook gives all).
    """
    table = mapping_table(from_version, to_version, terms=[term], home=home)
    mapped = [
        MappedTerm(
            from_version=row["from_version"],
            from_term=row["from_term"],
            to_version=row["to_version"],
            to_term=row["to_term"],
            change_type=row["change_type"],
            grade_map=parse_grade_map(row["grade_map"]),
            other_specify=row["other_specify"],
        )
        for row in table.iter_rows(named=True)
    ]
    if grade is not None:
        mapped = [item for item in mapped if item.target_grades(grade)]
    return mapped
