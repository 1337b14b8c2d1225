"""A starter trial configuration written from a folder of CDISC data: ``toxwatch init
--from-sdtm DIR`` (SDTM domains) or ``--from-adam DIR`` (ADaM datasets).

Every key that the data decides is written with a comment above it, saying what was found and
what the alternative is, so that the file runs as written and also records each choice for review:

* domains: the files named after a domain (SDTM dm, ae, suppae, ex, lb, ds, vs; ADaM adsl, adae,
  adex, adlb), in any case and in any format that readers.files reads. When one domain comes in two
  formats, the first in ``FORMAT_PREFERENCE`` is read. An ADaM dataset without a file of its
  exact name may carry a one-letter prefix or a suffix after ``_`` (``cadsl``, ``adlb_ctcae``);
* the trial id from STUDYID; the arm variable (SDTM ARM, ADaM TRT01P: the planned arm); the arms.
  A subject whose arm is a screen failure, not assigned or not treated
  (data/cdisc/unassigned_arms.csv), or who has no arm, is in no arm and is outside the safety
  population. The first arm whose name or arm code is a placebo's (data/cdisc/reference_arms.csv,
  a leading label such as "B: " left out) is the reference arm (``reference = true``), which the
  closed report compares the other arms with;
* the agents: one for each treatment the exposure records name (EXTRT; in ADaM EXTRT, else
  PARCAT2, of the dose records). An arm's planned dose of an agent is the nonzero dose its
  subjects were given on the most days. An interval record counts every day from its start to
  its end, and an administration record counts one day. The planned dose is 0 when every dose is 0
  (a placebo). The agent's ``dose_mg`` is the highest of its arms' planned doses, and an arm that
  plans another dose says so in ``doses_mg``. The most frequent record would not do: a titration
  step or a reduced dose has more records than the planned dose. In the CDISC pilot the high-dose
  arm has more 54 mg records than 81 mg records, yet it takes 81 mg on four days in five;
* grading: CTCAE when the AE records carry a CTCAE grade (AETOXGR; in ADaM ATOXGR or AETOXGR),
  else severity when they carry AESEV (ASEV);
* relationship values: each value that AEREL holds (AREL in ADaM; plus the per-agent SUPPAE
  qualifiers) is mapped by the default map (trial.config.DEFAULT_RELATIONSHIP_VALUES). A value
  that the map does not know is written commented out, so that it is queried and counted as
  related until someone maps it.

The text is checked against the configuration model before it is returned.
"""

from __future__ import annotations

import csv
import os
import re
import textwrap
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import polars as pl

from ctcae.attribution import ATTRIBUTION_LEVELS, DEFAULT_RELATED_LEVELS
from ctcae.home import data_path
from readers.cdisc import first_present, folded
from readers.files import read_table
from trial.config import CDISC_DOMAINS, DEFAULT_RELATIONSHIP_VALUES, SLUG, PartialDates, TrialConfigModel, Windows
from trial.errors import InputError

Standard = Literal["sdtm", "adam"]

# The order in which one domain's formats are preferred: a SAS file is what the sponsor
# submits; Parquet and CSV are usually conversions of it.
FORMAT_PREFERENCE = (".xpt", ".sas7bdat", ".parquet", ".csv", ".xlsx")
DOMAIN_NAMES: dict[str, tuple[str, ...]] = {
    "sdtm": ("dm", "ae", "suppae", "ex", "lb", "ds", "vs"),
    "adam": ("adsl", "adae", "adex", "adlb"),
}
# Without these no review can run: the subjects, their exposure (the safety population) and their AEs.
REQUIRED_DOMAINS: dict[str, tuple[str, ...]] = {"sdtm": ("dm", "ex", "ae"), "adam": ("adsl", "adex", "adae")}
# Domains read besides the ones that feed a source (trial.config.CDISC_DOMAINS): SUPPAE and DS add columns.
EXTRA_DOMAINS_READ: dict[str, tuple[str, ...]] = {"sdtm": ("suppae", "ds"), "adam": ()}
STANDARD_NAMES = {"sdtm": "SDTM", "adam": "ADaM"}

# The subject-level variables that may hold the arm, the preferred (planned) first.
ARM_VARIABLES: dict[str, tuple[str, ...]] = {"sdtm": ("ARM", "ACTARM"), "adam": ("TRT01P", "ARM", "TRT01A", "ACTARM")}
OTHER_ARM_VARIABLE = {"ARM": "ACTARM", "ACTARM": "ARM", "TRT01P": "TRT01A", "TRT01A": "TRT01P"}
ARM_CODE_VARIABLE = {"ARM": "ARMCD", "ACTARM": "ACTARMCD", "TRT01P": "ARMCD", "TRT01A": "ACTARMCD"}
PLANNED_ARM_VARIABLES = ("ARM", "TRT01P")
# data/cdisc/unassigned_arms.csv: arm codes and labels of subjects in no arm (screen failures ...).
UNASSIGNED_ARMS = "unassigned_arms.csv"
# data/cdisc/reference_arms.csv: arm codes and labels of a placebo arm, written as the reference arm.
REFERENCE_ARMS = "reference_arms.csv"
# A letter or number that labels an arm before its name ("B: Placebo"), left out when the name is matched.
ARM_LABEL_PREFIX = re.compile(r"^[A-Z0-9]{1,3}\s*:\s*")

# The variables each standard's readers take the AE grade, severity and relationship from, first given first.
GRADE_VARIABLES = {"sdtm": ("AETOXGR",), "adam": ("ATOXGR", "AETOXGR")}
SEVERITY_VARIABLES = {"sdtm": ("AESEV",), "adam": ("ASEV", "AESEV")}
RELATIONSHIP_VARIABLES = {"sdtm": ("AEREL",), "adam": ("AREL", "AEREL")}
# A SUPPAE qualifier whose label holds one of these words is a relationship or an awareness date.
RELATIONSHIP_LABEL = "RELAT"
AWARENESS_LABEL = "AWARE"
# ADaM exposure: only the dose records are administrations (readers/adam.py).
ADAM_DOSE_PARAMETER = "DOSE"
DOSE_UNIT = "MG"
MAP_IT = "map it: " + " / ".join(ATTRIBUTION_LEVELS)

_WIDTH = 100
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


# ---- the folder's files --------------------------------------------------------------------------


@dataclass(frozen=True)
class DomainFile:
    """The file a domain is read from, and the files of the same domain that are not read."""

    domain: str
    path: Path
    passed_over: tuple[Path, ...] = ()


