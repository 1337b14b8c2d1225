-- grain: agent. Exposure per agent: subjects dosed, days on treatment, dose reductions and holds.
WITH per_subject AS (
    SELECT
        agent, subject_id,
        MIN(start_date) FILTER (WHERE administered) AS first_dose,
        MAX(end_date) FILTER (WHERE administered) AS last_dose,
        COUNT(*) FILTER (WHERE administered) AS dosing_records,
        bool_or(adjustment = 'reduced') AS reduced,
        bool_or(adjustment = 'held') AS held,
        bool_or(adjustment = 'discontinued') AS discontinued
    FROM stg_exposure
    GROUP BY agent, subject_id
)
SELECT
    agent,
    COUNT(*) FILTER (WHERE first_dose IS NOT NULL) AS subjects_dosed,
    median(date_diff('day', first_dose, last_dose) + 1) AS median_days_on_treatment,
    CAST(SUM(date_diff('day', first_dose, last_dose) + 1) AS BIGINT) AS subject_days,
    COUNT(*) FILTER (WHERE reduced) AS subjects_reduced,
    COUNT(*) FILTER (WHERE held) AS subjects_held,
    COUNT(*) FILTER (WHERE discontinued) AS subjects_discontinued
FROM per_subject
GROUP BY agent
ORDER BY agent
