"""The trial configuration: one TOML file holding everything trial-specific.

Loading validates it completely. Unknown keys and bad values stop with one message naming the
file, the key, the problem and the fix (``InputError``). Documented key by key in
``docs/trial-config.md``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal, Union, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ctcae.attribution import DEFAULT_RELATED_LEVELS, validate_related_levels
from ctcae.home import data_path
from trial.errors import InputError
SLUG = r"^[a-z0-9][a-z0-9_\-]*$"
# The identifier patterns toxwatch ships, under its data folder (ctcae/home.py).
SHIPPED_IDENTIFIER_PATTERNS = ("privacy", "identifier_patterns.csv")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrialSection(_Strict):
    id: str = Field(pattern=SLUG, description="Trial identifier; names the output folder.")
    title: str
    registry_id: str | None = None
    ctcae_version: Literal["5.0", "6.0"] = "5.0"
    grading: Literal["ctcae", "severity"] = Field(
        "ctcae",
        description="how AEs are graded: CTCAE grades 1-5, or severity (mild / moderate / severe) in a trial not graded "
        "by CTCAE; tables then show severity columns and CTCAE-only checks say \"not applicable\"",
    )
    cycle_length_days: int = Field(28, ge=1, le=365)
    database: str = Field("toxwatch.duckdb", description="DuckDB file, relative to the config.")
    output_dir: str = Field("out", description="Output root, relative to the config.")


class Agent(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    dose_mg: float = Field(ge=0, description="protocol dose per administration, mg; 0 for a placebo")
    route: str
    frequency: str
    dose_levels_mg: list[float] = Field(default_factory=list)


class Arm(_Strict):
    """One treatment arm: the subjects whose arm column holds ``value``, and the agents they receive."""

    id: str = Field(pattern=SLUG, description="short identifier of the arm (table rows, file names)")
    value: str = Field(pattern=r"\S", description="the arm as the subjects source writes it (SDTM ARM or ACTARM)")
    label: str | None = Field(None, description="the arm's name in reports; default: value")
    agents: list[str] = Field(min_length=1, description="agent ids the arm receives, a placebo included")
    doses_mg: dict[str, float] = Field(
        default_factory=dict, description="planned dose of an agent in this arm when it differs from the agent's dose_mg"
    )
    reference: bool = Field(
        False,
        description="the control arm (e.g. placebo) the closed report compares each other arm with (risk differences); at most one arm",
    )

    @property
    def shown(self) -> str:
        return self.label or self.value

    def planned_dose(self, agent: "Agent") -> float:
        return self.doses_mg.get(agent.id, agent.dose_mg)


class Windows(_Strict):
    teae_end_days: int | Literal["none"] = 30
    acute_days: int = Field(90, ge=1)
    follow_up_days: int = Field(
        730, ge=1, description="late toxicity counts up to this many days after the first dose (24 months)"
    )

    @field_validator("teae_end_days")
    @classmethod
    def _non_negative(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 0:
            raise ValueError("must be a whole number of days >= 0, or \"none\"")
        return value


class Cycles(_Strict):
    """How treatment cycles are laid on the calendar."""

    mode: Literal["calendar", "actual"] = "calendar"
    anchor_agents: list[str] = Field(
        default_factory=list, description="agents whose doses start a cycle (actual mode); empty = any agent"
    )


class Reconciliation(_Strict):
    """Cross-source checks between what was measured, dosed and reported."""

    value_ae_window_days: int = Field(
        14, ge=0, description="a graded value and its AE are matched when onset is within this many days"
    )
    value_grade_min: int = Field(
        3, ge=1, le=5, description="a graded lab or blood-pressure value at this CTCAE grade or above needs a matching AE"
    )
    dose_action_window_days: int = Field(
        7, ge=0, description="an exposure hold or reduction and an AE action are matched within this many days"
    )


class DataQuality(_Strict):
    """Checks of a delivery against the previous cut's."""

    source_shrink_ratio: float = Field(
        0.5, gt=0, le=1,
        description="a source whose rows fall below this fraction of the previous cut's is flagged (a trial's data only grows)",
    )


class Site(_Strict):
    """One enrolling site, keyed by the subjects file's site_id."""

    name: str = Field(pattern=r"\S", description="the site's name as reports show it (a site without one shows its id)")


class DataCurrency(_Strict):
    """How recent each living subject's last contact must be."""

    max_days_since_contact: int = Field(
        90, ge=1, description="a living subject last contacted more than this many days before the cut is listed as not current"
    )


class Demographics(_Strict):
    """How the demographics table groups subjects."""

    age_group_bounds: list[int] = Field(
        default_factory=lambda: [65],
        description="ages at which a new age group starts, ascending (e.g. [45, 65]: < 45, 45-64, >= 65)",
    )

    @field_validator("age_group_bounds")
    @classmethod
    def _ascending(cls, value: list[int]) -> list[int]:
        if any(bound < 1 or bound > 120 for bound in value):
            raise ValueError("each bound must be an age from 1 to 120")
        if any(later <= earlier for earlier, later in zip(value, value[1:])):
            raise ValueError("bounds must be ascending, each listed once")
        return value


class ExposureSettings(_Strict):
    """Thresholds of the dose-intensity table."""

    low_rdi_percent: float = Field(
        80, gt=0, le=100, description="a relative dose intensity below this percentage is counted as low"
    )


class Attribution(_Strict):
    related_levels: list[str] = Field(default_factory=lambda: list(DEFAULT_RELATED_LEVELS))

    @field_validator("related_levels")
    @classmethod
    def _on_the_scale(cls, value: list[str]) -> list[str]:
        return list(validate_related_levels(value))


SourceFormat = Literal["csv", "parquet", "xlsx", "xpt", "sas7bdat"]
# The format a source file is in when its config does not say: by its suffix; any other file is CSV.
FORMAT_OF_SUFFIX = {".parquet": "parquet", ".xlsx": "xlsx", ".xpt": "xpt", ".sas7bdat": "sas7bdat"}


def source_format(path: str, declared: str | None) -> str:
    """The format a source file is read in: as declared, else by its suffix (CSV when none matches)."""
    return declared or FORMAT_OF_SUFFIX.get(Path(path).suffix.lower(), "csv")


