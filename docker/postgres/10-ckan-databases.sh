#!/usr/bin/env bash
# PostgreSQL init script for Portal Satu Data UMKM (docker-compose.yml mounts
# it in /docker-entrypoint-initdb.d/; the postgres image runs it once, when
# the data volume is empty, as the superuser POSTGRES_USER).
#
# Creates:
#   - role $CKAN_DB_USER (login): owner of the CKAN database and of the
#     DataStore database (it is CKAN's DataStore write user)
#   - role $DATASTORE_RO_USER (login): DataStore read-only user
#   - database $CKAN_DB_NAME and database $DATASTORE_DB_NAME (UTF8)
#   - the privileges `ckan datastore set-permissions` sets: the read-only
#     role may only read the DataStore database, nothing else. (The ckan
#     container also applies CKAN's own set-permissions SQL at every start,
#     as the DataStore owner, which adds the _table_metadata view and the
#     full-text trigger function.)
#
# Idempotent: it can also be run by hand against an existing server, e.g. a
# managed PostgreSQL:
#   PGHOST=... PGUSER=<admin> CKAN_DB_PASSWORD=... DATASTORE_RO_PASSWORD=... \
#     bash docker/postgres/10-ckan-databases.sh
# Existing roles get their password reset to the given one.
#
# Everything runs in a subshell: the postgres image *sources* init scripts
# that are not executable, and our shell options must not leak into it.
(
set -Eeuo pipefail

CKAN_DB_USER="${CKAN_DB_USER:-ckan}"
CKAN_DB_NAME="${CKAN_DB_NAME:-ckan}"
DATASTORE_DB_NAME="${DATASTORE_DB_NAME:-datastore}"
DATASTORE_RO_USER="${DATASTORE_RO_USER:-datastore_ro}"
: "${CKAN_DB_PASSWORD:?CKAN_DB_PASSWORD is not set}"
: "${DATASTORE_RO_PASSWORD:?DATASTORE_RO_PASSWORD is not set}"

# In the postgres image POSTGRES_USER/POSTGRES_DB are set; by hand, the
# usual PG* variables apply.
PSQL=(psql -X -v ON_ERROR_STOP=1 --no-psqlrc -q)
[ -n "${POSTGRES_USER:-}" ] && PSQL+=(--username "$POSTGRES_USER")
ADMIN_DB="${POSTGRES_DB:-${PGDATABASE:-postgres}}"

vars=(
  -v ckan_user="$CKAN_DB_USER" -v ckan_password="$CKAN_DB_PASSWORD"
  -v ckan_db="$CKAN_DB_NAME" -v ds_db="$DATASTORE_DB_NAME"
  -v ro_user="$DATASTORE_RO_USER" -v ro_password="$DATASTORE_RO_PASSWORD"
)

echo "[umkm-initdb] roles and databases"
"${PSQL[@]}" "${vars[@]}" --dbname "$ADMIN_DB" <<'SQL'
-- Roles (created once; the password is (re)set every run)
SELECT format('CREATE ROLE %I LOGIN', :'ckan_user')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'ckan_user') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'ro_user')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'ro_user') \gexec
ALTER ROLE :"ckan_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'ckan_password';
ALTER ROLE :"ro_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'ro_password';

-- Databases, owned by the CKAN role
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'ckan_db', :'ckan_user', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'ckan_db') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'ds_db', :'ckan_user', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'ds_db') \gexec

-- Only CKAN may connect to its database; the read-only role only to the
-- DataStore. (By default PUBLIC may connect to every database.)
REVOKE CONNECT, TEMPORARY ON DATABASE :"ckan_db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"ckan_db" TO :"ckan_user";
REVOKE CONNECT, TEMPORARY ON DATABASE :"ds_db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"ds_db" TO :"ckan_user";
GRANT CONNECT ON DATABASE :"ds_db" TO :"ro_user";
SQL

echo "[umkm-initdb] DataStore privileges"
"${PSQL[@]}" "${vars[@]}" --dbname "$DATASTORE_DB_NAME" <<'SQL'
-- Same privileges as `ckan datastore set-permissions` (CKAN 2.11).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE USAGE ON SCHEMA public FROM PUBLIC;
GRANT CREATE, USAGE ON SCHEMA public TO :"ckan_user";
GRANT USAGE ON SCHEMA public TO :"ro_user";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"ro_user";
ALTER DEFAULT PRIVILEGES FOR ROLE :"ckan_user" IN SCHEMA public
   GRANT SELECT ON TABLES TO :"ro_user";
SQL

echo "[umkm-initdb] done: $CKAN_DB_NAME and $DATASTORE_DB_NAME owned by $CKAN_DB_USER, read-only role $DATASTORE_RO_USER"
)
