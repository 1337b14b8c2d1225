"""toxwatch's core toxicity tables written again in plain, vectorised pandas: a benchmark contender
and an independent check of toxwatch's numbers (tests/benchmarks/test_pandas_reference.py).

    uv run python benchmarks/pandas_reference.py TRIAL.toml [--cut YYYY-MM-DD] [--out DIR]

Reads the trial config and its CSV sources and computes t_overview, t_soc_term, t_by_cycle,
t_attribution and t_lab_shift, with the columns, rows and definitions of toxwatch's SQL models
(safetydb/sql/t_*.sql). Nothing here imports toxwatch: the definitions were read from its SQL
and written again. It shares only the data toxwatch reads: the curated CTCAE term table and the
lab grading criteria (data/ctcae/), evaluated here by code of its own.

What it does
    * Validation in the spirit of toxwatch's. Every value is parsed (dates YYYY-MM-DD, numbers,
      whole numbers); a value that does not parse, is not an allowed code, or is a date after
      the day of the run is read as missing. A record that cannot be placed is excluded: no
      known subject, no usable start/onset/collection date, no AE term, a lab result missing or
      negative, an AE onset before enrolment, a repeated subject row. The others are counted
      with toxwatch's conservative readings: grade missing -> 3; fatal outcome, grade 5 or a
      death criterion -> grade 5; seriousness missing -> serious; attribution missing or off the
      5-level scale -> related, shown as not assessed; dose missing -> the planned dose; exposure
      end missing -> the day before the agent's next record, else open: to the subject's end of
      treatment, death or last contact, whichever is recorded by the cut and earliest, else the cut; end before
      start -> the start; a term the CTCAE table does not know -> counted as coded, in the SOC
      "Not coded to CTCAE". Rows in, excluded and values unreadable are counted per source.
    * The cut: the latest date of the counted records up to the day of the run, or ``--cut``.
    * The definitions: safety population (treated = a dose > 0), TEAE window, calendar or actual
      cycles, an "Other, specify" event under its specified text, relatedness per agent, worst
      grade per subject, denominators per cycle.
    * CTCAE lab grading: baseline = the subject's last result of the test on or before the first
      dose; a result on or before the first dose is graded as if its baseline were normal, a
      later one against the baseline, converted to the criterion's unit from the baseline
      result's own unit; a grade that depends on a missing ULN, LLN or baseline is not gradable.

What it does not do
    Write queries, quarantine or store anything; reconcile sources; grade vital signs (they are
    read only for their dates, which can set the cut); build the other tables (acute/late, AESI,
    deaths, exposure, SAE listing, cumulative incidence); evaluate stopping rules; render
    reports. It reads CSV sources only, not Parquet, and codes AE terms against the curated term
    table (data/ctcae/terms_v<version>.csv) even when an NCI dictionary has been imported.
"""

from __future__ import annotations

import argparse
import json
import time
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

CTCAE_DATA = Path(__file__).resolve().parents[1] / "data" / "ctcae"
ATTRIBUTION_LEVELS = ("unrelated", "unlikely", "possible", "probable", "definite")
NOT_ASSESSED = "not_assessed"
GRADE_WHEN_MISSING = 3
NOT_CODED_SOC = "Not coded to CTCAE"
OUTCOMES = ("recovered", "recovering", "not_recovered", "recovered_with_sequelae", "fatal", "unknown")
ACTIONS = ("dose_not_changed", "dose_reduced", "drug_interrupted", "drug_withdrawn", "not_applicable")
ADJUSTMENTS = ("none", "reduced", "held", "discontinued")
DEATH_CAUSES = ("disease_progression", "adverse_event", "other")
RELATIVE_TOLERANCE = 1e-9  # a value this close to a cut-point counts as equal to it (unit-conversion rounding)
ANY = "(any)"
TEXT = pd.ArrowDtype(pa.string())
WORST_GRADES = [f"worst_grade_{grade}" for grade in range(1, 6)]
# The tables' columns, in the order of toxwatch's SQL models.
TABLE_COLUMNS = {
    "t_overview": ["ord", "category", "subjects", "events", "denominator", "percent"],
    "t_soc_term": ["meddra_soc", "term", "subjects", "events", "denominator", "percent", *WORST_GRADES, "grade_3_plus"],
    "t_by_cycle": [
        "cycle_label", "cycle", "denominator", "subjects", "events", "percent", *WORST_GRADES, "grade_3_plus",
        "related_subjects", "first_onset_subjects",
    ],
    "t_attribution": [
        "agent", "term", "subjects", "events", "grade_3_plus", "denominator", "percent",
        "events_possible", "events_probable", "events_definite", "events_not_assessed",
    ],
    "t_lab_shift": [
        "test_code", "ctcae_term", "baseline_grade", "subjects", *(f"worst_grade_{grade}" for grade in range(5)), "denominator",
    ],
}


# ---------------------------------------------------------------------------------------------
# Trial settings
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrialSettings:
    sources: dict[str, tuple[Path, dict[str, str]]]  # name -> (path, {canonical column: file column})
    agents: tuple[str, ...]
    ctcae_version: str
    cycle_days: int
    cycle_mode: str
    anchor_agents: tuple[str, ...]
    teae_end_days: int | None
    related_levels: tuple[str, ...]


def read_trial_settings(config_path: Path) -> TrialSettings:
    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    folder = config_path.resolve().parent
    sources = {}
    for name, source in config["sources"].items():
        if source.get("format", "csv") != "csv" or source["path"].lower().endswith(".parquet"):
            raise SystemExit(f"{config_path}: sources.{name}: the pandas reference reads CSV sources only")
        sources[name] = (folder / source["path"], source.get("columns", {}))
    teae_end = config.get("windows", {}).get("teae_end_days", 30)
    cycles = config.get("cycles", {})
    return TrialSettings(
        sources=sources,
        agents=tuple(agent["id"] for agent in config["agents"]),
        ctcae_version=config["trial"].get("ctcae_version", "5.0"),
        cycle_days=config["trial"].get("cycle_length_days", 28),
        cycle_mode=cycles.get("mode", "calendar"),
        anchor_agents=tuple(cycles.get("anchor_agents", [])),
        teae_end_days=None if teae_end == "none" else int(teae_end),
        related_levels=tuple(config.get("attribution", {}).get("related_levels", ("possible", "probable", "definite"))),
    )


# ---------------------------------------------------------------------------------------------
# Reading and validation
# ---------------------------------------------------------------------------------------------


@dataclass
class Accounting:
    """Per source: rows in the file, rows excluded, values read as missing because they did not parse."""

    rows: dict[str, dict[str, int]]

    def count(self, source: str, key: str, number: int) -> None:
        self.rows.setdefault(source, {"rows_in": 0, "excluded": 0, "unreadable_values": 0})[key] += int(number)