class Source(_Strict):
    path: str
    format: SourceFormat | None = Field(
        None, description="csv, parquet, xlsx (Excel workbook), xpt (SAS transport) or sas7bdat; default: from the suffix"
    )
    sheet: str | None = Field(None, pattern=r"\S", description="the sheet of an Excel workbook to read; default: the first")
    columns: dict[str, str] = Field(
        default_factory=dict, description="canonical column name -> name in the file"
    )
    encoding: str | None = Field(
        None,
        description="text encoding of a CSV or SAS file (e.g. \"gb18030\", \"latin-1\"); default: UTF-8, or GB18030 when detected",
    )
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="canonical column -> {value as the file writes it -> value of the contract}, matched on the trimmed "
        "text whatever its case; a value not listed is read as given (and queried when not valid)",
    )

    @property
    def file_format(self) -> str:
        return source_format(self.path, self.format)

    @field_validator("sheet")
    @classmethod
    def _sheet_of_a_workbook(cls, value: str | None, info) -> str | None:
        if value is not None and "path" in info.data and "format" in info.data:
            kind = source_format(info.data["path"], info.data["format"])
            if kind != "xlsx":
                raise ValueError(f"a sheet is named, but the file is read as {kind}, which has no sheets; remove sheet")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None, info) -> str | None:
        if value is None:
            return value
        if "path" in info.data and "format" in info.data:
            kind = source_format(info.data["path"], info.data["format"])
            if kind in ("parquet", "xlsx"):
                raise ValueError(f"a text encoding is declared, but a {kind} file keeps its text in Unicode; remove encoding")
        try:
            name = codecs.lookup(value).name
            # Lines, commas and quotes are found byte by byte, so they must be the ASCII bytes.
            ascii_compatible = b',"\r\nAz09'.decode(name, errors="replace") == ',"\r\nAz09'
        except LookupError:
            raise ValueError(f'unknown text encoding {value!r} (e.g. "utf-8", "gb18030", "latin-1")') from None
        if not ascii_compatible:
            raise ValueError(f"encoding {value!r} is not ASCII-compatible (UTF-16 and UTF-32 are not read); export the file as UTF-8")
        return value


class Sources(_Strict):
    subjects: Source | None = None
    exposure: Source | None = None
    adverse_events: Source | None = None
    labs: Source | None = None
    vitals: Source | None = None
    tumour_assessments: Source | None = None


class AesiSet(_Strict):
    label: str
    terms: list[str] = Field(default_factory=list)
    other_specify: list[str] = Field(default_factory=list)
    group: str | None = Field(
        None, pattern=r"^[a-z0-9_]+$", description="id of the [aesi_groups.<id>] the set belongs to; none = ungrouped"
    )


class AesiGroup(_Strict):
    """AESI sets tabled together (e.g. immune-related AEs, a drug's class effects)."""

    label: str = Field(pattern=r"\S", description="shown in the tables and the report")


class SubgroupLevel(_Strict):
    """One level of a subgroup variable: the value as the subjects file holds it, and its label."""

    value: str = Field(pattern=r"\S")
    label: str | None = Field(None, description="shown in the tables; default: the value")

    @model_validator(mode="before")
    @classmethod
    def _string_is_a_value(cls, value: object) -> object:
        if isinstance(value, str):
            return {"value": value}
        return value

    @property
    def shown(self) -> str:
        return self.value if self.label is None else self.label


class Subgroup(_Strict):
    """Subjects split by a categorical variable of the subjects file (e.g. prior re-irradiation)."""

    variable: str = Field(pattern=r"^[a-z0-9_]+$", description="a text column of the subjects source")
    label: str = Field(pattern=r"\S")
    levels: list[SubgroupLevel] = Field(min_length=1, description="the values, in the order shown")

    @field_validator("levels")
    @classmethod
    def _each_value_once(cls, value: list[SubgroupLevel]) -> list[SubgroupLevel]:
        values = [level.value for level in value]
        for name in values:
            if values.count(name) > 1:
                raise ValueError(f"level {name!r} is listed twice")
        return value


class EventDefinition(_Strict):
    """Which adverse events count for a rule. Every criterion given must hold."""

    grade_min: int = Field(1, ge=1, le=5)
    related_to: list[str] = Field(
        default_factory=list, description="related to at least one of these agents; empty = any"
    )
    terms: list[str] = Field(default_factory=list)
    socs: list[str] = Field(default_factory=list)
    aesi: list[str] = Field(default_factory=list)
    serious: bool | None = None
    window: Literal["any", "cycle1", "first_days"] = "any"
    days: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _days_with_window(self) -> EventDefinition:
        if self.window == "first_days" and self.days is None:
            raise ValueError('window "first_days" needs days = N')
        if self.window != "first_days" and self.days is not None:
            raise ValueError('days is only used with window = "first_days"')
        return self


class _Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    event: EventDefinition


def _rate_above(value: float | None, info, lower_key: str, meaning: str) -> float | None:
    """A rule's higher rate must lie above its lower one (checked only when both are valid)."""
    lower = info.data.get(lower_key)
    if value is not None and lower is not None and not value > lower:
        raise ValueError(f"must be above {lower_key} = {lower:g} ({meaning}); got {value:g}")
    return value


class EventCountRule(_Rule):
    """Stop when at least ``min_events`` qualifying events have occurred."""

    kind: Literal["event_count"]
    min_events: int = Field(1, ge=1)
    first_n_evaluable: int | None = Field(
        None, ge=1, description="count only among the first N evaluable subjects"
    )


