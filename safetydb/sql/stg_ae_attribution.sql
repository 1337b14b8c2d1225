-- grain: (ae_id, agent). Attribution per agent; "related" follows the trial's attribution rule, and an attribution not assessed (missing or invalid in the source) counts as related.
SELECT
    t.ae_id, t.agent, t.attribution, t.action,
    list_contains($related_levels, t.attribution) OR t.attribution = 'not_assessed' AS related
FROM ae_attribution AS t
JOIN stg_adverse_events AS a USING (ae_id)
WHERE t.load_id = (SELECT load_id FROM cuts WHERE cut_id = $cut_id)
