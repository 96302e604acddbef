#!/bin/sh
# One-shot (temporalio/admin-tools): create the Temporal persistence and
# visibility databases in PostgreSQL and bring their schemas up to the
# version of the admin-tools image. Idempotent: safe on every `compose up`.
set -eu

: "${POSTGRES_SEEDS:=postgresql}"
: "${DB_PORT:=5432}"
: "${POSTGRES_USER:=temporal}"
export SQL_PASSWORD="${POSTGRES_PWD:?POSTGRES_PWD is required}"

echo "waiting for PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT}"
until nc -z -w 5 "$POSTGRES_SEEDS" "$DB_PORT"; do sleep 1; done

tool() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"; }

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) dir=temporal ;;
    *) dir=visibility ;;
  esac
  tool --db "$db" create || echo "database $db already exists"
  tool --db "$db" setup-schema -v 0.0 || echo "schema of $db already set up"
  tool --db "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$dir/versioned"
done
echo "PostgreSQL schemas are up to date"
