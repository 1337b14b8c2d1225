-- grain: aesi. Per AESI set and group, grade >= 1 TEAEs: subjects, grade >= 3, subjects given each treatment (adverse_events.treatment), subjects whose event led to a dose change of any agent, and episodes by outcome at the cut.
-- treatment holds ;-separated values of data/ctcae/ae_treatments.csv: a value outside the list
-- (queried) counts as other treatment; an empty treatment is "not recorded". Outcome at the cut:
-- as recorded, except that a recovery with no resolution date by the cut counts as not recovered.
WITH population AS (
    SELECT COUNT(*) AS n FROM int_subject_dosing WHERE treated
),
episodes AS (
    SELECT
        u.aesi,
        a.subject_id,
        a.grade,
        a.led_to_reduction,
        a.led_to_interruption,
        a.led_to_withdrawal,
        a.treatment IS NULL AS treatment_not_recorded,
        [trim(value) FOR value IN string_split(COALESCE(a.treatment, ''), ';')] AS treatments,
        CASE
            WHEN a.outcome IN ('recovered', 'recovered_with_sequelae') AND a.resolution_date IS NULL THEN 'not_recovered'
            ELSE a.outcome
        END AS outcome_at_cut
    FROM int_ae_aesi_units AS u
    JOIN int_adverse_events AS a USING (ae_id)
    WHERE a.teae
),
flagged AS (
    SELECT
        *,
        list_contains(treatments, 'corticosteroid') AS corticosteroid,
        list_contains(treatments, 'hormone_replacement') AS hormone_replacement,
        list_contains(treatments, 'antihypertensive') AS antihypertensive,
        NOT treatment_not_recorded
            AND len([value FOR value IN treatments IF value NOT IN ('none', 'corticosteroid', 'hormone_replacement', 'antihypertensive')]) > 0
            AS other_treatment
    FROM episodes
),
per_subject AS (
    SELECT
        aesi,
        subject_id,
        MAX(grade) AS worst_grade,
        bool_or(corticosteroid) AS corticosteroid,
        bool_or(hormone_replacement) AS hormone_replacement,
        bool_or(antihypertensive) AS antihypertensive,
        bool_or(other_treatment) AS other_treatment,
        bool_or(treatment_not_recorded) AS treatment_not_recorded,
        bool_or(led_to_reduction) AS reduced,
        bool_or(led_to_interruption) AS interrupted,
        bool_or(led_to_withdrawal) AS withdrawn
    FROM flagged
    GROUP BY aesi, subject_id
),
per_unit_subjects AS (
    SELECT
        aesi,
        COUNT(*) AS subjects,
        COUNT(*) FILTER (WHERE worst_grade >= 3) AS grade_3_plus,
        COUNT(*) FILTER (WHERE corticosteroid) AS subjects_corticosteroid,
        COUNT(*) FILTER (WHERE hormone_replacement) AS subjects_hormone_replacement,
        COUNT(*) FILTER (WHERE antihypertensive) AS subjects_antihypertensive,
        COUNT(*) FILTER (WHERE other_treatment) AS subjects_other_treatment,
        COUNT(*) FILTER (WHERE treatment_not_recorded) AS subjects_treatment_not_recorded,
        COUNT(*) FILTER (WHERE reduced) AS subjects_dose_reduced,
        COUNT(*) FILTER (WHERE interrupted) AS subjects_drug_interrupted,
        COUNT(*) FILTER (WHERE withdrawn) AS subjects_drug_withdrawn
    FROM per_subject
    GROUP BY aesi
),
per_unit_events AS (
    SELECT
        aesi,
        COUNT(*) AS events,
        COUNT(*) FILTER (WHERE outcome_at_cut = 'recovered') AS events_recovered,
        COUNT(*) FILTER (WHERE outcome_at_cut = 'recovered_with_sequelae') AS events_recovered_with_sequelae,
        COUNT(*) FILTER (WHERE outcome_at_cut = 'recovering') AS events_recovering,
        COUNT(*) FILTER (WHERE outcome_at_cut = 'not_recovered') AS events_not_recovered,
        COUNT(*) FILTER (WHERE outcome_at_cut = 'fatal') AS events_fatal,
        COUNT(*) FILTER (WHERE outcome_at_cut = 'unknown') AS events_unknown
    FROM flagged
    GROUP BY aesi
)
SELECT
    u.aesi,
    u.label,
    u.kind,
    u.aesi_group,
    u.position,
    COALESCE(s.subjects, 0) AS subjects,
    p.n AS denominator,
    round(100.0 * COALESCE(s.subjects, 0) / NULLIF(p.n, 0), 1) AS percent,
    COALESCE(s.grade_3_plus, 0) AS grade_3_plus,
    COALESCE(s.subjects_corticosteroid, 0) AS subjects_corticosteroid,
    COALESCE(s.subjects_hormone_replacement, 0) AS subjects_hormone_replacement,
    COALESCE(s.subjects_antihypertensive, 0) AS subjects_antihypertensive,
    COALESCE(s.subjects_other_treatment, 0) AS subjects_other_treatment,
    COALESCE(s.subjects_treatment_not_recorded, 0) AS subjects_treatment_not_recorded,
    COALESCE(s.subjects_dose_reduced, 0) AS subjects_dose_reduced,
    COALESCE(s.subjects_drug_interrupted, 0) AS subjects_drug_interrupted,
    COALESCE(s.subjects_drug_withdrawn, 0) AS subjects_drug_withdrawn,
    COALESCE(e.events, 0) AS events,
    COALESCE(e.events_recovered, 0) AS events_recovered,
    COALESCE(e.events_recovered_with_sequelae, 0) AS events_recovered_with_sequelae,
    COALESCE(e.events_recovering, 0) AS events_recovering,
    COALESCE(e.events_not_recovered, 0) AS events_not_recovered,
    COALESCE(e.events_fatal, 0) AS events_fatal,
    COALESCE(e.events_unknown, 0) AS events_unknown
FROM aesi_units AS u
CROSS JOIN population AS p
LEFT JOIN per_unit_subjects AS s USING (aesi)
LEFT JOIN per_unit_events AS e USING (aesi)
ORDER BY u.position
