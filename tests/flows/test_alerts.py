"""Alerts (flows/alerts.py): a rule reaching STOP or WARN, or a SUSAR report due soon or overdue,
is POSTed once to each webhook subscribed to it, with ids and aggregate facts only.

The webhook is a real HTTP server on 127.0.0.1 (port 0) answering a scripted list of statuses.
The hand-made review below has, at each cut:

- severe_hemorrhage: STOP (2 events among 12 evaluable; stops at 2)  -> one rule_stop alert
- severe_trae_rate:  WARN at the first cut (3 of 10), STOP at the second (4 of 11) -> rule_warn, then rule_stop
- related_death:     OK                                               -> no alert
- AE6 (S3): a SUSAR report overdue since 2025-02-26                  -> one report_overdue alert

so the first delivery sends 3 alerts, and the second cut adds exactly one (severe_trae_rate at STOP).
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from flows.alerts import StoreSentLog, alert_events, backoff_seconds, deliver_alerts, send_alerts
from safetydb import alert_log
from safetydb.store import SafetyStore
from tests.conftest import BUNDLED_CONFIG, make_mini_trial
from trial.config import Alerts, Webhook, load_trial_config
from trial.errors import InputError

TRIAL = "npc-apatinib-pd1"
# What a payload may hold, typed by hand from the operations issue: ids, dates, counts, statuses.
COMMON_KEYS = {"event_id", "kind", "trial_id", "cut_id", "cut_date"}
RULE_KEYS = COMMON_KEYS | {"rule_id", "title", "status", "evaluable", "events", "boundary", "statement"}
REPORT_KEYS = COMMON_KEYS | {"ae_id", "subject_id", "agents", "due_date", "level"}
# Free text the review holds that must never leave in an alert.
FREE_TEXT = ("Pharyngeal hemorrhage", "nosebleed after biopsy", "overdue by 125 days", "CTCAE grade >= 3")


def rule(rule_id: str, status: str, evaluable: int, events: int, boundary: int, statement: str) -> dict:
    return {
        "rule_id": rule_id,
        "title": rule_id.replace("_", " ").capitalize(),
        "kind": "bayes",
        "status": status,
        "evaluable": evaluable,
        "events": events,
        "boundary": boundary,
        "statement": statement,
        "definition": {"grade_min": 3, "text": "CTCAE grade >= 3"},
        "qualifying_events": [{"ae_id": "AE6", "verbatim_term": "nosebleed after biopsy"}],
        "history": [],
    }


def review_flags(cut_date: str, cut_id: str, *, trae_status: str = "WARN", trae_events: int = 3, trae_evaluable: int = 10) -> dict:
    return {
        "trial_id": TRIAL,
        "cut_date": cut_date,
        "cut_id": cut_id,
        "stopping": {"status": "STOP", "statement": "Stopping boundary crossed: severe_hemorrhage."},
        "rules": [
            rule("severe_hemorrhage", "STOP", 12, 2, 1, "2 qualifying event(s); the rule stops at 2."),
            rule("severe_trae_rate", trae_status, trae_evaluable, trae_events, 3, f"{trae_events} of {trae_evaluable} evaluable subjects."),
            rule("related_death", "OK", 12, 0, 0, "0 qualifying event(s); the rule stops at 1."),
        ],
        "expedited": [
            {"ae_id": "AE6", "subject_id": "S3", "ctcae_term": "Pharyngeal hemorrhage", "level": "overdue",
             "clock": "overdue by 125 days", "due_date": "2025-02-26"},
        ],
    }


FIRST_CUT = review_flags("2025-07-01", "cut-0701")
SECOND_CUT = review_flags("2025-08-01", "cut-0801", trae_status="STOP", trae_events=4, trae_evaluable=11)


class MemorySentLog:
    """The sent log kept in memory (the store's is tested on its own below)."""

    def __init__(self) -> None:
        self.rows: set[tuple[str, str]] = set()

    def delivered(self, webhook: str) -> set[str]:
        return {event_id for name, event_id in self.rows if name == webhook}

    def record(self, webhook: str, event) -> None:
        self.rows.add((webhook, event.event_id))


class Receiver:
    """What the local webhook received, and the statuses it is to answer (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict]] = []
        self.answers: list[int] = []
        self.url = ""

    @property
    def payloads(self) -> list[dict]:
        return [payload for _, payload in self.requests]


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """Loopback requests go straight to the local server, whatever proxy the machine sets."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def receiver():
    received = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.requests.append((dict(self.headers), json.loads(body)))
            status = received.answers.pop(0) if received.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    received.url = f"http://127.0.0.1:{server.server_port}/toxwatch"
    yield received
    server.shutdown()
    server.server_close()


@pytest.fixture
def warnings_logged(monkeypatch, caplog):
    monkeypatch.setattr(logging.getLogger("toxwatch"), "propagate", True)  # the CLI turns it off
    caplog.set_level(logging.WARNING, logger="toxwatch")
    return caplog


def settings(url: str, **webhook: object) -> Alerts:
    return Alerts(webhooks=[Webhook(name="dsmb-pager", url=url, **webhook)])


def sent(receiver: Receiver) -> list[tuple[str, str]]:
    return [(p["kind"], p.get("rule_id") or p.get("ae_id")) for p in receiver.payloads]


# ---- the events ------------------------------------------------------------------------------

def test_one_event_per_rule_at_stop_or_warn_and_per_report_due():
    events = alert_events(FIRST_CUT)
    assert [(e.kind, e.facts.get("rule_id") or e.facts.get("ae_id")) for e in events] == [
        ("rule_stop", "severe_hemorrhage"),
        ("rule_warn", "severe_trae_rate"),
        ("report_overdue", "AE6"),
    ]


def test_the_same_status_at_the_next_cut_is_the_same_event_and_warn_to_stop_is_a_new_one():
    first = {e.facts.get("rule_id") or e.facts["ae_id"]: e.event_id for e in alert_events(FIRST_CUT)}
    second = {e.facts.get("rule_id") or e.facts["ae_id"]: e.event_id for e in alert_events(SECOND_CUT)}
    assert second["severe_hemorrhage"] == first["severe_hemorrhage"]
    assert second["AE6"] == first["AE6"]
    assert second["severe_trae_rate"] != first["severe_trae_rate"]


def test_a_report_due_soon_then_due_today_then_overdue_is_three_events():
    """Each step of the clock is news: due in 2 days, due today, overdue."""
    ids, kinds = [], []
    for level in ("due soon", "due today", "overdue"):
        flags = {"trial_id": TRIAL, "cut_date": "2025-07-01", "cut_id": "c", "rules": [],
                 "expedited": [{"ae_id": "AE9", "subject_id": "S5", "level": level, "due_date": "2025-07-03"}]}
        (event,) = alert_events(flags)
        ids.append(event.event_id)
        kinds.append(event.kind)
    assert kinds == ["report_due_soon", "report_due_soon", "report_overdue"]
    assert len(set(ids)) == 3


# ---- delivery --------------------------------------------------------------------------------

def test_each_alert_is_received_once_over_two_deliveries(receiver):
    log = MemorySentLog()
    first = send_alerts(alert_events(FIRST_CUT), settings(receiver.url), sent_log=log)
    again = send_alerts(alert_events(FIRST_CUT), settings(receiver.url), sent_log=log)
    assert sent(receiver) == [("rule_stop", "severe_hemorrhage"), ("rule_warn", "severe_trae_rate"), ("report_overdue", "AE6")]
    assert [d.outcome for d in first] == ["sent"] * 3
    assert [d.outcome for d in again] == ["already sent"] * 3


def test_a_rule_going_from_warn_to_stop_sends_one_new_alert(receiver):
    log = MemorySentLog()
    send_alerts(alert_events(FIRST_CUT), settings(receiver.url), sent_log=log)
    second = send_alerts(alert_events(SECOND_CUT), settings(receiver.url), sent_log=log)
    assert sent(receiver)[3:] == [("rule_stop", "severe_trae_rate")]
    assert receiver.payloads[3]["cut_date"] == "2025-08-01"
    assert [d.outcome for d in second] == ["already sent", "sent", "already sent"]


def test_a_webhook_receives_only_the_kinds_it_subscribes_to(receiver):
    send_alerts(alert_events(FIRST_CUT), settings(receiver.url, events=["report_overdue"]), sent_log=MemorySentLog())
    assert sent(receiver) == [("report_overdue", "AE6")]


def test_payloads_hold_ids_and_aggregate_facts_only(receiver):
    send_alerts(alert_events(FIRST_CUT), settings(receiver.url), sent_log=MemorySentLog())
    stop, _, report = receiver.payloads
    assert set(stop) == RULE_KEYS
    assert set(report) == REPORT_KEYS
    assert {key: value for key, value in report.items() if key != "event_id"} == {
        "kind": "report_overdue", "trial_id": TRIAL, "cut_id": "cut-0701", "cut_date": "2025-07-01",
        "ae_id": "AE6", "subject_id": "S3", "agents": [], "due_date": "2025-02-26", "level": "overdue",
    }
    assert (stop["status"], stop["events"], stop["evaluable"], stop["boundary"]) == ("STOP", 2, 12, 1)
    bodies = json.dumps(receiver.payloads)
    for text in FREE_TEXT:
        assert text not in bodies
    headers = receiver.requests[0][0]
    assert headers["Content-Type"] == "application/json"
    assert "Authorization" not in headers


def test_the_bearer_token_comes_from_the_environment_variable_named(receiver, monkeypatch):
    monkeypatch.setenv("TOXWATCH_TEST_WEBHOOK_TOKEN", "s3cret-token")
    send_alerts(alert_events(FIRST_CUT)[:1], settings(receiver.url, secret_env="TOXWATCH_TEST_WEBHOOK_TOKEN"), sent_log=MemorySentLog())
    assert receiver.requests[0][0]["Authorization"] == "Bearer s3cret-token"


def test_a_missing_token_fails_loudly_and_sends_nothing(receiver, monkeypatch, warnings_logged):
    monkeypatch.delenv("TOXWATCH_TEST_WEBHOOK_TOKEN", raising=False)
    log = MemorySentLog()
    deliveries = send_alerts(alert_events(FIRST_CUT), settings(receiver.url, secret_env="TOXWATCH_TEST_WEBHOOK_TOKEN"), sent_log=log)
    assert receiver.requests == []
    assert [d.outcome for d in deliveries] == ["failed"] * 3
    assert "TOXWATCH_TEST_WEBHOOK_TOKEN" in warnings_logged.text
    assert log.rows == set()


def test_a_server_answering_500_twice_then_200_gets_the_alert_on_the_third_try(receiver):
    receiver.answers = [500, 500]
    waits: list[float] = []
    (delivery,) = send_alerts(alert_events(FIRST_CUT)[:1], settings(receiver.url), sent_log=MemorySentLog(), sleep=waits.append)
    assert (delivery.outcome, delivery.attempts) == ("sent", 3)
    assert waits == [1, 2]
    assert len(receiver.requests) == 3
    assert receiver.payloads[0] == receiver.payloads[2]


def test_a_server_answering_500_always_fails_with_a_warning_and_gets_the_alert_next_run(receiver, warnings_logged):
    """retries = 3: four attempts, waits of 1, 2 and 4 s; nothing recorded, so the next run sends it."""
    receiver.answers = [500] * 4
    log = MemorySentLog()
    waits: list[float] = []
    events = alert_events(FIRST_CUT)[:1]
    (failed,) = send_alerts(events, settings(receiver.url), sent_log=log, sleep=waits.append)
    assert (failed.outcome, failed.attempts, failed.problem) == ("failed", 4, "HTTP 500")
    assert waits == [1, 2, 4]
    assert log.rows == set()
    final = [r for r in warnings_logged.records if "not delivered" in r.getMessage()]
    assert len(final) == 1 and final[0].levelno == logging.WARNING
    assert "dsmb-pager" in final[0].getMessage() and receiver.url not in warnings_logged.text

    (recovered,) = send_alerts(events, settings(receiver.url), sent_log=log, sleep=waits.append)
    assert (recovered.outcome, recovered.attempts) == ("sent", 1)
    assert len(receiver.requests) == 5


def test_a_4xx_answer_is_not_retried(receiver, warnings_logged):
    receiver.answers = [403]
    waits: list[float] = []
    (failed,) = send_alerts(alert_events(FIRST_CUT)[:1], settings(receiver.url), sent_log=MemorySentLog(), sleep=waits.append)
    assert (failed.outcome, failed.attempts, failed.problem) == ("failed", 1, "HTTP 403")
    assert waits == []
    assert "HTTP 403" in warnings_logged.text


def test_a_webhook_that_does_not_answer_is_retried_then_not_waited_on_again(warnings_logged):
    """Connection refused: the first event is tried 1 + retries times; the other two are failed at once."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    closed_port = server.server_port
    server.server_close()
    waits: list[float] = []
    deliveries = send_alerts(
        alert_events(FIRST_CUT), settings(f"http://127.0.0.1:{closed_port}/x"), sent_log=MemorySentLog(), sleep=waits.append
    )
    assert [(d.outcome, d.attempts) for d in deliveries] == [("failed", 4), ("failed", 0), ("failed", 0)]
    assert waits == [1, 2, 4]
    assert deliveries[0].problem.startswith("no answer")
    assert deliveries[2].problem.startswith("not attempted")


def test_the_wait_between_attempts_doubles_up_to_a_cap():
    assert [backoff_seconds(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


# ---- the sent log in the store ------------------------------------------------------------------

def test_the_store_log_keeps_one_row_per_trial_webhook_and_event(tmp_path):
    with SafetyStore(tmp_path / "store.duckdb") as store:
        for _ in range(2):
            alert_log.record_delivery(store, trial_id=TRIAL, webhook="pager", event_id="e1", kind="rule_stop", cut_id="c1")
        alert_log.record_delivery(store, trial_id=TRIAL, webhook="pager", event_id="e2", kind="rule_warn", cut_id="c1")
        alert_log.record_delivery(store, trial_id="other-trial", webhook="pager", event_id="e3", kind="rule_warn", cut_id="c9")
        assert alert_log.delivered(store, TRIAL, "pager") == {"e1", "e2"}
        assert alert_log.delivered(store, TRIAL, "email") == set()
        assert store.connection.execute("SELECT COUNT(*) FROM alerts_sent").fetchone()[0] == 4 - 1


def test_a_store_without_the_log_table_gets_it_on_open(tmp_path):
    """A layout-3 store written before alerts existed: the table is added, nothing else changes."""
    path = tmp_path / "store.duckdb"
    with SafetyStore(path) as store:
        store.connection.execute("DROP TABLE alerts_sent")
    with SafetyStore(path) as store:
        assert alert_log.delivered(store, TRIAL, "pager") == set()


def test_the_store_log_is_the_one_send_alerts_consults(receiver, tmp_path):
    log = StoreSentLog(tmp_path / "store.duckdb", TRIAL)
    send_alerts(alert_events(FIRST_CUT), settings(receiver.url), sent_log=log)
    again = send_alerts(alert_events(FIRST_CUT), settings(receiver.url), sent_log=StoreSentLog(tmp_path / "store.duckdb", TRIAL))
    assert len(receiver.requests) == 3
    assert [d.outcome for d in again] == ["already sent"] * 3


# ---- the configuration ------------------------------------------------------------------------

ALERTS_TOML = """
[alerts]
retries = 1
timeout_seconds = 2

[[alerts.webhooks]]
name = "dsmb-pager"
url = "{url}"
"""


def trial_config(folder: Path, url: str) -> Path:
    path = folder / "trial.toml"
    path.write_text(BUNDLED_CONFIG.read_text() + ALERTS_TOML.format(url=url))
    return path


def test_the_alerts_section_defaults_and_values(tmp_path):
    assert load_trial_config(BUNDLED_CONFIG).model.alerts == Alerts(webhooks=[], retries=3, timeout_seconds=10)
    alerts = load_trial_config(trial_config(tmp_path, "https://hooks.example.org/t")).model.alerts
    assert (alerts.retries, alerts.timeout_seconds) == (1, 2)
    assert alerts.webhooks[0].events == ["rule_stop", "rule_warn", "report_due_soon", "report_overdue"]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://hooks.example.org/t", "http:// or https://"),
        ("hooks.example.org/t", "http:// or https://"),
        ("https://user:token@hooks.example.org/t", "secret_env"),
    ],
)
def test_a_webhook_address_must_be_http_without_credentials(tmp_path, url, problem):
    with pytest.raises(InputError) as caught:
        load_trial_config(trial_config(tmp_path, url))
    assert caught.value.field == "alerts.webhooks[1].url"
    assert problem in caught.value.problem


def test_an_unknown_event_kind_is_refused(tmp_path):
    path = trial_config(tmp_path, "https://hooks.example.org/t")
    path.write_text(path.read_text() + 'events = ["rule_stop", "rule_ok"]\n')
    with pytest.raises(InputError) as caught:
        load_trial_config(path)
    assert caught.value.field == "alerts.webhooks[1].events[2]"


# ---- the stage -------------------------------------------------------------------------------

def test_deliver_alerts_sends_records_and_writes_alerts_json(receiver, tmp_path):
    config = load_trial_config(trial_config(tmp_path, receiver.url))
    review = tmp_path / "out" / TRIAL / "2025-07-01"
    review.mkdir(parents=True)
    (review / "flags.json").write_text(json.dumps(FIRST_CUT))
    store = tmp_path / "store.duckdb"

    assert deliver_alerts(review, config, store) == {"events": 3, "sent": 3, "already_sent": 0, "failed": 0}
    assert deliver_alerts(review, config, store) == {"events": 3, "sent": 0, "already_sent": 3, "failed": 0}
    assert len(receiver.requests) == 3
    written = json.loads((review / "alerts.json").read_text())
    assert written["webhooks"] == ["dsmb-pager"]
    assert [row["kind"] for row in written["already_sent"]] == ["rule_stop", "rule_warn", "report_overdue"]
    assert written["sent"] == written["failed"] == []


@pytest.mark.slow
def test_the_mini_trial_review_alerts_its_stops_and_overdue_report_once(receiver, tmp_path):
    """The mini trial (tests/data/mini) at its default cut: related_death and severe_hemorrhage at
    STOP, severe_trae_rate OK, and AE6 (S3, pharyngeal hemorrhage related to apatinib, not in its
    RSI) a SUSAR overdue since 2025-02-26."""
    from flows.stages import analyse, ingest

    config_path = make_mini_trial(tmp_path / "mini")
    config_path.write_text(config_path.read_text() + ALERTS_TOML.format(url=receiver.url))
    loaded = ingest(config_path)
    analyse(loaded)
    review = Path(loaded.out_dir)
    for _ in range(2):
        deliver_alerts(review, loaded.config, Path(loaded.database_path))
    assert sent(receiver) == [("rule_stop", "related_death"), ("rule_stop", "severe_hemorrhage"), ("report_overdue", "AE6")]
    report = receiver.payloads[2]
    assert (report["subject_id"], report["agents"], report["due_date"]) == ("S3", ["apatinib"], "2025-02-26")
    assert set(report) == REPORT_KEYS
    assert "Pharyngeal hemorrhage" not in json.dumps(receiver.payloads)
