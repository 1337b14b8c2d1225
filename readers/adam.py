"""ADaM datasets read as toxwatch's sources: ADSL -> subjects, ADEX -> exposure, ADAE -> adverse
events, ADLB -> labs.

ADaM is the analysis-ready form of SDTM: its dates are already dates (``ASTDT``, ``TRTSDT``),
partial dates already imputed (with the flags ``ASTDTF``, ``AENDTF``), and its exposure and lab
datasets hold one record per parameter and time point. Where an analysis variable and the
collected one both exist, the analysis variable is read and the collected one is the fallback
(``ATOXGR`` before ``AETOXGR``, ``ASEV`` before ``AESEV``, ``AREL`` before ``AEREL``).

Each source is one dataset's records: ``_row`` is the record's position in the dataset file, so
a query points at the record as the sponsor delivered it. ADSL only adds columns to the other
sources (arm, first dose, death), joined on the subject and never fanning out a record. Two
kinds of ADaM records are not results of their own and are set apart, not read:

* exposure: only ``PARAMCD`` DOSE records are administrations; the other parameters describe
  the same administrations (NDOSE, the number of doses of a record; TDOSE and TNDOSE, the
  subject's totals), and reading them would count the doses twice;
* labs: records derived from other records (``DTYPE`` given, or a record that repeats an earlier
  one's subject, parameter, date, value and ``LBSEQ``: the post-baseline maximum, minimum and
  last of admiral's ADLB) are the same results again.

A derived record of either kind is named in the log, with how many were set apart. Which
variable feeds which column is documented in docs/sources.md ("SDTM and ADaM"); a dataset's
variables not read are named in ``RawSource.ignored_columns``.
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
from trial.config import CDISC_DOMAINS, TrialConfig
from trial.errors import InputError
from validators.read import ROW, RawSource

DATASETS = CDISC_DOMAINS["adam"]  # toxwatch source -> ADaM dataset
# data/cdisc/death_causes.csv: ADSL DTHCAUS / DTHCAT / DTHCGR1 -> death_cause.
DEATH_CAUSES = "death_causes.csv"
# The ADSL variables that may say why a subject died, most specific first: the first whose value
# death_causes.csv lists gives the cause.
DEATH_CAUSE_VARIABLES = ("DTHCAUS", "DTHCAT", "DTHCGR1")
# Enrolment, first given: randomisation, first dose, informed consent, then the SDTM DM dates ADSL carries.
ENROLMENT_VARIABLES = ("RANDDT", "TRTSDT", "TRTSDTM", "RFICDT", "RFICDTC", "RFSTDTC", "DMDTC")
# ADSL EOTSTT: treatment completed, or still going on (no reason yet).
COMPLETED = "COMPLETED"
ONGOING = "ONGOING"
# The ADEX parameter whose records are administrations (dose in AVAL).
DOSE_PARAMETER = "DOSE"
# The unit ADaM writes at the end of PARAM, e.g. "Albumin (g/L)", read when the dataset has no AVALU.
_UNIT_IN_PARAM = r"\(([^()]*)\)\s*$"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"

# The variables a dataset must have for its records to be placed at all.
REQUIRED_VARIABLES = {
    "adsl": ("USUBJID",),
    "adex": ("USUBJID",),
    "adae": ("USUBJID", "AEDECOD"),
    "adlb": ("USUBJID", "PARAMCD"),
}

log = logging.getLogger("toxwatch")


def adam_source(config: TrialConfig, name: str) -> RawSource | None:
    """A source of the trial read from its ADaM datasets; None for a source ADaM does not feed
    (vitals, tumour assessments) and for labs when no ADLB file is configured."""
    builder = _BUILDERS.get(name)
    if builder is None:
        return None
    dataset = DATASETS[name]
    if dataset not in config.cdisc_files():
        if name == "labs":
            return None
        raise InputError(
            config.path,
            f"cdisc.files.{dataset}",
            f"no file for the ADaM {dataset.upper()} dataset, which the {name} source is read from",
            f'name the file under [cdisc.files], e.g. {dataset} = "{dataset}.xpt"',
        )
    table = _dataset(config, dataset)
    frame, used = builder(config, table.frame)
    return RawSource(
        name=name,
        path=table.path,
        sha256=table.sha256,
        frame=canonical_frame(name, frame, config),
        malformed=table.malformed,
        ignored_columns=tuple(column for column in table.frame.columns if column != ROW and column not in used),
        encoding=table.encoding,
    )


def _dataset(config: TrialConfig, dataset: str) -> TextTable:
    """A configured dataset's file read as text, after checking it has the variables it must have."""
    path: Path = config.cdisc_files()[dataset]
    table = read_table(path, encoding=config.model.cdisc.encoding)
    missing = [variable for variable in REQUIRED_VARIABLES.get(dataset, ()) if variable not in table.frame.columns]
    arm_variable = config.model.cdisc.arm_variable
    if dataset == "adsl" and arm_variable not in table.frame.columns:
        missing.append(arm_variable)
    if missing:
        raise InputError(
            path,
            missing[0],
            f"the {dataset.upper()} dataset has no {', '.join(missing)} variable",
            "deliver the dataset with its ADaM variables"
            + (", or set [cdisc] arm_variable to the variable that holds the arm (e.g. TRT01P, TRT01A)" if arm_variable in missing else ""),
        )
    return table


