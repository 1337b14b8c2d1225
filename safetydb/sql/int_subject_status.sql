-- grain: subject_id. Each enrolled subject's status at the cut: site, treatment (on treatment, or ended and why), death and when, last contact.
-- Died: a death date or a death cause by the cut (a death of unknown date counts). On treatment:
-- treated, alive, no end of treatment by the cut. Ended treatment: treated, and an end of
-- treatment by the cut or a death; the reason as given, "reason missing" when the date has none,
-- "died, no end of treatment recorded" for a death without one. Death on treatment: on or before
-- the end-of-treatment date, or with none recorded. last_contact_date is empty when the source
-- has none (stg_subjects gives the cut date for it).
WITH subjects AS (
    SELECT
        d.*,
        d.death_date IS NOT NULL OR d.death_cause IS NOT NULL AS died
    FROM int_subject_dosing AS d
)
SELECT
    s.subject_id,
    COALESCE(s.site_id, '(missing)') AS site_id,
    COALESCE(n.site_name, s.site_id, 'Site missing') AS site_name,
    s.enrolment_date,
    s.treated,
    s.first_dose_date,
    s.last_dose_date,
    s.treated AND NOT s.died AND s.end_of_treatment_date IS NULL AS on_treatment,
    s.treated AND (s.died OR s.end_of_treatment_date IS NOT NULL) AS ended_treatment,
    s.end_of_treatment_date,
    CASE
        WHEN NOT s.treated THEN NULL
        WHEN s.end_of_treatment_date IS NOT NULL THEN COALESCE(s.end_of_treatment_reason, 'reason missing')
        WHEN s.died THEN 'died, no end of treatment recorded'
    END AS end_of_treatment_reason,
    s.died,
    s.death_date,
    CASE
        WHEN NOT s.died THEN NULL
        WHEN NOT s.treated THEN 'never dosed'
        WHEN s.death_date IS NULL THEN 'date unknown'
        WHEN s.end_of_treatment_date IS NULL OR s.death_date <= s.end_of_treatment_date THEN 'on treatment'
        ELSE 'after the end of treatment'
    END AS death_timing,
    CASE WHEN s.last_contact_recorded THEN s.last_contact_date END AS last_contact_date,
    CASE WHEN s.last_contact_recorded THEN date_diff('day', s.last_contact_date, $cut_date) END AS days_since_contact
FROM subjects AS s
LEFT JOIN trial_sites AS n USING (site_id)
