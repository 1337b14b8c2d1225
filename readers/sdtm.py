"""SDTM domains read as toxwatch's sources: DM (+ DS) -> subjects, EX -> exposure, AE (+ SUPPAE)
-> adverse events, LB -> labs; VS -> vitals and RS -> tumour assessments (readers/sdtm_findings.py).
Columns a trial keeps in variables of its own choosing, ``[cdisc.columns]``, are read by
readers/sdtm_columns.py.

Each source is one domain's records, row for row: ``_row`` is the record's row in that domain's
file (its line for CSV), so a query points at the record as the sponsor delivered it. Other
domains only add columns (DM the arm, first dose and death; SUPPAE the per-agent relationship and
awareness date; DS the reason treatment ended), joined on the subject and never fanning out a
record. Values are carried as text, as given; the value maps of ``data/cdisc/`` translate the
CDISC terms the contract codes differently (outcome, action, severity, disposition, lab test).

Which variable feeds which column is documented in docs/sources.md ("SDTM and ADaM"); a
domain's variables not read are named in ``RawSource.ignored_columns``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import polars as pl

from readers.cdisc import (
    AE_OUTCOMES,
    DEATH_CAUSE_UNKNOWN,
    DISPOSITION_REASONS,
    LAB_TEST_CODES,
    OTHER_DISPOSITION,
    REASON_NOT_RECORDED,
    SERIOUS_FLAGS,
    SEVERITY_GRADES,
    attribution_and_action_columns,
    canonical_frame,
    column_or_null,
    date_part,
    first_present,
    folded,
    imputation_rule,
    map_shipped,
    serious_criteria,
    treatment_agents,
    whole_number_text,
    with_dose_adjustment,
    with_planned_dose,
)
from readers.files import TextTable, read_table
from readers.partial_dates import FLAG_SUFFIX, GIVEN_SUFFIX, impute
from readers.sdtm_columns import with_named_columns
from readers.sdtm_findings import tumour_assessments, vitals
from trial.config import CDISC_DOMAINS, TrialConfig
from trial.errors import InputError
from validators.read import ROW, RawSource

log = logging.getLogger("toxwatch")

DOMAINS = CDISC_DOMAINS["sdtm"]  # toxwatch source -> SDTM domain
DISPOSITION_EVENT = "DISPOSITION EVENT"  # DSCAT of the records that say why a subject left treatment or the study
TREATMENT_EPOCH = "TREATMENT"  # DS EPOCH of the end-of-treatment disposition, when the domain has EPOCH
SUPPAE_KEY = "IDVAR"  # SUPPAE names the AE variable (usually AESEQ) whose value IDVARVAL identifies the record
_SUPP_PREFIX = "_supp_"  # SUPPAE values pivoted beside the AE records, one column per QNAM read

# The variables a domain must have for its records to be placed at all.
REQUIRED_VARIABLES = {
    "dm": ("USUBJID",),
    "ex": ("USUBJID", "EXTRT"),
    "ae": ("USUBJID", "AESEQ", "AEDECOD"),
    "lb": ("USUBJID", "LBTESTCD"),
    "ds": ("USUBJID", "DSDECOD"),
    "suppae": ("USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL"),
    "vs": ("USUBJID", "VSTESTCD"),
    "rs": ("USUBJID", "RSTESTCD"),
}
# Sources a trial may have without their domain: read as absent when it is not configured.
OPTIONAL_SOURCES = ("labs", "vitals", "tumour_assessments")


def sdtm_source(config: TrialConfig, name: str) -> RawSource | None:
    """A source of the trial read from its SDTM domains; None for an optional source (labs, vitals,
    tumour assessments) whose domain (LB, VS, RS) is not configured."""
    builder = _BUILDERS.get(name)
    if builder is None:
        return None
    domain = DOMAINS[name]
    if domain not in config.cdisc_files():
        if name in OPTIONAL_SOURCES:
            return None
        raise InputError(
            config.path,
            f"cdisc.files.{domain}",
            f"no file for the SDTM {domain.upper()} domain, which the {name} source is read from",
            f'name the file under [cdisc.files], e.g. {domain} = "{domain}.xpt"',
        )
    table = _domain(config, domain)
    frame, used = builder(config, table.frame)
    frame, used = with_named_columns(config, name, domain, table.frame, frame, used)  # [cdisc.columns]
    return RawSource(
        name=name,
        path=table.path,
        sha256=table.sha256,
        frame=canonical_frame(name, frame, config),
        malformed=table.malformed,
        ignored_columns=tuple(column for column in table.frame.columns if column != ROW and column not in used),
        encoding=table.encoding,
    )


def _domain(config: TrialConfig, domain: str) -> TextTable:
    """A configured domain's file read as text, after checking it has the variables it must have."""
    path: Path = config.cdisc_files()[domain]
    table = read_table(path, encoding=config.model.cdisc.encoding)
    missing = [variable for variable in REQUIRED_VARIABLES.get(domain, ()) if variable not in table.frame.columns]
    if domain == "dm" and config.model.cdisc.arm_variable not in table.frame.columns:
        missing.append(config.model.cdisc.arm_variable)
    if missing:
        fix = "deliver the domain with its SDTM variables"
        if config.model.cdisc.arm_variable in missing:
            fix += ", or set [cdisc] arm_variable to the variable that holds the arm"
        raise InputError(path, missing[0], f"the {domain.upper()} domain has no {', '.join(missing)} variable", fix)
    return table