def _subject_columns(config: TrialConfig) -> pl.DataFrame:
    """Per subject of ADSL (the first record of a USUBJID given twice, so no join fans out): the
    arm ``_arm``, first dose ``_first_dose`` (TRTSDT) and death ``_death_date`` (DTHDT), as text."""
    if "adsl" not in config.cdisc_files():
        raise InputError(
            config.path, "cdisc.files.adsl", "no file for the ADaM ADSL dataset, which every other dataset's subjects are looked up in",
            'name the file under [cdisc.files], e.g. adsl = "adsl.xpt"',
        )
    adsl = _dataset(config, "adsl").frame
    return (
        adsl.select(
            pl.col("USUBJID").alias("_subject"),
            pl.col(config.model.cdisc.arm_variable).alias("_arm"),
            date_part(first_present(adsl, "TRTSDT", "TRTSDTM")).alias("_first_dose"),
            date_part(first_present(adsl, "DTHDT", "DTHDTC")).alias("_death_date"),
        )
        .filter(pl.col("_subject").is_not_null())
        .unique("_subject", keep="first", maintain_order=True)
    )


def _with_subject_columns(config: TrialConfig, frame: pl.DataFrame) -> pl.DataFrame:
    return frame.join(_subject_columns(config), left_on="USUBJID", right_on="_subject", how="left", maintain_order="left")


# ---- subjects: ADSL ------------------------------------------------------------------------------


def _subjects(config: TrialConfig, adsl: pl.DataFrame) -> tuple[pl.DataFrame, set[str]]:
    """One record per ADSL record; screen failures stay (their arm says so; with no exposure they
    are outside the safety population).

    Enrolment is the earliest of randomisation (RANDDT), the first dose (TRTSDT), informed
    consent (RFICDT) and the SDTM reference start or demographics date ADSL carries. The end of
    treatment is TRTEDT; its reason is "completed" when EOTSTT says COMPLETED, else the
    discontinuation reason (DCTREAS, else DCSREAS) mapped by data/cdisc/disposition_reasons.csv
    (a reason not listed is "other"), else "not_recorded"; it is given only when the end of
    treatment is dated. Last contact is the latest of LSTALVDT, the death date, TRTEDT and RFPENDTC.
    The cause of death is the first of DTHCAUS, DTHCAT, DTHCGR1 that data/cdisc/death_causes.csv
    lists; a death with none of them is "unknown"."""
    arm_variable = config.model.cdisc.arm_variable
    end_of_treatment = date_part(first_present(adsl, "TRTEDT", "TRTEDTM"))
    death_date = date_part(first_present(adsl, "DTHDT", "DTHDTC"))
    died = death_date.is_not_null() | (folded(column_or_null(adsl, "DTHFL")) == "Y").fill_null(False)
    frame = adsl.select(
        ROW,
        pl.col("USUBJID").alias("subject_id"),
        column_or_null(adsl, "SITEID").alias("site_id"),
        pl.col(arm_variable).alias("arm"),
        column_or_null(adsl, "SEX").alias("sex"),
        whole_number_text(column_or_null(adsl, "AGE")).alias("age"),
        # The subject's first date in the trial (as the SDTM reader takes it): the earliest of
        # randomisation, first dose and consent, so that an AE of the screening period is counted
        # (not treatment-emergent) rather than queried as before enrolment.
        pl.min_horizontal(
            [date_part(column_or_null(adsl, name)).str.to_date(strict=False) for name in ENROLMENT_VARIABLES]
        ).cast(pl.String).alias("enrolment_date"),
        end_of_treatment.alias("end_of_treatment_date"),
        _end_of_treatment_reason(adsl, end_of_treatment).alias("end_of_treatment_reason"),
        _last_contact(adsl, death_date, end_of_treatment).alias("last_contact_date"),
        death_date.alias("death_date"),
        _death_cause(adsl, died).alias("death_cause"),
    )
    used = {"USUBJID", "SITEID", arm_variable, "SEX", "AGE", *ENROLMENT_VARIABLES, "TRTEDT", "TRTEDTM", "EOTSTT", "DCTREAS"}
    used |= {"DCSREAS", "LSTALVDT", "RFPENDTC", "DTHDT", "DTHDTC", "DTHFL", *DEATH_CAUSE_VARIABLES}
    return frame, used


