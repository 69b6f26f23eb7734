#!/bin/bash
# PostgreSQL's image runs this once, on an empty data directory: one database and one role per endpoint,
# as build.ps1's Initialize-Postgres does for local runs. Each role owns its database and only it may
# connect there: no endpoint can read another's data.
set -euo pipefail
: "${CONVEYOR_DB_PASSWORD:?CONVEYOR_DB_PASSWORD must be set (docker-compose.yml passes it)}"

for endpoint in orders payments notifications servicecontrol; do
  # The password travels as a psql variable, quoted by psql (:'password'), never spliced into the SQL.
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v endpoint="$endpoint" -v password="$CONVEYOR_DB_PASSWORD" <<'SQL'
CREATE ROLE :"endpoint" LOGIN PASSWORD :'password';
CREATE DATABASE :"endpoint" OWNER :"endpoint";
REVOKE CONNECT ON DATABASE :"endpoint" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"endpoint" TO :"endpoint";
SQL
done
