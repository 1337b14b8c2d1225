-- grain: (meddra_soc, term, cycle_label). TEAE terms by onset cycle, for the report's heatmap: subjects whose TEAE of the term started in each treatment cycle, their worst grade in it, and the subjects on treatment in the cycle; '(any)' rows are each cycle's totals.
-- Cycles and the "After treatment" column as in t_by_cycle: cycle k of int_subject_cycles (calendar or
-- actual per [cycles] mode; denominator: subjects on treatment in cycle k), then TEAEs with onset
-- after the last dose (denominator: treated subjects whose last dose is before the cut date).
-- A term ("Other, specify" events under their specified text, as in t_soc_term) has a row for each
-- cycle in which a TEAE of it started; the '(any)' row has every cycle, with 0 subjects where none did.
-- term_subjects and term_worst_grade count every TEAE of the term, also one placed in no cycle
-- (before cycle 1 when cycle 1 waits for an anchor agent), so they are never below a cell's count;
-- term_rank orders the terms by term_subjects, then worst grade, then SOC and term ('(any)' is 0).
WITH columns_shown AS (
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
        meddra_soc,
        ae_term AS term,
        grade,
        CASE
            WHEN cycle IS NOT NULL THEN CAST(cycle AS VARCHAR)
            WHEN after_treatment THEN 'After treatment'
        END AS cycle_label
    FROM int_adverse_events
    WHERE teae
),
terms AS (
    SELECT
        meddra_soc,
        term,
        COUNT(DISTINCT subject_id) AS term_subjects,
        MAX(grade) AS term_worst_grade
    FROM placed_teae
    GROUP BY meddra_soc, term
),
ranked_terms AS (
    SELECT
        *,
        ROW_NUMBER() OVER (ORDER BY term_subjects DESC, term_worst_grade DESC, meddra_soc, term) AS term_rank
    FROM terms
    UNION ALL
    SELECT '(any)', '(any)', COUNT(DISTINCT subject_id), MAX(grade), 0
    FROM placed_teae
),
term_cells AS (
    SELECT
        meddra_soc,
        term,
        cycle_label,
        COUNT(DISTINCT subject_id) AS subjects,
        COUNT(*) AS events,
        MAX(grade) AS worst_grade
    FROM placed_teae
    WHERE cycle_label IS NOT NULL
    GROUP BY meddra_soc, term, cycle_label
),
any_cells AS (
    SELECT
        '(any)' AS meddra_soc,
        '(any)' AS term,
        c.cycle_label,
        COUNT(DISTINCT t.subject_id) AS subjects,
        COUNT(t.subject_id) AS events,
        MAX(t.grade) AS worst_grade
    FROM columns_shown AS c
    LEFT JOIN placed_teae AS t USING (cycle_label)
    GROUP BY c.cycle_label
),
cells AS (
    SELECT * FROM term_cells
    UNION ALL
    SELECT * FROM any_cells
)
SELECT
    r.term_rank,
    cells.meddra_soc,
    cells.term,
    c.cycle,
    cells.cycle_label,
    cells.subjects,
    cells.events,
    c.denominator,
    round(100.0 * cells.subjects / NULLIF(c.denominator, 0), 1) AS percent,
    cells.worst_grade,
    r.term_subjects,
    r.term_worst_grade
FROM cells
JOIN columns_shown AS c USING (cycle_label)
JOIN ranked_terms AS r USING (meddra_soc, term)
ORDER BY r.term_rank, c.cycle NULLS LAST
