-- grain: (subject_id, agent, start_date). Reconciliation: an exposure record held, reduced or discontinued for an adverse event (adjustment_reason other than "other") with no AE of the subject, ongoing then (onset up to start + window, not resolved before start - window), whose action on that agent records it.
WITH actions(action, adjustment) AS (
    -- The two controlled vocabularies: exposure adjustment -> AE action taken that records it.
    VALUES ('dose_reduced', 'reduced'), ('drug_interrupted', 'held'), ('drug_withdrawn', 'discontinued')
)
SELECT
    'exposure' AS source,
    e.subject_id || '/' || e.agent || '/' || strftime(e.start_date, '%Y-%m-%d') AS record_key,
    e.subject_id,
    'adjustment' AS field,
    e.adjustment AS value,
    'exposure_change_without_ae_action' AS "check",
    e.agent || ' ' || e.adjustment || ' from ' || strftime(e.start_date, '%Y-%m-%d') || ' for ' || e.adjustment_reason
        || ', but no AE of the subject ongoing then has action ' || m.action || ' on ' || e.agent AS problem,
    'set the action of the AE that caused it to ' || m.action || ', or correct the exposure record' AS fix
FROM stg_exposure AS e
JOIN actions AS m USING (adjustment)
WHERE COALESCE(lower(e.adjustment_reason), 'other') <> 'other'
    AND NOT EXISTS (
        SELECT 1 FROM stg_ae_attribution AS t
        JOIN int_adverse_events AS a USING (ae_id)
        WHERE a.subject_id = e.subject_id
            AND t.agent = e.agent
            AND t.action = m.action
            AND a.onset_date <= e.start_date + CAST($dose_action_window_days AS INTEGER)
            AND COALESCE(a.resolution_date, $cut_date) >= e.start_date - CAST($dose_action_window_days AS INTEGER)
    )
