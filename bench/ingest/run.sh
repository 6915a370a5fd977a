#!/usr/bin/env bash
# Ingest throughput of the arXiv snapshot importer, paperboy against a Python + sqlite3 script on the
# same generated file, in one run. Usage: bench/ingest/run.sh [RECORDS]   (default 1,000,000)
# Needs a release build: make build (or PAPERBOY=path/to/paperboy). Prints a Markdown table for
# docs/benchmarks.md; CPU seconds (user + system) judge runs on a machine busy with other work.
set -euo pipefail
cd "$(dirname "$0")/../.."
records=${1:-1000000}
work=${BENCH_DIR:-/tmp/paperboy-bench}
mkdir -p "$work"
snapshot="$work/snapshot-$records.json"
[[ -f $snapshot ]] || python3 bench/ingest/generate_snapshot.py --records "$records" "$snapshot"
bytes=$(stat -c %s "$snapshot")
paperboy=${PAPERBOY:-build/release/paperboy}

# measure NAME COMMAND...: wall seconds, CPU seconds and peak resident memory of one run.
measure() {
  local name=$1; shift
  rm -rf "$work/data" "$work/peer.db"*
  /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr"; exit 1; }
  read -r seconds kilobytes user system <"$work/time"
  printf "| %s | %.1f | %.1f | %'.0f | %.1f | %.0f |\n" "$name" "$seconds" "$(echo "$user + $system" | bc -l)" \
    "$(echo "$records / $seconds" | bc -l)" "$(echo "$bytes / $seconds / 1000000" | bc -l)" \
    "$(echo "$kilobytes / 1024" | bc -l)"
  echo "$seconds" >"$work/last"
}

cat "$snapshot" >/dev/null
echo "$records records, $(echo "$bytes / 1000000" | bc) MB, $(nproc) cores, $(date -u +%F), $(uptime | sed 's/.*load/load/')"
echo
echo "| run | seconds | CPU s | records/s | MB/s | peak MB |"
echo "|---|---:|---:|---:|---:|---:|"
measure "paperboy parse only (ingest --dry-run)" $paperboy --quiet ingest --dry-run --format arxiv-snapshot "$snapshot"
ours_parse=$(cat "$work/last")
measure "Python json parse only" python3 bench/ingest/python_peer.py "$snapshot"
peer_parse=$(cat "$work/last")
measure "paperboy parse + store (SQLite)" $paperboy --quiet --data "$work/data" ingest --no-index --format arxiv-snapshot "$snapshot"
ours_store=$(cat "$work/last")
measure "Python json + sqlite3 upsert" python3 bench/ingest/python_peer.py --store "$work/peer.db" "$snapshot"
peer_store=$(cat "$work/last")
echo
printf "parse only: paperboy is %.1fx faster than the Python peer\n" "$(echo "$peer_parse / $ours_parse" | bc -l)"
printf "parse + store: paperboy is %.1fx faster than the Python peer\n" "$(echo "$peer_store / $ours_store" | bc -l)"
