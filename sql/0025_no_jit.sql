-- No JIT compilation for this database's sessions. PostgreSQL compiles a statement's plan
-- when its estimated cost passes jit_above_cost, and the estimates of plans over the
-- hypertables pass it as soon as other accounts store enough rows: a per-region window
-- query that runs in 4 ms then spends about 300 ms compiling several hundred functions.
-- Vigil's statements read small slices (rollups, one monitor's raw rows), where compiling
-- never pays off. Set as the database default so every client (services, Grafana, psql)
-- gets it; the services also set it on each connection, for a database whose owner is not
-- the role that migrates.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'jit left as the server sets it: only the database owner can change its default';
END
$$;
