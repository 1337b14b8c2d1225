-- grain: source_row. Tumour assessments (RECIST 1.1 time-point responses) dated on or before the cut date, for subjects enrolled by then; validation has read a response written as a code in another case or as a listed synonym as that code, and one missing or naming no code as NE, and a new_lesions value other than N or No as Y; two assessments of one date with different responses are both kept (each queried; efficacy reads the date's worst adequate response).
SELECT
    t.source_row, t.subject_id, t.visit, t.assessment_date, t.overall_response, t.new_lesions, t.method
FROM tumour_assessments AS t
JOIN stg_subjects AS s USING (subject_id)
WHERE t.load_id = (SELECT load_id FROM cuts WHERE cut_id = $cut_id) AND t.assessment_date <= $cut_date