def find_domain_files(folder: Path, standard: Standard) -> dict[str, DomainFile]:
    """The domain files in ``folder`` (module docstring), by domain, in ``DOMAIN_NAMES`` order."""
    candidates = sorted(
        (path for path in folder.iterdir() if path.is_file() and path.suffix.lower() in FORMAT_PREFERENCE),
        key=lambda path: path.name.lower(),
    )
    found: dict[str, DomainFile] = {}
    for domain in DOMAIN_NAMES[standard]:
        exact = [path for path in candidates if path.stem.lower() == domain]
        loose = [path for path in candidates if standard == "adam" and _loose_dataset_name(path.stem.lower(), domain)]
        matches = exact or loose
        if not matches:
            continue
        ranked = sorted(matches, key=lambda path: FORMAT_PREFERENCE.index(path.suffix.lower()))
        found[domain] = DomainFile(domain, ranked[0], tuple(ranked[1:]))
    return found


def _loose_dataset_name(stem: str, dataset: str) -> bool:
    """An ADaM dataset's name with a one-letter prefix or a suffix after ``_`` (``cadsl``, ``adlb_ctcae``)."""
    return re.fullmatch(rf"[a-z]?{dataset}(?:_[a-z0-9_]*)?", stem) is not None


def domains_read(standard: Standard) -> set[str]:
    """The domains a trial configuration's ``[cdisc.files]`` can usefully name: those the readers read."""
    return set(CDISC_DOMAINS[standard].values()) | set(EXTRA_DOMAINS_READ[standard])


# ---- what the data holds -------------------------------------------------------------------------


@dataclass
class AgentFound:
    id: str
    name: str
    key: str  # the treatment as the readers match it: trimmed, upper case
    records: int
    dose_records: Counter[float]
    dose_days: Counter[float]
    records_without_dose: int
    route: str
    route_counts: list[tuple[str, int]]
    frequency: str
    frequency_note: str
    unit_counts: list[tuple[str, int]]
    spellings: list[str]
    dose_mg: float = 0.0
    dose_note: str = ""

    @property
    def dose_levels(self) -> list[float]:
        return sorted((dose for dose in self.dose_records if dose > 0), reverse=True)

    @property
    def placebo(self) -> bool:
        return bool(self.dose_records) and all(dose == 0 for dose in self.dose_records)


@dataclass
class ArmFound:
    id: str
    value: str
    code: str | None
    subjects: int
    dosed: int = 0
    agents: list[str] = field(default_factory=list)
    planned: dict[str, float | None] = field(default_factory=dict)
    dose_days: dict[str, Counter[float]] = field(default_factory=dict)


@dataclass
class ArmsFound:
    variable: str
    other_variable: str | None
    differing: int  # subjects whose other arm variable holds another value
    arms: list[ArmFound]
    unassigned: list[tuple[str, int]]  # (why, subjects) of the subjects in no arm
    subjects: int


def config_from_cdisc(folder: Path, *, standard: Standard, out: Path, trial_id: str | None = None) -> str:
    """The text of a trial configuration (TOML) for the CDISC data in ``folder``, to be written to
    ``out`` (paths in it are relative to ``out``'s folder). ``trial_id`` replaces the id taken
    from STUDYID. Raises ``InputError`` for a folder that is not usable."""
    folder = Path(folder)
    out = Path(out)
    if standard not in DOMAIN_NAMES:
        raise ValueError(f"standard must be 'sdtm' or 'adam', not {standard!r}")
    name = STANDARD_NAMES[standard]
    if not folder.exists():
        raise InputError(folder, None, "folder not found", f"give the folder that holds the {name} files")
    if not folder.is_dir():
        raise InputError(folder, None, "is a file, not a folder", f"give the folder that holds the {name} files")
    if trial_id is not None and re.fullmatch(SLUG, trial_id) is None:
        raise InputError(
            out, "--id", f"{trial_id!r} is not a trial id", "use lowercase letters, digits, - and _, starting with a letter or digit"
        )
    files = find_domain_files(folder, standard)
    missing = [domain for domain in REQUIRED_DOMAINS[standard] if domain not in files]
    if missing:
        suffixes = ", ".join(FORMAT_PREFERENCE)
        other = "--from-adam" if standard == "sdtm" else "--from-sdtm"
        raise InputError(
            folder,
            None,
            f"no {name} {', '.join(domain.upper() for domain in missing)} file (a file named {missing[0]} with one of the suffixes {suffixes})",
            f"give the folder that holds the trial's {name} files, or use {other} for the other standard",
        )

    subject_domain, exposure_domain, ae_domain = REQUIRED_DOMAINS[standard]
    subjects = read_table(files[subject_domain].path).frame
    exposure = read_table(files[exposure_domain].path).frame
    adverse_events = read_table(files[ae_domain].path).frame
    supplemental = read_table(files["suppae"].path).frame if "suppae" in files else None
    for domain, frame, variables in (
        (subject_domain, subjects, ("USUBJID",)),
        (exposure_domain, exposure, ("USUBJID",)),
        (ae_domain, adverse_events, ("USUBJID",)),
    ):
        _require(files[domain].path, frame, variables, domain, name)

    studies = _value_counts(first_present(subjects, "STUDYID"), subjects)
    arms = _arms(subjects, standard, files[subject_domain].path)
    doses, treatment_variable = _exposure_records(exposure, standard, files[exposure_domain].path)
    agents = _agents(doses, standard)
    if not agents:
        raise InputError(
            files[exposure_domain].path, treatment_variable, "no exposure record names a treatment, so no agent can be found",
            f"deliver {exposure_domain.upper()} with its dose records",
        )
    _agents_of_arms(arms, agents, doses, subjects)
    writer = _Writer()
    _write_header(writer, folder=folder, out=out, standard=standard, files=files)
    grading = _write_trial(writer, standard=standard, studies=studies, trial_id=trial_id, folder=folder, adverse_events=adverse_events)
    _write_agents(writer, agents, standard=standard, treatment=treatment_variable)
    _write_arms(writer, arms, agents, standard=standard, domain=subject_domain)
    _write_windows(writer, standard=standard, adverse_events=adverse_events, supplemental=supplemental)
    _write_attribution(writer)
    _write_cdisc(
        writer,
        standard=standard,
        folder=folder,
        out=out,
        files=files,
        arms=arms,
        agents=agents,
        adverse_events=adverse_events,
        supplemental=supplemental,
        exposure_domain=exposure_domain,
        treatment=treatment_variable,
    )
    _write_rules_and_report(writer, arms, agents, severity_graded=grading == "severity")
    text = writer.text()
    # A fault here is toxwatch's: the text is written from values already checked.
    TrialConfigModel.model_validate(tomllib.loads(text))
    return text


