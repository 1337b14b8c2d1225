"""A trial folder of toxwatch's own format written as CDISC SDTM domains, with its trial.toml.

``write_sdtm`` converts a generated trial (``synth.trial.generate_trial``: the six source files and
trial.toml) into SDTM domains, one CSV file each, and a trial.toml that reads them: the original
config with ``[sources]`` replaced by ``[cdisc]``. Run both folders and the review gives the same
tables: the SDTM route (``readers/sdtm.py``) is checked against the native one, table for table and
query for query (tests/synth/test_sdtm_route.py). What goes where, and the little that SDTM cannot carry, is in
docs/sources.md ("A synthetic trial as SDTM").

The domains, one record per native record unless said:

* DM, one per subject; SUPPDM: the subject's site of recurrence (``RECURTYP``), prior
  re-irradiation (``REIRRAD``) and cause of death (``DTHCAUS``), which DM has no variable for;
* DS: the end of treatment and its reason (DSCAT DISPOSITION EVENT, EPOCH TREATMENT; the reason
  as the CDISC term ``data/cdisc/disposition_reasons.csv`` reads back), and a death after the end
  of treatment (EPOCH FOLLOW-UP);
* EX; SUPPEX: the adjustment of each record (``EXADJTYP``: held, reduced, discontinued), which
  EX has no variable for;
* AE, with the record's identifier in ``AESPID``, the tabulated term in ``AEDECOD`` (an "Other,
  specify" event under its specified text) and its CTCAE SOC in ``AEBODSYS``; SUPPAE: the CTCAE
  term, "Other, specify" text, relationship per agent, action per agent (when ``AEACN`` is
  MULTIPLE), awareness and expedited-report dates, and what was given for the event;
* LB; VS, one record per vital sign of a vitals row (``VSGRPID`` ties them); RS, the overall
  response and the new-lesion result of each assessment (``RSGRPID`` ties them); SUPPRS: the
  imaging method.

Coded values are written as the CDISC terms the readers' value maps (``data/cdisc/``) read back to
the native value; a value that is not valid in the native file (an injected error) is written as
given, so the SDTM route queries it as the native route does.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl

from ctcae.attribution import ATTRIBUTION_LEVELS
from ctcae.home import data_path
from ctcae.terms import CtcaeDictionary, load_dictionary
from readers.cdisc import SERIOUS_FLAGS
from synth.trial import SOURCE_FILE_NAMES

SDTM_FOLDER = "sdtm"  # `toxwatch synth --sdtm`: the SDTM trial's folder, inside the native trial's
# The domain files written, by [cdisc.files] key.
DOMAIN_FILES = {
    domain: f"{domain}.csv" for domain in ("dm", "suppdm", "ds", "ex", "suppex", "ae", "suppae", "lb", "vs", "rs", "supprs")
}
SUPPLEMENTAL_COLUMNS = ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG")

# Supplemental qualifiers: contract column -> (QNAM, QLABEL). QNAMs are at most 8 characters.
SUBJECT_QUALIFIERS = {
    "recurrence_type": ("RECURTYP", "Site of Recurrence at Entry"),
    "prior_reirradiation": ("REIRRAD", "Prior Re-irradiation of Nasopharynx"),
    "death_cause": ("DTHCAUS", "Cause of Death"),
}
EXPOSURE_QUALIFIERS = {"adjustment": ("EXADJTYP", "Type of Dose Adjustment")}
AE_QUALIFIERS = {
    "ctcae_term": ("AECTCTRM", "CTCAE Term"),
    "other_specify": ("AEOTHSPC", "CTCAE Other, Specify Text"),
    "expedited_report_date": ("AEEXPRDT", "Date of Expedited Report"),
    "treatment": ("AETRTMNT", "Treatment Given for the Event"),
}
AWARENESS_QUALIFIER = ("AEAWARDT", "Date Sponsor Became Aware")
TUMOUR_QUALIFIERS = {"method": ("METHOD", "Imaging Method")}
RELATIONSHIP_PREFIX, ACTION_PREFIX = "AEREL", "AEACN"  # + the agent's code: AERELAPA, AEACNPD1

# SDTMIG: an AE with different actions for the study treatments has AEACN MULTIPLE, and the
# action per treatment in SUPPAE.
MULTIPLE_ACTIONS = "MULTIPLE"
# The relationship per agent, written as the level in capitals: the relationship_values of the
# config written beside read them back exactly (and nothing else: an off-scale value stays queried).
RELATIONSHIP_VALUES = {level.upper(): level for level in ATTRIBUTION_LEVELS}

VITAL_SIGNS = {  # vitals column -> VSTESTCD, VSTEST, unit
    "sbp_mmhg": ("SYSBP", "Systolic Blood Pressure", "mmHg"),
    "dbp_mmhg": ("DIABP", "Diastolic Blood Pressure", "mmHg"),
    "heart_rate_bpm": ("PULSE", "Pulse Rate", "beats/min"),
    "weight_kg": ("WEIGHT", "Weight", "kg"),
}
OVERALL_RESPONSE = ("OVRLRESP", "Overall Response")
NEW_LESION_PROGRESSION = ("NEWLPROG", "New Lesion Progression")
RESPONSE_CRITERIA = "RECIST 1.1"
EVALUATOR = "INVESTIGATOR"

# The disposition written for a reason the contract has and CDISC does not list (read back as other).
OTHER_DISPOSITION = "OTHER"
NOT_RECORDED_REASON = "not_recorded"  # the end of treatment without a reason: no disposition record
FOLLOW_UP_EPOCH = "FOLLOW-UP"


def write_sdtm(trial_dir: Path, out_dir: Path) -> Path:
    """Write the trial in ``trial_dir`` (toxwatch's own files and trial.toml) as SDTM domains (CSV)
    into ``out_dir``, with a trial.toml reading them; returns the path of that trial.toml."""
    trial_dir, out_dir = Path(trial_dir), Path(out_dir)
    config_path = trial_dir / "trial.toml"
    config_text = config_path.read_text(encoding="utf-8")
    config = tomllib.loads(config_text)
    sources = {name: _read_source(trial_dir, config, name) for name in SOURCE_FILE_NAMES}
    study = config["trial"]["id"].upper()
    agents = [(agent["id"], agent["name"].upper()) for agent in config["agents"]]
    codes = agent_codes([agent_id for agent_id, _ in agents])
    dictionary = load_dictionary(str(config["trial"]["ctcae_version"]))

    domains: dict[str, pl.DataFrame] = {}
    domains["dm"], domains["suppdm"] = _demographics(sources["subjects"], sources["exposure"], study)
    domains["ds"] = _disposition(sources["subjects"], study)
    domains["ex"], domains["suppex"] = _exposure(sources["exposure"], study, dict(agents))
    domains["ae"], domains["suppae"] = _adverse_events(sources["adverse_events"], study, codes, dictionary)
    if sources["labs"] is not None:
        domains["lb"] = _labs(sources["labs"], study)
    if sources["vitals"] is not None:
        domains["vs"] = _vital_signs(sources["vitals"], study)
    if sources["tumour_assessments"] is not None:
        domains["rs"], domains["supprs"] = _responses(sources["tumour_assessments"], study)

    out_dir.mkdir(parents=True, exist_ok=True)
    for domain, frame in domains.items():
        frame.write_csv(out_dir / DOMAIN_FILES[domain])
    written = out_dir / "trial.toml"
    written.write_text(cdisc_config_text(config_text, _cdisc_section(agents, codes, list(domains))), encoding="utf-8")
    return written


def agent_codes(agent_ids: list[str]) -> dict[str, str]:
    """A three-character code per agent for its SUPPAE qualifiers (QNAM ``AEREL`` + code, at most 8
    characters): the first three letters or digits of its id, or of the last part of an id in
    parts (``apatinib`` APA, ``anti_pd1`` PD1); the agent's number where two would clash."""
    codes = {}
    for number, agent in enumerate(agent_ids, start=1):
        last = agent.split("_")[-1] if "_" in agent else agent
        code = re.sub(r"[^A-Z0-9]", "", last.upper())[:3] or f"{number:03d}"
        codes[agent] = code if code not in codes.values() else f"{number:03d}"
    return codes


# ---- reading the native trial --------------------------------------------------------------------


def _read_source(trial_dir: Path, config: Mapping, name: str) -> pl.DataFrame | None:
    """A native source as text (empty cells missing), from the path its config names; None when the
    config names none."""
    source = config.get("sources", {}).get(name)
    if source is None:
        return None
    return pl.read_csv(trial_dir / source["path"], infer_schema=False)


def _column(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None, dtype=pl.String)


# ---- subjects: DM, SUPPDM, DS --------------------------------------------------------------------


def _demographics(subjects: pl.DataFrame, exposure: pl.DataFrame, study: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """DM, one record per subject, and SUPPDM. The first dose (RFSTDTC, RFXSTDTC) is the earliest
    start of a record with a dose above 0; the end of treatment (RFXENDTC, RFENDTC) and last contact
    (RFPENDTC) are the subject's own dates."""
    first_dose = (
        exposure.filter(pl.col("dose_mg").cast(pl.Float64, strict=False) > 0)
        .group_by("subject_id")
        .agg(pl.col("start_date").min().alias("_first_dose"))
    )
    arms = sorted(value for value in subjects["arm"].unique().to_list() if value is not None)
    arm_codes = {arm: f"ARM{number}" for number, arm in enumerate(arms, start=1)}
    joined = subjects.join(first_dose, on="subject_id", how="left", maintain_order="left")
    died = pl.col("death_date").is_not_null() | pl.col("death_cause").is_not_null()
    dm = joined.select(
        pl.lit(study).alias("STUDYID"),
        pl.lit("DM").alias("DOMAIN"),
        pl.col("subject_id").alias("USUBJID"),
        pl.col("subject_id").str.extract(r"([^-]+)$").alias("SUBJID"),
        pl.col("_first_dose").alias("RFSTDTC"),
        pl.col("end_of_treatment_date").alias("RFENDTC"),
        pl.col("_first_dose").alias("RFXSTDTC"),
        pl.col("end_of_treatment_date").alias("RFXENDTC"),
        pl.col("enrolment_date").alias("RFICDTC"),
        pl.col("last_contact_date").alias("RFPENDTC"),
        pl.col("death_date").alias("DTHDTC"),
        pl.when(died).then(pl.lit("Y")).alias("DTHFL"),
        pl.col("site_id").alias("SITEID"),
        pl.col("age").alias("AGE"),
        pl.when(pl.col("age").is_not_null()).then(pl.lit("YEARS")).alias("AGEU"),
        pl.col("sex").alias("SEX"),
        pl.col("arm").replace_strict(arm_codes, default=None).alias("ARMCD"),
        pl.col("arm").alias("ARM"),
        pl.col("arm").replace_strict(arm_codes, default=None).alias("ACTARMCD"),
        pl.col("arm").alias("ACTARM"),
    )
    death_causes = _reverse_map("death_causes.csv")
    values = subjects.select(
        "subject_id",
        "recurrence_type",
        "prior_reirradiation",
        _mapped(pl.col("death_cause"), death_causes).alias("death_cause"),
    )
    supplemental = _supplemental(values, study, "DM", SUBJECT_QUALIFIERS, record=None)
    return dm, supplemental


def _disposition(subjects: pl.DataFrame, study: str) -> pl.DataFrame:
    """DS: per subject whose treatment ended with a reason, the disposition event of the treatment
    epoch on the end date; per subject who died after that, a death in follow-up."""
    reasons = _reverse_map("disposition_reasons.csv")
    ended = subjects.filter(
        pl.col("end_of_treatment_reason").is_not_null() & (pl.col("end_of_treatment_reason") != NOT_RECORDED_REASON)
    ).select(
        "subject_id",
        pl.col("end_of_treatment_date").alias("DSSTDTC"),
        _mapped(pl.col("end_of_treatment_reason"), reasons, otherwise=pl.lit(OTHER_DISPOSITION)).alias("DSDECOD"),
        pl.lit("TREATMENT").alias("EPOCH"),
    )
    deaths = subjects.filter(
        pl.col("death_date").is_not_null() & (pl.col("end_of_treatment_reason").fill_null("") != "death")
    ).select(
        "subject_id", pl.col("death_date").alias("DSSTDTC"), pl.lit("DEATH").alias("DSDECOD"), pl.lit(FOLLOW_UP_EPOCH).alias("EPOCH")
    )
    order = subjects.select("subject_id").with_row_index("_subject_order")
    records = (
        pl.concat([ended.with_columns(pl.lit(0).alias("_kind")), deaths.with_columns(pl.lit(1).alias("_kind"))])
        .join(order, on="subject_id")
        .sort("_subject_order", "_kind")
    )
    return records.select(
        pl.lit(study).alias("STUDYID"),
        pl.lit("DS").alias("DOMAIN"),
        pl.col("subject_id").alias("USUBJID"),
        (pl.int_range(pl.len()).over("subject_id") + 1).cast(pl.String).alias("DSSEQ"),
        pl.col("DSDECOD").alias("DSTERM"),
        "DSDECOD",
        pl.lit("DISPOSITION EVENT").alias("DSCAT"),
        "EPOCH",
        "DSSTDTC",
    )


# ---- exposure: EX, SUPPEX ------------------------------------------------------------------------


def _exposure(exposure: pl.DataFrame, study: str, treatments: Mapping[str, str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """EX, one record per exposure record (EXTRT: the agent's name in capitals), and SUPPEX with
    each record's adjustment. The planned dose is not written: the reader takes it from the config."""
    numbered = exposure.with_columns(_sequence().alias("_seq"))
    ex = numbered.select(
        pl.lit(study).alias("STUDYID"),
        pl.lit("EX").alias("DOMAIN"),
        pl.col("subject_id").alias("USUBJID"),
        pl.col("_seq").alias("EXSEQ"),
        pl.col("agent").replace(dict(treatments)).alias("EXTRT"),
        pl.col("dose_mg").alias("EXDOSE"),
        pl.when(pl.col("dose_mg").is_not_null()).then(pl.lit("mg")).alias("EXDOSU"),
        pl.col("frequency").alias("EXDOSFRQ"),
        pl.col("route").alias("EXROUTE"),
        pl.col("start_date").alias("EXSTDTC"),
        pl.col("end_date").alias("EXENDTC"),
        pl.col("adjustment_reason").alias("EXADJ"),
    )
    supplemental = _supplemental(numbered, study, "EX", EXPOSURE_QUALIFIERS, record="EXSEQ")
    return ex, supplemental


# ---- adverse events: AE, SUPPAE ------------------------------------------------------------------


def _adverse_events(
    events: pl.DataFrame, study: str, codes: Mapping[str, str], dictionary: CtcaeDictionary
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """AE, one record per AE record, and SUPPAE (module docstring)."""
    terms = [term for term in events["ctcae_term"].unique().to_list() if term is not None]
    infos = {term: dictionary.lookup(term) for term in terms}
    spelled = {term: info.term for term, info in infos.items() if info is not None}
    socs = {term: info.soc for term, info in infos.items() if info is not None}
    catch_all = [term for term, info in infos.items() if info is not None and info.other_specify]
    outcomes = _reverse_map("ae_outcomes.csv")
    actions = _reverse_map("ae_actions.csv")
    action_columns = [f"action_{agent}" for agent in codes]
    mapped_actions = [_mapped(pl.col(column), actions) for column in action_columns]
    first_action = mapped_actions[0]
    same_action = pl.all_horizontal([action.eq_missing(first_action) for action in mapped_actions[1:]] or [pl.lit(True)])
    numbered = events.with_columns(
        _sequence().alias("_seq"),
        # The term tabulated, as coding to MedDRA gives it: an "Other, specify" event under its
        # specified text, a CTCAE term as the dictionary spells it; a term CTCAE does not know
        # (misspelt) is one the coder could not code: no AEDECOD yet, as in a transfer before
        # coding is complete.
        pl.when(pl.col("ctcae_term").is_in(catch_all) & pl.col("other_specify").is_not_null())
        .then(pl.col("other_specify"))
        .otherwise(pl.col("ctcae_term").replace_strict(spelled, default=None))
        .alias("_decod"),
        pl.when(same_action).then(first_action).otherwise(pl.lit(MULTIPLE_ACTIONS)).alias("_action"),
    )
    criteria = pl.col("serious_criteria").str.split(";").list.eval(pl.element().str.strip_chars())
    unknown = numbered.filter(
        criteria.list.eval(~pl.element().is_in(list(SERIOUS_FLAGS))).list.any().fill_null(False)
    )
    if unknown.height:
        raise ValueError(
            f"adverse event {unknown['ae_id'][0]}: serious_criteria {unknown['serious_criteria'][0]!r} has a criterion "
            f"SDTM has no flag for (flags: {', '.join(SERIOUS_FLAGS)})"
        )
    ae = numbered.select(
        pl.lit(study).alias("STUDYID"),
        pl.lit("AE").alias("DOMAIN"),
        pl.col("subject_id").alias("USUBJID"),
        pl.col("_seq").alias("AESEQ"),
        pl.col("ae_id").alias("AESPID"),
        pl.col("verbatim_term").alias("AETERM"),
        pl.col("_decod").alias("AEDECOD"),
        pl.col("ctcae_term").replace_strict(socs, default=None).alias("AEBODSYS"),
        pl.col("grade").alias("AETOXGR"),
        pl.col("onset_date").alias("AESTDTC"),
        pl.col("resolution_date").alias("AEENDTC"),
        pl.col("serious").alias("AESER"),
        *[
            pl.when(pl.col("serious_criteria").is_not_null())
            .then(pl.when(criteria.list.contains(criterion)).then(pl.lit("Y")).otherwise(pl.lit("N")))
            .alias(flag)
            for criterion, flag in SERIOUS_FLAGS.items()
        ],
        _mapped(pl.col("outcome"), outcomes).alias("AEOUT"),
        pl.col("_action").alias("AEACN"),
    )
    relationships = {
        f"attribution_{agent}": (RELATIONSHIP_PREFIX + code, f"Relationship to {agent}") for agent, code in codes.items()
    }
    per_agent_actions = {f"action_{agent}": (ACTION_PREFIX + code, f"Action Taken with {agent}") for agent, code in codes.items()}
    relationship_text = {level: code for code, level in RELATIONSHIP_VALUES.items()}
    values = numbered.with_columns(
        *[_mapped(pl.col(column), relationship_text) for column in relationships],
        *[
            pl.when(pl.col("_action") == MULTIPLE_ACTIONS).then(mapped).alias(column)
            for column, mapped in zip(action_columns, mapped_actions)
        ],
        _column(events, "expedited_report_date").alias("expedited_report_date"),
        _column(events, "treatment").alias("treatment"),
    )
    qualifiers = {**AE_QUALIFIERS, **relationships, **per_agent_actions, "awareness_date": AWARENESS_QUALIFIER}
    return ae, _supplemental(values, study, "AE", qualifiers, record="AESEQ")


# ---- labs, vital signs, tumour responses: LB, VS, RS ---------------------------------------------


def _labs(labs: pl.DataFrame, study: str) -> pl.DataFrame:
    """LB, one record per lab record; the test code as CDISC writes it (data/cdisc/lab_test_codes.csv,
    read back to the same code; a code it does not list as given); results and ranges in the
    standard-unit variables, a result that is no number in LBSTRESC only."""
    test_codes = _reverse_map("lab_test_codes.csv")
    return labs.with_columns(_sequence().alias("_seq")).select(
        pl.lit(study).alias("STUDYID"),
        pl.lit("LB").alias("DOMAIN"),
        pl.col("subject_id").alias("USUBJID"),
        pl.col("_seq").alias("LBSEQ"),
        _mapped(pl.col("test_code"), test_codes).alias("LBTESTCD"),
        pl.col("value").alias("LBORRES"),
        pl.col("unit").alias("LBORRESU"),
        pl.col("value").alias("LBSTRESC"),
        pl.when(pl.col("value").cast(pl.Float64, strict=False).is_not_null()).then(pl.col("value")).alias("LBSTRESN"),
        pl.col("unit").alias("LBSTRESU"),
        pl.col("lln").alias("LBSTNRLO"),
        pl.col("uln").alias("LBSTNRHI"),
        pl.col("collection_date").alias("LBDTC"),
    )


def _vital_signs(vitals: pl.DataFrame, study: str) -> pl.DataFrame:
    """VS, one record per vital sign given in a vitals row; the row's number ties them (VSGRPID)."""
    rows = vitals.with_row_index("_group", offset=1)
    long = pl.concat(
        [
            rows.filter(pl.col(column).is_not_null()).select(
                "_group", "subject_id", "measure_date", pl.lit(position).alias("_test"), pl.col(column).alias("_value")
            )
            for position, column in enumerate(VITAL_SIGNS)
        ]
    ).sort("_group", "_test")
    tests = list(VITAL_SIGNS.values())

    def of_test(part: int) -> pl.Expr:
        """The test code (0), name (1) or unit (2) of each record's test."""
        return pl.col("_test").replace_strict(list(range(len(tests))), [test[part] for test in tests], return_dtype=pl.String)

    return long.with_columns(_sequence().alias("_seq")).select(
        pl.lit(study).alias("STUDYID"),
        pl.lit("VS").alias("DOMAIN"),
        pl.col("subject_id").alias("USUBJID"),
        pl.col("_seq").alias("VSSEQ"),
        pl.col("_group").cast(pl.String).alias("VSGRPID"),
        of_test(0).alias("VSTESTCD"),
        of_test(1).alias("VSTEST"),
        pl.col("_value").alias("VSORRES"),
        of_test(2).alias("VSORRESU"),
        pl.col("_value").alias("VSSTRESC"),
        pl.col("_value").alias("VSSTRESN"),
        of_test(2).alias("VSSTRESU"),
        pl.col("measure_date").alias("VSDTC"),
    )


def _responses(assessments: pl.DataFrame, study: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """RS: per assessment its overall response and, when recorded, its new-lesion result, tied by
    the assessment's number (RSGRPID); SUPPRS: the imaging method of the overall response."""
    rows = assessments.with_row_index("_group", offset=1)
    overall = rows.select(
        "_group", "subject_id", "visit", "assessment_date", pl.lit(0).alias("_kind"),
        pl.col("overall_response").alias("_result"), _column(assessments, "method").alias("method"),
    )
    new_lesions = rows.filter(_column(assessments, "new_lesions").is_not_null()).select(
        "_group", "subject_id", "visit", "assessment_date", pl.lit(1).alias("_kind"),
        pl.col("new_lesions").alias("_result"), pl.lit(None, dtype=pl.String).alias("method"),
    )
    records = pl.concat([overall, new_lesions]).sort("_group", "_kind").with_columns(_sequence().alias("_seq"))
    tests = [OVERALL_RESPONSE, NEW_LESION_PROGRESSION]
    rs = records.select(
        pl.lit(study).alias("STUDYID"),
        pl.lit("RS").alias("DOMAIN"),
        pl.col("subject_id").alias("USUBJID"),
        pl.col("_seq").alias("RSSEQ"),
        pl.col("_group").cast(pl.String).alias("RSGRPID"),
        pl.col("_kind").replace_strict([0, 1], [test[0] for test in tests], return_dtype=pl.String).alias("RSTESTCD"),
        pl.col("_kind").replace_strict([0, 1], [test[1] for test in tests], return_dtype=pl.String).alias("RSTEST"),
        pl.lit(RESPONSE_CRITERIA).alias("RSCAT"),
        pl.col("_result").alias("RSORRES"),
        pl.col("_result").alias("RSSTRESC"),
        pl.lit(EVALUATOR).alias("RSEVAL"),
        pl.col("visit").alias("VISIT"),
        pl.col("assessment_date").alias("RSDTC"),
    )
    return rs, _supplemental(records, study, "RS", TUMOUR_QUALIFIERS, record="RSSEQ")


# ---- shared --------------------------------------------------------------------------------------


def _sequence() -> pl.Expr:
    """--SEQ: the record's number among its subject's records of the domain, in file order."""
    return (pl.int_range(pl.len()).over("subject_id") + 1).cast(pl.String)


def _supplemental(
    frame: pl.DataFrame, study: str, domain: str, qualifiers: Mapping[str, tuple[str, str]], *, record: str | None
) -> pl.DataFrame:
    """SUPP--: one record per qualifier given (its column not missing), of a record (``record``:
    the --SEQ variable, its value in ``_seq``) or of the subject (``record`` None)."""
    numbered = frame.with_row_index("_position")
    parts = [
        numbered.filter(pl.col(column).is_not_null()).select(
            pl.lit(study).alias("STUDYID"),
            pl.lit(domain).alias("RDOMAIN"),
            pl.col("subject_id").alias("USUBJID"),
            pl.lit(record, dtype=pl.String).alias("IDVAR"),
            (pl.col("_seq") if record else pl.lit(None, dtype=pl.String)).alias("IDVARVAL"),
            pl.lit(qnam).alias("QNAM"),
            pl.lit(label).alias("QLABEL"),
            pl.col(column).alias("QVAL"),
            pl.lit("CRF").alias("QORIG"),
            "_position",
            pl.lit(order).alias("_qualifier"),
        )
        for order, (column, (qnam, label)) in enumerate(qualifiers.items())
        if column in frame.columns
    ]
    if not parts:
        return pl.DataFrame(schema={name: pl.String for name in SUPPLEMENTAL_COLUMNS})
    return pl.concat(parts).sort("_position", "_qualifier").select(SUPPLEMENTAL_COLUMNS)


def _reverse_map(file: str) -> dict[str, str]:
    """A value map of data/cdisc/ read backwards: toxwatch value -> the first CDISC term that reads as it."""
    with data_path("cdisc", file).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    reverse: dict[str, str] = {}
    for row in rows:
        value = (row["toxwatch_value"] or "").strip()
        if value and value not in reverse:
            reverse[value] = row["cdisc_value"].strip()
    return reverse


def _mapped(expression: pl.Expr, mapping: Mapping[str, str], *, otherwise: pl.Expr | None = None) -> pl.Expr:
    """A native value through ``mapping``; a value it does not list as given (or ``otherwise``)."""
    fallback = expression if otherwise is None else otherwise
    return expression.replace_strict(dict(mapping), default=fallback, return_dtype=pl.String)


# ---- trial.toml ----------------------------------------------------------------------------------


def _cdisc_section(agents: list[tuple[str, str]], codes: Mapping[str, str], domains: Iterable[str]) -> str:
    """The [cdisc] tables of the SDTM trial's config."""
    present = set(domains)
    lines = [
        "# The trial read from SDTM domains (written by synth.sdtm.write_sdtm; docs/sources.md,",
        '# "A synthetic trial as SDTM").',
        "[cdisc]",
        'standard = "sdtm"',
        'folder = "."',
        'arm_variable = "ARM"',
        f'awareness_variable = "{AWARENESS_QUALIFIER[0]}"',
        "",
        "[cdisc.files]",
        *[f'{domain} = "{file}"' for domain, file in DOMAIN_FILES.items() if domain in present],
        "",
        "[cdisc.treatments]",
        *[f"{_toml_key(name)} = \"{agent_id}\"" for agent_id, name in agents],
        "",
        "[cdisc.relationship_values]",
        *[f'{value} = "{level}"' for value, level in RELATIONSHIP_VALUES.items()],
        "",
        "[cdisc.relationship_variables]",
        *[f'{agent} = "{RELATIONSHIP_PREFIX}{code}"' for agent, code in codes.items()],
        "",
        "# Contract columns SDTM has no variable for: the SDTM variable or supplemental QNAM that holds them.",
        "[cdisc.columns.subjects]",
        *[f'{column} = "{qnam}"' for column, (qnam, _) in SUBJECT_QUALIFIERS.items()],
        "",
        "[cdisc.columns.exposure]",
        *[f'{column} = "{qnam}"' for column, (qnam, _) in EXPOSURE_QUALIFIERS.items()],
        "",
        "[cdisc.columns.adverse_events]",
        'ae_id = "AESPID"',
        *[f'{column} = "{qnam}"' for column, (qnam, _) in AE_QUALIFIERS.items()],
        *[f'action_{agent} = "{ACTION_PREFIX}{code}"' for agent, code in codes.items()],
    ]
    if "rs" in present:
        lines += ["", "[cdisc.columns.tumour_assessments]"]
        lines += [f'{column} = "{qnam}"' for column, (qnam, _) in TUMOUR_QUALIFIERS.items()]
    return "\n".join(lines) + "\n"


def _toml_key(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def cdisc_config_text(config_text: str, cdisc_section: str) -> str:
    """The config text with its ``[sources.*]`` tables (each with the comment lines right above
    it) replaced by ``cdisc_section``, written where the first of them was; every other line as it
    was. Checked: the result reads as the original without ``sources``, plus ``cdisc``."""
    lines = config_text.splitlines()
    # A table runs from the comment lines right above its header to the next table's start.
    starts = []
    for index, line in enumerate(lines):
        if _HEADER.match(line):
            start = index
            while start > 0 and lines[start - 1].lstrip().startswith("#") and (not starts or start - 1 > starts[-1]):
                start -= 1
            starts.append(start)
    bounds = list(zip(starts, [*starts[1:], len(lines)]))
    kept = lines[: starts[0]] if starts else list(lines)
    inserted = False
    for start, end in bounds:
        header = next(_HEADER.match(line) for line in lines[start:end] if _HEADER.match(line)).group(1)
        if header == "sources" or header.startswith("sources."):
            if not inserted:
                kept += [*cdisc_section.rstrip("\n").splitlines(), ""]
                inserted = True
            continue
        kept += lines[start:end]
    if not inserted:
        kept += ["", *cdisc_section.rstrip("\n").splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).rstrip("\n") + "\n"
    original, written = tomllib.loads(config_text), tomllib.loads(text)
    expected = {key: value for key, value in original.items() if key != "sources"}
    expected["cdisc"] = tomllib.loads(cdisc_section)["cdisc"]
    if written != expected:
        raise ValueError("the SDTM trial's config does not read as the original with [cdisc] in place of [sources]")
    return text
