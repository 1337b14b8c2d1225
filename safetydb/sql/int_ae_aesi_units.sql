-- grain: (aesi, ae_id). AE records per AESI set and per AESI group (aesi_units): a record in two sets of one group counts once for the group.
SELECT m.aesi, m.ae_id
FROM int_ae_aesi AS m
UNION
SELECT u.aesi_group AS aesi, m.ae_id
FROM int_ae_aesi AS m
JOIN aesi_units AS u ON u.kind = 'set' AND u.aesi = m.aesi
WHERE u.aesi_group IS NOT NULL