def _require(path: Path, frame: pl.DataFrame, variables: tuple[str, ...], domain: str, standard_name: str) -> None:
    missing = [variable for variable in variables if variable not in frame.columns]
    if missing:
        raise InputError(path, missing[0], f"the {domain.upper()} file has no {', '.join(missing)} variable", f"deliver {domain.upper()} with its {standard_name} variables")


def _value_counts(expression: pl.Expr, frame: pl.DataFrame) -> list[tuple[str, int]]:
    """The values of an expression over the frame with their record counts, most frequent first
    (ties in order of first appearance); missing values left out."""
    values = frame.select(expression.str.strip_chars().alias("value")).filter(pl.col("value").is_not_null() & (pl.col("value") != ""))
    counts = Counter(values.get_column("value").to_list())
    order = {value: position for position, value in enumerate(dict.fromkeys(values.get_column("value").to_list()))}
    return sorted(counts.items(), key=lambda item: (-item[1], order[item[0]]))


# ---- arms ----------------------------------------------------------------------------------------


@cache
def unassigned_arm_terms() -> dict[str, str]:
    """data/cdisc/unassigned_arms.csv: arm code or label (upper case) -> why the subject is in no arm."""
    with data_path("cdisc", UNASSIGNED_ARMS).open(encoding="utf-8", newline="") as handle:
        return {row["cdisc_value"].strip().upper(): row["toxwatch_value"].strip() for row in csv.DictReader(handle)}


@cache
def reference_arm_terms() -> frozenset[str]:
    """data/cdisc/reference_arms.csv: arm codes and labels (upper case) of a placebo arm."""
    with data_path("cdisc", REFERENCE_ARMS).open(encoding="utf-8", newline="") as handle:
        return frozenset(row["cdisc_value"].strip().upper() for row in csv.DictReader(handle))


def _names_placebo(arm: ArmFound, variable: str) -> str | None:
    """The variable (the arm variable or its code) whose value names ``arm`` a placebo arm: the
    whole value, trimmed, case-folded and without a leading label ("B: "), is one of
    data/cdisc/reference_arms.csv. None when neither does ("Drug X 5 mg + placebo" does not)."""
    for name, text in ((variable, arm.value), (ARM_CODE_VARIABLE.get(variable, "arm code"), arm.code)):
        if text and ARM_LABEL_PREFIX.sub("", text.strip().upper()) in reference_arm_terms():
            return name
    return None


def _unassigned_reason(value: str | None, code: str | None, not_given: str | None) -> str | None:
    """Why a subject is in no arm (its arm code or arm names a screen failure ...; or no arm is
    given, ARMNRS saying why from SDTMIG 3.3 on), or None when the arm is a treatment arm."""
    blank = value is None or not value.strip()
    for text in (code, value, not_given if blank else None):
        if text is None:
            continue
        for term, why in unassigned_arm_terms().items():
            if term in text.strip().upper():
                return why
    if blank:
        return f"no arm given ({not_given})" if not_given else "no arm given"
    return None


def _arms(subjects: pl.DataFrame, standard: Standard, path: Path) -> ArmsFound:
    variable = next((name for name in ARM_VARIABLES[standard] if name in subjects.columns), None)
    if variable is None:
        raise InputError(
            path, ARM_VARIABLES[standard][0], f"no arm variable ({', '.join(ARM_VARIABLES[standard])})",
            f"deliver {'DM' if standard == 'sdtm' else 'ADSL'} with the subjects' arm",
        )
    other = OTHER_ARM_VARIABLE.get(variable)
    other = other if other in subjects.columns else None
    code_variable = ARM_CODE_VARIABLE.get(variable)
    code_variable = code_variable if code_variable in subjects.columns else None
    per_subject = subjects.select(
        pl.col("USUBJID").str.strip_chars().alias("subject"),
        pl.col(variable).str.strip_chars().alias("value"),
        (pl.col(code_variable).str.strip_chars() if code_variable else pl.lit(None, dtype=pl.String)).alias("code"),
        (pl.col(other).str.strip_chars() if other else pl.lit(None, dtype=pl.String)).alias("other"),
        first_present(subjects, "ARMNRS").alias("not_given"),
    ).filter(pl.col("subject").is_not_null()).unique("subject", keep="first", maintain_order=True)
    differing = per_subject.filter(pl.col("value").ne_missing(pl.col("other"))).height if other else 0

    unassigned: Counter[str] = Counter()
    members: dict[str, list[tuple[str, str | None]]] = {}
    for row in per_subject.iter_rows(named=True):
        why = _unassigned_reason(row["value"], row["code"], row["not_given"])
        if why is not None:
            unassigned[why] += 1
        else:
            members.setdefault(row["value"], []).append((row["subject"], row["code"]))
    arms = []
    for value, rows in members.items():
        codes = {code for _, code in rows if code}
        arms.append(ArmFound(id="", value=value, code=codes.pop() if len(codes) == 1 else None, subjects=len(rows)))
    by_code = [_slug(arm.code, "") if arm.code else "" for arm in arms]
    use_codes = all(by_code) and len(set(by_code)) == len(by_code)
    taken: set[str] = set()
    for position, arm in enumerate(arms, start=1):
        arm.id = _unique(by_code[position - 1] if use_codes else _slug(arm.value, f"arm_{position}"), taken)
    return ArmsFound(
        variable=variable,
        other_variable=other,
        differing=differing,
        arms=arms,
        unassigned=sorted(unassigned.items(), key=lambda item: -item[1]),
        subjects=per_subject.height,
    )


# ---- exposure and agents -------------------------------------------------------------------------