class BayesRule(_Rule):
    """Stop when Pr(p > p_max | x, n) > threshold under a Beta prior.

    ``max_subjects`` is the planned size: the rule is checked after every evaluable subject up to
    it, and its operating characteristics are computed over those looks. Past it the posterior
    is still computed at the actual n (with a warning), never the last boundary reused.
    ``p_acceptable`` (optional) is the rate at which the DSMB wants to see how often the rule
    would stop (its false-stop probability); the unacceptable rate is ``p_max``.
    """

    kind: Literal["bayes"]
    p_max: float = Field(gt=0, lt=1, description="unacceptable event rate")
    threshold: float = Field(gt=0, lt=1, description="posterior probability above which the rule stops")
    prior: tuple[float, float]
    max_subjects: int = Field(60, ge=2, description="planned size: a look after every evaluable subject up to it")
    p_acceptable: float | None = Field(
        None, gt=0, lt=1, description="acceptable event rate, below p_max, for the operating characteristics"
    )

    @field_validator("prior")
    @classmethod
    def _positive_prior(cls, value: tuple[float, float]) -> tuple[float, float]:
        if min(value) <= 0:
            raise ValueError("both Beta prior parameters must be > 0")
        return value

    @field_validator("p_acceptable")
    @classmethod
    def _acceptable_below_p_max(cls, value: float | None, info) -> float | None:
        p_max = info.data.get("p_max")
        if value is not None and p_max is not None and not value < p_max:
            raise ValueError(f"must be below p_max = {p_max:g} (an acceptable rate); got {value:g}")
        return value


class ToxbdryRule(_Rule):
    """Ivanova-Qaqish-Schell continuous monitoring boundary; the last look is the planned size."""

    kind: Literal["toxbdry"]
    p0: float = Field(gt=0, lt=1, description="acceptable event rate")
    p1: float = Field(gt=0, lt=1, description="unacceptable event rate, above p0")
    looks: list[int]
    cp0: float = Field(0.1, gt=0, lt=1)
    cp1: float = Field(0.9, gt=0, lt=1)
    delta: float = Field(0.0, ge=0, le=0.5)

    @field_validator("p1")
    @classmethod
    def _p1_above_p0(cls, value: float, info) -> float:
        return _rate_above(value, info, "p0", "the unacceptable rate")


class PocockRule(_Rule):
    """Pocock-type nominal-level boundary; ``p1`` (optional) only adds OC at an unacceptable rate."""

    kind: Literal["pocock"]
    p0: float = Field(gt=0, lt=1, description="acceptable event rate")
    alpha: float = Field(0.05, gt=0, lt=1)
    looks: list[int]
    p1: float | None = Field(None, gt=0, lt=1, description="unacceptable event rate, above p0, for the operating characteristics")

    @field_validator("p1")
    @classmethod
    def _p1_above_p0(cls, value: float | None, info) -> float | None:
        return _rate_above(value, info, "p0", "the unacceptable rate")


class SprtRule(_Rule):
    """Truncated SPRT of p0 against p1; the last look is the planned size."""

    kind: Literal["sprt"]
    p0: float = Field(gt=0, lt=1, description="acceptable event rate")
    p1: float = Field(gt=0, lt=1, description="unacceptable event rate, above p0")
    alpha: float = Field(0.05, gt=0, lt=1)
    looks: list[int]

    @field_validator("p1")
    @classmethod
    def _p1_above_p0(cls, value: float, info) -> float:
        return _rate_above(value, info, "p0", "the unacceptable rate")


StoppingRule = Annotated[
    Union[EventCountRule, BayesRule, ToxbdryRule, PocockRule, SprtRule],
    Field(discriminator="kind"),
]


# An RSI entry that states no maximum grade expects the reaction up to grade 3: a fatal or
# life-threatening reaction (grade 4 or 5, or seriousness criterion death / life_threatening) is
# unexpected unless its RSI entry lists that outcome. ICH E2A: a reaction more severe than the
# RSI describes is unexpected; EU practice (CTFG Q&A on the RSI) lists such outcomes explicitly.
DEFAULT_EXPECTED_MAX_GRADE = 3


class RsiEntry(_Strict):
    """One expected reaction of an agent's reference safety information (RSI).

    Written as a plain string (shorthand for ``{ term = "..." }``) or as a table. An entry
    without ``specify`` matches an event whose CTCAE term, or whose "Other, specify" text, is
    ``term``; an entry with ``specify`` matches only that "<SOC> - Other, specify" term carrying
    that text. A catch-all "<SOC> - Other, specify" term needs ``specify``: listed bare it would
    make every reaction coded there expected (refused when the configuration loads).
    """

    term: str = Field(pattern=r"\S", description="CTCAE term, or an \"Other, specify\" text")
    specify: str | None = Field(None, pattern=r"\S", description="the verbatim text of a \"<SOC> - Other, specify\" term")
    max_grade: int | None = Field(None, ge=1, le=5, description="highest expected CTCAE grade (default 3)")
    fatal_expected: bool = Field(False, description="a fatal outcome is expected: the same as max_grade = 5")

    @model_validator(mode="before")
    @classmethod
    def _string_is_a_term(cls, value: object) -> object:
        if isinstance(value, str):
            return {"term": value}
        if not isinstance(value, dict):
            raise ValueError('an RSI entry is a CTCAE term ("Epistaxis") or a table { term = "Epistaxis", max_grade = 4 }')
        return value

    @model_validator(mode="after")
    def _one_maximum(self) -> RsiEntry:
        if self.fatal_expected and self.max_grade is not None and self.max_grade < 5:
            raise ValueError(f"fatal_expected = true means max_grade 5, but max_grade = {self.max_grade}")
        return self

    @property
    def is_catch_all(self) -> bool:
        """The term is a "<SOC> - Other, specify" term (spacing and case aside)."""
        return " ".join(self.term.split()).casefold().endswith("other, specify")

    @property
    def expected_max_grade(self) -> int:
        if self.fatal_expected:
            return 5
        return DEFAULT_EXPECTED_MAX_GRADE if self.max_grade is None else self.max_grade


class Expedited(_Strict):
    fatal_or_life_threatening_days: int = Field(7, ge=1)
    other_days: int = Field(15, ge=1)
    due_soon_days: int = Field(3, ge=0)
    reference_safety_information: dict[str, list[RsiEntry]] = Field(
        default_factory=dict, description="per agent id, the reactions its RSI lists as expected"
    )


