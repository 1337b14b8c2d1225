-- grain: (ae_id, agent). Reconciliation: an AE whose action on an agent (dose reduced, drug interrupted or withdrawn) has no matching exposure record for that agent (reduced, held or discontinued) starting between onset - window and resolution (or the cut) + window.
WITH actions(action, adjustment) AS (
    -- The two controlled vocabularies: AE action taken -> exposure adjustment that records it.
    VALUES ('dose_reduced', 'reduced'), ('drug_interrupted', 'held'), ('drug_withdrawn', 'discontinued')
)
SELECT
    'adverse_events' AS source,
    t.ae_id AS record_key,
    a.subject_id,
    'action_' || t.agent AS field,
    t.action AS value,
    'ae_action_without_exposure_change' AS "check",
    a.ae_term || ' (onset ' || strftime(a.onset_date, '%Y-%m-%d') || ') has action ' || t.action || ' on ' || t.agent
        || ', but no ' || m.adjustment || ' exposure record of ' || t.agent || ' starts within '
        || CAST($dose_action_window_days AS VARCHAR) || ' days of the event' AS problem,
    'record the ' || m.adjustment || ' exposure of ' || t.agent || ', or correct the AE action' AS fix
FROM stg_ae_attribution AS t
JOIN actions AS m USING (action)
JOIN int_adverse_events AS a USING (ae_id)
WHERE NOT EXISTS (
    SELECT 1 FROM stg_exposure AS e
    WHERE e.subject_id = a.subject_id
        AND e.agent = t.agent
        AND e.adjustment = m.adjustment
        AND e.start_date BETWEEN a.onset_date - CAST($dose_action_window_days AS INTEGER)
            AND COALESCE(a.resolution_date, $cut_date) + CAST($dose_action_window_days AS INTEGER)
)