def _exposure_records(exposure: pl.DataFrame, standard: Standard, path: Path) -> tuple[pl.DataFrame, str]:
    """One row per exposure record that the readers read: subject, treatment as written, dose (mg,
    a number, or missing), days covered, start date, route, frequency and unit as given; and the
    variable the treatment was read from."""
    if standard == "sdtm":
        _require(path, exposure, ("EXTRT",), "ex", "SDTM")
        records = exposure
        treatment, dose, named_by = pl.col("EXTRT"), first_present(exposure, "EXDOSE"), "EXTRT"
        start = first_present(exposure, "EXSTDTC")
        end = first_present(exposure, "EXENDTC")
        unit = first_present(exposure, "EXDOSU")
    else:
        records = exposure
        if "DTYPE" in records.columns:
            records = records.filter(pl.col("DTYPE").is_null())
        if "PARAMCD" in records.columns:
            records = records.filter((folded(pl.col("PARAMCD")) == ADAM_DOSE_PARAMETER).fill_null(False))
        if "EXTRT" not in records.columns and "PARCAT2" not in records.columns:
            raise InputError(path, "PARCAT2", "the ADEX file has no EXTRT or PARCAT2 variable naming the treatment", "deliver ADEX with EXTRT or PARCAT2")
        treatment = first_present(records, "EXTRT", "PARCAT2")
        given = [name for name in ("EXTRT", "PARCAT2") if name in records.columns and records.get_column(name).is_not_null().any()]
        named_by = " (else ".join(given) + (")" if len(given) > 1 else "") if given else "EXTRT"
        dose = first_present(records, "AVAL") if "AVAL" in records.columns else first_present(records, "EXDOSE")
        start = first_present(records, "ASTDT", "ASTDTM", "EXSTDTC")
        end = first_present(records, "AENDT", "AENDTM", "EXENDTC")
        unit = first_present(records, "AVALU", "EXDOSU")
    start_date = start.str.strip_chars().str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    end_date = end.str.strip_chars().str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    covered = (end_date - start_date).dt.total_days() + 1
    frame = records.select(
        pl.col("USUBJID").str.strip_chars().alias("subject"),
        treatment.str.strip_chars().alias("treatment"),
        folded(treatment).alias("key"),
        dose.str.strip_chars().cast(pl.Float64, strict=False).alias("dose"),
        pl.when(covered >= 1).then(covered).otherwise(1).fill_null(1).cast(pl.Int64).alias("days"),
        start_date.alias("start"),
        first_present(records, "EXROUTE").str.strip_chars().alias("route"),
        first_present(records, "EXDOSFRQ").str.strip_chars().alias("frequency"),
        unit.str.strip_chars().alias("unit"),
    ).filter(pl.col("key").is_not_null() & (pl.col("key") != ""))
    return frame, named_by


def _agents(doses: pl.DataFrame, standard: Standard) -> list[AgentFound]:
    agents: list[AgentFound] = []
    taken: set[str] = set()
    for key in dict.fromkeys(doses.get_column("key").to_list()):
        records = doses.filter(pl.col("key") == key)
        spellings = [value for value, _ in _value_counts(pl.col("treatment"), records)]
        given = records.filter(pl.col("dose").is_not_null())
        dose_records = Counter(given.get_column("dose").to_list())
        dose_days: Counter[float] = Counter()
        for dose, days in given.select("dose", "days").iter_rows():
            dose_days[dose] += days
        routes = _value_counts(pl.col("route"), records)
        frequency, frequency_note = _frequency(records, standard)
        agents.append(
            AgentFound(
                id=_unique(_slug(spellings[0], f"agent_{len(agents) + 1}", separator="_"), taken, separator="_"),
                name=spellings[0],
                key=key,
                records=records.height,
                dose_records=dose_records,
                dose_days=dose_days,
                records_without_dose=records.height - given.height,
                route=routes[0][0] if routes else "",
                route_counts=routes,
                frequency=frequency,
                frequency_note=frequency_note,
                unit_counts=_value_counts(pl.col("unit"), records),
                spellings=spellings,
            )
        )
    return agents


def _frequency(records: pl.DataFrame, standard: Standard) -> tuple[str, str]:
    """The agent's dosing frequency and how it was found. SDTM: the most frequent EXDOSFRQ (the
    exposure rows are checked against it). ADaM: the regimen, from the days between a subject's
    administrations (an ADEX dose record's EXDOSFRQ is the record's, often ONCE, and the ADaM
    reader gives every record the agent's frequency); EXDOSFRQ when the days match no frequency."""
    given = _value_counts(pl.col("frequency"), records)
    known = _known_frequencies()
    written = _counted(given) or "none given"
    if standard == "sdtm" or not records.height:
        if not given:
            return "", "EXDOSFRQ has no value: give the dosing frequency (QD, BID, QW, Q2W, Q3W, Q4W ...)."
        value = given[0][0]
        note = f"The most frequent EXDOSFRQ ({written}); a record with another frequency is queried."
        if value.upper() not in known:
            note += f" {value} is not in data/dosing/frequencies.csv: the dose-intensity table leaves this agent out."
        return value, note
    gaps = (
        records.filter(pl.col("start").is_not_null())
        .sort("subject", "start")
        .select((pl.col("start").diff().dt.total_days().over("subject")).alias("gap"))
        .filter(pl.col("gap") > 0)
        .get_column("gap")
    )
    median = gaps.median() if gaps.len() else None
    # Only records of one day each are administrations whose spacing is the regimen; interval records abut.
    single_days = records.filter(pl.col("days") == 1).height * 2 > records.height
    if median is not None and single_days:
        days = int(round(median))
        for frequency, interval in known.items():
            if interval == days:
                return frequency, (
                    f"Administrations are a median {days} day(s) apart ({frequency}); EXDOSFRQ of the dose records: {written}."
                )
    if given:
        return given[0][0], f"EXDOSFRQ of the dose records: {written}; the days between administrations match no frequency: check it."
    return "", "No EXDOSFRQ and no regular days between administrations: give the dosing frequency (QD, QW, Q2W, Q3W ...)."


@cache
def _known_frequencies() -> dict[str, int | None]:
    """data/dosing/frequencies.csv: each frequency (upper case) -> days between administrations
    (1 for once a day; None for several a day)."""
    from safetydb.study_tables import dosing_frequencies

    known: dict[str, int | None] = {}
    for row in dosing_frequencies().iter_rows(named=True):
        if row["records"] == "administration":
            known[row["frequency"].strip().upper()] = row["interval_days"]
        else:
            known[row["frequency"].strip().upper()] = 1 if row["administrations_per_day"] == 1 else None
    return known


