-- grain: category. Exposure-adjusted incidence (tern AET05 style) of treatment-emergent AEs among treated subjects: subjects with the event, subject-days and patient-years at risk, rate per 100 patient-years; the exact interval is added in Python (safetydb/exposure_rates.py, table t_eair).
-- Categories: any TEAE, grade >= 3, serious, treatment-related (per [attribution]), and each AESI
-- set (any grade). Time at risk, from the first dose (day 1), in days counting both ends: to the
-- onset of the subject's first event of the category, for a subject with one; otherwise to the end
-- of the treatment-emergent window: the last dose + teae_end_days (the cut when there is no end
-- window), or death, last contact or the cut if earlier. A subject whose last contact is not
-- recorded counts as followed to the last dose only (the shorter time, the higher rate). Patient-
-- years = days / 365.25. Doubtful records count as int_adverse_events reads them (grade 3 when
-- missing, serious when unknown, related when not assessed).
-- In a trial graded by severity ($grading) the grade >= 3 label reads "severe or fatal".
WITH treated AS (
    SELECT
        subject_id,
        first_dose_date,
        GREATEST(
            first_dose_date,
            LEAST(
                last_dose_date + CAST($teae_end_days AS INTEGER),  -- NULL without an end window: LEAST skips it
                death_date,
                CASE WHEN last_contact_recorded THEN last_contact_date ELSE last_dose_date END,
                CAST($cut_date AS DATE)
            )
        ) AS window_end
    FROM int_subject_dosing
    WHERE treated
),
categories AS (
    SELECT 1 AS ord, 'any_teae' AS category, 'Any TEAE' AS label
    UNION ALL SELECT 2, 'grade_3_plus', CASE WHEN $grading = 'severity' THEN 'Severe or fatal TEAE' ELSE 'Grade >= 3 TEAE' END
    UNION ALL SELECT 3, 'serious', 'Serious TEAE'
    UNION ALL SELECT 4, 'related', 'Treatment-related TEAE'
    UNION ALL SELECT 4 + dense_rank() OVER (ORDER BY aesi), 'aesi_' || aesi, 'AESI: ' || label
    FROM (SELECT DISTINCT aesi, label FROM aesi_terms)
),
events AS (
    SELECT 'any_teae' AS category, subject_id, onset_date FROM int_adverse_events WHERE teae
    UNION ALL SELECT 'grade_3_plus', subject_id, onset_date FROM int_adverse_events WHERE teae AND grade >= 3
    UNION ALL SELECT 'serious', subject_id, onset_date FROM int_adverse_events WHERE teae AND serious = 'Y'
    UNION ALL SELECT 'related', subject_id, onset_date FROM int_adverse_events WHERE teae AND related_any
    UNION ALL
    SELECT 'aesi_' || m.aesi, a.subject_id, a.onset_date
    FROM int_ae_aesi AS m
    JOIN int_adverse_events AS a USING (ae_id)
    WHERE a.teae
),
first_events AS (
    SELECT category, subject_id, MIN(onset_date) AS first_onset_date
    FROM events
    GROUP BY category, subject_id
),
at_risk AS (
    SELECT
        c.ord, c.category, c.label, t.subject_id, f.first_onset_date,
        date_diff('day', t.first_dose_date, COALESCE(f.first_onset_date, t.window_end)) + 1 AS days_at_risk
    FROM categories AS c
    CROSS JOIN treated AS t
    LEFT JOIN first_events AS f ON f.category = c.category AND f.subject_id = t.subject_id
)
SELECT
    c.ord,
    c.category,
    c.label,
    COUNT(r.first_onset_date) AS subjects_with_event,
    COUNT(r.subject_id) AS subjects,
    CAST(COALESCE(SUM(r.days_at_risk), 0) AS BIGINT) AS subject_days,
    COALESCE(SUM(r.days_at_risk), 0) / 365.25 AS patient_years,
    100.0 * COUNT(r.first_onset_date) / NULLIF(COALESCE(SUM(r.days_at_risk), 0) / 365.25, 0) AS rate_per_100_patient_years
FROM categories AS c
LEFT JOIN at_risk AS r USING (ord, category, label)
GROUP BY c.ord, c.category, c.label
ORDER BY c.ord
