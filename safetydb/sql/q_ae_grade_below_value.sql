-- grain: (source, record_key). Reconciliation: an AE whose CTCAE term is graded from values (lab test or blood pressure) and whose grade is below the worst CTCAE grade of that term among the subject's results on treatment within $value_ae_window_days days of its onset, before or after.
WITH worst_value AS (
    -- Per AE: the worst graded result of its term in the window; ties go to the one nearest the onset.
    SELECT
        a.ae_id, a.subject_id, a.ctcae_term, a.grade, a.onset_date,
        o.measure_date, o.toxicity_grade, o.reading, o.reference,
        date_diff('day', a.onset_date, o.measure_date) AS days_from_onset
    FROM int_adverse_events AS a
    JOIN int_graded_values AS o
        ON o.subject_id = a.subject_id
        AND o.toxicity_term = a.ctcae_term
        AND abs(date_diff('day', o.measure_date, a.onset_date)) <= $value_ae_window_days
    QUALIFY row_number() OVER (
        PARTITION BY a.ae_id
        ORDER BY o.toxicity_grade DESC, abs(date_diff('day', o.measure_date, a.onset_date)), o.measure_date, o.source_row
    ) = 1
)
SELECT
    'adverse_events' AS source,
    w.ae_id AS record_key,
    w.subject_id,
    'grade' AS field,
    CAST(w.grade AS VARCHAR) AS value,
    'ae_grade_below_value' AS "check",
    w.ctcae_term || ' grade ' || CAST(w.grade AS VARCHAR) || ' (onset ' || strftime(w.onset_date, '%Y-%m-%d')
        || ') is below ' || w.reading || ' on ' || strftime(w.measure_date, '%Y-%m-%d') || ', which grades '
        || CAST(w.toxicity_grade AS VARCHAR)
        || CASE WHEN w.reference <> '' THEN ' (' || w.reference || ')' ELSE '' END
        || CASE
            WHEN w.days_from_onset < 0 THEN ', ' || CAST(-w.days_from_onset AS VARCHAR) || ' days before onset'
            WHEN w.days_from_onset > 0 THEN ', ' || CAST(w.days_from_onset AS VARCHAR) || ' days after onset'
            ELSE ', on the day of onset'
        END AS problem,
    'correct the AE grade, or explain why the value does not reflect the event' AS fix
FROM worst_value AS w
WHERE w.toxicity_grade > w.grade