def _subject_columns(config: TrialConfig) -> pl.DataFrame:
    """Per subject of DM (the first record of a USUBJID given twice, so no join fans out): the
    arm ``_arm``, first dose ``_first_dose`` (RFXSTDTC, else the earliest complete EXSTDTC: the
    reference of partial onset dates) and death ``_death_date`` (DTHDTC), as text."""
    dm = _domain(config, "dm").frame
    subjects = (
        dm.select(
            pl.col("USUBJID").alias("_subject"),
            pl.col(config.model.cdisc.arm_variable).alias("_arm"),
            date_part(column_or_null(dm, "RFXSTDTC")).alias("_first_dose"),
            date_part(column_or_null(dm, "DTHDTC")).alias("_death_date"),
        )
        .filter(pl.col("_subject").is_not_null())
        .unique("_subject", keep="first", maintain_order=True)
    )
    if "ex" not in config.cdisc_files():
        return subjects
    ex = _domain(config, "ex").frame
    first_ex = (
        ex.select(pl.col("USUBJID").alias("_subject"), date_part(column_or_null(ex, "EXSTDTC")).str.to_date(strict=False).alias("_ex"))
        .group_by("_subject")
        .agg(pl.col("_ex").min().cast(pl.String).alias("_first_ex"))
    )
    return (
        subjects.join(first_ex, on="_subject", how="left", maintain_order="left")
        .with_columns(pl.coalesce("_first_dose", "_first_ex").alias("_first_dose"))
        .drop("_first_ex")
    )


# ---- subjects: DM (+ DS) ------------------------------------------------------------------------


