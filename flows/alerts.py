"""Alerts: tell the configured webhooks (trial config ``[alerts]``) when a stopping rule reaches
STOP or WARN, or a SUSAR report falls due soon or overdue. A plain stage, usable without Prefect.

Each alert is a JSON POST of aggregate facts and ids only (``PAYLOAD_FIELDS``): counts, statuses,
dates and record ids, never a verbatim term or other free text, since a webhook is a chat room
or a pager, outside the closed session.

An event is identified by the trial, its kind, the rule (or the AE and its agents) and its level,
so a rule going from WARN to STOP is a new event while the same STOP at the next cut is not.
Each webhook receives an event once: a successful delivery is recorded in the store
(``safetydb.alert_log``); a failed one is retried with backoff, logged, returned as failed, and
tried again at the next run.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import polars as pl

from safetydb import alert_log
from safetydb.store import SafetyStore
from signals.expedited import DUE_SOON, DUE_TODAY, OVERDUE
from trial.config import Alerts, TrialConfig, Webhook
from trial.errors import InputError

notes = logging.getLogger("toxwatch")

# Statuses and clock states that raise an alert, and the kind each becomes. A report due today
# is due soon at its most urgent: the same kind, its own level (so it is a new event).
RULE_KINDS = {"STOP": "rule_stop", "WARN": "rule_warn"}
REPORT_KINDS = {DUE_SOON: "report_due_soon", DUE_TODAY: "report_due_soon", OVERDUE: "report_overdue"}

# Everything a payload may hold. Ids, dates, counts, statuses, the rule's configured title and
# its generated statement (numbers and thresholds); never a verbatim term or "Other, specify" text.
EVENT_FIELDS = ("event_id", "kind", "trial_id", "cut_id", "cut_date")
RULE_FIELDS = ("rule_id", "title", "status", "evaluable", "events", "boundary", "statement")
REPORT_FIELDS = ("ae_id", "subject_id", "agents", "due_date", "level")
PAYLOAD_FIELDS = EVENT_FIELDS + RULE_FIELDS + REPORT_FIELDS

# Waits between attempts: 1 s, 2 s, 4 s, ... never more than the cap.
BACKOFF_FIRST_SECONDS, BACKOFF_CAP_SECONDS = 1.0, 30.0

Outcome = Literal["sent", "already sent", "failed"]
Post = Callable[[str, bytes, dict[str, str], float], int]


@dataclass(frozen=True)
class AlertEvent:
    """One thing a webhook is told: a rule at STOP or WARN, or a SUSAR report due soon or overdue."""

    event_id: str
    kind: str
    trial_id: str
    cut_id: str | None
    cut_date: str
    facts: dict[str, object] = field(default_factory=dict)  # RULE_FIELDS or REPORT_FIELDS

    def payload(self) -> dict[str, object]:
        return {
            "event_id": self.event_id,
            "kind": self.kind,
            "trial_id": self.trial_id,
            "cut_id": self.cut_id,
            "cut_date": self.cut_date,
            **self.facts,
        }


@dataclass(frozen=True)
class Delivery:
    """What became of one event at one webhook."""

    webhook: str
    event_id: str
    kind: str
    outcome: Outcome
    attempts: int = 0
    problem: str | None = None  # why it failed (never the webhook's address, which may hold a secret)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class SentLog(Protocol):
    """Where successful deliveries are remembered between runs."""

    def delivered(self, webhook: str) -> set[str]: ...

    def record(self, webhook: str, event: AlertEvent) -> None: ...


@dataclass(frozen=True)
class StoreSentLog:
    """The sent log in the trial's store. The store is opened for each look-up and each record,
    never held while a webhook is waited on, so other runs are not kept waiting for its lock."""

    store_path: Path
    trial_id: str

    def delivered(self, webhook: str) -> set[str]:
        with SafetyStore(self.store_path) as store:
            return alert_log.delivered(store, self.trial_id, webhook)

    def record(self, webhook: str, event: AlertEvent) -> None:
        with SafetyStore(self.store_path) as store:
            alert_log.record_delivery(
                store, trial_id=self.trial_id, webhook=webhook, event_id=event.event_id, kind=event.kind, cut_id=event.cut_id
            )


def compute_event_id(trial_id: str, kind: str, subject: object, level: str) -> str:
    """A stable id: the same trial, kind, rule (or AE and agents) and level give the same id at every cut."""
    return hashlib.sha256(json.dumps([trial_id, kind, subject, level]).encode()).hexdigest()[:16]


def alert_events(flags: dict, *, report_agents: dict[str, list[str]] | None = None) -> list[AlertEvent]:
    """The alerts a review's ``flags.json`` raises: one per rule at STOP or WARN, then one per
    SUSAR report due soon, due today or overdue. ``report_agents`` (ae_id -> agents the event is a
    SUSAR for) adds the agents to each report; flags.json itself does not carry them."""
    trial_id, cut_id, cut_date = flags["trial_id"], flags.get("cut_id"), flags["cut_date"]
    events = []
    for rule in flags.get("rules", []):
        kind = RULE_KINDS.get(rule["status"])
        if kind is None:
            continue
        events.append(
            AlertEvent(
                event_id=compute_event_id(trial_id, kind, rule["rule_id"], rule["status"]),
                kind=kind,
                trial_id=trial_id,
                cut_id=cut_id,
                cut_date=cut_date,
                facts={name: rule.get(name) for name in RULE_FIELDS},
            )
        )
    for report in flags.get("expedited", []):
        kind = REPORT_KINDS.get(report["level"])
        if kind is None:
            continue
        agents = sorted((report_agents or {}).get(report["ae_id"], []))
        events.append(
            AlertEvent(
                event_id=compute_event_id(trial_id, kind, [report["ae_id"], agents], report["level"]),
                kind=kind,
                trial_id=trial_id,
                cut_id=cut_id,
                cut_date=cut_date,
                facts={
                    "ae_id": report["ae_id"],
                    "subject_id": report["subject_id"],
                    "agents": agents,
                    "due_date": report["due_date"],
                    "level": report["level"],
                },
            )
        )
    return events


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: urllib would repeat a POST as a bodiless GET."""

    def redirect_request(self, *args, **kwargs):
        return None


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body`` and return the HTTP status; a connection error or timeout raises ``OSError``."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        # Built per call: the proxy settings are read from the environment when it is built.
        with urllib.request.build_opener(_RefuseRedirects).open(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def backoff_seconds(failed_attempts: int) -> float:
    """The wait after the n-th failed attempt: 1 s, 2 s, 4 s, ..., at most BACKOFF_CAP_SECONDS."""
    return min(BACKOFF_FIRST_SECONDS * 2 ** (failed_attempts - 1), BACKOFF_CAP_SECONDS)


def send_alerts(
    events: Iterable[AlertEvent],
    config: Alerts,
    *,
    sent_log: SentLog,
    post: Post = post_json,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    """Send each event to each webhook subscribed to its kind, unless the log says it already
    went there; record each success in the log as it happens.

    Connection errors, timeouts and HTTP 5xx are retried ``config.retries`` times with backoff;
    any other answer outside 2xx is not. Every failure is logged as a warning and returned as a
    failed delivery. Once a webhook has not answered through every retry, its remaining events
    of this run are failed without waiting on it again: they are tried at the next run.
    """
    events = list(events)
    deliveries: list[Delivery] = []
    for webhook in config.webhooks:
        subscribed = [event for event in events if event.kind in webhook.events]
        if not subscribed:
            continue
        already = sent_log.delivered(webhook.name)
        headers, problem = _headers(webhook)
        for event in subscribed:
            if event.event_id in already:
                deliveries.append(Delivery(webhook.name, event.event_id, event.kind, "already sent"))
                continue
            if problem is not None:
                notes.warning("alert %s (%s) not sent to webhook %s: %s", event.event_id, event.kind, webhook.name, problem)
                deliveries.append(Delivery(webhook.name, event.event_id, event.kind, "failed", 0, problem))
                continue
            delivery, unreachable = _deliver(event, webhook, headers, config, post=post, sleep=sleep)
            if delivery.outcome == "sent":
                sent_log.record(webhook.name, event)
            deliveries.append(delivery)
            if unreachable:
                problem = f"not attempted: the webhook did not answer earlier in this run ({delivery.problem})"
    return deliveries


def _headers(webhook: Webhook) -> tuple[dict[str, str], str | None]:
    """The request headers, and why nothing can be sent when the bearer token is missing."""
    headers = {"Content-Type": "application/json", "User-Agent": "toxwatch-alerts"}
    if webhook.secret_env is None:
        return headers, None
    token = os.environ.get(webhook.secret_env, "").strip()
    if not token:
        return headers, f"environment variable {webhook.secret_env} (secret_env) is not set"
    return headers | {"Authorization": f"Bearer {token}"}, None


def _deliver(
    event: AlertEvent, webhook: Webhook, headers: dict[str, str], config: Alerts, *, post: Post, sleep: Callable[[float], None]
) -> tuple[Delivery, bool]:
    """One event to one webhook, retried; also whether the webhook never answered (to stop waiting on it)."""
    body = json.dumps(event.payload(), sort_keys=True).encode("utf-8")
    attempts = config.retries + 1
    for attempt in range(1, attempts + 1):
        try:
            status = post(webhook.url, body, headers, config.timeout_seconds)
        except (OSError, http.client.HTTPException) as error:
            problem, transient, answered = f"no answer ({_reason(error)})", True, False
        else:
            if 200 <= status < 300:
                return Delivery(webhook.name, event.event_id, event.kind, "sent", attempt), False
            problem, transient, answered = f"HTTP {status}", status >= 500, True
        if not transient or attempt == attempts:
            notes.warning(
                "alert %s (%s) not delivered to webhook %s after %d attempt(s): %s; it is tried again at the next run",
                event.event_id, event.kind, webhook.name, attempt, problem,
            )
            return Delivery(webhook.name, event.event_id, event.kind, "failed", attempt, problem), transient and not answered
        wait = backoff_seconds(attempt)
        notes.warning(
            "alert %s (%s): attempt %d of %d to webhook %s failed (%s); retrying in %g s",
            event.event_id, event.kind, attempt, attempts, webhook.name, problem, wait,
        )
        sleep(wait)
    raise AssertionError("unreachable: the last attempt returns")


def _reason(error: BaseException) -> str:
    """Why a request got no answer, without the address (urllib's errors name the reason only)."""
    reason = getattr(error, "reason", None) or error
    return str(reason) or type(error).__name__


def susar_agents(review_dir: Path) -> dict[str, list[str]]:
    """ae_id -> the agents each SUSAR is unexpected for, from the review's expedited_reports table."""
    table = review_dir / "tables" / "expedited_reports.parquet"
    if not table.is_file():
        return {}
    reports = pl.read_parquet(table, columns=["ae_id", "unexpected_for"])
    return {
        row["ae_id"]: [agent for agent in (row["unexpected_for"] or "").split(", ") if agent]
        for row in reports.iter_rows(named=True)
    }


def deliver_alerts(
    review_dir: Path,
    config: TrialConfig,
    store_path: Path,
    *,
    post: Post = post_json,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, int]:
    """Send a review's alerts (from its ``flags.json``) and write ``alerts.json`` beside it: the
    events, and for each webhook what was sent, what had already been sent, and what failed.
    Returns the counts. Without webhooks configured nothing is sent and nothing written."""
    flags_path = review_dir / "flags.json"
    if not flags_path.is_file():
        raise InputError(flags_path, None, "the review has no flags.json", "run the review's analysis before sending alerts")
    flags = json.loads(flags_path.read_text(encoding="utf-8"))
    events = alert_events(flags, report_agents=susar_agents(review_dir))
    alerts = config.model.alerts
    counts = {"events": len(events), "sent": 0, "already_sent": 0, "failed": 0}
    if not alerts.webhooks:
        return counts
    deliveries = send_alerts(events, alerts, sent_log=StoreSentLog(Path(store_path), flags["trial_id"]), post=post, sleep=sleep)
    by_outcome: dict[str, list[dict]] = {"sent": [], "already_sent": [], "failed": []}
    for delivery in deliveries:
        by_outcome[delivery.outcome.replace(" ", "_")].append(delivery.to_dict())
    record = {
        "trial_id": flags["trial_id"],
        "cut_id": flags.get("cut_id"),
        "cut_date": flags["cut_date"],
        "webhooks": [webhook.name for webhook in alerts.webhooks],
        "events": [event.payload() for event in events],
        **by_outcome,
    }
    (review_dir / "alerts.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    return counts | {outcome: len(rows) for outcome, rows in by_outcome.items()}