class Schedule(_Strict):
    name: str
    report: Literal["digest", "dsmb", "validation"]
    cron: str
    timezone: str

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. \"Asia/Shanghai\", \"UTC\")")
        return value

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("a cron expression has five fields: minute hour day month weekday")
        try:
            CronSim(value, datetime(2000, 1, 1))
        except CronSimError as error:
            raise ValueError(f"not a valid cron expression ({error}), e.g. \"0 7 * * 1\" for Mondays at 07:00")
        return value

    def next_runs(self, after: datetime, count: int) -> list[datetime]:
        """The next ``count`` times the schedule fires after ``after``, in its own time zone."""
        start = after.astimezone(ZoneInfo(self.timezone))
        runs = CronSim(self.cron, start)
        return [next(runs) for _ in range(count)]


class Privacy(_Strict):
    """Personal identifiers: columns never read, free text scanned, free text in the open report."""

    identifier_columns: list[str] = Field(
        default_factory=list,
        description="columns of the source files that hold personal identifiers (name, date of birth, ID number); "
        "never read, and named as dropped in the manifest",
    )
    free_text_patterns: str | None = Field(
        None,
        description="CSV of the identifier patterns the free-text scan uses, relative to the config; "
        "default: the patterns toxwatch ships (data/privacy/identifier_patterns.csv)",
    )
    names_file: str | None = Field(
        None, description="text file of names to flag in free text, one a line, relative to the config"
    )
    # Off by default: the open report goes to every DSMB member and open-session attendee, and
    # free text is where identifiers slip in; the CTCAE term and grade carry the clinical content.
    open_report_free_text: bool = Field(
        False, strict=True, description="print the free text (verbatim term, \"Other, specify\" text) in the open DSMB report"
    )

    @field_validator("identifier_columns")
    @classmethod
    def _named_once(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name.strip():
                raise ValueError("a column name must not be empty")
            if value.count(name) > 1:
                raise ValueError(f"column {name!r} is listed twice")
        return value


# What a webhook can subscribe to (flows/alerts.py): a rule reaching STOP or WARN, a SUSAR report
# due today or soon, or overdue.
AlertKind = Literal["rule_stop", "rule_warn", "report_due_soon", "report_overdue"]
ALERT_KINDS: tuple[str, ...] = get_args(AlertKind)


class Webhook(_Strict):
    """One receiver of alerts: a JSON POST of aggregate facts and ids (never free text)."""

    name: str = Field(pattern=SLUG, description="names the webhook in logs and alerts.json (the URL is never logged)")
    url: str = Field(description="http:// or https:// address the alerts are POSTed to")
    events: list[AlertKind] = Field(
        default_factory=lambda: list(ALERT_KINDS), min_length=1, description="the kinds of alert sent to it; default all"
    )
    secret_env: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="name of the environment variable holding a bearer token (sent as the Authorization header)",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// address with a host name")
        if parts.username or parts.password:
            raise ValueError("the address holds credentials; put a token in an environment variable and name it in secret_env")
        return value

    @field_validator("events")
    @classmethod
    def _each_kind_once(cls, value: list[str]) -> list[str]:
        for kind in value:
            if value.count(kind) > 1:
                raise ValueError(f"event kind {kind!r} is listed twice")
        return value


class Alerts(_Strict):
    """Webhooks told when a rule reaches STOP or WARN or an expedited report falls due."""

    webhooks: list[Webhook] = Field(default_factory=list)
    retries: int = Field(3, ge=0, le=10, description="further attempts after a failed one (connection error, timeout, HTTP 5xx)")
    timeout_seconds: float = Field(10, gt=0, le=300, description="time allowed for each attempt")

    @field_validator("webhooks")
    @classmethod
    def _names_unique(cls, value: list[Webhook]) -> list[Webhook]:
        names = [webhook.name for webhook in value]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"webhook name {name!r} is used twice; each webhook needs its own name")
        return value


class Report(_Strict):
    """How the DSMB report is laid out: on paper (dsmb_report.pdf) and in its charts."""

    paper: Literal["A4", "Letter"] = Field("A4", description="page size of the PDF: A4 (210 x 297 mm) or US Letter (8.5 x 11 in)")
    closed_report: bool = Field(
        True,
        description="with two or more [[arms]], also write the closed report (dsmb_report_closed.html): every table by arm; "
        "the open report pools the arms",
    )
    # Display settings of the charts: what fits a page, not clinical rules; the tables behind them hold every row.
    heatmap_terms: int = Field(
        20, ge=1, le=100, description="the AE heatmap shows this many treatment-emergent terms, the most frequent first"
    )
    swimmer_max_subjects: int = Field(
        100, ge=1,
        description="above this many treated subjects the swimmer plot draws this many lanes: subjects with a grade >= 3 AE or a death first, then the longest on study",
    )
    dot_plot_min_percent: float = Field(
        5, ge=0, le=100,
        description="the closed report's AE dot plot shows the treatment-emergent terms with at least this incidence (% of subjects) in any arm",
    )
    dot_plot_terms: int = Field(
        30, ge=1, le=100, description="the closed report's AE dot plot shows at most this many terms, the most frequent first"
    )