def _subjects(config: TrialConfig, dm: pl.DataFrame) -> tuple[pl.DataFrame, set[str]]:
    """One record per DM record. Screen failures stay (their arm says so; with no exposure they
    are outside the safety population). The reason treatment ended is the latest disposition
    event of DS when a DS file is configured; it is given only when the end of treatment is dated
    (RFXENDTC), and is ``not_recorded`` when no disposition event says why."""
    arm_variable = config.model.cdisc.arm_variable
    end_of_treatment = date_part(column_or_null(dm, "RFXENDTC"))
    died = column_or_null(dm, "DTHDTC").is_not_null() | (folded(column_or_null(dm, "DTHFL")) == "Y").fill_null(False)
    frame = dm.select(
        ROW,
        pl.col("USUBJID").alias("subject_id"),
        column_or_null(dm, "SITEID").alias("site_id"),
        pl.col(arm_variable).alias("arm"),
        column_or_null(dm, "SEX").alias("sex"),
        whole_number_text(column_or_null(dm, "AGE")).alias("age"),
        # The subject's first date in the trial: the earliest of consent, the demographics
        # (screening) visit and the first study treatment, so that an AE of the screening period
        # is counted (not treatment-emergent) rather than queried as before enrolment.
        pl.min_horizontal(
            [date_part(column_or_null(dm, name)).str.to_date(strict=False) for name in ("RFICDTC", "DMDTC", "RFSTDTC")]
        ).cast(pl.String).alias("enrolment_date"),
        end_of_treatment.alias("end_of_treatment_date"),
        date_part(first_present(dm, "RFPENDTC", "RFENDTC", "DTHDTC")).alias("last_contact_date"),
        date_part(column_or_null(dm, "DTHDTC")).alias("death_date"),
        pl.when(died).then(pl.lit(DEATH_CAUSE_UNKNOWN)).otherwise(pl.lit(None, dtype=pl.String)).alias("death_cause"),
    )
    reasons = _disposition_reasons(config)
    if reasons is None:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("_disposition"))
    else:
        frame = frame.join(reasons, on="subject_id", how="left", maintain_order="left")
    frame = frame.with_columns(
        pl.when(pl.col("end_of_treatment_date").is_not_null())
        .then(pl.coalesce("_disposition", pl.lit(REASON_NOT_RECORDED)))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("end_of_treatment_reason")
    ).sort(ROW)
    used = {"USUBJID", "SITEID", arm_variable, "SEX", "AGE", "RFICDTC", "RFSTDTC", "DMDTC", "RFXENDTC", "RFPENDTC"}
    used |= {"RFENDTC", "DTHDTC", "DTHFL", "RFXSTDTC"}  # RFXSTDTC: the first dose, for the AEs' partial onset dates
    return frame, used


def _disposition_reasons(config: TrialConfig) -> pl.DataFrame | None:
    """Per subject, the reason of its latest disposition event in DS (DSCAT "DISPOSITION EVENT";
    of the treatment epoch's when DS has EPOCH and the subject has one), mapped by
    data/cdisc/disposition_reasons.csv: a reason not listed there is ``other``. None without DS."""
    if "ds" not in config.cdisc_files():
        return None
    ds = _domain(config, "ds").frame
    events = ds.filter((folded(pl.col("DSCAT")) == DISPOSITION_EVENT).fill_null(False)) if "DSCAT" in ds.columns else ds
    treatment_epoch = (folded(column_or_null(events, "EPOCH")) == TREATMENT_EPOCH).fill_null(False)
    events = events.with_columns(
        treatment_epoch.alias("_treatment_epoch"),
        date_part(column_or_null(events, "DSSTDTC")).alias("_date"),
        whole_number_text(column_or_null(events, "DSSEQ")).cast(pl.Int64, strict=False).alias("_seq"),
    )
    # Per subject, the last after sorting: a treatment-epoch event when there is one, then the
    # latest by date, sequence and row (an undated event sorts first, so a dated one is taken).
    ordered = events.sort(["USUBJID", "_treatment_epoch", "_date", "_seq", ROW], nulls_last=False)
    latest = ordered.group_by("USUBJID", maintain_order=True).last()
    return latest.select(
        pl.col("USUBJID").alias("subject_id"),
        map_shipped(pl.col("DSDECOD"), DISPOSITION_REASONS, otherwise=pl.lit(OTHER_DISPOSITION)).alias("_disposition"),
    )


# ---- exposure: EX --------------------------------------------------------------------------------


