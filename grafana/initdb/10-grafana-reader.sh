#!/bin/sh
# Runs once, when the timescaledb container initialises its data directory: a login role
# vigil_grafana (a fixed name: sql/0008_stats.sql refers to it) that can only read. Tables
# created later by `vigil migrate` (owned by POSTGRES_USER) become readable through default
# privileges; sql/0008_stats.sql takes back those holding key hashes and channel secrets.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v reader=vigil_grafana -v password="${GRAFANA_DB_PASSWORD:-grafana}" <<'SQL'
CREATE ROLE :"reader" LOGIN PASSWORD :'password';
ALTER ROLE :"reader" SET default_transaction_read_only = on;
ALTER ROLE :"reader" SET statement_timeout = '30s';
GRANT CONNECT ON DATABASE :"DBNAME" TO :"reader";
GRANT USAGE ON SCHEMA public TO :"reader";
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO :"reader";
SQL