class BryantDay(_Strict):
    """Bryant and Day (1995) two-stage design monitoring response and toxicity together.

    Toxicity is counted as the paper counts it, by the subjects WITHOUT the toxic event. Stage 1
    (the first ``n1`` treated subjects) stops when responders <= ``r1`` or non-toxic subjects <=
    ``t1``; at the end (the first ``n``) the regimen is acceptable only when responders > ``r``
    and non-toxic subjects > ``t``. The rates and error bounds are the design's hypotheses: the
    report shows the exact operating characteristics of the bounds under them.
    """

    n1: int = Field(ge=1, description="subjects in stage 1 (the first n1 treated)")
    n: int = Field(ge=2, description="subjects in both stages (the first n treated)")
    r1: int = Field(ge=0, description="stop at stage 1 when responders <= r1")
    r: int = Field(ge=0, description="promising only when responders among n > r")
    t1: int = Field(ge=0, description="stop at stage 1 when subjects without the toxic event <= t1")
    t: int = Field(ge=0, description="tolerable only when subjects without the toxic event among n > t")
    p0: float = Field(gt=0, lt=1, description="response rate not worth pursuing")
    p1: float = Field(gt=0, lt=1, description="response rate worth pursuing, above p0")
    q0: float = Field(gt=0, lt=1, description="probability of no toxic event that is unacceptable")
    q1: float = Field(gt=0, lt=1, description="probability of no toxic event that is acceptable, above q0")
    alpha_response: float = Field(0.10, gt=0, lt=1, description="bound on P(acceptable | p0, q1)")
    alpha_toxicity: float = Field(0.10, gt=0, lt=1, description="bound on P(acceptable | p1, q0)")
    power: float = Field(0.80, gt=0, lt=1, description="required P(acceptable | p1, q1)")
    response_evaluable_days: int = Field(
        168, ge=1,
        description="the response endpoint's window in study days (day 1 = the time origin): a responder has a CR or PR first seen by this day; a subject followed to this day without one is a non-responder",
    )
    event: EventDefinition = Field(description="the toxic event, defined as a stopping rule's event")

    @field_validator("p1")
    @classmethod
    def _p1_above_p0(cls, value: float, info) -> float:
        return _rate_above(value, info, "p0", "the response rate worth pursuing")

    @field_validator("q1")
    @classmethod
    def _q1_above_q0(cls, value: float, info) -> float:
        return _rate_above(value, info, "q0", "the acceptable probability of no toxic event")

    @model_validator(mode="after")
    def _bounds_fit_the_stages(self) -> BryantDay:
        if not self.n1 < self.n:
            raise ValueError(f"n1 = {self.n1} must be below n = {self.n}")
        for key, bound, size in (("r1", self.r1, self.n1), ("t1", self.t1, self.n1), ("r", self.r, self.n), ("t", self.t, self.n)):
            if not bound < size:
                raise ValueError(f"{key} = {bound} must be below the subjects it counts ({size})")
        if self.event.window == "any":
            # A subject is free of the toxic event only once its window is over; with no window
            # nobody is ever settled as non-toxic.
            raise ValueError('the toxic event needs a window: window = "cycle1", or "first_days" with days = N')
        return self


class Efficacy(_Strict):
    """Efficacy derivations: RECIST 1.1 best overall response, ORR, PFS, OS (safetydb/efficacy.py)."""

    confirmation_required: bool = Field(True, description="a CR or PR counts only when confirmed (single-arm trials)")
    confirmation_min_days: int = Field(28, ge=1, description="a confirming assessment is at least this many days after the response")
    sd_min_days: int = Field(
        42, ge=0, description="stable disease needs an assessment of SD or better at least this many days after the time origin"
    )
    time_origin: Literal["first_dose", "enrolment"] = Field("first_dose", description="day 1 of PFS, OS and the SD minimum")
    population: Literal["treated", "enrolled"] = Field(
        "treated", description="treated: subjects with at least one dose (the safety population); enrolled: every subject"
    )
    bryant_day: BryantDay | None = None

    @model_validator(mode="after")
    def _origin_for_the_population(self) -> Efficacy:
        if self.population == "enrolled" and self.time_origin == "first_dose":
            raise ValueError('population "enrolled" includes untreated subjects, who have no first dose: set time_origin = "enrolment"')
        return self


# The source each CDISC domain feeds (readers/): SDTM domain or ADaM dataset, by toxwatch source.
CDISC_DOMAINS = {
    "sdtm": {"subjects": "dm", "exposure": "ex", "adverse_events": "ae", "labs": "lb", "vitals": "vs", "tumour_assessments": "rs"},
    "adam": {"subjects": "adsl", "exposure": "adex", "adverse_events": "adae", "labs": "adlb"},
}
def _default_relationship_values() -> dict[str, str]:
    """The relationship values toxwatch maps by default (data/cdisc/relationship_values.csv)."""
    with data_path("cdisc", "relationship_values.csv").open(encoding="utf-8", newline="") as handle:
        return {row["cdisc_value"].strip().upper(): row["toxwatch_value"] for row in csv.DictReader(handle)}


# The default map of [cdisc] relationship_values: relationship value -> level of the attribution scale.
DEFAULT_RELATIONSHIP_VALUES = _default_relationship_values()


class PartialDates(_Strict):
    """How a partial date (SDTM ``--DTC`` as ``YYYY-MM`` or ``YYYY``) is completed; the date as given
    and an imputation flag (D: day imputed, M: month and day) are kept beside it."""

    start_day: Literal["first", "first_or_reference"] = Field(
        "first_or_reference",
        description="missing day of an onset: the 1st of the month, or (first_or_reference) the first dose date when it "
        "falls later in that same month",
    )
    start_month: Literal["first"] = Field("first", description="missing month of an onset: January (or the first dose in that year)")
    end_day: Literal["last"] = Field("last", description="missing day of a resolution: the last day of the month")
    end_month: Literal["last"] = Field("last", description="missing month of a resolution: December 31st")