def _exposure(config: TrialConfig, ex: pl.DataFrame) -> tuple[pl.DataFrame, set[str]]:
    """One record per EX record: the dose of one agent over a date range. The planned dose is the
    one the subject's arm (DM) plans for the agent; the adjustment compares each dose with the
    subject's previous dose of the agent (readers.cdisc.with_dose_adjustment)."""
    subjects = _subject_columns(config).select("_subject", "_arm")
    frame = ex.select(
        ROW,
        pl.col("USUBJID").alias("subject_id"),
        treatment_agents(config, pl.col("EXTRT")).alias("agent"),
        date_part(column_or_null(ex, "EXSTDTC")).alias("start_date"),
        date_part(column_or_null(ex, "EXENDTC")).alias("end_date"),
        whole_number_text(column_or_null(ex, "EXDOSE")).alias("dose_mg"),
        column_or_null(ex, "EXROUTE").alias("route"),
        column_or_null(ex, "EXDOSFRQ").alias("frequency"),
        column_or_null(ex, "EXADJ").alias("adjustment_reason"),
    ).join(subjects, left_on="subject_id", right_on="_subject", how="left", maintain_order="left")
    frame = with_planned_dose(frame, config, arm="_arm")
    frame = with_dose_adjustment(frame, order=["subject_id", "agent", "start_date", ROW]).sort(ROW)
    return frame, {"USUBJID", "EXTRT", "EXSTDTC", "EXENDTC", "EXDOSE", "EXROUTE", "EXDOSFRQ", "EXADJ"}


# ---- adverse events: AE (+ SUPPAE) ---------------------------------------------------------------


def _adverse_events(config: TrialConfig, ae: pl.DataFrame) -> tuple[pl.DataFrame, set[str]]:
    """One record per AE record, identified as USUBJID-AESEQ. The coded MedDRA terms are kept as
    given; the grade is AETOXGR in a CTCAE-graded trial, AESEV's grade (data/cdisc/severity_grades.csv)
    in a severity-graded one. Partial dates are imputed (readers.partial_dates, the config's
    [cdisc.partial_dates] rule; first dose from DM RFXSTDTC, death from DTHDTC). The relationship
    of each agent is its configured variable (SUPPAE QNAM or AE column), else AEREL."""
    cdisc = config.model.cdisc
    ctcae_graded = config.model.trial.grading == "ctcae"
    qualifiers = {name: key for name, key in _qualifier_keys(config).items() if name not in ae.columns}
    supplemental = _supplemental(config, qualifiers)
    joined = ae.with_columns(whole_number_text(pl.col("AESEQ")).alias("_seq"))
    if supplemental is not None:
        joined = joined.join(supplemental, on=["USUBJID", "_seq"], how="left", maintain_order="left")
    joined = joined.join(_subject_columns(config), left_on="USUBJID", right_on="_subject", how="left", maintain_order="left")
    received = _received_agents(config)
    if received is not None:
        joined = joined.join(received, left_on="USUBJID", right_on="_subject", how="left", maintain_order="left")

    def variable(name: str | None) -> pl.Expr:
        """An AE variable, else a pivoted SUPPAE qualifier, else missing."""
        if name is not None and name in ae.columns:
            return pl.col(name)
        return column_or_null(joined, None if name is None else _SUPP_PREFIX + name)

    relationship = {agent: cdisc.relationship_variables.get(agent, "AEREL") for agent in config.agent_ids}
    frame = joined.select(
        ROW,
        pl.concat_str([pl.col("USUBJID"), pl.col("_seq")], separator="-").alias("ae_id"),
        pl.col("USUBJID").alias("subject_id"),
        column_or_null(ae, "AETERM").alias("verbatim_term"),
        pl.col("AEDECOD").alias("meddra_pt"),
        first_present(ae, "AEBODSYS", "AESOC").alias("meddra_soc"),
        column_or_null(ae, "AELLT").alias("meddra_llt"),
        column_or_null(ae, "AEHLT").alias("meddra_hlt"),
        (pl.col("AEDECOD") if ctcae_graded else pl.lit(None, dtype=pl.String)).alias("ctcae_term"),
        (
            whole_number_text(column_or_null(ae, "AETOXGR"))
            if ctcae_graded
            else map_shipped(column_or_null(ae, "AESEV"), SEVERITY_GRADES)
        ).alias("grade"),
        column_or_null(ae, "AESEV").alias("severity"),
        column_or_null(ae, "AESTDTC").alias("onset_date"),
        column_or_null(ae, "AEENDTC").alias("resolution_date"),
        column_or_null(ae, "AESER").alias("serious"),
        serious_criteria(ae).alias("serious_criteria"),
        map_shipped(column_or_null(ae, "AEOUT"), AE_OUTCOMES).alias("outcome"),
        *attribution_and_action_columns(
            config,
            arm=pl.col("_arm"),
            relationship={agent: variable(name) for agent, name in relationship.items()},
            action=column_or_null(ae, "AEACN"),
            received=None if received is None else {
                agent: pl.col(f"_received_{agent}") for agent in config.agent_ids if f"_received_{agent}" in received.columns
            },
        ),
        date_part(variable(cdisc.awareness_variable)).alias("awareness_date"),
        "_first_dose",
        "_death_date",
    )
    rule = imputation_rule(config)
    frame = impute(frame, "onset_date", kind="start", rule=rule, reference="_first_dose")
    frame = impute(frame, "resolution_date", kind="end", rule=rule, cap="_death_date")
    frame = frame.rename(
        {
            "onset_date" + GIVEN_SUFFIX: "onset_date_given",
            "onset_date" + FLAG_SUFFIX: "onset_date_imputed",
            "resolution_date" + GIVEN_SUFFIX: "resolution_date_given",
            "resolution_date" + FLAG_SUFFIX: "resolution_date_imputed",
        }
    )
    used = {
        "USUBJID", "AESEQ", "AETERM", "AEDECOD", "AEBODSYS", "AELLT", "AEHLT", "AESEV", "AESTDTC", "AEENDTC",
        "AESER", "AEOUT", "AEACN", *SERIOUS_FLAGS.values(),
    }
    used |= {"AETOXGR"} if ctcae_graded else set()
    used |= {"AESOC"} if "AEBODSYS" not in ae.columns else set()
    used |= {name for name in [*relationship.values(), cdisc.awareness_variable] if name in ae.columns}
    return frame, used