def read_source(
    settings: TrialSettings,
    name: str,
    *,
    dates: tuple[str, ...] = (),
    numbers: tuple[str, ...] = (),
    whole_numbers: tuple[str, ...] = (),
    run_date: date,
    accounting: Accounting,
    usecols: tuple[str, ...] | None = None,
    optional: tuple[str, ...] = (),
) -> pd.DataFrame:
    """One CSV source, typed. Text is stripped (empty = missing); a date, number or whole number
    that does not parse, and a date after the day of the run, become missing and are counted.
    An ``optional`` column the file leaves out is added empty."""
    path, mapping = settings.sources[name]
    renames = {file_column: canonical for canonical, file_column in mapping.items()}
    file_columns = None if usecols is None else [mapping.get(column, column) for column in usecols]
    # The pyarrow parser types a column when every value in it parses; only a column with a bad
    # value arrives as text and is parsed value by value below.
    frame = pd.read_csv(
        path, engine="pyarrow", dtype_backend="pyarrow", keep_default_na=False, na_values=[""], usecols=file_columns
    ).rename(columns=renames)
    accounting.count(name, "rows_in", len(frame))
    for column in optional:
        if column not in frame.columns:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype=pd.ArrowDtype(pa.null()))
    for column in frame.columns:
        kind = frame[column].dtype.pyarrow_dtype
        if column in dates:
            frame[column] = _parse_dates(frame[column], name, accounting)
            frame.loc[frame[column] > pd.Timestamp(run_date), column] = pd.NaT
        elif column in numbers or column in whole_numbers:
            frame[column] = _parse_numbers(frame[column], name, accounting, whole=column in whole_numbers)
        else:
            text = frame[column] if pa.types.is_string(kind) else frame[column].astype(TEXT)
            text = text.str.strip()
            frame[column] = text.mask(text == "")
    return frame


def _parse_dates(column: pd.Series, source: str, accounting: Accounting) -> pd.Series:
    kind = str(column.dtype.pyarrow_dtype)
    if kind.startswith("date32"):
        return column.astype("timestamp[s][pyarrow]").astype("datetime64[s]")
    if kind == "null":
        return pd.Series(pd.NaT, index=column.index, dtype="datetime64[s]")
    text = column.astype(TEXT).str.strip().mask(lambda values: values == "")
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce").astype("datetime64[s]")
    accounting.count(source, "unreadable_values", (text.notna() & parsed.isna()).sum())
    return parsed


def _parse_numbers(column: pd.Series, source: str, accounting: Accounting, *, whole: bool) -> pd.Series:
    kind = str(column.dtype.pyarrow_dtype)
    if kind == "null":
        return pd.Series(np.nan, index=column.index)
    if kind in ("int64", "double"):
        parsed = pd.Series(column.to_numpy(dtype="float64", na_value=np.nan), index=column.index)
        text_present = parsed.notna()
    else:
        text = column.astype(TEXT).str.strip().mask(lambda values: values == "")
        parsed = pd.to_numeric(text.astype(object), errors="coerce").astype("float64")
        text_present = text.notna()
    if whole:
        parsed = parsed.where(parsed.isna() | (parsed == parsed.round()))
    accounting.count(source, "unreadable_values", (text_present & parsed.isna()).sum())
    return parsed


def _not_allowed_as_missing(values: pd.Series, allowed) -> pd.Series:
    return values.where(values.isin(list(allowed)))


def subject_positions(ids: pd.Series, subject_ids: pd.Series) -> np.ndarray:
    """Each row's position among the counted subjects, -1 when the subject is not among them."""
    encoded = ids.astype("category")
    positions = pd.Index(subject_ids).get_indexer(encoded.cat.categories)
    codes = encoded.cat.codes.to_numpy()
    return np.where(codes >= 0, positions[codes], -1)


def _exclude(frame: pd.DataFrame, keep: pd.Series, source: str, accounting: Accounting) -> pd.DataFrame:
    excluded = int((~keep).sum())
    accounting.count(source, "excluded", excluded)
    return frame.loc[keep].reset_index(drop=True) if excluded else frame


def validate_subjects(settings: TrialSettings, *, run_date: date, accounting: Accounting) -> pd.DataFrame:
    """One row per subject (a repeated subject_id: the first row); position = ``subject`` key."""
    subjects = read_source(
        settings, "subjects", run_date=run_date, accounting=accounting,
        dates=("enrolment_date", "end_of_treatment_date", "last_contact_date", "death_date"), whole_numbers=("age",),
    )
    keep = subjects["subject_id"].notna() & ~subjects["subject_id"].duplicated()
    subjects = _exclude(subjects, keep, "subjects", accounting)
    subjects["death_cause"] = _not_allowed_as_missing(subjects["death_cause"], DEATH_CAUSES)
    subjects["subject"] = np.arange(len(subjects))
    return subjects


def validate_exposure(settings: TrialSettings, subjects: pd.DataFrame, *, run_date: date, accounting: Accounting) -> pd.DataFrame:
    exposure = read_source(
        settings, "exposure", run_date=run_date, accounting=accounting,
        dates=("start_date", "end_date"), numbers=("dose_mg", "planned_dose_mg"),
    )
    exposure["subject"] = subject_positions(exposure["subject_id"], subjects["subject_id"])
    keep = (exposure["subject"] >= 0) & exposure["agent"].notna() & exposure["start_date"].notna()
    exposure = _exclude(exposure, keep, "exposure", accounting)
    exposure["dose_mg"] = exposure["dose_mg"].where(exposure["dose_mg"] >= 0)
    exposure["planned_dose_mg"] = exposure["planned_dose_mg"].where(exposure["planned_dose_mg"] > 0)
    # A record with no dose counts as the planned dose given.
    exposure["dose_given_mg"] = exposure["dose_mg"].fillna(exposure["planned_dose_mg"])
    exposure["adjustment"] = _not_allowed_as_missing(exposure["adjustment"], ADJUSTMENTS)
    # An end before the start: the start. No end: the day before the agent's next record, else
    # open (NaT, ended at the cut later: at the subject's end of treatment, death or last contact).
    exposure = exposure.sort_values(["subject", "agent", "start_date"], kind="stable")
    next_start = exposure.groupby(["subject", "agent"], observed=True)["start_date"].shift(-1)
    exposure["end_date"] = exposure["end_date"].where(
        exposure["end_date"].isna() | (exposure["end_date"] >= exposure["start_date"]), exposure["start_date"]
    )
    exposure["end_date"] = exposure["end_date"].fillna(next_start - pd.Timedelta(days=1))
    return exposure.sort_index().reset_index(drop=True)


