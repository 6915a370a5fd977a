#!/usr/bin/env bash
# Throwaway services for the test suites: a PostgreSQL 15 cluster on 127.0.0.1:54329 (trust
# authentication, loopback only, fsync off: its data is scratch) with an empty database
# paperboy_test.
#   scripts/test-services.sh start   # starts it (or finds it running); prints the variable below
#   scripts/test-services.sh env     # prints PAPERBOY_TEST_POSTGRES=postgresql://...
#   scripts/test-services.sh stop    # stops it and removes its folder
# Use: export $(scripts/test-services.sh start)
set -euo pipefail

port=${PAPERBOY_TEST_POSTGRES_PORT:-54329}
folder=${PAPERBOY_TEST_SERVICES_DIR:-/tmp/paperboy-test-services-$port}
bin=/usr/lib/postgresql/15/bin
url="postgresql://postgres@127.0.0.1:$port/paperboy_test"

# The cluster runs as the postgres user (PostgreSQL refuses root); as another user, as that user.
as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() {
  [[ -f $folder/data/postmaster.pid ]] && as_postgres "$bin/pg_ctl" -D "$folder/data" status >/dev/null 2>&1
}

start() {
  if [[ ! -x $bin/initdb ]]; then
    echo "test-services: $bin/initdb not found; run scripts/setup.sh (installs postgresql)" >&2
    exit 1
  fi
  if ! running; then
    rm -rf "$folder"
    mkdir -p "$folder"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$folder"; fi
    as_postgres "$bin/initdb" -D "$folder/data" -U postgres -A trust -E UTF8 --locale=C >"$folder/initdb.log" 2>&1 ||
      { cat "$folder/initdb.log" >&2; exit 1; }
    cat >>"$folder/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$folder'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    as_postgres "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 start >/dev/null ||
      { cat "$folder/server.log" >&2; exit 1; }
  fi
  if [[ -z $(as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'paperboy_test'") ]]; then
    as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres paperboy_test
  fi
  echo "PAPERBOY_TEST_POSTGRES=$url"
}

stop() {
  if running; then as_postgres "$bin/pg_ctl" -D "$folder/data" -m fast -w stop >/dev/null; fi
  rm -rf "$folder"
}

# One start or stop at a time, so two runs starting together share one cluster. flock -o: the
# server started under the lock must not inherit (and hold) it.
if [[ -z ${PAPERBOY_TEST_SERVICES_LOCKED:-} ]]; then
  PAPERBOY_TEST_SERVICES_LOCKED=1 exec flock -o "/tmp/paperboy-test-services-$port.lock" "$0" "$@"
fi
case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) echo "PAPERBOY_TEST_POSTGRES=$url" ;;
  *)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
