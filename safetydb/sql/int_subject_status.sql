-- grain: subject_id. Each enrolled subject's status at the cut: site, treatment (on treatment, or ended and why), death and when, last contact.
-- Died: the subjects file records a death by the cut (a death date, or a death cause with no date:
-- a death of unknown date); or, unless the subjects file dates the death after the cut, the subject
-- has an AE counted at grade 5 (int_adverse_events: grade or outcome as counted, after the
-- conservative readings) or ended treatment for the reason "death". Such a death has no recorded
-- date: a death of unknown date (queried: fatal_ae_without_death, death_reason_without_death_date).
-- death_recorded says whether the subjects file records it.
-- On treatment: treated, alive, and no end of treatment by the cut (neither a date nor a reason).
-- Ended treatment: treated, and an end of treatment by the cut (a date on or before it, or a reason
-- with no date: ended on an unknown date, end_of_treatment_date_unknown) or a death; the reason as
-- given, "reason missing" when the date has none, "died, no end of treatment recorded" for a death
-- without one. Death timing: on treatment (on or before the end-of-treatment date, or with no
-- end-of-treatment date recorded), after the end of treatment, date unknown, or never dosed.
-- died_within_30_days_of_last_dose: as t_deaths' within_30_days_of_last_dose (the death date no
-- later than the last dose + 30 days), NULL when the death has no date. last_contact_date is empty
-- when the source has none (stg_subjects keeps it empty).
WITH fatal AS (
    SELECT DISTINCT subject_id FROM int_adverse_events WHERE grade = 5
),
subjects AS (
    SELECT
        d.*,
        d.death_date IS NOT NULL OR d.death_cause IS NOT NULL AS death_recorded,
        d.death_date IS NOT NULL OR d.death_cause IS NOT NULL
            OR (NOT d.death_after_cut AND (f.subject_id IS NOT NULL OR COALESCE(d.end_of_treatment_reason = 'death', FALSE))) AS died,
        d.end_of_treatment_date IS NOT NULL OR d.end_of_treatment_reason IS NOT NULL AS ended_by_record
    FROM int_subject_dosing AS d
    LEFT JOIN fatal AS f USING (subject_id)
)
SELECT
    s.subject_id,
    COALESCE(s.site_id, '(missing)') AS site_id,
    COALESCE(n.site_name, s.site_id, 'Site missing') AS site_name,
    s.enrolment_date,
    s.treated,
    s.first_dose_date,
    s.last_dose_date,
    s.treated AND NOT s.died AND NOT s.ended_by_record AS on_treatment,
    s.treated AND (s.died OR s.ended_by_record) AS ended_treatment,
    s.end_of_treatment_date,
    CASE
        WHEN NOT s.treated THEN NULL
        WHEN s.end_of_treatment_date IS NOT NULL THEN COALESCE(s.end_of_treatment_reason, 'reason missing')
        WHEN s.end_of_treatment_reason IS NOT NULL THEN s.end_of_treatment_reason
        WHEN s.died THEN 'died, no end of treatment recorded'
    END AS end_of_treatment_reason,
    s.treated AND s.end_of_treatment_date IS NULL AND s.end_of_treatment_reason IS NOT NULL AS end_of_treatment_date_unknown,
    s.died,
    s.death_recorded,
    s.death_date,
    s.death_cause,
    CASE
        WHEN NOT s.died THEN NULL
        WHEN NOT s.treated THEN 'never dosed'
        WHEN s.death_date IS NULL THEN 'date unknown'
        WHEN s.end_of_treatment_date IS NULL OR s.death_date <= s.end_of_treatment_date THEN 'on treatment'
        ELSE 'after the end of treatment'
    END AS death_timing,
    CASE WHEN s.died THEN s.death_date <= s.last_dose_date + 30 END AS died_within_30_days_of_last_dose,
    s.last_contact_date,
    date_diff('day', s.last_contact_date, $cut_date) AS days_since_contact
FROM subjects AS s
LEFT JOIN trial_sites AS n USING (site_id)
