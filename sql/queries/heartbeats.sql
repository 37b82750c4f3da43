-- name: heartbeat_state
-- For the heartbeat check: each monitor's interval, creation time and last ping, judged
-- against the database clock (the same clock that stamped the ping).
SELECT m.id, m.interval_s, m.created_at, p.last_ping_at, now() AS now
FROM monitors m
LEFT JOIN heartbeat_pings p ON p.monitor_id = m.id
WHERE m.id = ANY (%(ids)s);

-- name: record_heartbeat_ping
-- One ping: the token's monitor gets last_ping_at = now(); unknown tokens change nothing.
INSERT INTO heartbeat_pings AS p (monitor_id, last_ping_at)
SELECT t.monitor_id, now() FROM heartbeat_tokens t WHERE t.token_hash = %(token_hash)s
ON CONFLICT (monitor_id) DO UPDATE SET last_ping_at = excluded.last_ping_at, pings = p.pings + 1
RETURNING p.monitor_id, p.last_ping_at, p.pings;

-- name: issue_heartbeat_token
INSERT INTO heartbeat_tokens (monitor_id, token_hash) VALUES (%(monitor_id)s, %(token_hash)s)
ON CONFLICT (monitor_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = now()
RETURNING created_at;
