#!/usr/bin/env bash
# The time for a paper stored through one node to become searchable on another: two `paperboy
# serve` nodes on one PostgreSQL (bench/cluster/lib.sh), each with its own data folder and index,
# and bench/cluster/propagation.py storing probe papers through node A N times.
#
#   bench/cluster/propagation.sh [PAPERBOY_BINARY] [RUNS]
#
# Defaults: build/scale-rel/paperboy, 30 runs. The nodes serve demo/ (a small corpus: the time
# measured is the follow, not a large index's commit). The nodes share anonymous answers for
# --page-cache-ms (default 1 s), which bounds how stale a search can be; to time the follow
# alone, run with PAPERBOY_PAGE_CACHE_MS=0 in the environment.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/cluster/lib.sh
paperboy=$(realpath "${1:-build/scale-rel/paperboy}")
runs=${2:-30}
work=$(mktemp -d /tmp/paperboy-propagation-XXXXXX)
trap 'stop_started; pg_stop; rm -rf "$work"' EXIT
node_threads=8

pg_start "$work"
url=$(pg_create_database paperboy_propagation)
"$paperboy" -q --data "$work/ingest" --store "$url" ingest --no-index demo >/dev/null 2>"$work/ingest.log" ||
  [[ $? == 3 ]]
start_node node-a "$work/node-a" --store "$url"
node_a_url=$node_url
start_node node-b "$work/node-b" --store "$url"
node_b_url=$node_url
echo "corpus: $(curl -sf "$node_b_url/healthz")"
echo "machine: $(nproc) cores; $(uptime | sed 's/.*load/load/'); scheduling: $(chrt -p $$ | sed -n 's/.*policy: //p' | head -1)"
echo
python3 bench/cluster/propagation.py --paperboy "$paperboy" --data "$work/node-a" --store "$url" \
  --node-a "$node_a_url" --node-b "$node_b_url" --runs "$runs" --work "$work"
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
