-- grain: source_row. Lab results collected on or before the cut date, for subjects enrolled by then, with their CTCAE grades (graded when the cut was stored).
SELECT
    l.source_row, l.subject_id, l.collection_date, l.test_code, l.value, l.unit, l.lln, l.uln,
    l.baseline, l.is_baseline, l.toxicity_term, l.toxicity_grade, l.gradable
FROM labs AS l
JOIN stg_subjects AS s USING (subject_id)
WHERE l.load_id = (SELECT load_id FROM cuts WHERE cut_id = $cut_id) AND l.collection_date <= $cut_date
