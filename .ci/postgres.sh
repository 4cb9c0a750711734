#!/usr/bin/env bash
# PostgreSQL for the local backend's concurrency tests.
#
# Installs Debian's `postgresql` package when it is missing, starts a cluster, creates a role and a
# database, makes sure the active Python has the psycopg driver, and exports
# ANNOTATE_TEST_POSTGRES_URL (also printed). Source it (`. .ci/postgres.sh`, as .ci/run does) to
# get the variable in your shell, or run it and copy the printed line. Safe to run again.
#
# Settings: ANNOTATE_PG_USER / ANNOTATE_PG_PASSWORD / ANNOTATE_PG_DB (defaults: annotate / annotate /
# annotate_test). Needs root (apt-get, and running commands as the postgres user).

annotate_pg_setup() {
  local user="${ANNOTATE_PG_USER:-annotate}" password="${ANNOTATE_PG_PASSWORD:-annotate}"
  local db="${ANNOTATE_PG_DB:-annotate_test}" version port

  if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "postgres.sh: installing postgresql (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || return 1
    apt-get install -y -qq postgresql >&2 || return 1
  fi

  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    echo "postgres.sh: no PostgreSQL server found under /usr/lib/postgresql" >&2
    return 1
  fi
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
    echo "postgres.sh: creating cluster $version/main" >&2
    pg_createcluster "$version" main >&2 || return 1
  fi
  if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
    pg_ctlcluster "$version" main start >&2 || return 1
  fi
  port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')

  as_postgres() {
    # from /: the postgres user may not enter the directory CI runs in ("could not change directory")
    if command -v runuser >/dev/null 2>&1; then (cd / && runuser -u postgres -- "$@"); else (cd / && su postgres -s /bin/sh -c "$*"); fi
  }
  local i
  for i in $(seq 1 30); do  # the server may take a moment to accept connections
    as_postgres psql -p "$port" -Atqc "select 1" >/dev/null 2>&1 && break
    sleep 1
  done
  if ! as_postgres psql -p "$port" -Atqc "select 1 from pg_roles where rolname = '$user'" | grep -q 1; then
    as_postgres psql -p "$port" -qc "create role \"$user\" login password '$password'" >&2 || return 1
  fi
  if ! as_postgres psql -p "$port" -Atqc "select 1 from pg_database where datname = '$db'" | grep -q 1; then
    as_postgres psql -p "$port" -qc "create database \"$db\" owner \"$user\"" >&2 || return 1
  fi

  # the driver the local backend uses for PostgreSQL (its `postgres` extra)
  if command -v python >/dev/null 2>&1 && ! python -c "import psycopg" >/dev/null 2>&1; then
    echo "postgres.sh: installing psycopg[binary] into $(command -v python)" >&2
    python -m pip install --quiet "psycopg[binary]>=3" >&2 || return 1
  fi

  export ANNOTATE_TEST_POSTGRES_URL="postgresql+psycopg://$user:$password@127.0.0.1:$port/$db"
  echo "ANNOTATE_TEST_POSTGRES_URL=$ANNOTATE_TEST_POSTGRES_URL"
}

annotate_pg_setup