def fold_term(text: str) -> str:
    """Case, accents, spacing and punctuation folded: "Rash  maculo-papular" = "rash maculo papular"."""
    text = "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char)).casefold()
    return " ".join("".join(char if char.isascii() and char.isalnum() else " " for char in text).split())


def read_ctcae_terms(version: str) -> pd.DataFrame:
    """Folded term -> term as spelt, SOC, Other-specify flag (the curated term table)."""
    terms = pd.read_csv(CTCAE_DATA / f"terms_v{version}.csv", dtype=str)
    terms["key"] = terms["ctcae_term"].map(fold_term)
    terms["other_specify_term"] = terms["other_specify"] == "Y"
    return terms.set_index("key")[["ctcae_term", "meddra_soc", "other_specify_term"]]


def validate_adverse_events(
    settings: TrialSettings, subjects: pd.DataFrame, *, run_date: date, accounting: Accounting
) -> pd.DataFrame:
    """Counted AE records, one row each (a repeated ae_id is its own record), with the readings applied."""
    events = read_source(
        settings, "adverse_events", run_date=run_date, accounting=accounting,
        dates=("onset_date", "resolution_date", "awareness_date", "expedited_report_date"), whole_numbers=("grade",),
        optional=("expedited_report_date",),
    )
    events["subject"] = subject_positions(events["subject_id"], subjects["subject_id"])
    enrolment = subjects["enrolment_date"].to_numpy()[events["subject"].clip(lower=0)]
    onset_before_enrolment = (events["onset_date"] < enrolment) & (events["subject"] >= 0)
    keep = (events["subject"] >= 0) & events["ctcae_term"].notna() & events["onset_date"].notna() & ~onset_before_enrolment
    events = _exclude(events, keep, "adverse_events", accounting)

    # The term as the CTCAE table spells it (case, spacing and punctuation aside); an unknown
    # term is counted as coded, in its own SOC.
    terms = read_ctcae_terms(settings.ctcae_version)
    coded = events[["ctcae_term"]].drop_duplicates()
    coded = coded.join(terms, on=coded["ctcae_term"].map(fold_term), rsuffix="_ctcae")
    events = events.merge(coded, on="ctcae_term", how="left")
    events["ctcae_term"] = events.pop("ctcae_term_ctcae").fillna(events["ctcae_term"])
    events["meddra_soc"] = events["meddra_soc"].fillna(NOT_CODED_SOC)
    events["other_specify_term"] = events["other_specify_term"].eq(True)

    events["outcome"] = _not_allowed_as_missing(events["outcome"], OUTCOMES)
    events["serious"] = _not_allowed_as_missing(events["serious"], ("Y", "N"))
    grade_reported = events["grade"].where(events["grade"].between(1, 5))
    death_criterion = events["serious_criteria"].str.contains(r"(?:^|;)\s*death\s*(?:;|$)").fillna(False).astype(bool)
    fatal = events["outcome"].eq("fatal").fillna(False).astype(bool) | (grade_reported == 5) | death_criterion
    events["grade"] = grade_reported.fillna(GRADE_WHEN_MISSING).mask(fatal, 5).astype(int)
    serious = (
        events["serious"].eq("Y").fillna(True).astype(bool) | events["serious_criteria"].notna() | (events["grade"] == 5)
    )
    events["serious"] = np.where(serious, "Y", "N")
    for agent in settings.agents:
        attribution = events[f"attribution_{agent}"]
        events[f"attribution_{agent}"] = attribution.where(attribution.isin(ATTRIBUTION_LEVELS), NOT_ASSESSED).astype(str)
        events[f"action_{agent}"] = _not_allowed_as_missing(events[f"action_{agent}"], ACTIONS)
    events["ae_key"] = np.arange(len(events))
    return events


def validate_labs(settings: TrialSettings, subjects: pd.DataFrame, *, run_date: date, accounting: Accounting) -> pd.DataFrame:
    labs = read_source(
        settings, "labs", run_date=run_date, accounting=accounting,
        dates=("collection_date",), numbers=("value", "lln", "uln"),
    )
    labs["subject"] = subject_positions(labs["subject_id"], subjects["subject_id"])
    keep = (
        (labs["subject"] >= 0) & labs["collection_date"].notna() & labs["test_code"].notna()
        & labs["value"].notna() & (labs["value"] >= 0)
    )
    labs = _exclude(labs, keep, "labs", accounting).drop(columns="subject_id")
    return labs.astype({"test_code": "category", "unit": "category"})


def validate_vital_dates(settings: TrialSettings, subjects: pd.DataFrame, *, run_date: date, accounting: Accounting) -> pd.Series:
    """Only the measurement dates of counted vital signs (they can set the cut); vitals are not graded here."""
    vitals = read_source(
        settings, "vitals", run_date=run_date, accounting=accounting, dates=("measure_date",),
        usecols=("subject_id", "measure_date"),
    )
    keep = (subject_positions(vitals["subject_id"], subjects["subject_id"]) >= 0) & vitals["measure_date"].notna()
    return _exclude(vitals, keep, "vitals", accounting)["measure_date"]


def latest_date(*columns: pd.Series, run_date: date) -> date:
    """The default cut: the latest date of the counted records, up to the day of the run."""
    latest = max((column[column <= pd.Timestamp(run_date)].max() for column in columns), default=pd.NaT)
    return run_date if pd.isna(latest) else latest.date()


# ---------------------------------------------------------------------------------------------
# Derivations (the int_ models)
# ---------------------------------------------------------------------------------------------


def derive_subject_dosing(subjects: pd.DataFrame, exposure: pd.DataFrame) -> pd.DataFrame:
    """Per subject: first and last dose (a dose > 0) and whether treated. Index = subject."""
    dosed = exposure.loc[exposure["dose_given_mg"] > 0]
    dates = dosed.groupby("subject").agg(first_dose_date=("start_date", "min"), last_dose_date=("end_date", "max"))
    dosing = subjects.set_index("subject")[["death_date", "death_cause"]].join(dates)
    dosing["treated"] = dosing["first_dose_date"].notna()
    return dosing


