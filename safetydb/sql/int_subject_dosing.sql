-- grain: subject_id. Treatment dates and observation time; treated = received at least one dose.
WITH dosed AS (
    SELECT subject_id, MIN(start_date) AS first_dose_date, MAX(end_date) AS last_dose_date
    FROM stg_exposure
    WHERE dose_mg > 0
    GROUP BY subject_id
)
SELECT
    s.*,
    d.first_dose_date,
    d.last_dose_date,
    d.first_dose_date IS NOT NULL AS treated,
    COALESCE(s.death_date, s.last_contact_date) AS follow_up_end,
    date_diff('day', d.first_dose_date, COALESCE(s.death_date, s.last_contact_date)) + 1 AS days_observed
FROM stg_subjects AS s
LEFT JOIN dosed AS d USING (subject_id)
