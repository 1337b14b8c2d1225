-- grain: subject_id. Subjects dead as of the later cut ($to_*) and not as of the earlier one ($from_*): a death recorded in subjects (a cause with no date is a death of unknown date) or a grade 5 AE with onset by the cut.
WITH dead_before AS (
    SELECT subject_id FROM subjects
    WHERE load_id = $from_load AND (death_date <= $from_date OR (death_date IS NULL AND death_cause IS NOT NULL))
    UNION
    SELECT subject_id FROM adverse_events
    WHERE load_id = $from_load AND grade = 5 AND onset_date <= $from_date
),
recorded AS (
    SELECT subject_id, death_date, death_cause FROM subjects
    WHERE load_id = $to_load AND (death_date <= $to_date OR (death_date IS NULL AND death_cause IS NOT NULL))
),
fatal AS (
    SELECT subject_id, string_agg(ae_id || ' ' || COALESCE(meddra_pt, ctcae_term), '; ' ORDER BY onset_date, ae_id) AS fatal_events
    FROM adverse_events
    WHERE load_id = $to_load AND grade = 5 AND onset_date <= $to_date
    GROUP BY subject_id
)
SELECT
    subject_id, r.death_date, r.death_cause, f.fatal_events,
    CASE
        WHEN r.subject_id IS NOT NULL AND f.subject_id IS NOT NULL THEN 'death record and fatal AE'
        WHEN r.subject_id IS NOT NULL THEN 'death record'
        ELSE 'fatal AE'
    END AS evidence
FROM recorded AS r
FULL JOIN fatal AS f USING (subject_id)
WHERE subject_id NOT IN (SELECT subject_id FROM dead_before)
ORDER BY r.death_date, subject_id
