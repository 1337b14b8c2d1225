-- grain: subject_id. Treated subjects for a stopping rule: evaluable once they completed the rule's window or had the event; the date they became evaluable orders the monitoring path.
WITH first_event AS (
    SELECT subject_id, MIN(onset_date) AS first_event_date FROM rule_events GROUP BY subject_id
)
SELECT
    d.subject_id,
    d.first_dose_date,
    e.first_event_date,
    e.first_event_date IS NOT NULL AS had_event,
    ($window_days IS NULL OR d.days_observed >= $window_days OR e.first_event_date IS NOT NULL) AS evaluable,
    CASE
        WHEN e.first_event_date IS NOT NULL AND $window_days IS NOT NULL
            THEN LEAST(e.first_event_date, d.first_dose_date + CAST($window_days - 1 AS INTEGER))
        WHEN $window_days IS NOT NULL THEN d.first_dose_date + CAST($window_days - 1 AS INTEGER)
        ELSE d.first_dose_date
    END AS evaluable_date
FROM int_subject_dosing AS d
LEFT JOIN first_event AS e USING (subject_id)
WHERE d.treated
