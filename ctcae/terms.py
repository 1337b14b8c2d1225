"""CTCAE term dictionaries: term, MedDRA SOC and LLT code, allowed grades, Other-specify flag.

Two sources, in order of preference:

* imported: the full NCI dictionary written by ``ctcae.workbook.import_workbook`` into
  ``<toxwatch home>/ctcae/terms_v{version}.parquet`` (837 terms in v5.0, 850 in v6.0);
* curated: the subset shipped with toxwatch in ``data/ctcae/terms_v{version}.csv``
  (facts only, no NCI grade text), used when nothing has been imported.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ctcae.home import toxwatch_home
from ctcae.workbook import read_provenance, terms_path
from ctcae.home import data_path

SUPPORTED_VERSIONS = ("5.0", "6.0")

CURATED_DIR = data_path("ctcae")

DICTIONARY_COLUMNS = ("ctcae_term", "meddra_soc", "meddra_code", "allowed_grades", "other_specify")
DICTIONARY_SCHEMA = {
    "ctcae_term": pl.String,
    "meddra_soc": pl.String,
    "meddra_code": pl.Int64,
    "allowed_grades": pl.List(pl.Int8),
    "other_specify": pl.Boolean,
}


@dataclass(frozen=True)
class TermInfo:
    """Facts about one CTCAE term."""

    term: str
    soc: str
    meddra_code: int | None
    allowed_grades: tuple[int, ...]
    other_specify: bool
    version: str


@dataclass(frozen=True, eq=False)
class CtcaeDictionary:
    """The terms of one CTCAE version, with where they came from."""

    version: str  # "5.0" | "6.0"
    table: pl.DataFrame  # ctcae_term, meddra_soc, meddra_code, allowed_grades, other_specify
    source: str  # "imported" | "curated"
    description: str
    _index: dict[str, TermInfo] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {}
        for row in self.table.iter_rows(named=True):
            info = TermInfo(
                term=row["ctcae_term"],
                soc=row["meddra_soc"],
                meddra_code=row["meddra_code"],
                allowed_grades=tuple(sorted(row["allowed_grades"] or ())),
                other_specify=bool(row["other_specify"]),
                version=self.version,
            )
            index[fold_term(info.term)] = info
        object.__setattr__(self, "_index", index)

    def __len__(self) -> int:
        return self.table.height

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.lookup(term) is not None

    @property
    def terms(self) -> list[str]:
        """All CTCAE terms, in dictionary order."""
        return self.table["ctcae_term"].to_list()

    def lookup(self, term: str) -> TermInfo | None:
        """The term spelled exactly, ignoring case, spacing and punctuation; None when absent."""
        if not isinstance(term, str):
            return None
        return self._index.get(fold_term(term))

    def is_grade_allowed(self, term: str, grade: int) -> bool:
        """Whether CTCAE defines ``grade`` for ``term`` (e.g. Alopecia has no grade 3-5).

        A term that is not in the dictionary allows no grade; check ``lookup`` first to tell
        an unknown term from a grade the term does not have.
        """
        info = self.lookup(term)
        return info is not None and grade in info.allowed_grades


def fold_term(text: str) -> str:
    """Key for exact term comparison: case, spacing and punctuation folded.

    "Rash  maculo-papular" and "rash maculo papular" both become "rash maculo papular".
    """
    # NFKD splits accented letters so that "Barré" folds like "Barre".
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    text = re.sub(r"[^0-9a-z]+", " ", text)
    return text.strip()


def normalise_version(version: str | float) -> str:
    """CTCAE version as "5.0" or "6.0" ("5", "v5", "5.0" and 5.0 are accepted)."""
    text = str(version).strip().lower().removeprefix("ctcae").strip().removeprefix("v").strip()
    if re.fullmatch(r"\d+", text):
        text += ".0"
    if text not in SUPPORTED_VERSIONS:
        raise ValueError(
            f"unsupported CTCAE version {version!r}; supported versions: "
            + ", ".join(SUPPORTED_VERSIONS)
        )
    return text


def curated_terms_path(version: str) -> Path:
    """The curated term table shipped with toxwatch for ``version``."""
    return CURATED_DIR / f"terms_v{normalise_version(version)}.csv"


def read_curated_table(version: str) -> pl.DataFrame:
    """The curated CSV as a dictionary table (allowed grades "1,3" -> [1, 3]; Y/N -> bool)."""
    raw = pl.read_csv(curated_terms_path(version), infer_schema=False)
    return raw.select(
        pl.col("ctcae_term").str.strip_chars(),
        pl.col("meddra_soc").str.strip_chars(),
        pl.col("meddra_code").str.strip_chars().cast(pl.Int64),
        pl.col("allowed_grades").str.split(",").list.eval(pl.element().str.strip_chars().cast(pl.Int8)),
        pl.col("other_specify").str.strip_chars().str.to_uppercase().eq("Y"),
    )


def read_imported_table(path: Path) -> pl.DataFrame:
    """The dictionary columns of an imported parquet dictionary."""
    try:
        table = pl.read_parquet(path, columns=list(DICTIONARY_COLUMNS))
    except Exception as exc:  # a damaged or foreign file: say which, and how to repair it
        raise ValueError(
            f"cannot read the imported CTCAE dictionary {path} ({exc}); "
            "re-import the NCI workbook with `python -m ctcae.workbook WORKBOOK.xlsx`"
        ) from exc
    return table.cast(DICTIONARY_SCHEMA)


def describe_imported(version: str, home: Path, term_count: int) -> str:
    """Provenance line of an imported dictionary, from its JSON record."""
    provenance = read_provenance(version, home) or {}
    source = provenance.get("source_file", "unknown file")
    sha = provenance.get("source_sha256", "")
    when = str(provenance.get("imported_at", "unknown date"))[:10]
    sha_text = f" (sha256 {sha[:12]}\u2026)" if sha else ""
    return f"NCI CTCAE v{version} workbook {source}{sha_text}, {term_count} terms, imported {when}"


def describe_curated(version: str, term_count: int) -> str:
    """Provenance line of the curated table."""
    return f"toxwatch curated CTCAE v{version} table, {term_count} terms"


def load_dictionary(version: str = "5.0", *, home: Path | None = None) -> CtcaeDictionary:
    """The CTCAE dictionary of ``version``: the imported one when present, the curated one else.

    Loaded dictionaries are cached per (version, home, state of the imported file), so a
    new import is picked up without a restart.
    """
    version = normalise_version(version)
    home = Path(home) if home is not None else toxwatch_home()
    imported = terms_path(version, home)
    stamp = imported.stat().st_mtime_ns if imported.exists() else None
    return _load_dictionary_cached(version, str(home.resolve()), stamp)


@functools.lru_cache(maxsize=16)
def _load_dictionary_cached(version: str, home: str, imported_stamp: int | None) -> CtcaeDictionary:
    if imported_stamp is not None:
        table = read_imported_table(terms_path(version, Path(home)))
        return CtcaeDictionary(
            version=version,
            table=table,
            source="imported",
            description=describe_imported(version, Path(home), table.height),
        )
    table = read_curated_table(version)
    return CtcaeDictionary(
        version=version,
        table=table,
        source="curated",
        description=describe_curated(version, table.height),
    )


def load_curated_dictionary(version: str = "5.0") -> CtcaeDictionary:
    """The curated dictionary shipped with toxwatch, whatever has been imported."""
    version = normalise_version(version)
    table = read_curated_table(version)
    return CtcaeDictionary(
        version=version, table=table, source="curated", description=describe_curated(version, table.height)
    )
