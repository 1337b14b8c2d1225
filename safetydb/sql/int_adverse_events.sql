-- grain: ae_id. Study day (day 1 = first dose), cycle, treatment-emergence, acute/late phase, relatedness and actions.
WITH per_ae AS (
    SELECT
        ae_id,
        bool_or(related) AS related_any,
        bool_or(action = 'dose_reduced') AS led_to_reduction,
        bool_or(action = 'drug_interrupted') AS led_to_interruption,
        bool_or(action = 'drug_withdrawn') AS led_to_withdrawal
    FROM stg_ae_attribution
    GROUP BY ae_id
)
SELECT
    a.*,
    d.first_dose_date,
    date_diff('day', d.first_dose_date, a.onset_date) + 1 AS study_day,
    CASE WHEN a.onset_date >= d.first_dose_date
        THEN CAST(floor(date_diff('day', d.first_dose_date, a.onset_date) / $cycle_days) AS INTEGER) + 1
    END AS cycle,
    COALESCE(
        a.onset_date >= d.first_dose_date
        AND ($teae_end_days IS NULL OR a.onset_date <= d.last_dose_date + CAST($teae_end_days AS INTEGER)),
        FALSE
    ) AS teae,
    CASE
        WHEN a.onset_date < d.first_dose_date OR d.first_dose_date IS NULL THEN NULL
        WHEN date_diff('day', d.first_dose_date, a.onset_date) < $acute_days THEN 'acute'
        ELSE 'late'
    END AS phase,
    COALESCE(p.related_any, FALSE) AS related_any,
    COALESCE(p.led_to_reduction, FALSE) AS led_to_reduction,
    COALESCE(p.led_to_interruption, FALSE) AS led_to_interruption,
    COALESCE(p.led_to_withdrawal, FALSE) AS led_to_withdrawal
FROM stg_adverse_events AS a
JOIN int_subject_dosing AS d USING (subject_id)
LEFT JOIN per_ae AS p USING (ae_id)
