-- grain: (subject_id, agent, start_date). Administration records started by the cut date; intervals clipped at it. A record whose dose is missing counts as the planned dose given (dose_recorded = false).
SELECT
    e.subject_id, e.agent, e.start_date, LEAST(e.end_date, $cut_date) AS end_date,
    COALESCE(e.dose_mg, e.planned_dose_mg) AS dose_mg, e.dose_mg IS NOT NULL AS dose_recorded,
    e.planned_dose_mg, e.adjustment, e.adjustment_reason
FROM exposure AS e
JOIN stg_subjects AS s USING (subject_id)
WHERE e.load_id = (SELECT load_id FROM cuts WHERE cut_id = $cut_id) AND e.start_date <= $cut_date
