#!/bin/bash
# PostgreSQL's image runs this once, on an empty data directory: one database and one role per endpoint,
# as build.ps1's Initialize-Postgres does for local runs. Each role owns its database, has a password of its own
# (CONVEYOR_<ENDPOINT>_DB_PASSWORD, passed by docker-compose.yml) and only it may connect there: no endpoint can
# read another's data.
set -euo pipefail

# >>> generated: endpoints. Generated from Topology/SystemTopology.cs by tools/Topology (./build.sh topology): do not edit.
endpoints="orders payments notifications inventory servicecontrol"
# <<< generated: endpoints

for endpoint in $endpoints; do
  variable="CONVEYOR_${endpoint^^}_DB_PASSWORD"
  password="${!variable:-}"
  if [[ -z "$password" ]]; then
    echo "$variable must be set (docker-compose.yml passes it)" >&2
    exit 1
  fi
  # The password travels as a psql variable, quoted by psql (:'password'), never spliced into the SQL.
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v endpoint="$endpoint" -v password="$password" <<'SQL'
CREATE ROLE :"endpoint" LOGIN PASSWORD :'password';
CREATE DATABASE :"endpoint" OWNER :"endpoint";
REVOKE CONNECT ON DATABASE :"endpoint" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"endpoint" TO :"endpoint";
SQL
done
