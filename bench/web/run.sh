#!/usr/bin/env bash
# Web load benchmark: wrk (2 threads, 64 connections) against `paperboy serve` on the demo corpus
# plus the 580 days of real Hugging Face daily papers (shared/data/hf-daily-papers), for the home
# page, paper pages, the search page and /api/daily_papers, then a soak of all of them together
# while the server's resident memory is sampled.
#
#   bench/web/run.sh [PAPERBOY_BINARY] [SECONDS_PER_RUN] [SOAK_SECONDS]
#
# Defaults: build/web-rel/paperboy (a Release build), 30 s a run, a 600 s soak. The peer of every
# figure is the same server answering /healthz (a tiny JSON answer from one store query) in the
# same run: the ratio says what a page costs beyond httplib's own per-request work.
# Server threads: PAPERBOY_BENCH_THREADS (default 64, one per connection: httplib serves a
# keep-alive connection on one pool thread).
set -euo pipefail
cd "$(dirname "$0")/../.."
paperboy=$(realpath "${1:-build/web-rel/paperboy}")
seconds=${2:-30}
soak_seconds=${3:-600}
threads=${PAPERBOY_BENCH_THREADS:-64}
work=$(mktemp -d /tmp/paperboy-web-bench-XXXXXX)
server=""
trap '[[ -n "$server" ]] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

# Exit status 3: some records rejected (a few days of the HF capture hold Python repr() text).
"$paperboy" -q --data "$work/data" ingest demo ../shared/data/hf-daily-papers >/dev/null \
  2> "$work/ingest.log" || [[ $? == 3 ]]

"$paperboy" -q --data "$work/data" serve --port 0 --threads "$threads" 2> "$work/serve.log" &
server=$!
for _ in $(seq 300); do grep -q "serving .* on http" "$work/serve.log" 2>/dev/null && break; sleep 0.2; done
base=$(grep -o "http://[^ ]*" "$work/serve.log" | head -1)

# 300 paper pages and 30 searches, from the store itself.
for month in 2024-09 2025-06 2026-03; do
  curl -sf "$base/api/daily_papers?month=$month&limit=100" |
    python3 -c 'import json, sys; print("\n".join("/papers/" + e["paper"]["id"] for e in json.load(sys.stdin)))'
done > "$work/papers.txt"
printf '%s\n' "language model" "diffusion" "reinforcement learning" "video generation" "agents" \
  "mixture of experts" "retrieval augmented" "reasoning" "benchmark" "vision transformer" \
  "speech" "robot" "3d gaussian splatting" "state space model" "quantization" "alignment" \
  "multimodal" "code generation" "long context" "instruction tuning" "math" "scaling laws" \
  "tokenizer" "attention" "distillation" "preference optimization" "world model" "medical" \
  "graph" "evaluation" | sed 's/ /+/g; s|^|/search?q=|' > "$work/searches.txt"
echo "/" > "$work/home.txt"
echo "/api/daily_papers" > "$work/api.txt"
echo "/healthz" > "$work/health.txt"
cat "$work/home.txt" "$work/papers.txt" "$work/searches.txt" "$work/api.txt" > "$work/mix.txt"
echo "corpus: $(curl -sf "$base/healthz")"
echo "paths: $(wc -l < "$work/papers.txt") paper pages, $(wc -l < "$work/searches.txt") searches"

# Field of a wrk --latency report: requests/s, p99 (ms), and errors (socket errors + non-2xx).
wrk_run() {
  local paths=$1 duration=$2
  PATHS=$paths wrk -t2 -c64 -d"${duration}s" --timeout 10s --latency -s bench/web/rotate.lua "$base" 
}
to_ms() {  # wrk prints 850.00us, 12.34ms or 1.20s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[^m]s$/) n *= 1000; printf "%.1f", n }'
}
summary() {
  local report=$1
  local rps p99 errors
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<< "$report")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<< "$report")")
  errors=$(awk '/Socket errors:/ {gsub(",", ""); s = $4 + $6 + $8 + $10} /Non-2xx/ {n = $NF} END {print s + n}' <<< "$report")
  echo "$rps $p99 $errors"
}

echo "machine: $(nproc) cores; load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
wrk_run "$work/health.txt" 5 > /dev/null  # warm-up
printf '| request | requests/s | p99 ms | errors | ratio to /healthz |\n|---|---|---|---|---|\n'
read -r peer_rps peer_p99 peer_errors <<< "$(summary "$(wrk_run "$work/health.txt" "$seconds")")"
printf '| /healthz (peer) | %s | %s | %s | 1.00 |\n' "$peer_rps" "$peer_p99" "$peer_errors"
for name in home papers searches api; do
  read -r rps p99 errors <<< "$(summary "$(wrk_run "$work/$name.txt" "$seconds")")"
  label=$(case $name in home) echo "home /";; papers) echo "paper pages";; searches) echo "search page";; api) echo "/api/daily_papers";; esac)
  printf '| %s | %s | %s | %s | %.2f |\n' "$label" "$rps" "$p99" "$errors" "$(bc -l <<< "$rps / $peer_rps")"
done
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"

# Soak: the whole mix for soak_seconds, resident memory sampled every 10 s.
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$server/status"; }
echo "soak: ${soak_seconds}s of the mix; RSS at start: $(rss) KB"
PATHS=$work/mix.txt wrk -t2 -c64 -d"${soak_seconds}s" --timeout 10s --latency -s bench/web/rotate.lua "$base" > "$work/soak.txt" &
soak=$!
: > "$work/rss.txt"
while kill -0 "$soak" 2>/dev/null; do rss >> "$work/rss.txt"; sleep 10; done
wait "$soak"
read -r rps p99 errors <<< "$(summary "$(cat "$work/soak.txt")")"
echo "soak: $rps requests/s, p99 $p99 ms, $errors errors"
# Flat means the second half of the soak grows no further than the first half reached.
awk '{rss[NR] = $1} END {
       half = int(NR / 2); for (i = 1; i <= NR; i++) { if (i <= half && rss[i] > first_max) first_max = rss[i];
                                                       if (rss[i] > max) max = rss[i] }
       printf "soak RSS: first sample %d KB, last %d KB, max of the first half %d KB, max overall %d KB (%d samples)\n",
              rss[1], rss[NR], first_max, max, NR }' "$work/rss.txt"
echo "RSS samples (KB): $(tr '\n' ' ' < "$work/rss.txt")"