def _agents_of_arms(arms: ArmsFound, agents: list[AgentFound], doses: pl.DataFrame, subjects: pl.DataFrame) -> None:
    """Each arm's agents and planned doses, and each agent's dose_mg (module docstring)."""
    subject_arm = subjects.select(
        pl.col("USUBJID").str.strip_chars().alias("subject"), pl.col(arms.variable).str.strip_chars().alias("arm")
    ).unique("subject", keep="first", maintain_order=True)
    joined = doses.join(subject_arm, on="subject", how="left")
    dosed_subjects = set(doses.get_column("subject").to_list())
    by_key = {agent.key: agent for agent in agents}
    for arm in arms.arms:
        members = set(subject_arm.filter(pl.col("arm") == arm.value).get_column("subject").to_list())
        arm.dosed = len(members & dosed_subjects)
        records = joined.filter(pl.col("arm") == arm.value)
        named = set(records.get_column("key").to_list())
        arm.agents = [agent.id for agent in agents if agent.key in named]
        for key in named:
            agent = by_key[key]
            days: Counter[float] = Counter()
            for dose, covered in records.filter((pl.col("key") == key) & pl.col("dose").is_not_null()).select("dose", "days").iter_rows():
                days[dose] += covered
            arm.dose_days[agent.id] = days
            arm.planned[agent.id] = _planned_dose(days)
    for agent in agents:
        planned = [arm.planned[agent.id] for arm in arms.arms if arm.planned.get(agent.id) is not None]
        if planned:
            agent.dose_mg = max(planned)
            agent.dose_note = "the highest of its arms' planned doses" if len(planned) > 1 else "its arm's planned dose"
        elif (overall := _planned_dose(agent.dose_days)) is not None:
            agent.dose_mg = overall
            agent.dose_note = "the nonzero dose given on the most days"
        else:
            agent.dose_mg = 0.0
            agent.dose_note = "EDIT: no record gives a numeric dose; set the protocol dose (0 is a placebo)"


def _planned_dose(days: Counter[float]) -> float | None:
    """The nonzero dose given on the most days (the higher on a tie); 0 when every dose is 0; None without a dose."""
    nonzero = {dose: count for dose, count in days.items() if dose > 0}
    if nonzero:
        return max(nonzero, key=lambda dose: (nonzero[dose], dose))
    return 0.0 if days else None


# ---- writing -------------------------------------------------------------------------------------


