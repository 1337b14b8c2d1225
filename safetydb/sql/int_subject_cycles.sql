-- grain: (subject_id, cycle). Treatment cycles of each treated subject, from the first dose to the last dose ($cycle_mode: calendar blocks of $cycle_days, or actual cycles restarted by the next anchor-agent dose).
-- calendar: cycle k starts on day (k-1)*$cycle_days + 1 after the first dose (of any agent).
-- actual:   cycle 1 starts at the first dose of an anchor agent ($anchor_agents; empty = any agent);
--           cycle k+1 starts at the first anchor dose on or after (start of cycle k + $cycle_days), so a hold
--           shifts every later cycle. A dose interval (apatinib, start_date..end_date) covering that day doses on it.
-- Both: no cycle starts after the last dose, and the last cycle ends on the last dose date
-- (int_subject_dosing.last_dose_date); any other cycle ends the day before the next one starts.
WITH RECURSIVE
doses AS (
    SELECT subject_id, agent, start_date, end_date
    FROM stg_exposure
    WHERE administered
),
anchor_doses AS (
    SELECT subject_id, start_date, end_date
    FROM doses
    WHERE len($anchor_agents) = 0 OR list_contains($anchor_agents, agent)
),
-- One recursion step per cycle number, for every subject still on treatment at once.
actual_starts (subject_id, cycle, cycle_start) AS (
    SELECT subject_id, 1, MIN(start_date)
    FROM anchor_doses
    WHERE $cycle_mode = 'actual'
    GROUP BY subject_id
    UNION ALL
    SELECT
        c.subject_id,
        c.cycle + 1,
        -- the earliest anchor-dosed day on or after the due date: the due date itself when an interval covers it
        MIN(GREATEST(x.start_date, c.cycle_start + CAST($cycle_days AS INTEGER)))
    FROM actual_starts AS c
    JOIN anchor_doses AS x
        ON x.subject_id = c.subject_id AND x.end_date >= c.cycle_start + CAST($cycle_days AS INTEGER)
    GROUP BY c.subject_id, c.cycle
),
calendar_cycles AS (
    SELECT
        subject_id,
        first_dose_date,
        unnest(generate_series(1, date_diff('day', first_dose_date, last_dose_date) // $cycle_days + 1)) AS cycle
    FROM int_subject_dosing
    WHERE treated AND $cycle_mode = 'calendar'
),
starts AS (
    SELECT subject_id, cycle, cycle_start FROM actual_starts
    UNION ALL
    SELECT subject_id, CAST(cycle AS INTEGER), first_dose_date + CAST((cycle - 1) * $cycle_days AS INTEGER)
    FROM calendar_cycles
),
cycles AS (
    SELECT
        s.subject_id,
        s.cycle,
        s.cycle_start,
        COALESCE(
            LEAD(s.cycle_start) OVER (PARTITION BY s.subject_id ORDER BY s.cycle) - 1,
            d.last_dose_date
        ) AS cycle_end
    FROM starts AS s
    JOIN int_subject_dosing AS d USING (subject_id)
)
SELECT
    c.subject_id,
    c.cycle,
    c.cycle_start,
    c.cycle_end,
    EXISTS (
        SELECT 1 FROM doses AS x
        WHERE x.subject_id = c.subject_id AND x.start_date <= c.cycle_end AND x.end_date >= c.cycle_start
    ) AS dosed_in_cycle
FROM cycles AS c
