-- grain: rule_id. Stopping rules whose status differs between two cuts ($from_cut, $to_cut), from the flag history; a rule new at the later cut has no earlier status.
WITH before AS (SELECT * FROM flag_history WHERE cut_id = $from_cut),
after AS (SELECT * FROM flag_history WHERE cut_id = $to_cut)
SELECT
    rule_id,
    b.status AS before, a.status AS after,
    b.events AS events_before, b.evaluable AS evaluable_before,
    a.events AS events_after, a.evaluable AS evaluable_after
FROM before AS b
FULL JOIN after AS a USING (rule_id)
WHERE b.status IS DISTINCT FROM a.status
ORDER BY rule_id