class _Writer:
    """TOML text with a comment above each key."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, text: str) -> None:
        for paragraph in text.split("\n"):
            wrapped = textwrap.wrap(paragraph, width=_WIDTH - 2, break_long_words=False, break_on_hyphens=False) or [""]
            self.lines.extend(f"# {line}".rstrip() for line in wrapped)

    def table(self, name: str, *, array: bool = False, commented: bool = False) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")
        header = f"[[{name}]]" if array else f"[{name}]"
        self.lines.append(f"# {header}" if commented else header)

    def key(self, name: str, value: object, *, commented: bool = False) -> None:
        line = f"{_key(name)} = {_value(value)}"
        self.lines.append(f"# {line}" if commented else line)

    def blank(self) -> None:
        self.lines.append("")

    def text(self) -> str:
        return "\n".join(self.lines).rstrip("\n") + "\n"


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _string(name)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(key)} = {_value(item)}" for key, item in value.items()) + " }" if value else "{}"
    raise TypeError(f"no TOML form for {value!r}")


def _string(text: str) -> str:
    """A TOML basic string: quote, backslash and control characters escaped."""
    escaped = []
    for character in text:
        if character in ('"', "\\"):
            escaped.append("\\" + character)
        elif character in "\b\t\n\f\r":
            escaped.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[character])
        elif ord(character) < 0x20 or ord(character) == 0x7F:
            escaped.append(f"\\u{ord(character):04X}")
        else:
            escaped.append(character)
    return '"' + "".join(escaped) + '"'


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _mg(value: float) -> str:
    return f"{_number(value)} mg"


def _slug(text: str | None, fallback: str, *, separator: str = "_") -> str:
    slug = re.sub(r"[^a-z0-9]+", separator, (text or "").lower()).strip("_-")
    return slug or fallback


def _unique(slug: str, taken: set[str], *, separator: str = "_") -> str:
    candidate, number = slug, 2
    while candidate in taken:
        candidate, number = f"{slug}{separator}{number}", number + 1
    taken.add(candidate)
    return candidate


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _counted(counts: list[tuple[str, int]], *, limit: int = 8) -> str:
    shown = ", ".join(f"{value}: {count}" for value, count in counts[:limit])
    return shown + (f" and {len(counts) - limit} more" if len(counts) > limit else "")


def _relative(folder: Path, out: Path) -> str:
    try:
        return Path(os.path.relpath(folder.resolve(), out.resolve().parent)).as_posix()
    except ValueError:  # another drive (Windows): no relative path exists
        return folder.resolve().as_posix()


def _write_header(writer: _Writer, *, folder: Path, out: Path, standard: Standard, files: dict[str, DomainFile]) -> None:
    name = STANDARD_NAMES[standard]
    writer.comment(
        f"Trial configuration written by `toxwatch init --from-{standard}` from the {name} files in "
        f"{_relative(folder, out)} ({', '.join(domain.upper() for domain in files)}). Each key chosen from the data "
        "has a comment above it: what was found, and the alternative. Check them before the first review. "
        "Every key is documented in docs/trial-config.md; unknown keys are errors."
    )


def _write_trial(
    writer: _Writer, *, standard: Standard, studies: list[tuple[str, int]], trial_id: str | None, folder: Path, adverse_events: pl.DataFrame
) -> str:
    """[trial]; returns the grading chosen."""
    name = STANDARD_NAMES[standard]
    writer.table("trial")
    study = studies[0][0] if studies else None
    if trial_id is not None:
        writer.comment(f"Given with --id (STUDYID: {study or 'none'}); names the output folder.")
        writer.key("id", trial_id)
    elif study is not None:
        others = f"; other STUDYID values: {_counted(studies[1:])}" if len(studies) > 1 else ""
        writer.comment(f"STUDYID {study} ({studies[0][1]} subject records{others}), lowercase; names the output folder.")
        writer.key("id", _slug(study, "trial", separator="-"))
    else:
        writer.comment("No STUDYID: the folder's name, lowercase; names the output folder. Set the trial's id.")
        writer.key("id", _slug(folder.resolve().name, "trial", separator="-"))
    writer.comment("Edit: the title every report shows.")
    writer.key("title", f"{study or folder.resolve().name} (from {name})")
    writer.comment(f'The CTCAE version is not in {name}: check the protocol ("5.0" or "6.0").')
    writer.key("ctcae_version", "5.0")
    grades = _value_counts(first_present(adverse_events, *GRADE_VARIABLES[standard]), adverse_events)
    severities = _value_counts(first_present(adverse_events, *SEVERITY_VARIABLES[standard]), adverse_events)
    grade_names = " or ".join(name for name in GRADE_VARIABLES[standard])
    severity_names = " or ".join(name for name in SEVERITY_VARIABLES[standard])
    if grades:
        severity_found = f"; {severity_names} also has values ({_counted(severities)}), the alternative: \"severity\"" if severities else ""
        writer.comment(
            f"The AE records carry CTCAE grades in {grade_names} ({_counted(grades)}): the trial is CTCAE-graded{severity_found}."
        )
        grading = "ctcae"
    elif severities:
        writer.comment(
            f"No AE record has a CTCAE grade ({grade_names}); {severity_names} has values ({_counted(severities)}): "
            'the trial is graded by severity (mild 1, moderate 2, severe 3). "ctcae" reads the CTCAE grade instead.'
        )
        grading = "severity"
    else:
        writer.comment(
            f"No AE record has a CTCAE grade ({grade_names}) or a severity ({severity_names}): every AE's grade is "
            'missing and is queried. "severity" reads the severity instead.'
        )
        grading = "ctcae"
    writer.key("grading", grading)
    writer.comment(
        f"{name} has no treatment cycles: study days (day 1 = first dose) are laid out in fixed windows of this "
        "many days, for the tables by cycle and the cycle-1 windows of stopping rules. Set the protocol's cycle length."
    )
    writer.key("cycle_length_days", 28)
    writer.comment("The DuckDB store of the trial's data cuts, relative to this file.")
    writer.key("database", "toxwatch.duckdb")
    writer.comment("The output root, relative to this file; `toxwatch run --out` overrides it.")
    writer.key("output_dir", "out")
    return grading


def _write_agents(writer: _Writer, agents: list[AgentFound], *, standard: Standard, treatment: str) -> None:
    domain = "EX" if standard == "sdtm" else "ADEX dose"
    dose_variable = "EXDOSE" if standard == "sdtm" else "AVAL"
    for agent in agents:
        writer.table("agents", array=True)
        spellings = f" (also written {', '.join(agent.spellings[1:])})" if len(agent.spellings) > 1 else ""
        doses = ", ".join(
            f"{_mg(dose)} in {agent.dose_records[dose]} records ({agent.dose_days[dose]} days)"
            for dose in sorted(agent.dose_records, reverse=True)
        )
        without = f"; {agent.records_without_dose} without a numeric dose" if agent.records_without_dose else ""
        writer.comment(f'{treatment} "{agent.name}"{spellings}: {agent.records} {domain} records; {dose_variable} {doses or "none"}{without}.')
        writer.key("id", agent.id)
        writer.key("name", agent.name)
        if agent.placebo:
            writer.comment("Every dose is 0 mg: a placebo, whose 0 mg records are administrations (its subjects are in the safety population).")
        else:
            writer.comment(
                f"The protocol dose: {agent.dose_note}. A dose given on more days is the plan; the other doses are "
                "titration steps or reductions."
            )
        writer.key("dose_mg", agent.dose_mg)
        units = [unit for unit, _ in agent.unit_counts]
        if units and any(unit.upper() != DOSE_UNIT for unit in units):
            writer.comment(f"Check: doses are read as mg, but the dose unit is {_counted(agent.unit_counts)}.")
        writer.comment("The doses given, highest first: a dose given that is none of these levels is queried.")
        writer.key("dose_levels_mg", agent.dose_levels)
        if agent.route:
            writer.comment(f"The most frequent EXROUTE ({_counted(agent.route_counts)}); a record with another route is queried.")
        else:
            writer.comment("No EXROUTE: give the route of administration (e.g. ORAL, INTRAVENOUS).")
        writer.key("route", agent.route)
        writer.comment(agent.frequency_note)
        writer.key("frequency", agent.frequency)


def _write_arms(writer: _Writer, found: ArmsFound, agents: list[AgentFound], *, standard: Standard, domain: str) -> None:
    by_id = {agent.id: agent for agent in agents}
    source = domain.upper()
    in_arms = sum(arm.subjects for arm in found.arms)
    writer.blank()
    lines = [
        f"Arms: the values of {source} {found.variable} ([cdisc] arm_variable), in the order {source} first lists them; "
        f"the reports show the arms in this order. {found.subjects} subjects, {in_arms} of them in {len(found.arms)} arms."
    ]
    for why, count in found.unassigned:
        lines.append(f"{_plural(count, 'subject')} in no arm ({why}): outside every arm and the safety population.")
    never = sum(arm.subjects - arm.dosed for arm in found.arms)
    if never:
        lines.append(
            f"{_plural(never, 'subject')} of the arms with no {'EX' if standard == 'sdtm' else 'ADEX dose'} record "
            "(never dosed): outside the safety population."
        )
    writer.comment(" ".join(lines))
    all_agents = [agent.id for agent in agents]
    reference = next((arm for arm in found.arms if _names_placebo(arm, found.variable)), None)
    for arm in found.arms:
        writer.table("arms", array=True)
        code = f', {ARM_CODE_VARIABLE[found.variable]} "{arm.code}"' if arm.code else ""
        members = _plural(arm.subjects, "subject")
        writer.comment(f'{found.variable} "{arm.value}"{code}: {members}, {arm.dosed} of them dosed.')
        writer.key("id", arm.id)
        writer.key("value", arm.value)
        named_by = _names_placebo(arm, found.variable)
        if arm is reference:
            writer.comment(
                f"Its {named_by} names a placebo arm (data/cdisc/reference_arms.csv): the reference (control) arm, which the "
                "closed report compares each other arm with (risk differences). Move the key to the control arm if this is not "
                "it; delete it for no comparison."
            )
            writer.key("reference", True)
        elif named_by is not None and reference is not None:
            writer.comment(f"Its {named_by} names a placebo arm too; only one arm is the reference: {reference.id}.")
        if arm.agents:
            named = "; ".join(
                f"{by_id[agent].name} ({', '.join(f'{_mg(dose)} on {days} days' for dose, days in sorted(arm.dose_days[agent].items(), reverse=True)) or 'no dose'})"
                for agent in arm.agents
            )
            writer.comment(f"The agents this arm's exposure records name: {named}. Its AEs are attributed only to these.")
            writer.key("agents", arm.agents)
        else:
            writer.comment(
                "No exposure record names an agent for this arm's subjects: every agent is listed, so that no AE is "
                "made unrelated by an arm without records. Correct it."
            )
            writer.key("agents", all_agents)
        differing = {
            agent: arm.planned[agent]
            for agent in arm.agents
            if arm.planned.get(agent) is not None and arm.planned[agent] != by_id[agent].dose_mg
        }
        if differing:
            writer.comment(
                "The dose this arm's subjects were given on the most days, where it is not the agent's dose_mg: "
                + ", ".join(f"{agent} {_mg(dose)}" for agent, dose in differing.items())
                + "."
            )
            writer.key("doses_mg", differing)


def _write_windows(writer: _Writer, *, standard: Standard, adverse_events: pl.DataFrame, supplemental: pl.DataFrame | None) -> None:
    defaults = Windows()
    writer.table("windows")
    flags = []
    if standard == "adam" and "TRTEMFL" in adverse_events.columns:
        flags.append(f"ADAE TRTEMFL ({_counted(_value_counts(pl.col('TRTEMFL'), adverse_events))})")
    if supplemental is not None and {"QNAM", "QVAL"} <= set(supplemental.columns):
        emergent = supplemental.filter(pl.col("QNAM").str.strip_chars() == "AETRTEM")
        if emergent.height:
            flags.append(f"SUPPAE AETRTEM ({_counted(_value_counts(pl.col('QVAL'), emergent))})")
    flag_note = f" The data's own flag, {' and '.join(flags)}, is not read: treatment emergence is derived from the dates." if flags else ""
    writer.comment(
        "Treatment-emergent: onset on or after the first dose and no later than this many days after the last dose, "
        f'as admiral\'s derive_var_trtemfl(end_window = 30). "none": no end window, every later onset counts.{flag_note}'
    )
    writer.key("teae_end_days", defaults.teae_end_days)
    writer.comment("Onset on study days 1 to acute_days (day 1 = first dose) is acute toxicity (the default).")
    writer.key("acute_days", defaults.acute_days)
    writer.comment("Onset after acute_days and up to this study day is late toxicity (the default, 24 months).")
    writer.key("follow_up_days", defaults.follow_up_days)


def _write_attribution(writer: _Writer) -> None:
    writer.table("attribution")
    writer.comment("The levels of the attribution scale that count as treatment-related (the default: possible or better).")
    writer.key("related_levels", list(DEFAULT_RELATED_LEVELS))


def _write_cdisc(
    writer: _Writer,
    *,
    standard: Standard,
    folder: Path,
    out: Path,
    files: dict[str, DomainFile],
    arms: ArmsFound,
    agents: list[AgentFound],
    adverse_events: pl.DataFrame,
    supplemental: pl.DataFrame | None,
    exposure_domain: str,
    treatment: str,
) -> None:
    name = STANDARD_NAMES[standard]
    writer.table("cdisc")
    writer.key("standard", standard)
    writer.comment("The folder of the domain files, relative to this file.")
    writer.key("folder", _relative(folder, out))
    subject_domain = REQUIRED_DOMAINS[standard][0].upper()
    if arms.other_variable is None:
        alternative = f"{subject_domain} has no {OTHER_ARM_VARIABLE.get(arms.variable, 'other arm variable')}"
    else:
        alternative = (
            f"{arms.other_variable} is the other choice; it differs from {arms.variable} for {_plural(arms.differing, 'subject')} "
            f"(with it, set each arm's value to its {arms.other_variable} value)"
        )
    kind = "planned" if arms.variable in PLANNED_ARM_VARIABLES else "actual"
    writer.comment(f"The subject's arm: {subject_domain} {arms.variable}, the {kind} arm. {alternative}.")
    writer.key("arm_variable", arms.variable)

    qualifiers = _qualifiers(supplemental)
    awareness = [qualifier for qualifier in qualifiers if AWARENESS_LABEL in qualifier[1].upper()]
    if awareness:
        qnam, label, count = awareness[0]
        others = f"; also {', '.join(q for q, _, _ in awareness[1:])}" if len(awareness) > 1 else ""
        writer.comment(f'The date the sponsor became aware of a serious AE: SUPPAE {qnam} ("{label}", {_plural(count, "record")}){others}.')
        writer.key("awareness_variable", qnam)
    else:
        if standard == "sdtm":
            where, holder, example = "no SUPPAE qualifier's label mentions AWARE", "the SUPPAE QNAM or AE variable", "AEAWARDT"
        else:
            where, holder, example = "ADaM has no standard awareness variable", "the ADAE variable", "AEAWARDT"
        writer.comment(
            f"No awareness date ({where}): every expedited-report clock is \"not computable\" (listed, never overdue). "
            f"Name {holder} that holds it, e.g.:"
        )
        writer.key("awareness_variable", example, commented=True)

    writer.table("cdisc.files")
    read = domains_read(standard)
    if any(found.passed_over for found in files.values()):
        writer.comment(f"Domain -> file. Where a domain comes in several files, the first of {', '.join(FORMAT_PREFERENCE)} is read.")
    else:
        writer.comment("Domain -> file.")
    for domain, found in files.items():
        if found.passed_over:
            writer.comment(f"{domain.upper()}: {found.path.name} is read; {', '.join(path.name for path in found.passed_over)} is not.")
        if domain in read:
            writer.key(domain, found.path.name)
        else:
            writer.comment(f"{domain.upper()} is found, but toxwatch does not read it from {name}.")
            writer.key(domain, found.path.name, commented=True)

    writer.table("cdisc.treatments")
    writer.comment(f"The treatment as the {exposure_domain.upper()} records name it ({treatment}) -> agent id.")
    for agent in agents:
        writer.key(agent.name, agent.id)

    _write_relationships(writer, standard=standard, adverse_events=adverse_events, supplemental=supplemental, qualifiers=qualifiers, agents=agents)

    defaults = PartialDates()
    writer.table("cdisc.partial_dates")
    partial = _partial_dates(adverse_events)
    writer.comment(
        "How a partial date (YYYY-MM, YYYY) is completed; the date as given and an imputation flag are kept beside it. "
        f"{partial}These are the defaults (admiral's imputation)."
    )
    writer.comment('A missing onset day: the 1st of the month, or the first dose date when it falls later in that month ("first": always the 1st).')
    writer.key("start_day", defaults.start_day)
    writer.comment("A missing onset month: January 1st (or the first dose date in that year).")
    writer.key("start_month", defaults.start_month)
    writer.comment("A missing resolution day: the last day of the month; a missing month: December 31st.")
    writer.key("end_day", defaults.end_day)
    writer.key("end_month", defaults.end_month)


def _qualifiers(supplemental: pl.DataFrame | None) -> list[tuple[str, str, int]]:
    """SUPPAE's qualifiers: (QNAM, QLABEL, records), most records first."""
    if supplemental is None or "QNAM" not in supplemental.columns:
        return []
    records = supplemental
    if "RDOMAIN" in records.columns:
        records = records.filter((folded(pl.col("RDOMAIN")) == "AE").fill_null(True))
    labels = first_present(records, "QLABEL")
    rows = records.select(pl.col("QNAM").str.strip_chars().alias("qnam"), labels.str.strip_chars().alias("label")).filter(pl.col("qnam").is_not_null())
    found = []
    for qnam, count in _value_counts(pl.col("qnam"), rows):
        label = rows.filter(pl.col("qnam") == qnam).get_column("label").drop_nulls()
        found.append((qnam, label[0] if label.len() else "", count))
    return found