def _received_agents(config: TrialConfig) -> pl.DataFrame | None:
    """Per subject of EX, ``_received_<agent>``: whether an exposure record names the agent (a
    subject given an agent their arm does not list keeps the relationship as given for it)."""
    if "ex" not in config.cdisc_files():
        return None
    ex = _domain(config, "ex").frame
    agents = ex.select(pl.col("USUBJID").alias("_subject"), treatment_agents(config, pl.col("EXTRT")).alias("_agent")).unique()
    return agents.group_by("_subject").agg(
        [pl.col("_agent").is_in([agent]).any().alias(f"_received_{agent}") for agent in config.agent_ids]
    )


def _qualifier_keys(config: TrialConfig) -> dict[str, str]:
    """The configured variables an AE may take from SUPPAE: variable name -> its config key."""
    cdisc = config.model.cdisc
    keys = {variable: f"cdisc.relationship_variables.{agent}" for agent, variable in cdisc.relationship_variables.items()}
    if cdisc.awareness_variable:
        keys[cdisc.awareness_variable] = "cdisc.awareness_variable"
    return keys


def _supplemental(config: TrialConfig, qualifiers: dict[str, str]) -> pl.DataFrame | None:
    """The SUPPAE qualifiers (QNAM -> the config key that names it) of each AE record, one
    column each (``_supp_<QNAM>``), keyed USUBJID and ``_seq`` (the AESEQ it qualifies, IDVAR
    AESEQ); None when no qualifier is read. A qualifier given twice for one record with two
    values holds both, joined by " | " (queried as not a known value; no AE record is repeated). A qualifier SUPPAE never gives is missing for
    every record (validation queries a missing relationship, and counts the event as related)."""
    if not qualifiers:
        return None
    if "suppae" not in config.cdisc_files():
        name, key = next(iter(qualifiers.items()))
        raise InputError(
            config.path,
            key,
            f"{name} is not an AE variable, and no SUPPAE file is configured to hold it as a qualifier",
            "name an AE variable, or the SUPPAE file under [cdisc.files] (suppae = ...)",
        )
    supp = _domain(config, "suppae").frame
    if "RDOMAIN" in supp.columns:
        supp = supp.filter((folded(pl.col("RDOMAIN")) == "AE").fill_null(True))
    supp = supp.filter((folded(pl.col(SUPPAE_KEY)) == "AESEQ") & pl.col("QNAM").str.strip_chars().is_in(list(qualifiers)))
    long = (
        supp.select(
            pl.col("USUBJID"),
            whole_number_text(pl.col("IDVARVAL")).alias("_seq"),
            (pl.lit(_SUPP_PREFIX) + pl.col("QNAM").str.strip_chars()).alias("_qualifier"),
            pl.col("QVAL"),
        )
        # A qualifier given twice for one record with different values is ambiguous: both
        # values, joined, reach validation as one value no map lists, so it is queried and
        # read the conservative way (a relationship as related); the record is never repeated.
        .group_by(["USUBJID", "_seq", "_qualifier"], maintain_order=True)
        .agg(pl.col("QVAL").drop_nulls().unique(maintain_order=True).str.join(" | "))
        .with_columns(pl.when(pl.col("QVAL") != "").then(pl.col("QVAL")).alias("QVAL"))
    )
    keys = pl.DataFrame(schema={"USUBJID": pl.String, "_seq": pl.String})
    wide = long.pivot(on="_qualifier", index=["USUBJID", "_seq"], values="QVAL") if long.height else keys
    for qualifier, key in qualifiers.items():
        if _SUPP_PREFIX + qualifier not in wide.columns:
            file = config.cdisc_files()["suppae"].name
            log.warning("%s: no SUPPAE record has QNAM %s (named by %s): read as missing", file, qualifier, key)
            wide = wide.with_columns(pl.lit(None, dtype=pl.String).alias(_SUPP_PREFIX + qualifier))
    return wide


