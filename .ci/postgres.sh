#!/usr/bin/env bash
# A throw-away local PostgreSQL for the API tests, from the machine's Debian packages.
#
#   .ci/postgres.sh start   install the server if missing, start it on 127.0.0.1:$PGTEST_PORT
#                           with a fresh cluster, and print the SQLAlchemy URL of its database
#   .ci/postgres.sh stop    stop it and remove the cluster
#
# The server runs as the `postgres` system user (it refuses to run as root), listens on
# loopback only, trusts local connections (test data only) and lives in $PGTEST_DIR.
set -euo pipefail

PGTEST_DIR="${PGTEST_DIR:-/tmp/spendplan-pgtest}"
PGTEST_PORT="${PGTEST_PORT:-54329}"
PGTEST_DB="${PGTEST_DB:-spendplan_test}"

pg_bin() {
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -z "$found" ]]; then
        echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
        found="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    fi
    echo "$found"
}

as_postgres() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    local bin
    bin="$(pg_bin)"
    stop >/dev/null 2>&1 || true
    mkdir -p "$PGTEST_DIR"
    if [[ "$(id -u)" == 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGTEST_DIR" postgres
        chown postgres "$PGTEST_DIR"
    fi
    as_postgres "$bin/initdb" -D "$PGTEST_DIR/data" -U spendplan -A trust -E UTF8 \
        --no-instructions >/dev/null
    as_postgres "$bin/pg_ctl" -D "$PGTEST_DIR/data" -l "$PGTEST_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PGTEST_PORT -k $PGTEST_DIR -c fsync=off \
            -c max_connections=200" start >/dev/null
    as_postgres "$bin/createdb" -h 127.0.0.1 -p "$PGTEST_PORT" -U spendplan "$PGTEST_DB"
    echo "postgresql+psycopg://spendplan@127.0.0.1:$PGTEST_PORT/$PGTEST_DB"
}

stop() {
    local bin
    bin="$(pg_bin)"
    if [[ -d "$PGTEST_DIR/data" ]]; then
        as_postgres "$bin/pg_ctl" -D "$PGTEST_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$PGTEST_DIR"
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