def _write_relationships(
    writer: _Writer,
    *,
    standard: Standard,
    adverse_events: pl.DataFrame,
    supplemental: pl.DataFrame | None,
    qualifiers: list[tuple[str, str, int]],
    agents: list[AgentFound],
) -> None:
    variables = RELATIONSHIP_VARIABLES[standard]
    relationship = first_present(adverse_events, *variables)
    values: Counter[str] = Counter(dict(_value_counts(folded(relationship), adverse_events)))
    missing = adverse_events.select(relationship.is_null().sum()).item()
    per_agent = [qualifier for qualifier in qualifiers if RELATIONSHIP_LABEL in qualifier[1].upper()]
    if per_agent and supplemental is not None:
        chosen = supplemental.filter(pl.col("QNAM").str.strip_chars().is_in([qnam for qnam, _, _ in per_agent]))
        values.update(dict(_value_counts(folded(pl.col("QVAL")), chosen)))
    names = " or ".join(variables)
    if not values:
        writer.blank()
        writer.comment(
            f"No AE record has a relationship ({names}): the default value map applies, and every AE is queried and "
            "counted as related to each agent of its subject's arm."
        )
    else:
        known = {value: level for value, level in values.items() if value in DEFAULT_RELATIONSHIP_VALUES}
        unknown = [value for value in values if value not in DEFAULT_RELATIONSHIP_VALUES]
        writer.table("cdisc.relationship_values")
        without = f"; {_plural(missing, 'record')} without a value, queried and counted as related" if missing else ""
        found = _counted(sorted(values.items()), limit=len(values))
        writer.comment(
            f"The relationship values found ({names}{' and the SUPPAE qualifiers below' if per_agent else ''}: {found}{without}), "
            "each mapped to the attribution scale by toxwatch's default map. A value not listed is queried and counted as related."
        )
        order = {level: position for position, level in enumerate(ATTRIBUTION_LEVELS)}
        for value in sorted(known, key=lambda value: (order[DEFAULT_RELATIONSHIP_VALUES[value]], value)):
            writer.key(value, DEFAULT_RELATIONSHIP_VALUES[value])
        for value in unknown:
            writer.comment(f'"{value}" ({_plural(values[value], "record")}) is not in the default map; {MAP_IT}.')
            writer.key(value, "", commented=True)
    if per_agent:
        writer.blank()
        listed = "; ".join(f'{qnam} ("{label}", {_plural(count, "record")})' for qnam, label, count in per_agent)
        example = next((agent.id for agent in agents if not agent.placebo), agents[0].id if agents else "agent")
        writer.comment(
            f"SUPPAE qualifiers that look like a relationship to one agent: {listed}. {names} speaks for every agent of the "
            "subject's arm unless an agent names its own variable here:"
        )
        writer.table("cdisc.relationship_variables", commented=True)
        writer.key(example, per_agent[0][0], commented=True)


