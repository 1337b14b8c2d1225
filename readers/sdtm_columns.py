"""``[cdisc.columns]``: contract columns an SDTM trial keeps in variables of its own choosing.

SDTM has a place for most of what toxwatch reads (docs/sources.md, "SDTM domains"); what it has no
standard variable for (a subject's site of recurrence, the CTCAE term beside the MedDRA preferred
term, the action taken with each agent of a combination, what was given for an AE) a sponsor
keeps in a supplemental qualifier (SUPPDM, SUPPAE, ...) or in a variable of its own. The trial
config names that variable per source and contract column::

    [cdisc.columns.adverse_events]
    ctcae_term = "AECTCTRM"        # a SUPPAE QNAM
    action_apatinib = "AEACNAPA"
    ae_id = "AESPID"               # an AE variable

A variable of the source's domain is read from it; any other name is a QNAM of the domain's
supplemental domain (``supp<domain>`` in ``[cdisc.files]``). A qualifier of a whole subject (no
IDVAR) applies to each of the subject's records; one of a record names it by ``IDVAR`` the
domain's sequence variable (AESEQ, EXSEQ, LBSEQ, RSSEQ) and ``IDVARVAL`` its value. A record's own
qualifier wins over its subject's; a qualifier given twice keeps its first value, so no record is
repeated.

Where the variable holds a value for a record, it takes the place of what the reader derives
(``readers/sdtm.py``); where it holds none, the derived value stands. Values are read as given
(surrounding spaces removed), except: a date-time as its date, a whole number written with
decimals (``3.0``) as the whole number, and the CDISC terms of a column the readers translate
with a value map of ``data/cdisc/`` (outcome, action taken, cause of death, disposition) through
that map, a value it does not list as given.
"""

from __future__ import annotations

import logging

import polars as pl

from readers.cdisc import AE_ACTIONS, AE_OUTCOMES, DISPOSITION_REASONS, date_part, folded, map_shipped, whole_number_text
from readers.files import read_table
from trial.config import TrialConfig
from trial.errors import InputError
from validators.contract import source_columns
from validators.read import ROW

log = logging.getLogger("toxwatch")

SUPPLEMENTAL_VARIABLES = ("USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL")
_NAMED = "_named_"  # the named variable's values beside the reader's frame, one column per contract column

# Contract column (or per-agent prefix) -> the value map of data/cdisc/ its CDISC terms go through.
COLUMN_VALUE_MAPS = {
    "outcome": AE_OUTCOMES,
    "action_": AE_ACTIONS,
    "death_cause": "death_causes.csv",
    "end_of_treatment_reason": DISPOSITION_REASONS,
}


def with_named_columns(
    config: TrialConfig, source: str, domain: str, records: pl.DataFrame, frame: pl.DataFrame, used: set[str]
) -> tuple[pl.DataFrame, set[str]]:
    """``frame`` (the reader's records of ``source``, with ``_row``) with the columns
    ``[cdisc.columns.<source>]`` names taken from their variables where given; ``records`` is the
    domain as read (``_row`` and its variables). Returns the frame and the domain's variables used."""
    cdisc = config.model.cdisc
    mapping = cdisc.columns.get(source, {}) if cdisc is not None else {}
    if not mapping:
        return frame, used
    in_domain = {column: variable for column, variable in mapping.items() if variable in records.columns}
    qualifiers = {column: variable.strip() for column, variable in mapping.items() if column not in in_domain}
    named = records.select(ROW, *[pl.col(variable).alias(_NAMED + column) for column, variable in in_domain.items()])
    if qualifiers:
        named = named.join(
            _qualifier_columns(config, source, domain, records, qualifiers), on=ROW, how="left", maintain_order="left"
        )
    joined = frame.join(named, on=ROW, how="left", maintain_order="left")
    kinds = _column_kinds(source)
    replaced = []
    for column in mapping:
        derived = pl.col(column) if column in frame.columns else pl.lit(None, dtype=pl.String)
        replaced.append(pl.coalesce(_read_value(column, pl.col(_NAMED + column), kinds), derived).alias(column))
    result = joined.with_columns(replaced).drop([name for name in joined.columns if name.startswith(_NAMED)])
    return result, used | set(in_domain.values())