class Cdisc(_Strict):
    """Sources read from CDISC SDTM domains or ADaM datasets instead of toxwatch's own files (readers/)."""

    standard: Literal["sdtm", "adam"] = Field(description="sdtm: DM, EX, AE (+SUPPAE), LB, DS, VS, RS; adam: ADSL, ADAE, ADEX, ADLB")
    folder: str = Field(description="the folder of the domain files, relative to this file")
    files: dict[str, str] = Field(
        default_factory=dict,
        description="domain (dm, ae, suppae, ex, lb, ds, vs, rs, suppdm, suppex, supplb, supprs; adsl, adae, adex, adlb) -> file in the folder "
        "(.xpt, .sas7bdat, .csv, .parquet, .xlsx)",
    )
    encoding: str | None = Field(None, description="text encoding of CSV domain files; default: UTF-8, or GB18030 when detected")
    arm_variable: str = Field(
        "ARM", description="the subject-level variable that assigns the arm: ARM (planned) or ACTARM (actual); ADaM TRT01P or TRT01A"
    )
    treatments: dict[str, str] = Field(
        default_factory=dict, description="the treatment name as exposure records write it (EXTRT; ADaM PARCAT2) -> agent id"
    )
    relationship_values: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_RELATIONSHIP_VALUES),
        description="relationship value (AEREL, or a per-agent SUPPAE QNAM) -> level of the attribution scale; "
        "a value not listed is queried and counted as related",
    )
    relationship_variables: dict[str, str] = Field(
        default_factory=dict,
        description="agent id -> the variable holding that agent's relationship (a SUPPAE QNAM or an AE column); "
        "an agent not listed takes AEREL, the single relationship",
    )
    awareness_variable: str | None = Field(
        None, description="SUPPAE QNAM (or AE column) holding the date the sponsor became aware; none: expedited clocks not computable"
    )
    columns: dict[Literal["subjects", "exposure", "adverse_events", "labs", "tumour_assessments"], dict[str, str]] = Field(
        default_factory=dict,
        description="SDTM only: per source, contract column -> the variable that holds it: a variable of the source's domain, "
        "or a QNAM of its supplemental domain (SUPPDM, SUPPEX, SUPPAE, SUPPLB, SUPPRS); where given, read in place of "
        "what the reader derives (readers/sdtm_columns.py)",
    )
    partial_dates: PartialDates = PartialDates()

    @field_validator("relationship_values")
    @classmethod
    def _levels_on_the_scale(cls, value: dict[str, str]) -> dict[str, str]:
        from ctcae.attribution import ATTRIBUTION_LEVELS

        wrong = sorted({level for level in value.values() if level not in ATTRIBUTION_LEVELS})
        if wrong:
            raise ValueError(f"{wrong} not on the attribution scale {list(ATTRIBUTION_LEVELS)}")
        return {key.strip().upper(): level for key, level in value.items()}


class TrialConfigModel(_Strict):
    trial: TrialSection
    agents: list[Agent] = Field(min_length=1)
    arms: list[Arm] = Field(default_factory=list)
    windows: Windows = Windows()
    cycles: Cycles = Cycles()
    attribution: Attribution = Attribution()
    reconciliation: Reconciliation = Reconciliation()
    data_quality: DataQuality = DataQuality()
    sites: dict[str, Site] = Field(default_factory=dict)
    data_currency: DataCurrency = DataCurrency()
    demographics: Demographics = Demographics()
    exposure: ExposureSettings = ExposureSettings()
    sources: Sources = Sources()
    cdisc: Cdisc | None = None
    aesi: dict[str, AesiSet] = Field(default_factory=dict)
    aesi_groups: dict[str, AesiGroup] = Field(default_factory=dict)
    subgroups: list[Subgroup] = Field(default_factory=list)
    stopping_rules: list[StoppingRule] = Field(default_factory=list)
    efficacy: Efficacy = Efficacy()
    expedited: Expedited = Expedited()
    schedules: list[Schedule] = Field(default_factory=list)
    privacy: Privacy = Privacy()
    alerts: Alerts = Alerts()
    report: Report = Report()


@dataclass(frozen=True)
class TrialConfig:
    """A validated trial configuration with its location and fingerprint."""

    path: Path
    model: TrialConfigModel
    sha256: str

    @property
    def id(self) -> str:
        return self.model.trial.id

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def agent_ids(self) -> list[str]:
        return [agent.id for agent in self.model.agents]

    @property
    def teae_end_days(self) -> int | None:
        value = self.model.windows.teae_end_days
        return None if value == "none" else value

    def source_path(self, name: str) -> Path | None:
        """The file a source is read from; for a CDISC trial, the domain its records come from
        (subjects: DM or ADSL; exposure: EX or ADEX; adverse events: AE or ADAE; labs: LB or ADLB)."""
        if self.model.cdisc is not None:
            domain = CDISC_DOMAINS[self.model.cdisc.standard].get(name)
            return self.cdisc_files().get(domain) if domain else None
        source = getattr(self.model.sources, name)
        return None if source is None else (self.folder / source.path)

    def cdisc_files(self) -> dict[str, Path]:
        """Each configured CDISC domain's file (none without [cdisc])."""
        cdisc = self.model.cdisc
        if cdisc is None:
            return {}
        return {domain.lower(): self.folder / cdisc.folder / file for domain, file in cdisc.files.items()}

    @property
    def arms(self) -> list[Arm]:
        return list(self.model.arms)

    @property
    def reference_arm(self) -> Arm | None:
        """The arm marked ``reference = true`` (the control arm), or None."""
        return next((arm for arm in self.model.arms if arm.reference), None)

    @property
    def arm_revealing_agents(self) -> list[str]:
        """The agents one arm receives and another does not (a placebo, a dose arm's drug): naming
        them beside a subject's data reveals the subject's arm. None with fewer than two arms."""
        arms = self.model.arms
        if len(arms) < 2:
            return []
        return [agent.id for agent in self.model.agents if not all(agent.id in arm.agents for arm in arms)]

    def agents_of_arm(self, arm_value: str | None) -> list[Agent]:
        """The agents a subject of this arm receives: its arm's, or every agent without [[arms]] (or for an arm not configured)."""
        for arm in self.model.arms:
            if arm.value == arm_value:
                return [agent for agent in self.model.agents if agent.id in arm.agents]
        return list(self.model.agents)

    @property
    def database_path(self) -> Path:
        return self.folder / self.model.trial.database

    @property
    def output_root(self) -> Path:
        return self.folder / self.model.trial.output_dir

    @property
    def free_text_patterns_path(self) -> Path:
        """The identifier patterns of the free-text scan: the trial's own file, or the ones toxwatch ships."""
        configured = self.model.privacy.free_text_patterns
        return data_path(*SHIPPED_IDENTIFIER_PATTERNS) if configured is None else self.folder / configured

    @property
    def names_path(self) -> Path | None:
        """The trial's list of names to flag in free text; None when it has none."""
        configured = self.model.privacy.names_file
        return None if configured is None else self.folder / configured


