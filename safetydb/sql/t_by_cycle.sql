-- grain: cycle_label. TEAE onset by treatment cycle (int_subject_cycles, calendar or actual per [cycles] mode), then "After treatment" (onset after the last dose, within the TEAE window).
-- Denominator of cycle k: the subjects on treatment in cycle k (they have cycle k in int_subject_cycles).
-- Denominator of "After treatment": treated subjects whose last dose is before the cut date.
-- A TEAE is counted in the cycle whose dates contain its onset, so every subject counted in a row
-- is in that row's denominator; TEAEs in no cycle and not after treatment (before cycle 1 starts
-- when cycle 1 waits for an anchor agent) are in no row.
WITH rows_shown AS (
    SELECT CAST(cycle AS VARCHAR) AS cycle_label, cycle, COUNT(*) AS denominator
    FROM int_subject_cycles
    GROUP BY cycle
    UNION ALL
    SELECT 'After treatment', CAST(NULL AS INTEGER), COUNT(*) FILTER (WHERE treated AND last_dose_date < $cut_date)
    FROM int_subject_dosing
),
placed_teae AS (
    SELECT
        subject_id,
        onset_date,
        grade,
        related_any,
        CASE
            WHEN cycle IS NOT NULL THEN CAST(cycle AS VARCHAR)
            WHEN after_treatment THEN 'After treatment'
        END AS cycle_label
    FROM int_adverse_events
    WHERE teae
),
per_subject AS (
    SELECT cycle_label, subject_id, MAX(grade) AS worst_grade, bool_or(related_any) AS any_related, COUNT(*) AS events
    FROM placed_teae
    WHERE cycle_label IS NOT NULL
    GROUP BY cycle_label, subject_id
),
first_onset AS (
    SELECT subject_id, MIN(onset_date) AS first_onset_date FROM int_adverse_events WHERE teae GROUP BY subject_id
),
first_onset_rows AS (
    -- the row of each subject's first TEAE (events of one subject on one day share a row)
    SELECT DISTINCT t.cycle_label, t.subject_id
    FROM placed_teae AS t
    JOIN first_onset AS f ON f.subject_id = t.subject_id AND f.first_onset_date = t.onset_date
    WHERE t.cycle_label IS NOT NULL
)
SELECT
    r.cycle_label,
    r.cycle,
    r.denominator,
    COUNT(ps.subject_id) AS subjects,
    CAST(COALESCE(SUM(ps.events), 0) AS BIGINT) AS events,
    round(100.0 * COUNT(ps.subject_id) / NULLIF(r.denominator, 0), 1) AS percent,
    COUNT(*) FILTER (WHERE ps.worst_grade = 1) AS worst_grade_1,
    COUNT(*) FILTER (WHERE ps.worst_grade = 2) AS worst_grade_2,
    COUNT(*) FILTER (WHERE ps.worst_grade = 3) AS worst_grade_3,
    COUNT(*) FILTER (WHERE ps.worst_grade = 4) AS worst_grade_4,
    COUNT(*) FILTER (WHERE ps.worst_grade = 5) AS worst_grade_5,
    COUNT(*) FILTER (WHERE ps.worst_grade >= 3) AS grade_3_plus,
    COUNT(*) FILTER (WHERE ps.any_related) AS related_subjects,
    (SELECT COUNT(*) FROM first_onset_rows AS f WHERE f.cycle_label = r.cycle_label) AS first_onset_subjects
FROM rows_shown AS r
LEFT JOIN per_subject AS ps USING (cycle_label)
GROUP BY r.cycle_label, r.cycle, r.denominator
ORDER BY r.cycle NULLS LAST