def derive_cycles(dosing: pd.DataFrame, exposure: pd.DataFrame, settings: TrialSettings) -> pd.DataFrame:
    """Treatment cycles (subject, cycle, cycle_start, cycle_end) from the first to the last dose.

    calendar: cycle k starts (k-1) x cycle_days after the first dose. actual: cycle 1 starts at
    the first anchor-agent dose, cycle k+1 at the first anchor-dosed day on or after the start
    of cycle k + cycle_days. The last cycle ends on the last dose, the others the day before the
    next one.
    """
    step = pd.Timedelta(days=settings.cycle_days)
    treated = dosing.loc[dosing["treated"]]
    if settings.cycle_mode == "calendar":
        counts = ((treated["last_dose_date"] - treated["first_dose_date"]).dt.days // settings.cycle_days + 1).clip(lower=0)
        starts = treated.loc[treated.index.repeat(counts.to_numpy()), ["first_dose_date"]]
        starts["cycle"] = starts.groupby(level=0).cumcount() + 1
        starts["cycle_start"] = starts["first_dose_date"] + (starts["cycle"] - 1) * step
        starts = starts.rename_axis("subject").reset_index()[["subject", "cycle", "cycle_start"]]
    else:
        anchor = exposure.loc[exposure["dose_given_mg"] > 0, ["subject", "agent", "start_date", "end_date"]]
        if settings.anchor_agents:
            anchor = anchor.loc[anchor["agent"].isin(settings.anchor_agents)]
        current = anchor.groupby("subject", as_index=False)["start_date"].min().rename(columns={"start_date": "cycle_start"})
        current["cycle"] = 1
        found = []
        while len(current):  # one step per cycle number, for every subject still on treatment at once
            found.append(current)
            candidates = current.merge(anchor, on="subject").assign(due=lambda frame: frame["cycle_start"] + step)
            # The earliest anchor-dosed day on or after the due date (the due date itself when an interval covers it).
            candidates = candidates.loc[candidates["end_date"] >= candidates["due"]]
            candidates["cycle_start"] = np.maximum(candidates["start_date"], candidates["due"])
            current = candidates.groupby("subject", as_index=False).agg(cycle=("cycle", "first"), cycle_start=("cycle_start", "min"))
            current["cycle"] += 1
        starts = pd.concat(found, ignore_index=True)[["subject", "cycle", "cycle_start"]]
    starts = starts.sort_values(["subject", "cycle"], ignore_index=True)
    next_start = starts.groupby("subject")["cycle_start"].shift(-1)
    starts["cycle_end"] = (next_start - pd.Timedelta(days=1)).fillna(starts["subject"].map(dosing["last_dose_date"]))
    return starts.astype({"cycle_start": "datetime64[s]", "cycle_end": "datetime64[s]"})


def fold_specified(text: pd.Series) -> pd.Series:
    return text.str.strip().str.replace(r"\s+", " ", regex=True)


def derive_adverse_events(
    events: pd.DataFrame, dosing: pd.DataFrame, cycles: pd.DataFrame, settings: TrialSettings
) -> pd.DataFrame:
    """Each AE with its tabulated term, treatment-emergence, cycle and relatedness."""
    events = events.join(dosing[["first_dose_date", "last_dose_date"]], on="subject")
    # An "Other, specify" event is tabulated under its specified text, folded for case and
    # spacing and shown in its most frequent spelling.
    specified = events["other_specify_term"] & events["other_specify"].notna()
    spelling = fold_specified(events.loc[specified, "other_specify"])
    spellings = pd.DataFrame({"spelling": spelling, "key": spelling.str.lower()})
    counted = spellings.value_counts(["key", "spelling"]).rename("records").reset_index()
    shown = counted.sort_values(["key", "records", "spelling"], ascending=[True, False, True]).drop_duplicates("key")
    events["ae_term"] = events["ctcae_term"]
    events.loc[specified, "ae_term"] = spellings["key"].map(shown.set_index("key")["spelling"])

    onset = events["onset_date"]
    within_end = True
    if settings.teae_end_days is not None:
        within_end = onset <= events["last_dose_date"] + pd.Timedelta(days=settings.teae_end_days)
    events["teae"] = ((onset >= events["first_dose_date"]) & within_end).fillna(False).astype(bool)
    events["after_treatment"] = (onset > events["last_dose_date"]).fillna(False).astype(bool)
    events["cycle"] = onset_cycle(events, cycles)

    attribution = pd.DataFrame({agent: events[f"attribution_{agent}"] for agent in settings.agents})
    related = attribution.isin(settings.related_levels) | (attribution == NOT_ASSESSED)
    events["related_any"] = related.any(axis=1)
    actions = pd.DataFrame({agent: events[f"action_{agent}"] for agent in settings.agents})
    led_to = {"led_to_reduction": "dose_reduced", "led_to_interruption": "drug_interrupted", "led_to_withdrawal": "drug_withdrawn"}
    for column, action in led_to.items():
        events[column] = actions.eq(action).fillna(False).astype(bool).any(axis=1)
    return events


def onset_cycle(events: pd.DataFrame, cycles: pd.DataFrame) -> pd.Series:
    """The cycle whose dates contain each AE's onset (NaN when none does)."""
    ordered = events[["ae_key", "subject", "onset_date"]].sort_values("onset_date")
    placed = pd.merge_asof(
        ordered, cycles.sort_values("cycle_start"), left_on="onset_date", right_on="cycle_start", by="subject"
    )
    placed["cycle"] = placed["cycle"].where(placed["onset_date"] <= placed["cycle_end"])
    return events["ae_key"].map(placed.set_index("ae_key")["cycle"])


# ---------------------------------------------------------------------------------------------
# CTCAE lab grading
# ---------------------------------------------------------------------------------------------


def read_grading_criteria(version: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(grade bands, unit factors): one row per band; one row per (test, accepted unit spelling)."""
    bands = pd.read_csv(
        CTCAE_DATA / f"grading_criteria_v{version}.csv", dtype={"lower_inclusive": "boolean", "upper_inclusive": "boolean"}
    )
    units = pd.read_csv(CTCAE_DATA / "lab_tests.csv", dtype=str, keep_default_na=False)
    units["unit_key"] = normalise_unit(units["unit"])
    units["factor"] = units["factor_to_criterion_unit"].astype(float)
    return bands, units


def normalise_unit(unit: pd.Series) -> pd.Series:
    return unit.str.replace(r"\s+", "", regex=True).str.lower().str.replace("\u00b5", "u").str.replace("\u03bc", "u")


def references_of(bands: pd.DataFrame) -> set[str]:
    """ULN / LLN / baseline that a test's bands read (a baseline condition reads the baseline and its limit)."""
    used = set(bands["lower_reference"].dropna()) | set(bands["upper_reference"].dropna())
    conditioned = bands.loc[bands["baseline_condition"] != "any"]
    if len(conditioned):
        used |= {"baseline"} | {"uln" if direction == "high" else "lln" for direction in conditioned["direction"]}
    return used - {"absolute"}


def compare(left: np.ndarray, right: np.ndarray | float) -> tuple[pd.arrays.BooleanArray, pd.arrays.BooleanArray]:
    """(equal, above) as nullable booleans, NA where a number is missing (NaN), so that they
    combine by three-valued logic; equal means within a relative 1e-9 (absolute 1e-12), so that
    unit-conversion rounding never moves a value across a cut-point."""
    missing = np.isnan(left) | np.isnan(right)
    tolerance = np.maximum(np.maximum(np.abs(left), np.abs(right)) * RELATIVE_TOLERANCE, 1e-12)
    equal = np.abs(left - right) <= tolerance
    above = ~equal & (left > right)
    return pd.arrays.BooleanArray(equal, missing), pd.arrays.BooleanArray(above, missing)


def band_met(band, rows: dict[str, np.ndarray]) -> pd.arrays.BooleanArray:
    """Whether each row lies in the band: True, False, or NA when a missing number decides it
    (``rows``: value, lln, uln, baseline in the criterion unit, NaN when missing, and pre_treatment)."""
    value, pre_treatment = rows["value"], rows["pre_treatment"]
    met = pd.array(np.ones(len(value), dtype=bool), dtype="boolean")
    if band.baseline_condition != "any":
        equal, above = compare(rows["baseline"], rows["uln" if band.direction == "high" else "lln"])
        abnormal = above if band.direction == "high" else ~equal & ~above
        condition = abnormal if band.baseline_condition == "abnormal" else ~abnormal
        # Before treatment there is no earlier baseline: the result is graded as if it were normal.
        condition[pre_treatment] = band.baseline_condition == "normal"
        met &= condition
    for side in ("lower", "upper"):
        reference = getattr(band, f"{side}_reference")
        if pd.isna(reference):
            continue
        factor, inclusive = getattr(band, f"{side}_factor"), bool(getattr(band, f"{side}_inclusive"))
        threshold = factor if reference == "absolute" else rows[reference] * factor
        equal, above = compare(value, threshold)
        if side == "lower":
            side_met = (equal | above) if inclusive else above
            if reference == "baseline" and band.baseline_condition == "abnormal" and band.direction == "high" and factor >= 1:
                # Baseline unknown but the branch needs baseline > ULN: value <= factor x ULN < factor x baseline.
                equal_uln, above_uln = compare(value, rows["uln"] * factor)
                not_above = (equal_uln | ~above_uln).to_numpy(dtype=bool, na_value=False)
                side_met[np.isnan(rows["baseline"]) & not_above] = False
        else:
            side_met = (equal | ~above) if inclusive else (~equal & ~above)
        if reference == "baseline":
            side_met[pre_treatment] = False
        met &= side_met
    return met


def grade_term(bands: pd.DataFrame, rows: dict[str, np.ndarray]) -> np.ndarray:
    """Grade of one term per row: the highest band met, 0 if none; NaN when a higher band is undecided."""
    statuses = [(band.grade, band_met(band, rows)) for band in bands.itertuples()]
    best = np.zeros(len(rows["value"]))
    for grade, met in statuses:
        best = np.where(met.to_numpy(dtype=bool, na_value=False), np.maximum(best, grade), best)
    undecided = np.zeros(len(best), dtype=bool)
    for grade, met in statuses:
        undecided |= met.isna() & (grade > best)
    return np.where(undecided, np.nan, best)


def grade_labs(labs: pd.DataFrame, *, bands: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """toxicity_term, toxicity_grade and gradable for every lab row (needs test_code, value, lln,
    uln and baseline in the criterion unit, unit_usable and pre_treatment; a RangeIndex).

    A test with two terms (potassium: hypo- and hyperkalemia) reports the term in whose
    direction the value lies, grade 0 with no term when it meets neither; it is not gradable
    when the value meets bands of both, or when no band is met and one term is undecided.
    """
    all_terms = list(dict.fromkeys(bands["ctcae_term"]))
    toxicity_term = np.full(len(labs), -1)  # position in all_terms; -1 = no term
    toxicity_grade = np.full(len(labs), np.nan)
    numbers = {name: labs[name].to_numpy(dtype=float) for name in ("value", "lln", "uln", "baseline")}
    numbers["pre_treatment"] = labs["pre_treatment"].to_numpy(dtype=bool)
    for test_code, test_bands in bands.groupby("test_code"):
        positions = np.flatnonzero((labs["test_code"] == test_code) & labs["unit_usable"])
        if positions.size == 0:
            continue
        rows = {name: column[positions] for name, column in numbers.items()}
        # Numbers the criteria cannot be applied to: a value not allowed (dipstick), an unusable ULN/LLN/baseline.
        problem = ~np.isfinite(rows["value"])
        allowed = units.loc[units["test_code"] == test_code, "allowed_values"].iloc[0]
        if allowed:
            problem |= ~np.isin(rows["value"], [float(item) for item in allowed.split(";")])
        used = references_of(test_bands)
        for kind in used:
            number = np.where(rows["pre_treatment"], np.nan, rows[kind]) if kind == "baseline" else rows[kind]
            problem |= (number < 0) | ((number == 0) & (kind in ("uln", "baseline")))
        if {"lln", "uln"} <= used:
            problem |= rows["lln"] > rows["uln"]

        terms = list(dict.fromkeys(test_bands["ctcae_term"]))
        # One column per term of the test; NaN = undecided.
        grades = np.column_stack([grade_term(test_bands.loc[test_bands["ctcae_term"] == term], rows) for term in terms])
        abnormal = grades > 0
        abnormal_terms = abnormal.sum(axis=1)
        gradable = ~problem & (abnormal_terms <= 1) & ((abnormal_terms == 1) | ~np.isnan(grades).any(axis=1))
        grade = np.where(abnormal, grades, 0).max(axis=1)
        term_positions = np.array([all_terms.index(term) for term in terms])
        term = np.where(abnormal_terms == 1, term_positions[abnormal.argmax(axis=1)], term_positions[0] if len(terms) == 1 else -1)
        toxicity_grade[positions[gradable]] = grade[gradable]
        toxicity_term[positions[gradable]] = term[gradable]
    return pd.DataFrame(
        {
            "toxicity_term": pd.Categorical.from_codes(toxicity_term, categories=all_terms),
            "toxicity_grade": pd.array(toxicity_grade, dtype="Int64"),
            "gradable": ~np.isnan(toxicity_grade),
        },
        index=labs.index,
    )


def derive_lab_grades(labs: pd.DataFrame, exposure: pd.DataFrame, *, version: str) -> pd.DataFrame:
    """Each lab result's subject, test_code, collection_date, is_baseline (the subject's last
    result of the test on or before the first dose) and CTCAE toxicity_term, toxicity_grade, gradable."""
    bands, units = read_grading_criteria(version)
    first_dose = exposure.loc[exposure["dose_given_mg"] > 0].groupby("subject")["start_date"].min()
    labs["first_dose_date"] = labs["subject"].map(first_dose)
    labs["pre_treatment"] = labs["first_dose_date"].isna() | (labs["collection_date"] <= labs["first_dose_date"])

    # Value, LLN, ULN in the unit the criteria are written in. A missing unit is accepted when
    # it cannot change the grade (every accepted unit has factor 1, or no absolute cut-point).
    by_test_and_unit = labs.groupby(["test_code", "unit"], observed=True, dropna=False)
    pairs = by_test_and_unit.size().reset_index()[["test_code", "unit"]].astype(str).replace("nan", np.nan)
    pairs["unit_key"] = normalise_unit(pairs["unit"])
    pairs = pairs.merge(units[["test_code", "unit_key", "factor"]], on=["test_code", "unit_key"], how="left")
    absolute = set(bands.loc[(bands["lower_reference"] == "absolute") | (bands["upper_reference"] == "absolute"), "test_code"])
    all_factors_one = units.groupby("test_code")["factor"].agg(lambda factors: (factors == 1).all())
    unit_free = pairs["test_code"].map(all_factors_one).eq(True) | ~pairs["test_code"].isin(absolute)
    pairs.loc[pairs["unit"].isna() & unit_free, "factor"] = 1.0
    factor = pairs["factor"].to_numpy()[by_test_and_unit.ngroup().to_numpy()]
    labs["unit_usable"] = ~np.isnan(factor)
    value, lln, uln = labs["value"] * factor, labs["lln"] * factor, labs["uln"] * factor

    # One number per (subject, test), for the baseline look-up.
    subject_test = labs["subject"].to_numpy(dtype="int64") * len(labs["test_code"].cat.categories) + labs["test_code"].cat.codes.to_numpy()
    before_dosing = labs["collection_date"] <= labs["first_dose_date"]
    candidates = pd.DataFrame({"subject_test": subject_test[before_dosing], "collection_date": labs.loc[before_dosing, "collection_date"]})
    baseline_rows = candidates.sort_values(["subject_test", "collection_date"], kind="stable").drop_duplicates("subject_test", keep="last")
    labs["is_baseline"] = False
    labs.loc[baseline_rows.index, "is_baseline"] = True
    baseline_value = pd.Series(value[baseline_rows.index].to_numpy(), index=baseline_rows["subject_test"].to_numpy())
    labs_for_grading = pd.DataFrame({
        "test_code": labs["test_code"], "unit_usable": labs["unit_usable"], "pre_treatment": labs["pre_treatment"],
        "value": value, "lln": lln, "uln": uln, "baseline": pd.Series(subject_test, index=labs.index).map(baseline_value),
    })
    graded = grade_labs(labs_for_grading, bands=bands, units=units)
    return labs[["subject", "test_code", "collection_date", "is_baseline"]].join(graded)


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def percent(numerator: pd.Series, denominator: pd.Series | int) -> np.ndarray:
    """100 x n / N to one decimal, halves away from zero (as SQL's round); NaN when N = 0."""
    denominator = np.asarray(denominator, dtype=float)
    scaled = 1000.0 * np.asarray(numerator, dtype=float) / np.where(denominator == 0, np.nan, denominator)
    whole = np.trunc(scaled)
    return (whole + np.where(np.abs(scaled - whole) >= 0.5, np.sign(scaled), 0)) / 10


def table_overview(events: pd.DataFrame, dosing: pd.DataFrame, exposure: pd.DataFrame) -> pd.DataFrame:
    """AET01: subjects and events per category of TEAE; denominator = treated subjects."""
    population = int(dosing["treated"].sum())
    teae = events.loc[events["teae"]]
    related, severe, serious = teae["related_any"], teae["grade"] >= 3, teae["serious"] == "Y"
    categories = {
        "Any TEAE": teae.index == teae.index,
        "Treatment-related TEAE": related,
        "Grade >= 3 TEAE": severe,
        "Grade >= 3 treatment-related TEAE": severe & related,
        "Serious TEAE": serious,
        "Treatment-related serious TEAE": serious & related,
        "TEAE leading to dose reduction": teae["led_to_reduction"],
        "TEAE leading to drug interruption": teae["led_to_interruption"],
        "TEAE leading to withdrawal of an agent": teae["led_to_withdrawal"],
        "Fatal TEAE (grade 5)": teae["grade"] == 5,
        "Treatment-related fatal TEAE": (teae["grade"] == 5) & related,
    }
    rows = [
        {"category": name, "subjects": teae.loc[selected, "subject"].nunique(), "events": int(np.sum(selected))}
        for name, selected in categories.items()
    ]
    treated = dosing.loc[dosing["treated"]]
    died = treated["death_date"].notna() | treated["death_cause"].notna()
    rows.append({"category": "Deaths (any cause)", "subjects": int(died.sum()), "events": None})
    treated_exposure = exposure.loc[exposure["subject"].map(dosing["treated"]).astype(bool)]
    for label, adjustment in (("Any dose hold (exposure records)", "held"), ("Any dose reduction (exposure records)", "reduced")):
        changed = treated_exposure["adjustment"].eq(adjustment).fillna(False).astype(bool)
        subjects = treated_exposure.loc[changed, "subject"].nunique()
        rows.append({"category": label, "subjects": subjects, "events": None})
    table = pd.DataFrame(rows)
    table.insert(0, "ord", range(1, len(table) + 1))
    table["events"] = table["events"].astype("Int64")
    table["denominator"] = population
    table["percent"] = percent(table["subjects"], population)
    return table


def per_subject_worst(teae: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per (keys, subject): worst grade and number of events."""
    return teae.groupby(keys + ["subject"], observed=True).agg(worst_grade=("grade", "max"), events=("grade", "size")).reset_index()


def summarise_subjects(per_subject: pd.DataFrame, keys: list[str], population: int) -> pd.DataFrame:
    """Subjects, events, percent and the worst-grade distribution per group of ``keys``."""
    worst = per_subject["worst_grade"]
    per_subject = per_subject.assign(**{f"worst_grade_{grade}": worst == grade for grade in range(1, 6)}, grade_3_plus=worst >= 3)
    table = per_subject.groupby(keys, observed=True).agg(
        subjects=("subject", "size"), events=("events", "sum"),
        **{f"worst_grade_{grade}": (f"worst_grade_{grade}", "sum") for grade in range(1, 6)},
        grade_3_plus=("grade_3_plus", "sum"),
    ).reset_index()
    table["denominator"] = population
    table["percent"] = percent(table["subjects"], population)
    return table


def table_soc_term(events: pd.DataFrame, dosing: pd.DataFrame) -> pd.DataFrame:
    """AET02/AET04: subjects with a TEAE by SOC and term, by worst grade, with '(any)' totals."""
    population = int(dosing["treated"].sum())
    teae = events.loc[events["teae"]]
    by_term = per_subject_worst(teae, ["meddra_soc", "ae_term"])
    by_soc = per_subject_worst(teae, ["meddra_soc"]).assign(ae_term=ANY)
    overall = per_subject_worst(teae, []).assign(meddra_soc=ANY, ae_term=ANY)
    per_subject = pd.concat([by_term, by_soc, overall], ignore_index=True).rename(columns={"ae_term": "term"})
    table = summarise_subjects(per_subject, ["meddra_soc", "term"], population)
    return totals_first(table, ["meddra_soc", "term"])


def totals_first(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows in reading order: within each key, its '(any)' total first; terms by subjects, most first."""
    order = table.assign(**{f"_{key}_total": table[key] != ANY for key in keys}, _fewer=-table["subjects"])
    sort_keys = [column for key in keys for column in (f"_{key}_total", key)]
    sort_keys = sort_keys[:-1] + ["_fewer", keys[-1]]
    return table.loc[order.sort_values(sort_keys).index].reset_index(drop=True)


def table_by_cycle(events: pd.DataFrame, dosing: pd.DataFrame, cycles: pd.DataFrame, cut_date: date) -> pd.DataFrame:
    """TEAE onset by cycle, then "After treatment"; denominator = subjects having the cycle
    (after treatment: treated subjects whose last dose is before the cut)."""
    treated = dosing.loc[dosing["treated"]]
    shown = cycles.groupby("cycle").size().rename("denominator").reset_index()
    shown["cycle_label"] = shown["cycle"].astype(str)
    after = pd.DataFrame({"cycle_label": ["After treatment"], "cycle": [pd.NA],
                          "denominator": [int((treated["last_dose_date"] < pd.Timestamp(cut_date)).sum())]})
    shown = pd.concat([shown, after], ignore_index=True)

    teae = events.loc[events["teae"]].copy()
    teae["cycle_label"] = teae["cycle"].astype("Int64").astype("string")
    teae.loc[teae["cycle"].isna() & teae["after_treatment"], "cycle_label"] = "After treatment"
    placed = teae.loc[teae["cycle_label"].notna()]
    per_subject = placed.groupby(["cycle_label", "subject"]).agg(
        worst_grade=("grade", "max"), any_related=("related_any", "any"), events=("grade", "size")
    ).reset_index()
    worst = per_subject["worst_grade"]
    per_subject = per_subject.assign(**{f"worst_grade_{grade}": worst == grade for grade in range(1, 6)}, grade_3_plus=worst >= 3)
    counts = per_subject.groupby("cycle_label").agg(
        subjects=("subject", "size"), events=("events", "sum"),
        **{f"worst_grade_{grade}": (f"worst_grade_{grade}", "sum") for grade in range(1, 6)},
        grade_3_plus=("grade_3_plus", "sum"), related_subjects=("any_related", "sum"),
    )
    # The row of each subject's first TEAE (events of one subject on one day share a row).
    first_onset = teae.groupby("subject")["onset_date"].transform("min")
    first_rows = placed.loc[placed["onset_date"] == first_onset[placed.index], ["cycle_label", "subject"]].drop_duplicates()
    counts["first_onset_subjects"] = first_rows.groupby("cycle_label").size()

    table = shown.join(counts, on="cycle_label").fillna({column: 0 for column in counts.columns})
    table = table.astype({column: int for column in counts.columns})
    table["percent"] = percent(table["subjects"], table["denominator"])
    return table


def table_attribution(events: pd.DataFrame, dosing: pd.DataFrame, settings: TrialSettings) -> pd.DataFrame:
    """TEAEs related to each agent by term ('(any)' = any term), with the attribution levels behind them."""
    population = int(dosing["treated"].sum())
    teae = events.loc[events["teae"]]
    related = pd.concat(
        [teae[["subject", "ae_term", "grade"]].assign(agent=agent, attribution=teae[f"attribution_{agent}"]) for agent in settings.agents],
        ignore_index=True,
    )
    related = related.loc[related["attribution"].isin(settings.related_levels) | (related["attribution"] == NOT_ASSESSED)]
    levels = ("possible", "probable", "definite", NOT_ASSESSED)
    related = related.assign(**{f"events_{level}": related["attribution"] == level for level in levels})

    def per_subject(keys: list[str]) -> pd.DataFrame:
        return related.groupby(keys + ["subject"]).agg(
            worst_grade=("grade", "max"), events=("grade", "size"), **{f"events_{level}": (f"events_{level}", "sum") for level in levels}
        ).reset_index()

    subjects = pd.concat([per_subject(["agent", "ae_term"]), per_subject(["agent"]).assign(ae_term=ANY)], ignore_index=True)
    subjects = subjects.rename(columns={"ae_term": "term"}).assign(grade_3_plus=lambda frame: frame["worst_grade"] >= 3)
    table = subjects.groupby(["agent", "term"]).agg(
        subjects=("subject", "size"), events=("events", "sum"), grade_3_plus=("grade_3_plus", "sum"),
        **{f"events_{level}": (f"events_{level}", "sum") for level in levels},
    ).reset_index()
    table["denominator"] = population
    table["percent"] = percent(table["subjects"], population)
    return totals_first(table, ["agent", "term"])


def table_lab_shift(labs: pd.DataFrame, dosing: pd.DataFrame, settings: TrialSettings) -> pd.DataFrame:
    """LBT14: baseline grade against worst on-treatment grade per test and CTCAE term (direction);
    subjects with a gradable on-treatment result; baseline_grade NaN = no gradable baseline."""
    bands, _ = read_grading_criteria(settings.ctcae_version)
    lab_terms = bands[["test_code", "ctcae_term"]].drop_duplicates()
    treated = labs["subject"].map(dosing["treated"]).astype(bool)
    columns = ["subject", "test_code", "collection_date", "toxicity_term", "toxicity_grade", "is_baseline"]
    graded = labs.loc[treated & labs["gradable"], columns]
    first_dose = graded["subject"].map(dosing["first_dose_date"])
    on_treatment = graded["collection_date"] > first_dose
    if settings.teae_end_days is not None:
        last_dose = graded["subject"].map(dosing["last_dose_date"])
        on_treatment &= graded["collection_date"] <= last_dose + pd.Timedelta(days=settings.teae_end_days)

    def worst_per_term(rows: pd.DataFrame) -> pd.DataFrame:
        """Per subject, test and term of the test: the worst grade in that term's direction (0
        when every result lies in the other direction or in none)."""
        keys = ["subject", "test_code"]
        by_term = rows.groupby(keys + ["toxicity_term"], observed=True)["toxicity_grade"].max().rename("grade").reset_index()
        tested = rows.groupby(keys, observed=True).size().reset_index()[keys]
        frame = tested.astype({"test_code": str}).merge(lab_terms, on="test_code")
        by_term = by_term.astype({"test_code": str, "toxicity_term": str}).rename(columns={"toxicity_term": "ctcae_term"})
        frame = frame.merge(by_term, on=keys + ["ctcae_term"], how="left")
        return frame.assign(grade=frame["grade"].fillna(0).astype(int))

    worst = worst_per_term(graded.loc[on_treatment]).rename(columns={"grade": "worst_grade"})
    baseline = worst_per_term(graded.loc[graded["is_baseline"]]).rename(columns={"grade": "baseline_grade"})
    paired = worst.merge(baseline, on=["subject", "test_code", "ctcae_term"], how="left")
    paired = paired.assign(**{f"worst_grade_{grade}": paired["worst_grade"] == grade for grade in range(5)})
    table = paired.groupby(["test_code", "ctcae_term", "baseline_grade"], dropna=False).agg(
        subjects=("subject", "size"), **{f"worst_grade_{grade}": (f"worst_grade_{grade}", "sum") for grade in range(5)}
    ).reset_index()
    table["denominator"] = table.groupby(["test_code", "ctcae_term"])["subjects"].transform("sum")
    table = table.astype({"baseline_grade": "Int64"})
    return table.sort_values(["test_code", "ctcae_term", "baseline_grade"], na_position="first", ignore_index=True)


# ---------------------------------------------------------------------------------------------
# The whole computation
# ---------------------------------------------------------------------------------------------


def only(frame: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    """The rows kept (no copy when all are)."""
    return frame if keep.all() else frame.loc[keep]


@dataclass
class Result:
    cut_date: date
    tables: dict[str, pd.DataFrame]
    accounting: dict[str, dict[str, int]]
    timings: dict[str, float]


def core_tables(config_path: Path, *, cut_date: date | None = None, run_date: date | None = None) -> Result:
    """Validate the trial's sources and compute the five core tables at the cut."""
    started = time.perf_counter()
    run_date = run_date or date.today()
    settings = read_trial_settings(Path(config_path))
    accounting = Accounting({})
    subjects = validate_subjects(settings, run_date=run_date, accounting=accounting)
    exposure = validate_exposure(settings, subjects, run_date=run_date, accounting=accounting)
    events = validate_adverse_events(settings, subjects, run_date=run_date, accounting=accounting)
    labs = validate_labs(settings, subjects, run_date=run_date, accounting=accounting)
    vital_dates = pd.Series(dtype="datetime64[s]")
    if "vitals" in settings.sources:
        vital_dates = validate_vital_dates(settings, subjects, run_date=run_date, accounting=accounting)
    validated = time.perf_counter()

    cut_date = cut_date or latest_date(
        *(subjects[c] for c in ("enrolment_date", "end_of_treatment_date", "last_contact_date", "death_date")),
        exposure["start_date"], exposure["end_date"],
        *(events[c] for c in ("onset_date", "resolution_date", "awareness_date", "expedited_report_date")),
        labs["collection_date"], vital_dates,
        run_date=run_date,
    )
    cut = pd.Timestamp(cut_date)
    labs = derive_lab_grades(labs, exposure, version=settings.ctcae_version)
    graded = time.perf_counter()

    # The cut: what was known at the cut date.
    subjects = subjects.loc[subjects["enrolment_date"].isna() | (subjects["enrolment_date"] <= cut)].copy()
    subjects["death_cause"] = subjects["death_cause"].where(subjects["death_date"].isna() | (subjects["death_date"] <= cut))
    subjects["death_date"] = subjects["death_date"].where(subjects["death_date"] <= cut)
    in_cut = subjects["subject"]
    exposure = exposure.loc[exposure["subject"].isin(in_cut) & (exposure["start_date"] <= cut)].copy()
    # An open record ends at the earliest of the subject's end of treatment, death and last contact
    # recorded by the cut, else at the cut; never before its start.
    stops = pd.DataFrame({
        "end_of_treatment": subjects["end_of_treatment_date"].where(subjects["end_of_treatment_date"] <= cut),
        "death": subjects["death_date"],
        "last_contact": subjects["last_contact_date"].clip(upper=cut),
        "cut": cut,
    }).min(axis=1)
    open_end = exposure["subject"].map(pd.Series(stops.to_numpy(), index=subjects["subject"].to_numpy()))
    exposure["end_date"] = exposure["end_date"].clip(upper=cut).fillna(open_end.where(open_end >= exposure["start_date"], exposure["start_date"]))
    events = only(events, events["subject"].isin(in_cut) & (events["onset_date"] <= cut))
    labs = only(labs, labs["subject"].isin(in_cut) & (labs["collection_date"] <= cut))

    dosing = derive_subject_dosing(subjects, exposure)
    cycles = derive_cycles(dosing, exposure, settings)
    events = derive_adverse_events(events, dosing, cycles, settings)
    tables = {
        "t_overview": table_overview(events, dosing, exposure),
        "t_soc_term": table_soc_term(events, dosing),
        "t_by_cycle": table_by_cycle(events, dosing, cycles, cut_date),
        "t_attribution": table_attribution(events, dosing, settings),
        "t_lab_shift": table_lab_shift(labs, dosing, settings),
    }
    tables = {name: table[TABLE_COLUMNS[name]] for name, table in tables.items()}
    finished = time.perf_counter()
    timings = {
        "validate_s": round(validated - started, 3),
        "lab_grading_s": round(graded - validated, 3),
        "tables_s": round(finished - graded, 3),
    }
    return Result(cut_date=cut_date, tables=tables, accounting=accounting.rows, timings=timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path, help="the trial's trial.toml")
    parser.add_argument("--cut", type=date.fromisoformat, help="cut date (default: the latest date in the data)")
    parser.add_argument("--out", type=Path, help="write each table as <name>.csv into this folder")
    args = parser.parse_args()
    started = time.perf_counter()
    result = core_tables(args.config, cut_date=args.cut)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, table in result.tables.items():
            table.to_csv(args.out / f"{name}.csv", index=False)
    summary = {
        "cut_date": result.cut_date.isoformat(),
        "accounting": result.accounting,
        "timings": result.timings,
        "total_s": round(time.perf_counter() - started, 3),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
