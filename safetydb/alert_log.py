"""The log of alerts delivered (table ``alerts_sent``, sql/schema.sql): one row per trial, webhook
and event that reached the webhook. Only successful deliveries are recorded, so an event that
failed is tried again at the next run, and one that succeeded is never sent to that webhook again.
"""

from __future__ import annotations

from datetime import datetime, timezone

from safetydb.store import SafetyStore


def delivered(store: SafetyStore, trial_id: str, webhook: str) -> set[str]:
    """The ids of the events already delivered to ``webhook`` for the trial."""
    rows = store.connection.execute(
        "SELECT event_id FROM alerts_sent WHERE trial_id = $trial_id AND webhook = $webhook",
        {"trial_id": trial_id, "webhook": webhook},
    ).fetchall()
    return {event_id for (event_id,) in rows}


def record_delivery(
    store: SafetyStore,
    *,
    trial_id: str,
    webhook: str,
    event_id: str,
    kind: str,
    cut_id: str | None,
    sent_at: datetime | None = None,
) -> None:
    """Record that ``webhook`` received the event; recording it twice keeps the first row."""
    sent_at = sent_at or datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    store.connection.execute(
        """
        INSERT INTO alerts_sent (trial_id, webhook, event_id, kind, sent_at, cut_id)
        VALUES ($trial_id, $webhook, $event_id, $kind, $sent_at, $cut_id)
        ON CONFLICT DO NOTHING
        """,
        {"trial_id": trial_id, "webhook": webhook, "event_id": event_id, "kind": kind, "sent_at": sent_at, "cut_id": cut_id},
    )