def load_trial_config(path: Path | str) -> TrialConfig:
    """Read and validate a trial configuration; raise ``InputError`` on the first problem."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "trial configuration not found", "give the path of a trial.toml")
    raw = path.read_bytes()
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(path, None, f"not valid TOML ({error})", "correct the TOML syntax") from None
    try:
        model = TrialConfigModel.model_validate(document)
    except ValidationError as error:
        raise _as_input_error(path, error) from None
    _check_references(path, model)
    _check_privacy(path, model)
    return TrialConfig(path=path.resolve(), model=model, sha256=hashlib.sha256(raw).hexdigest())


def _check_references(path: Path, model: TrialConfigModel) -> None:
    """Names used in one section must exist in another: agents, AESI sets, rule ids."""
    agent_ids = [agent.id for agent in model.agents]
    for position, agent in enumerate(model.agents, start=1):
        if agent_ids.count(agent.id) > 1:
            raise InputError(path, f"agents[{position}].id", f"duplicate agent id {agent.id!r}", "give each agent its own id")
    rule_ids = [rule.id for rule in model.stopping_rules]
    for position, rule in enumerate(model.stopping_rules, start=1):
        key = f"stopping_rules[{position}]"
        if rule_ids.count(rule.id) > 1:
            raise InputError(path, f"{key}.id", f"duplicate rule id {rule.id!r}", "give each rule its own id")
        for agent in rule.event.related_to:
            if agent not in agent_ids:
                raise InputError(
                    path, f"{key}.event.related_to", f"unknown agent {agent!r}", f"use one of {agent_ids}"
                )
        for name in rule.event.aesi:
            if name not in model.aesi:
                raise InputError(
                    path, f"{key}.event.aesi", f"unknown AESI set {name!r}", f"use one of {sorted(model.aesi)} or define [aesi.{name}]"
                )
    _check_sources(path, model)
    _check_arms(path, model, agent_ids)
    _check_bryant_day_event(path, model, agent_ids)
    _check_aesi_groups(path, model)
    _check_subgroups(path, model)
    schedule_names = [schedule.name for schedule in model.schedules]
    for position, schedule in enumerate(model.schedules, start=1):
        if schedule_names.count(schedule.name) > 1:
            raise InputError(path, f"schedules[{position}].name", f"duplicate schedule name {schedule.name!r}", "give each schedule its own name")
    for position, agent in enumerate(model.cycles.anchor_agents, start=1):
        if agent not in agent_ids:
            raise InputError(path, f"cycles.anchor_agents[{position}]", f"unknown agent {agent!r}", f"use one of {agent_ids}")
    for agent, entries in model.expedited.reference_safety_information.items():
        key = f"expedited.reference_safety_information.{agent}"
        if agent not in agent_ids:
            raise InputError(path, key, f"unknown agent {agent!r}", f"use one of {agent_ids}")
        for position, entry in enumerate(entries, start=1):
            if entry.is_catch_all and entry.specify is None:
                raise InputError(
                    path,
                    f"{key}[{position}]",
                    f"catch-all term {entry.term!r} without specify would make every reaction coded there expected",
                    f'name the expected reaction: {{ term = "{entry.term}", specify = "<verbatim text>" }}',
                )
            if entry.specify is not None and not entry.is_catch_all:
                raise InputError(
                    path,
                    f"{key}[{position}]",
                    f"specify is given but {entry.term!r} is not an \"<SOC> - Other, specify\" term",
                    "drop specify, or give the \"<SOC> - Other, specify\" term the text belongs to",
                )


def _check_bryant_day_event(path: Path, model: TrialConfigModel, agent_ids: list[str]) -> None:
    """The Bryant-Day toxic event names agents and AESI sets the trial declares, as a rule's event must."""
    design = model.efficacy.bryant_day
    if design is None:
        return
    key = "efficacy.bryant_day.event"
    for agent in design.event.related_to:
        if agent not in agent_ids:
            raise InputError(path, f"{key}.related_to", f"unknown agent {agent!r}", f"use one of {agent_ids}")
    for name in design.event.aesi:
        if name not in model.aesi:
            raise InputError(path, f"{key}.aesi", f"unknown AESI set {name!r}", f"use one of {sorted(model.aesi)} or define [aesi.{name}]")


def _check_aesi_groups(path: Path, model: TrialConfigModel) -> None:
    """Every AESI set's group is declared, and no group id is also a set id (tables key rows by either)."""
    for name, definition in model.aesi.items():
        if definition.group is not None and definition.group not in model.aesi_groups:
            raise InputError(
                path, f"aesi.{name}.group", f"unknown AESI group {definition.group!r}",
                f'declare it: [aesi_groups.{definition.group}] label = "..."',
            )
    for group in model.aesi_groups:
        if group in model.aesi:
            raise InputError(
                path, f"aesi_groups.{group}", f"{group!r} is also an AESI set id", "give the group an id no AESI set uses"
            )


# A subgroup splits subjects by a text column of theirs, never by their identifier.
NOT_SUBGROUP_VARIABLES = ("subject_id",)


def subgroup_variables() -> tuple[str, ...]:
    """The subjects source's text columns a subgroup may split by (validators/schemas.py)."""
    # The Pandera models, imported only when a config has subgroups.
    from validators.contract import source_columns

    return tuple(
        column.name for column in source_columns("subjects")
        if column.kind == "text" and column.name not in NOT_SUBGROUP_VARIABLES
    )


def _check_subgroups(path: Path, model: TrialConfigModel) -> None:
    """A subgroup splits by a text column of the subjects source, each variable once."""
    if not model.subgroups:
        return
    allowed = subgroup_variables()
    variables = [subgroup.variable for subgroup in model.subgroups]
    for position, subgroup in enumerate(model.subgroups, start=1):
        key = f"subgroups[{position}].variable"
        if subgroup.variable not in allowed:
            raise InputError(path, key, f"{subgroup.variable!r} is not a text column of the subjects source", f"use one of {list(allowed)}")
        if subgroup.variable in variables[: position - 1]:
            raise InputError(path, key, f"subgroup variable {subgroup.variable!r} is used twice", "split by each variable once")