def _qualifier_columns(
    config: TrialConfig, source: str, domain: str, records: pl.DataFrame, qualifiers: dict[str, str]
) -> pl.DataFrame:
    """Per record of the domain (``_row``), the value of each qualifier (column -> QNAM) from the
    supplemental domain: the record's own (IDVAR the domain's sequence variable), else its subject's
    (IDVAR empty)."""
    supplemental = _supplemental_domain(config, source, domain, qualifiers)
    sequence = f"{domain.upper()}SEQ"
    wanted = list(dict.fromkeys(qualifiers.values()))
    if "RDOMAIN" in supplemental.columns:
        supplemental = supplemental.filter((folded(pl.col("RDOMAIN")) == domain.upper()).fill_null(True))
    supplemental = supplemental.with_columns(
        pl.col("QNAM").str.strip_chars(),
        folded(pl.col("IDVAR")).alias("_idvar"),
        whole_number_text(pl.col("IDVARVAL")).alias("_seq"),
    ).filter(pl.col("QNAM").is_in(wanted))
    for qnam in wanted:
        if supplemental.filter(pl.col("QNAM") == qnam).height == 0:
            file = config.cdisc_files()[f"supp{domain}"].name
            log.warning(
                "%s: no record has QNAM %s (named by [cdisc.columns.%s]): the reader's own value stands", file, qnam, source
            )
    of_record = _wide(supplemental.filter(pl.col("_idvar") == sequence), ["USUBJID", "_seq"], wanted, "_record_")
    of_subject = _wide(supplemental.filter(pl.col("_idvar").is_null()), ["USUBJID"], wanted, "_subject_")
    seq = whole_number_text(pl.col(sequence)) if sequence in records.columns else pl.lit(None, dtype=pl.String)
    keys = records.select(ROW, pl.col("USUBJID"), seq.alias("_seq"))
    joined = keys.join(of_record, on=["USUBJID", "_seq"], how="left", maintain_order="left").join(
        of_subject, on="USUBJID", how="left", maintain_order="left"
    )
    return joined.select(
        ROW,
        *[pl.coalesce(f"_record_{qnam}", f"_subject_{qnam}").alias(_NAMED + column) for column, qnam in qualifiers.items()],
    )


def _wide(long: pl.DataFrame, keys: list[str], qnams: list[str], prefix: str) -> pl.DataFrame:
    """One row per key, one column (``prefix`` + QNAM) per qualifier: its first value given."""
    first = (
        long.filter(pl.col("QVAL").is_not_null())
        .select(*keys, "QNAM", "QVAL")
        .unique([*keys, "QNAM"], keep="first", maintain_order=True)
    )
    wide = first.pivot(on="QNAM", index=keys, values="QVAL") if first.height else first.select(keys)
    wide = wide.with_columns([pl.lit(None, dtype=pl.String).alias(qnam) for qnam in qnams if qnam not in wide.columns])
    return wide.select(
        *[pl.col(key).cast(pl.String) for key in keys], *[pl.col(qnam).alias(prefix + qnam) for qnam in qnams]
    )


def _supplemental_domain(config: TrialConfig, source: str, domain: str, qualifiers: dict[str, str]) -> pl.DataFrame:
    """The supplemental domain of ``domain`` as text, once its variables are checked."""
    name = f"supp{domain}"
    path = config.cdisc_files().get(name)
    if path is None:
        column, variable = next(iter(qualifiers.items()))
        raise InputError(
            config.path,
            f"cdisc.columns.{source}.{column}",
            f"{variable} is not a {domain.upper()} variable, and no {name.upper()} file is configured to hold it "
            "as a qualifier",
            f"name a {domain.upper()} variable, or the {name.upper()} file under [cdisc.files] ({name} = ...)",
        )
    frame = read_table(path, encoding=config.model.cdisc.encoding).frame
    missing = [variable for variable in SUPPLEMENTAL_VARIABLES if variable not in frame.columns]
    if missing:
        raise InputError(
            path, missing[0], f"the {name.upper()} domain has no {', '.join(missing)} variable", "deliver the domain with its SDTM variables"
        )
    return frame


def _column_kinds(source: str) -> dict[str, str]:
    """Contract column (per-agent columns by their prefix) -> its kind: text, date, whole number or number."""
    return {
        column.name.split("<", 1)[0] if column.per_agent else column.name: column.kind for column in source_columns(source)
    }


def _read_value(column: str, value: pl.Expr, kinds: dict[str, str]) -> pl.Expr:
    """A named variable's value as the column reads it (module docstring)."""
    per_agent = (kind for prefix, kind in kinds.items() if prefix.endswith("_") and column.startswith(prefix))
    kind = kinds.get(column) or next(per_agent, "text")
    value = value.str.strip_chars()
    value = pl.when(value != "").then(value)
    if kind == "date":
        return date_part(value)
    if kind == "whole number":
        return whole_number_text(value)
    for prefix, file in COLUMN_VALUE_MAPS.items():
        if column == prefix or (prefix.endswith("_") and column.startswith(prefix)):
            return map_shipped(value, file)
    return value
