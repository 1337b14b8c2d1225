-- grain: (subject_id, kind, agent, start_day, ae_id). Each treated subject's course for the report's swimmer plot, in study days (day 1 = first dose of any agent): time on study, time on each agent, dose holds and reductions, grade >= 3 AE onsets, death, first progression, and whether still on treatment at the cut.
-- kind:
--   on_study             day 1 to the end of follow-up (int_subject_dosing follow_up_end: the death date, else the
--                        last contact, capped at the cut, else the last date the subject's records show them observed)
--   on_agent             first to last dose of the agent (records with a dose above 0; intervals clipped at the cut)
--   hold, reduction      an exposure record with adjustment 'held' / 'reduced': from its start to its end
--   grade_3_plus         an AE of grade >= 3 (as counted) with onset on or after the first dose, treatment-emergent
--                        or not; end_day is its resolution, NULL while unresolved at the cut
--   death                a death as int_subject_status counts it, at the death date; start_day NULL for a death
--                        of unknown date (a cause with no date, or a death known only from an AE counted at
--                        grade 5 or the end-of-treatment reason "death": the fatal AE's onset is not its date;
--                        the AE has its own grade_3_plus mark); reason: the death cause as recorded
--   progression          the first assessment with overall response PD on or after the first dose
--                        (stg_tumour_assessments; no rows when the trial has no tumour-assessment source)
--   on_treatment_at_cut  on treatment at the cut (int_subject_status: alive, and no end of treatment, neither a
--                        date nor a reason, by the cut): start_day is the cut date's study day
-- days_on_study (the on_study end day) is on every row of the subject; rows are ordered by it.
WITH treated AS (
    SELECT d.subject_id, d.first_dose_date, d.follow_up_end, s.died, s.death_date, s.death_cause, s.on_treatment
    FROM int_subject_dosing AS d
    JOIN int_subject_status AS s USING (subject_id)
    WHERE d.treated
),
agent_courses AS (
    SELECT subject_id, agent, MIN(start_date) AS first_dose, MAX(end_date) AS last_dose
    FROM stg_exposure
    WHERE administered
    GROUP BY subject_id, agent
),
first_progression AS (
    SELECT p.subject_id, MIN(p.assessment_date) AS progression_date
    FROM stg_tumour_assessments AS p
    JOIN treated AS t USING (subject_id)
    WHERE p.overall_response = 'PD' AND p.assessment_date >= t.first_dose_date
    GROUP BY p.subject_id
),
events AS (
    SELECT
        subject_id, 'on_study' AS kind, CAST(NULL AS VARCHAR) AS agent,
        first_dose_date AS start_date, follow_up_end AS end_date,
        CAST(NULL AS INTEGER) AS grade, CAST(NULL AS VARCHAR) AS ae_id, CAST(NULL AS VARCHAR) AS ae_term,
        CAST(NULL AS VARCHAR) AS reason
    FROM treated
    UNION ALL
    SELECT subject_id, 'on_agent', agent, first_dose, last_dose, NULL, NULL, NULL, NULL
    FROM agent_courses
    UNION ALL
    SELECT
        subject_id, CASE adjustment WHEN 'held' THEN 'hold' ELSE 'reduction' END, agent,
        start_date, end_date, NULL, NULL, NULL, adjustment_reason
    FROM stg_exposure
    WHERE adjustment IN ('held', 'reduced')
    UNION ALL
    SELECT subject_id, 'grade_3_plus', NULL, onset_date, resolution_date, grade, ae_id, ae_term, NULL
    FROM int_adverse_events
    WHERE grade >= 3 AND onset_date >= first_dose_date
    UNION ALL
    SELECT subject_id, 'death', NULL, death_date, NULL, NULL, NULL, NULL, death_cause
    FROM treated
    WHERE died
    UNION ALL
    SELECT subject_id, 'progression', NULL, progression_date, NULL, NULL, NULL, NULL, NULL
    FROM first_progression
    UNION ALL
    SELECT subject_id, 'on_treatment_at_cut', NULL, CAST($cut_date AS DATE), NULL, NULL, NULL, NULL, NULL
    FROM treated
    WHERE on_treatment
)
SELECT
    e.subject_id,
    e.kind,
    e.agent,
    date_diff('day', t.first_dose_date, e.start_date) + 1 AS start_day,
    date_diff('day', t.first_dose_date, e.end_date) + 1 AS end_day,
    e.grade,
    e.ae_id,
    e.ae_term,
    e.reason,
    date_diff('day', t.first_dose_date, t.follow_up_end) + 1 AS days_on_study
FROM events AS e
JOIN treated AS t USING (subject_id)
ORDER BY days_on_study DESC NULLS LAST, e.subject_id, e.kind, e.agent NULLS FIRST, start_day NULLS FIRST, e.ae_id
