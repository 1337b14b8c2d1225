-- grain: (subject_id, agent, start_date). Administration records started by the cut date. A record whose dose is missing counts as the planned dose given (dose_recorded = false).
-- administered: a dose was given: a dose above 0, or a placebo (planned dose 0, or none known: an agent
-- not in the config) not held or discontinued; the subject is then treated, as the query on an unknown agent says.
-- End: as recorded, clipped at the cut. A record without a usable end date was read by
-- validators/readings.py as ending the day before the agent's next record, or, with none, as open
-- (9999-12-31); an open record ends at the earliest of the subject's end-of-treatment date, death
-- date and last contact date that is recorded and on or before the cut (stg_subjects), else at the
-- cut, and never before its own start. end_date_recorded is false for an open record and for one
-- whose end was filled from the next record (its end_date was queried as missing, not a date, or
-- after the day of the run: load_queries; an end before the start, read as the start, is recorded).
SELECT
    e.subject_id, e.agent, e.start_date,
    CASE
        WHEN e.end_date = DATE '9999-12-31'
            THEN GREATEST(e.start_date, LEAST(s.end_of_treatment_date, s.death_date, s.last_contact_date, CAST($cut_date AS DATE)))
        ELSE LEAST(e.end_date, $cut_date)
    END AS end_date,
    e.end_date <> DATE '9999-12-31' AND NOT EXISTS (
        SELECT 1
        FROM load_queries AS q
        WHERE q.load_id = e.load_id AND q.source = 'exposure' AND q."row" = e.source_row
            AND q.field = 'end_date' AND q."check" <> 'end_not_before_start'
    ) AS end_date_recorded,
    COALESCE(e.dose_mg, e.planned_dose_mg) AS dose_mg, e.dose_mg IS NOT NULL AS dose_recorded,
    e.planned_dose_mg, e.adjustment, e.adjustment_reason,
    COALESCE(e.dose_mg, e.planned_dose_mg) > 0
        OR (COALESCE(e.planned_dose_mg, 0) = 0 AND e.adjustment IS DISTINCT FROM 'held' AND e.adjustment IS DISTINCT FROM 'discontinued') AS administered
FROM exposure AS e
JOIN stg_subjects AS s USING (subject_id)
WHERE e.load_id = (SELECT load_id FROM cuts WHERE cut_id = $cut_id) AND e.start_date <= $cut_date