def _check_privacy(path: Path, model: TrialConfigModel) -> None:
    """The privacy files exist, and no identifier column is one a source reads."""
    privacy = model.privacy
    for key in ("free_text_patterns", "names_file"):
        relative = getattr(privacy, key)
        if relative is not None and not (path.parent / relative).is_file():
            raise InputError(path, f"privacy.{key}", f"file {relative!r} not found (paths are relative to the config)", "correct the path, or remove the key")
    for name in Sources.model_fields:
        source = getattr(model.sources, name)
        if source is None:
            continue
        for canonical, column in source.columns.items():
            if column in privacy.identifier_columns:
                raise InputError(
                    path,
                    "privacy.identifier_columns",
                    f"column {column!r} is an identifier, but [sources.{name}].columns reads it as {canonical!r}",
                    "map the canonical column to a column without personal identifiers, or remove it from identifier_columns",
                )


def _check_sources(path: Path, model: TrialConfigModel) -> None:
    """Without [cdisc], the three sources every trial has are files of toxwatch's own format."""
    if model.cdisc is not None:
        return
    for name in ("subjects", "exposure", "adverse_events"):
        if getattr(model.sources, name) is None:
            raise InputError(
                path, f"sources.{name}", "required key is missing",
                f"add [sources.{name}] with the file's path, or read the trial from CDISC data with [cdisc] (see docs/trial-config.md)",
            )
    _check_value_maps(path, model)


def _check_value_maps(path: Path, model: TrialConfigModel) -> None:
    """Each value map names a column of its source and maps onto values the column allows."""
    mapped = [(name, getattr(model.sources, name)) for name in Sources.model_fields if getattr(model.sources, name) is not None]
    if not any(source.values for _, source in mapped):
        return
    # The Pandera models, imported only when a config maps values.
    from validators.value_maps import value_map_problem

    agent_ids = [agent.id for agent in model.agents]
    for name, source in mapped:
        for column, mapping in source.values.items():
            problem = value_map_problem(name, column, mapping, agent_ids)
            if problem is not None:
                raise InputError(path, f"sources.{name}.values.{column}", *problem)


def _check_arms(path: Path, model: TrialConfigModel, agent_ids: list[str]) -> None:
    """Arms name known agents, each arm once; CDISC treatments and relationship variables name known agents."""
    ids = [arm.id for arm in model.arms]
    values = [arm.value for arm in model.arms]
    references = [position for position, arm in enumerate(model.arms, start=1) if arm.reference]
    if len(references) > 1:
        raise InputError(
            path, f"arms[{references[1]}].reference", f"{len(references)} arms say reference = true (arms {references})",
            "mark one arm, the control arm the others are compared with, as the reference",
        )
    for position, arm in enumerate(model.arms, start=1):
        key = f"arms[{position}]"
        if ids.count(arm.id) > 1:
            raise InputError(path, f"{key}.id", f"duplicate arm id {arm.id!r}", "give each arm its own id")
        if values.count(arm.value) > 1:
            raise InputError(path, f"{key}.value", f"two arms read the arm value {arm.value!r}", "give each arm its own value")
        for agent in [*arm.agents, *arm.doses_mg]:
            if agent not in agent_ids:
                raise InputError(path, f"{key}.agents", f"unknown agent {agent!r}", f"use one of {agent_ids}")
    if model.cdisc is not None:
        for given, agent in model.cdisc.treatments.items():
            if agent not in agent_ids:
                raise InputError(path, f"cdisc.treatments.{given}", f"unknown agent {agent!r}", f"use one of {agent_ids}")
        for agent in model.cdisc.relationship_variables:
            if agent not in agent_ids:
                raise InputError(path, f"cdisc.relationship_variables.{agent}", "unknown agent", f"use one of {agent_ids}")
        _check_cdisc_columns(path, model.cdisc, agent_ids)


# Columns [cdisc.columns] may not name: the key a source is joined on, and the columns that have
# a key of their own (the per-agent relationship, with its value map; the awareness date).
CDISC_COLUMNS_NOT_MAPPED = {
    "subject_id": "the subject is USUBJID, the key every domain is joined on",
    "attribution_": "name the agent's relationship variable in [cdisc] relationship_variables",
    "awareness_date": "name the variable in [cdisc] awareness_variable",
}


def _check_cdisc_columns(path: Path, cdisc: Cdisc, agent_ids: list[str]) -> None:
    """[cdisc.columns] is read from SDTM only, and names contract columns of each source."""
    if not cdisc.columns:
        return
    if cdisc.standard != "sdtm":
        raise InputError(
            path, "cdisc.columns", "columns are read from SDTM domains only",
            "remove [cdisc.columns]: an ADaM dataset's variables are read as docs/sources.md lists",
        )
    # The Pandera models, imported only when a config names columns.
    from validators.contract import file_columns, optional_columns, per_agent_columns

    for source, mapping in cdisc.columns.items():
        known = [*file_columns(source), *per_agent_columns(source, agent_ids), *optional_columns(source)]
        for column, variable in mapping.items():
            key = f"cdisc.columns.{source}.{column}"
            for prefix, fix in CDISC_COLUMNS_NOT_MAPPED.items():
                if column == prefix or (prefix.endswith("_") and column.startswith(prefix)):
                    raise InputError(path, key, f"{column} cannot be mapped here", fix)
            if column not in known:
                raise InputError(path, key, f"{column!r} is not a column of the {source} source", f"use one of {known}")
            if not variable.strip():
                raise InputError(path, key, "no variable named", "name the SDTM variable or supplemental QNAM that holds the column")


def _as_input_error(path: Path, error: ValidationError) -> InputError:
    first = error.errors()[0]
    key = _dotted(first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        return InputError(path, key, "unknown key", "remove it or correct its spelling (see docs/trial-config.md)")
    if kind == "missing":
        return InputError(path, key, "required key is missing", "add it (see docs/trial-config.md)")
    message = first["msg"].removeprefix("Value error, ")
    return InputError(path, key or "(top level)", message, "correct the value (see docs/trial-config.md)")


def _dotted(location: tuple) -> str:
    parts: list[str] = []
    for item in location:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item + 1}]" if parts else f"[{item + 1}]"
        elif item in ("event_count", "bayes", "toxbdry", "pocock", "sprt"):
            continue  # the discriminator tag pydantic inserts for tagged unions
        else:
            parts.append(str(item))
    return ".".join(parts)
