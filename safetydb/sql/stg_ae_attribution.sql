-- grain: (ae_id, agent). Attribution per agent; "related" follows the trial's attribution rule.
SELECT
    t.ae_id, t.agent, t.attribution, t.action,
    list_contains($related_levels, t.attribution) AS related
FROM ae_attribution AS t
JOIN stg_adverse_events AS a USING (ae_id)
WHERE t.cut_id = $cut_id
