#!/usr/bin/env bash
# The rendered search page of two paperboy binaries side by side on the same data: each
# binary serves with --page-cache-ms 0 (every request rendered, as signed-in users get it) and
# wrk (2 threads, 64 connections, bench/web/rotate.lua) runs /healthz (the peer) and then the
# 120 searches of bench/web/run.sh (30 queries, each by relevance, date, upvotes and page 2).
#
#   bench/web/search_compare.sh DATA_DIR SECONDS BINARY...
#
# DATA_DIR must hold a store with its index (bench/web/run.sh's PAPERBOY_BENCH_DATA).
set -euo pipefail
cd "$(dirname "$0")/../.."
data=$1 seconds=$2
shift 2
work=$(mktemp -d /tmp/paperboy-search-compare-XXXXXX)
server=""
trap '[[ -n "$server" ]] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
bench/web/search_paths.sh > "$work/searches.txt"
echo "/healthz" > "$work/health.txt"
rps() {
  PATHS=$1 wrk -t2 -c64 -d"${seconds}s" --timeout 10s -s bench/web/rotate.lua "$base" |
    awk '/^Requests\/sec:/ {printf "%.0f", $2}'
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| binary | /healthz (peer) requests/s | search page requests/s | ratio to /healthz |\n|---|---:|---:|---:|\n'
for binary in "$@"; do
  "$binary" -q --data "$data" serve --port 0 --threads 64 --page-cache-ms 0 2> "$work/serve.log" &
  server=$!
  for _ in $(seq 600); do grep -q "serving .* on http" "$work/serve.log" 2>/dev/null && break; sleep 0.2; done
  base=$(grep -o "http://[^ ]*" "$work/serve.log" | head -1)
  # Warm-up: the first search of a segment builds its facet columns.
  PATHS=$work/searches.txt wrk -t2 -c8 -d2s -s bench/web/rotate.lua "$base" > /dev/null
  health=$(rps "$work/health.txt")
  searches=$(rps "$work/searches.txt")
  printf '| %s | %s | %s | %.3f |\n' "$binary" "$health" "$searches" "$(bc -l <<< "$searches / $health")"
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