def _end_of_treatment_reason(adsl: pl.DataFrame, end_of_treatment: pl.Expr) -> pl.Expr:
    status = folded(column_or_null(adsl, "EOTSTT"))
    reason_given = (
        pl.when(status == COMPLETED)
        .then(pl.lit(COMPLETED))
        .when(status == ONGOING)
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(first_present(adsl, "DCTREAS", "DCSREAS"))
    )
    mapped = map_shipped(reason_given, DISPOSITION_REASONS, otherwise=pl.lit(OTHER_DISPOSITION))
    return (
        pl.when(end_of_treatment.is_not_null())
        .then(pl.coalesce(mapped, pl.lit(REASON_NOT_RECORDED)))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _last_contact(adsl: pl.DataFrame, death_date: pl.Expr, end_of_treatment: pl.Expr) -> pl.Expr:
    """The last day the subject was known alive or died: the latest of LSTALVDT, the death date,
    the end of treatment (a dose given) and the SDTM end of participation RFPENDTC that ADSL
    carries, each where given; missing when ADSL has none of them (a subject still on treatment
    without LSTALVDT), which validation queries. A value that is not a date is passed on (and
    queried) only when no other is a date."""
    given = [
        date_part(column_or_null(adsl, "LSTALVDT")),
        death_date,
        end_of_treatment,
        date_part(column_or_null(adsl, "RFPENDTC")),
    ]
    dates = [pl.when(value.str.contains(_ISO_DATE)).then(value) for value in given]
    return pl.coalesce(pl.max_horizontal(dates), *given)


def _death_cause(adsl: pl.DataFrame, died: pl.Expr) -> pl.Expr:
    listed = [
        map_shipped(pl.col(variable), DEATH_CAUSES, otherwise=pl.lit(None, dtype=pl.String))
        for variable in DEATH_CAUSE_VARIABLES
        if variable in adsl.columns
    ]
    cause = pl.coalesce(listed) if listed else pl.lit(None, dtype=pl.String)
    return pl.when(died).then(pl.coalesce(cause, pl.lit(DEATH_CAUSE_UNKNOWN))).otherwise(cause)


# ---- exposure: ADEX ------------------------------------------------------------------------------


def _exposure(config: TrialConfig, adex: pl.DataFrame) -> tuple[pl.DataFrame, set[str]]:
    """One record per administration: the ADEX records of PARAMCD DOSE (every record when ADEX has
    no PARAMCD), not derived (DTYPE empty). Agent: the treatment the config's ``[cdisc] treatments``
    lists, from EXTRT or PARCAT2 (neither listed: EXTRT, else PARCAT2, as given). Dates: ASTDT
    (else ASTDTM, EXSTDTC) to AENDT (else AENDTM, EXENDTC); a dataset with no end variable at all
    gives each administration its start day. Dose: AVAL (EXDOSE when ADEX has no AVAL); a dose of 0 is
    kept, a hold of an active agent or a placebo given. Frequency: the agent's in the config, as
    an administration record's EXDOSFRQ (ONCE) is the record's, not the regimen's."""
    kept = _administrations(adex)
    if kept.is_empty() and not adex.is_empty():
        # Not one administration read: every subject would be untreated and every AE outside
        # the safety counts. Stop rather than report an empty safety population.
        path = config.cdisc_files().get("adex")
        raise InputError(
            path, "PARAMCD",
            f"none of the {adex.height} ADEX records is an administration: no record has PARAMCD {DOSE_PARAMETER!r} "
            "and no derived-record type (DTYPE) empty",
            f"give the administrations PARAMCD {DOSE_PARAMETER!r} (one record per dose given, AVAL the dose in mg)",
        )
    if kept.height < adex.height:
        log.warning(
            "%d of %d ADEX records are not administrations (parameters other than %s, or derived records) and are not read",
            adex.height - kept.height, adex.height, DOSE_PARAMETER,
        )
    subjects = _subject_columns(config).select("_subject", "_arm")
    has_end = any(name in kept.columns for name in ("AENDT", "AENDTM", "EXENDTC"))
    start = date_part(first_present(kept, "ASTDT", "ASTDTM", "EXSTDTC"))
    end = date_part(first_present(kept, "AENDT", "AENDTM", "EXENDTC")) if has_end else start
    dose_variable = "AVAL" if "AVAL" in kept.columns else "EXDOSE"
    frame = kept.select(
        ROW,
        pl.col("USUBJID").alias("subject_id"),
        treatment_agents(config, _treatment(config, kept)).alias("agent"),
        start.alias("start_date"),
        end.alias("end_date"),
        column_or_null(kept, dose_variable).str.strip_chars().alias("dose_mg"),
        column_or_null(kept, "EXROUTE").alias("route"),
        column_or_null(kept, "EXDOSFRQ").alias("_frequency_given"),
        column_or_null(kept, "EXADJ").alias("adjustment_reason"),
    ).join(subjects, left_on="subject_id", right_on="_subject", how="left", maintain_order="left")
    frequencies = {agent.id: agent.frequency for agent in config.model.agents}
    frame = frame.with_columns(
        pl.col("agent")
        .replace_strict(list(frequencies), list(frequencies.values()), default=pl.col("_frequency_given"), return_dtype=pl.String)
        .alias("frequency")
    )
    frame = with_planned_dose(frame, config, arm="_arm")
    frame = with_dose_adjustment(frame, order=["subject_id", "agent", "start_date", ROW]).sort(ROW)
    used = {"USUBJID", "PARAMCD", "DTYPE", "EXTRT", "PARCAT2", "ASTDT", "ASTDTM", "EXSTDTC", "AENDT", "AENDTM", "EXENDTC"}
    used |= {dose_variable, "EXROUTE", "EXDOSFRQ", "EXADJ"}
    return frame, used


def _administrations(adex: pl.DataFrame) -> pl.DataFrame:
    kept = adex
    if "DTYPE" in kept.columns:
        kept = kept.filter(pl.col("DTYPE").is_null())
    if "PARAMCD" in kept.columns:
        kept = kept.filter((folded(pl.col("PARAMCD")) == DOSE_PARAMETER).fill_null(False))
    return kept


def _treatment(config: TrialConfig, adex: pl.DataFrame) -> pl.Expr:
    """The treatment as the exposure record names it: EXTRT or PARCAT2, whichever the config's
    ``[cdisc] treatments`` lists (EXTRT first); neither listed, EXTRT, else PARCAT2, as given."""
    listed = [key.strip().upper() for key in config.model.cdisc.treatments]
    extrt, parcat2 = column_or_null(adex, "EXTRT"), column_or_null(adex, "PARCAT2")
    return (
        pl.when(folded(extrt).is_in(listed))
        .then(extrt)
        .when(folded(parcat2).is_in(listed))
        .then(parcat2)
        .otherwise(pl.coalesce(extrt, parcat2))
    )


# ---- adverse events: ADAE ------------------------------------------------------------------------


def _adverse_events(config: TrialConfig, adae: pl.DataFrame) -> tuple[pl.DataFrame, set[str]]:
    """One record per ADAE record, identified as USUBJID-AESEQ (ASEQ when ADAE has no AESEQ). The
    coded MedDRA terms are kept as given; the grade is ATOXGR (else AETOXGR) in a CTCAE-graded
    trial, the severity's grade (ASEV, else AESEV; data/cdisc/severity_grades.csv) in a
    severity-graded one. The onset is ASTDT (else ASTDTM) with its imputation flag ASTDTF, the
    resolution AENDT (else AENDTM) with AENDTF, and the dates as given AESTDTC and AEENDTC; a
    record whose analysis date is missing has its AESTDTC/AEENDTC imputed by the config's
    [cdisc.partial_dates] rule (first dose TRTSDT, death DTHDT from ADSL). The relationship of
    each agent is its configured ADAE variable, else AREL, else AEREL."""
    cdisc = config.model.cdisc
    ctcae_graded = config.model.trial.grading == "ctcae"
    joined = _with_subject_columns(config, adae)
    sequence = first_present(adae, "AESEQ", "ASEQ")
    relationship = {agent: _relationship(config, adae, agent) for agent in config.agent_ids}
    severity = first_present(adae, "ASEV", "AESEV")
    frame = joined.select(
        ROW,
        pl.concat_str([pl.col("USUBJID"), whole_number_text(sequence)], separator="-").alias("ae_id"),
        pl.col("USUBJID").alias("subject_id"),
        column_or_null(adae, "AETERM").alias("verbatim_term"),
        pl.col("AEDECOD").alias("meddra_pt"),
        first_present(adae, "AEBODSYS", "AESOC").alias("meddra_soc"),
        column_or_null(adae, "AELLT").alias("meddra_llt"),
        column_or_null(adae, "AEHLT").alias("meddra_hlt"),
        (pl.col("AEDECOD") if ctcae_graded else pl.lit(None, dtype=pl.String)).alias("ctcae_term"),
        (
            whole_number_text(first_present(adae, "ATOXGR", "AETOXGR"))
            if ctcae_graded
            else map_shipped(severity, SEVERITY_GRADES)
        ).alias("grade"),
        severity.alias("severity"),
        date_part(first_present(adae, "ASTDT", "ASTDTM")).alias("_onset_analysis"),
        column_or_null(adae, "ASTDTF").alias("_onset_flag"),
        date_part(first_present(adae, "AENDT", "AENDTM")).alias("_resolution_analysis"),
        column_or_null(adae, "AENDTF").alias("_resolution_flag"),
        column_or_null(adae, "AESTDTC").alias("onset_date"),
        column_or_null(adae, "AEENDTC").alias("resolution_date"),
        column_or_null(adae, "AESER").alias("serious"),
        serious_criteria(adae).alias("serious_criteria"),
        map_shipped(column_or_null(adae, "AEOUT"), AE_OUTCOMES).alias("outcome"),
        *attribution_and_action_columns(config, arm=pl.col("_arm"), relationship=relationship, action=column_or_null(adae, "AEACN")),
        date_part(column_or_null(adae, cdisc.awareness_variable)).alias("awareness_date"),
        "_first_dose",
        "_death_date",
    )
    rule = imputation_rule(config)
    frame = impute(frame, "onset_date", kind="start", rule=rule, reference="_first_dose")
    frame = impute(frame, "resolution_date", kind="end", rule=rule, cap="_death_date")
    frame = frame.with_columns(
        pl.coalesce("_onset_analysis", "onset_date").alias("onset_date"),
        pl.when(pl.col("_onset_analysis").is_not_null())
        .then(pl.col("_onset_flag"))
        .otherwise(pl.col("onset_date" + FLAG_SUFFIX))
        .alias("onset_date_imputed"),
        pl.coalesce("_resolution_analysis", "resolution_date").alias("resolution_date"),
        pl.when(pl.col("_resolution_analysis").is_not_null())
        .then(pl.col("_resolution_flag"))
        .otherwise(pl.col("resolution_date" + FLAG_SUFFIX))
        .alias("resolution_date_imputed"),
    ).rename({"onset_date" + GIVEN_SUFFIX: "onset_date_given", "resolution_date" + GIVEN_SUFFIX: "resolution_date_given"})
    used = {
        "USUBJID", "AESEQ", "AETERM", "AEDECOD", "AEBODSYS", "AELLT", "AEHLT", "ASEV", "AESEV",
        "ASTDT", "ASTDTM", "ASTDTF", "AENDT", "AENDTM", "AENDTF", "AESTDTC", "AEENDTC",
        "AESER", "AEOUT", "AEACN", *SERIOUS_FLAGS.values(),
    }
    used |= {"ASEQ"} if "AESEQ" not in adae.columns else set()
    used |= {"ATOXGR", "AETOXGR"} if ctcae_graded else set()
    used |= {"AESOC"} if "AEBODSYS" not in adae.columns else set()
    used |= {name for name in [*relationship_names(config), "AEREL", cdisc.awareness_variable] if name in adae.columns}
    return frame, used


def _relationship(config: TrialConfig, adae: pl.DataFrame, agent: str) -> pl.Expr:
    """An agent's relationship as given: its configured ADAE variable, else AREL, else AEREL."""
    configured = config.model.cdisc.relationship_variables.get(agent)
    if configured is not None:
        return column_or_null(adae, configured)
    return first_present(adae, "AREL", "AEREL")


def relationship_names(config: TrialConfig) -> list[str]:
    """The variables the agents' relationships are read from: each agent's configured one, else AREL."""
    cdisc = config.model.cdisc
    return [cdisc.relationship_variables.get(agent, "AREL") for agent in config.agent_ids]


# ---- labs: ADLB ----------------------------------------------------------------------------------


def _labs(config: TrialConfig, adlb: pl.DataFrame) -> tuple[pl.DataFrame, set[str]]:
    """One record per lab result: the ADLB records that are not derived from others (module
    docstring). Test: PARAMCD mapped to the CTCAE lab catalogue's code (data/cdisc/lab_test_codes.csv;
    another code kept as given); date ADT (else ADTM, LBDTC); value AVAL; unit AVALU, else the unit
    at the end of PARAM ("Albumin (g/L)"); normal range ANRLO to ANRHI."""
    kept = _results(adlb)
    if kept.height < adlb.height:
        log.warning(
            "%d of %d ADLB records are derived from other records (DTYPE given, or repeating an earlier record's "
            "subject, parameter, date, value and LBSEQ) and are not read",
            adlb.height - kept.height, adlb.height,
        )
    unit = first_present(kept, "AVALU")
    if "PARAM" in kept.columns:
        unit = pl.coalesce(unit, pl.col("PARAM").str.extract(_UNIT_IN_PARAM, 1).str.strip_chars())
    frame = kept.select(
        ROW,
        pl.col("USUBJID").alias("subject_id"),
        date_part(first_present(kept, "ADT", "ADTM", "LBDTC")).alias("collection_date"),
        map_shipped(pl.col("PARAMCD"), LAB_TEST_CODES).alias("test_code"),
        column_or_null(kept, "AVAL").alias("value"),
        unit.alias("unit"),
        column_or_null(kept, "ANRLO").alias("lln"),
        column_or_null(kept, "ANRHI").alias("uln"),
    )
    used = {"USUBJID", "PARAMCD", "DTYPE", "LBSEQ", "ADT", "ADTM", "LBDTC", "AVAL", "AVALU", "ANRLO", "ANRHI"}
    used |= {"PARAM"} if "AVALU" not in adlb.columns else set()
    return frame, used


def _results(adlb: pl.DataFrame) -> pl.DataFrame:
    """The ADLB records that are results of their own: not derived (DTYPE empty), and not a repeat
    of an earlier record's subject, parameter, date, value and LBSEQ (a summary record that copies
    the visit record it summarises)."""
    kept = adlb
    if "DTYPE" in kept.columns:
        kept = kept.filter(pl.col("DTYPE").is_null())
    key = [name for name in ("USUBJID", "PARAMCD", "ADT", "ADTM", "LBDTC", "AVAL", "LBSEQ") if name in kept.columns]
    return kept.filter(pl.struct(key).is_first_distinct())


_BUILDERS: dict[str, Callable[[TrialConfig, pl.DataFrame], tuple[pl.DataFrame, set[str]]]] = {
    "subjects": _subjects,
    "exposure": _exposure,
    "adverse_events": _adverse_events,
    "labs": _labs,
}
