-- grain: ae_id. Study day (day 1 = first dose), cycle, treatment-emergence, acute/late phase, the term tabulated (the MedDRA preferred term as coded when given, else the CTCAE term, an "Other, specify" event under its specified text; an event not yet coded under its verbatim term), relatedness and actions.
WITH spellings AS (
    SELECT
        lower(regexp_replace(trim(other_specify), '\s+', ' ', 'g')) AS specify_key,
        regexp_replace(trim(other_specify), '\s+', ' ', 'g') AS spelling,
        COUNT(*) AS records
    FROM stg_adverse_events
    WHERE other_specify_term AND other_specify IS NOT NULL
    GROUP BY ALL
),
specified AS (
    -- "Other, specify" texts folded for case and spacing; each shown in its most frequent spelling.
    SELECT specify_key, first(spelling ORDER BY records DESC, spelling) AS specified_term
    FROM spellings
    GROUP BY specify_key
),
per_ae AS (
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
    COALESCE(a.meddra_pt, sp.specified_term, a.ctcae_term, a.verbatim_term) AS ae_term,
    d.first_dose_date,
    d.last_dose_date,
    date_diff('day', d.first_dose_date, a.onset_date) + 1 AS study_day,
    cycles.cycle,
    cycles.after_treatment,
    COALESCE(
        a.onset_date >= d.first_dose_date
        AND ($teae_end_days IS NULL OR a.onset_date <= d.last_dose_date + CAST($teae_end_days AS INTEGER)),
        FALSE
    ) AS teae,
    -- Acute: study days 1..acute_days; late: after that up to the follow-up horizon, whatever the last dose.
    CASE
        WHEN a.onset_date < d.first_dose_date OR d.first_dose_date IS NULL THEN NULL
        WHEN date_diff('day', d.first_dose_date, a.onset_date) < $acute_days THEN 'acute'
        WHEN date_diff('day', d.first_dose_date, a.onset_date) < $follow_up_days THEN 'late'
    END AS phase,
    COALESCE(p.related_any, FALSE) AS related_any,
    COALESCE(p.led_to_reduction, FALSE) AS led_to_reduction,
    COALESCE(p.led_to_interruption, FALSE) AS led_to_interruption,
    COALESCE(p.led_to_withdrawal, FALSE) AS led_to_withdrawal
FROM stg_adverse_events AS a
JOIN int_subject_dosing AS d USING (subject_id)
LEFT JOIN int_ae_cycles AS cycles USING (ae_id)
LEFT JOIN specified AS sp
    ON a.other_specify_term AND sp.specify_key = lower(regexp_replace(trim(a.other_specify), '\s+', ' ', 'g'))
LEFT JOIN per_ae AS p USING (ae_id)
