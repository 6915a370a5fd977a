#!/usr/bin/env bash
# Ingest of an arXiv metadata snapshot into PostgreSQL against SQLite, in one run on the same file:
# `paperboy ingest --no-index` into a fresh SQLite data folder, then with --store into a fresh
# database of a PostgreSQL 15 started for the run (bench/cluster/lib.sh: Debian's durable
# defaults, loopback). Prints a Markdown table for docs/benchmarks.md.
#
#   bench/ingest/postgres_vs_sqlite.sh [RECORDS]   (default 1,000,000)
#
# PAPERBOY=path/to/paperboy (default build/scale-rel/paperboy, a Release build); the snapshot is
# $BENCH_DIR/snapshot-RECORDS.json (default /tmp/paperboy-bench), written by generate_snapshot.py
# when missing, as bench/ingest/run.sh does. CPU seconds are user + system: paperboy's own, and
# the PostgreSQL server's (backends, WAL writer, checkpointer) during the same ingest.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/cluster/lib.sh
records=${1:-1000000}
snapshots=${BENCH_DIR:-/tmp/paperboy-bench}
paperboy=$(realpath "${PAPERBOY:-build/scale-rel/paperboy}")
mkdir -p "$snapshots"
snapshot="$snapshots/snapshot-$records.json"
[[ -f $snapshot ]] || python3 bench/ingest/generate_snapshot.py --records "$records" "$snapshot"
work=$(mktemp -d /tmp/paperboy-ingest-pg-XXXXXX)
trap 'pg_stop; rm -rf "$work"' EXIT
pg_start "$work"
url=$(pg_create_database paperboy_bench)

# ingest NAME SERVER_TICKS_COMMAND [paperboy options]: one timed run; prints its table row and
# leaves its wall seconds in $seconds.
ingest() {
  local name=$1 server_ticks=$2
  shift 2
  local before after
  before=$($server_ticks)
  /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$paperboy" --quiet "$@" ingest --no-index \
    --format arxiv-snapshot "$snapshot" >/dev/null 2>"$work/stderr" || { cat "$work/stderr"; exit 1; }
  # The backend's CPU time reaches the postmaster's count once it has exited and been reaped.
  sleep 2
  after=$($server_ticks)
  read -r seconds kilobytes user system <"$work/time"
  printf "| %s | %.1f | %'.0f | %.1f | %s | %.0f |" "$name" "$seconds" \
    "$(bc -l <<<"$records / $seconds")" "$(bc -l <<<"$user + $system")" \
    "$([[ $server_ticks == no_server ]] && echo - || ticks_to_seconds $((after - before)))" "$(bc -l <<<"$kilobytes / 1024")"
}
no_server() { echo 0; }

cat "$snapshot" >/dev/null  # both runs read it from the page cache
echo "$records records, $(($(stat -c %s "$snapshot") / 1000000)) MB, $(nproc) cores, $(date -u '+%F %H:%M UTC'), $(uptime | sed 's/.*load/load/')"
echo
echo "| store | seconds | records/s | paperboy CPU s | server CPU s | paperboy peak MB | store MB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
ingest "SQLite (embedded)" no_server --data "$work/sqlite"
sqlite_seconds=$seconds
sqlite_bytes=$(du -cb "$work/sqlite"/paperboy.db* | tail -1 | cut -f1)
printf " %.0f |\n" "$(bc -l <<<"$sqlite_bytes / 1000000")"
ingest "PostgreSQL 15 (loopback TCP)" pg_ticks --data "$work/pg-node" --store "$url"
pg_seconds=$seconds
pg_bytes=$(pg_sql paperboy_bench "SELECT pg_database_size('paperboy_bench')")
printf " %.0f |\n" "$(bc -l <<<"$pg_bytes / 1000000")"
echo
echo "papers stored: SQLite $("$paperboy" -q --data "$work/sqlite" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["papers"])'), PostgreSQL $(pg_sql paperboy_bench "SELECT count(*) FROM papers")"
echo "PostgreSQL tables and indexes: $(pg_sql paperboy_bench "SELECT string_agg(relname || ' ' || pg_size_pretty(pg_total_relation_size(oid)), ', ' ORDER BY pg_total_relation_size(oid) DESC) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND pg_total_relation_size(oid) > 1000000")"
printf "PostgreSQL takes %.2fx SQLite's time; its store is %.2fx SQLite's size\n" \
  "$(bc -l <<<"$pg_seconds / $sqlite_seconds")" "$(bc -l <<<"$pg_bytes / $sqlite_bytes")"
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