def _partial_dates(adverse_events: pl.DataFrame) -> str:
    counts = []
    for variable in ("AESTDTC", "AEENDTC"):
        if variable not in adverse_events.columns:
            continue
        value = pl.col(variable).str.strip_chars()
        day = adverse_events.select(value.str.contains(r"^\d{4}-\d{2}-*$").sum()).item() or 0
        month = adverse_events.select(value.str.contains(r"^\d{4}-*$").sum()).item() or 0
        counts.append(f"{variable}: {day} without a day, {month} without a month")
    return ("Found: " + "; ".join(counts) + ". ") if counts else ""


def _write_rules_and_report(writer: _Writer, arms: ArmsFound, agents: list[AgentFound], *, severity_graded: bool) -> None:
    writer.blank()
    writer.comment(
        "No AESI sets ([aesi.<name>]) and no reference safety information ([expedited]): add the protocol's. Without an "
        "agent's reference safety information every serious suspected reaction to it counts as unexpected."
    )
    active = [agent.id for agent in agents if not agent.placebo] or [agent.id for agent in agents]
    planned = max(2, sum(arm.dosed for arm in arms.arms))
    writer.blank()
    writer.comment("No stopping rules: add the protocol's ([[stopping_rules]] in docs/trial-config.md). For example:")
    writer.table("stopping_rules", array=True, commented=True)
    writer.key("id", "related_death", commented=True)
    writer.key("title", "Any treatment-related death", commented=True)
    writer.key("kind", "event_count", commented=True)
    writer.key("min_events", 1, commented=True)
    writer.lines.append(f"# event = {{ grade_min = 5, related_to = {_value(active)} }}")
    writer.table("stopping_rules", array=True, commented=True)
    writer.key("id", "severe_related_rate", commented=True)
    severe = "Severe" if severity_graded else "Grade >= 3"
    writer.key("title", f"{severe} related AE rate in cycle 1 (Bayesian beta-binomial)", commented=True)
    writer.key("kind", "bayes", commented=True)
    writer.key("p_max", 0.3, commented=True)
    writer.key("threshold", 0.9, commented=True)
    writer.key("prior", [0.6, 1.4], commented=True)
    writer.key("max_subjects", planned, commented=True)
    writer.key("p_acceptable", 0.15, commented=True)
    writer.lines.append(f'# event = {{ grade_min = 3, related_to = {_value(active)}, window = "cycle1" }}')

    writer.table("report")
    if len(arms.arms) >= 2:
        writer.comment(
            f"With {len(arms.arms)} arms the closed report (dsmb_report_closed.html) shows every table by arm; the open "
            "report pools the arms. false: the open report only."
        )
    else:
        writer.comment("With one arm there is no closed report: the open report only.")
    writer.key("closed_report", True)
