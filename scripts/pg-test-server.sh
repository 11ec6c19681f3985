#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for the test suite and print its URL.
#   scripts/pg-test-server.sh start DIR   -> prints postgresql+psycopg://… on stdout
#   scripts/pg-test-server.sh stop DIR
# Uses Debian's postgresql package; as root it runs the server as the `postgres` user.
set -euo pipefail
action=${1:?start|stop}
dir=${2:?data folder}
port=${QUIZAPP_PG_PORT:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/pg_ctl" ] || { echo "PostgreSQL server not installed (apt-get install postgresql)" >&2; exit 1; }
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start \
        -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" >/dev/null
    fi
    as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='quizapp_test'" | grep -q 1 \
      || as_owner "$bin/createdb" -h "$dir" -p "$port" -U postgres quizapp_test
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/quizapp_test"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    ;;
esac