# ---- labs: LB ------------------------------------------------------------------------------------


def _labs(config: TrialConfig, lb: pl.DataFrame) -> tuple[pl.DataFrame, set[str]]:
    """One record per LB record, in standard units (LBSTRESN, else the text result LBSTRESC;
    LBSTRESU, LBSTNRLO/HI); the test code mapped to the CTCAE lab catalogue's
    (data/cdisc/lab_test_codes.csv), another code kept as given."""
    frame = lb.select(
        ROW,
        pl.col("USUBJID").alias("subject_id"),
        date_part(column_or_null(lb, "LBDTC")).alias("collection_date"),
        map_shipped(pl.col("LBTESTCD"), LAB_TEST_CODES).alias("test_code"),
        # A result that is no number (``<3.42``) is kept as given, so that its query shows it.
        first_present(lb, "LBSTRESN", "LBSTRESC").alias("value"),
        column_or_null(lb, "LBSTRESU").alias("unit"),
        column_or_null(lb, "LBSTNRLO").alias("lln"),
        column_or_null(lb, "LBSTNRHI").alias("uln"),
    )
    return frame, {"USUBJID", "LBDTC", "LBTESTCD", "LBSTRESN", "LBSTRESC", "LBSTRESU", "LBSTNRLO", "LBSTNRHI"}


_BUILDERS: dict[str, Callable[[TrialConfig, pl.DataFrame], tuple[pl.DataFrame, set[str]]]] = {
    "subjects": _subjects,
    "exposure": _exposure,
    "adverse_events": _adverse_events,
    "labs": _labs,
    "vitals": vitals,
    "tumour_assessments": tumour_assessments,
}
