#!/usr/bin/env bash
# Read throughput of one paperboy node on SQLite, one node on PostgreSQL, and nginx in front of two
# nodes on PostgreSQL, in one run on the same corpus and the same URL mix as bench/web/run.sh
# (demo/ plus the 580 days of real Hugging Face daily papers; the home page, 300 paper pages, 30
# searches and /api/daily_papers, rotated by bench/web/rotate.lua), with the CPU time each part
# used per request: the nodes, the PostgreSQL server and nginx, read from /proc before and after
# each wrk run.
#
#   bench/cluster/throughput.sh [PAPERBOY_BINARY] [SECONDS_PER_RUN] [SECONDS_PER_CLASS]
#
# Defaults: build/scale-rel/paperboy (a Release build), 30 s for each configuration's mix, 15 s
# for each page class on the single nodes (0 skips them). Every part runs on this machine: on 2
# cores the two-node row shows what nginx and a second node cost, not how paperboy scales.
# Run it as `chrt -f 10 bench/cluster/throughput.sh` on a shared machine (children inherit the
# real-time priority), so other work does not take the cores mid-run.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/cluster/lib.sh
paperboy=$(realpath "${1:-build/scale-rel/paperboy}")
seconds=${2:-30}
class_seconds=${3:-15}
work=$(mktemp -d /tmp/paperboy-cluster-bench-XXXXXX)
trap 'stop_started; pg_stop; rm -rf "$work"' EXIT

pg_start "$work"
url=$(pg_create_database paperboy_web)
# Exit status 3: some records rejected (a few days of the HF capture hold Python repr() text).
for store in sqlite postgres; do
  options=(--data "$work/ingest-$store")
  [[ $store == postgres ]] && options+=(--store "$url")
  "$paperboy" -q "${options[@]}" ingest --no-index demo ../shared/data/hf-daily-papers >/dev/null \
    2>"$work/ingest-$store.log" || [[ $? == 3 ]]
done
mv "$work/ingest-sqlite" "$work/node-sqlite"

# The paths of bench/web/run.sh: 300 paper pages from the store, 30 searches, home and the API.
start_node sqlite "$work/node-sqlite"
for month in 2024-09 2025-06 2026-03; do
  curl -sf "$node_url/api/daily_papers?month=$month&limit=100" |
    python3 -c 'import json, sys; print("\n".join("/papers/" + e["paper"]["id"] for e in json.load(sys.stdin)))'
done >"$work/papers.txt"
printf '%s\n' "language model" "diffusion" "reinforcement learning" "video generation" "agents" \
  "mixture of experts" "retrieval augmented" "reasoning" "benchmark" "vision transformer" \
  "speech" "robot" "3d gaussian splatting" "state space model" "quantization" "alignment" \
  "multimodal" "code generation" "long context" "instruction tuning" "math" "scaling laws" \
  "tokenizer" "attention" "distillation" "preference optimization" "world model" "medical" \
  "graph" "evaluation" | sed 's/ /+/g; s|^|/search?q=|' >"$work/searches.txt"
echo "/" >"$work/home.txt"
echo "/api/daily_papers" >"$work/api.txt"
cat "$work/home.txt" "$work/papers.txt" "$work/searches.txt" "$work/api.txt" >"$work/mix.txt"
echo "corpus: $(curl -sf "$node_url/healthz")"
echo "paths: $(wc -l <"$work/papers.txt") paper pages, $(wc -l <"$work/searches.txt") searches;" \
  "wrk -t2 -c64, ${seconds} s a configuration; node threads ${node_threads:-64}"
echo "machine: $(nproc) cores; $(uptime | sed 's/.*load/load/'); scheduling: $(chrt -p $$ | sed -n 's/.*policy: //p' | head -1)"

to_ms() {  # wrk prints 850.00us, 12.34ms or 1.20s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[^m]s$/) n *= 1000; printf "%.1f", n }'
}

# measure LABEL URL PATHS DURATION NODE_PIDS...: one wrk run; prints a table row with the CPU
# milliseconds per request of the nodes, PostgreSQL and nginx (when running).
measure() {
  local label=$1 base=$2 paths=$3 duration=$4
  shift 4
  local nodes=("$@") node node_before=0 node_after=0 pg_before pg_after nginx_before=0 nginx_after=0
  local on_postgres=yes
  [[ $label == *SQLite* ]] && on_postgres=""
  PATHS=$paths wrk -t2 -c64 -d5s --timeout 10s -s bench/web/rotate.lua "$base" >/dev/null  # warm-up
  for node in "${nodes[@]}"; do node_before=$((node_before + $(process_ticks "$node"))); done
  pg_before=$(pg_ticks)
  [[ -n ${nginx_pid:-} ]] && nginx_before=$(nginx_ticks)
  PATHS=$paths wrk -t2 -c64 -d"${duration}s" --timeout 10s --latency -s bench/web/rotate.lua \
    "$base" >"$work/wrk.txt"
  for node in "${nodes[@]}"; do node_after=$((node_after + $(process_ticks "$node"))); done
  pg_after=$(pg_ticks)
  [[ -n ${nginx_pid:-} ]] && nginx_after=$(nginx_ticks)
  local requests rps p50 p99 errors
  requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$work/wrk.txt")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")")
  errors=$(awk '/Socket errors:/ {gsub(",", ""); s = $4 + $6 + $8 + $10} /Non-2xx/ {n = $NF} END {print s + n}' "$work/wrk.txt")
  per_request() { awk -v t="$1" -v n="$requests" -v hz="$clock_ticks" 'BEGIN { printf "%.3f", t / hz * 1000 / n }'; }
  printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" "$label" "$rps" "$p50" "$p99" "$errors" \
    "$(per_request $((node_after - node_before)))" \
    "$(if [[ -n $on_postgres ]]; then per_request $((pg_after - pg_before)); else echo -; fi)" \
    "$(if [[ -n ${nginx_pid:-} ]]; then per_request $((nginx_after - nginx_before)); else echo -; fi)" \
    "$requests"
}

# classes LABEL URL NODE_PID: each page class alone, for the per-request cost of each.
classes() {
  local label=$1 base=$2 node=$3 class
  [[ $class_seconds -gt 0 ]] || return 0
  for class in home papers searches api; do
    measure "$label, $class only" "$base" "$work/$class.txt" "$class_seconds" "$node"
  done
}

echo
echo "| configuration | requests/s | p50 ms | p99 ms | errors | node CPU ms/request | PostgreSQL CPU ms/request | nginx CPU ms/request | requests |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
measure "one node, SQLite" "$node_url" "$work/mix.txt" "$seconds" "$node_pid"
classes "one node, SQLite" "$node_url" "$node_pid"
stop_started

start_node postgres-a "$work/node-a" --store "$url"
node_a_pid=$node_pid node_a_url=$node_url
measure "one node, PostgreSQL" "$node_a_url" "$work/mix.txt" "$seconds" "$node_a_pid"
classes "one node, PostgreSQL" "$node_a_url" "$node_a_pid"

start_node postgres-b "$work/node-b" --store "$url"
node_b_pid=$node_pid node_b_url=$node_url
nginx_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_nginx "$nginx_port" "$node_a_url" "$node_b_url"
measure "nginx + two nodes, PostgreSQL" "$nginx_url" "$work/mix.txt" "$seconds" "$node_a_pid" "$node_b_pid"
echo
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
