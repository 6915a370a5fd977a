#!/usr/bin/env bash
# Web load benchmark: wrk (2 threads, 64 connections) against `paperboy serve` for the home
# page, paper pages, the search page and /api/daily_papers, each followed by the same load from
# web_load_client (bench/web/load_client.cc, 64 connections), which records every request's own
# latency, and then offers the issue's goal rate (3,000 requests/s, 1,000 for searches) in an
# open loop, counting each request's latency from when it was due; then a soak of all of them
# together while the server's resident memory is sampled. wrk's percentiles are not per-request
# latencies: wrk 4 adds synthetic samples for coordinated omission (rotate.lua prints how
# many), so the p99 figures of the table are the client's.
#
#   bench/web/run.sh [PAPERBOY_BINARY] [SECONDS_PER_RUN] [SOAK_SECONDS]
#
# Defaults: build/web-rel/paperboy (a Release build), 30 s a run, a 600 s soak (0: no soak).
# web_load_client is taken from the binary's build folder (ninja web_load_client puts it in
# src/web/), or from PAPERBOY_BENCH_LOAD_CLIENT.
# Environment:
#   PAPERBOY_BENCH_STORE=demo (default): demo/ plus the 580 days of real Hugging Face daily
#     papers (shared/data/hf-daily-papers), about 10k papers.
#   PAPERBOY_BENCH_STORE=1m: one million generated papers (bench/web/canonical_corpus.py over
#     the corpus of `search_bench generate`, PAPERBOY_BENCH_CORPUS, by default
#     /tmp/indexops-bench/corpus-1000000.jsonl), one in ten of them in the daily feed.
#   PAPERBOY_BENCH_DATA=DIR: keep the data folder there and reuse it when it already holds a
#     store (the 1M store takes minutes to ingest and index); default: a temporary folder.
#   PAPERBOY_BENCH_THREADS: server threads (default 64, one per connection: httplib serves a
#     keep-alive connection on one pool thread).
#   PAPERBOY_BENCH_RENDER_SLOTS: the server's --render-slots (renders at once, the rest queue in
#     arrival order); default: the server's own (one per core); 64: no queue. Unset, the flag is
#     not passed, so builds from before it can be compared.
#
# Every request kind runs twice against the same server binary and data: as served (anonymous
# visitors share a rendered answer for up to 1 s, --page-cache-ms 1000) and with every request
# rendered (--page-cache-ms 0). The paths rotate (bench/web/rotate.lua) through 300 paper pages
# and 120 searches, so the shared answers are a popular site's, not one page's. The peer of every
# figure is the same server answering /healthz (a small JSON answer from the store) in the same
# run: the ratio says what a page costs beyond httplib's own per-request work.
set -euo pipefail
cd "$(dirname "$0")/../.."
paperboy=$(realpath "${1:-build/web-rel/paperboy}")
seconds=${2:-30}
soak_seconds=${3:-600}
threads=${PAPERBOY_BENCH_THREADS:-64}
render_slots=${PAPERBOY_BENCH_RENDER_SLOTS:-}
corpus_kind=${PAPERBOY_BENCH_STORE:-demo}
load_client=${PAPERBOY_BENCH_LOAD_CLIENT:-$(dirname "$paperboy")/src/web/web_load_client}
[[ -x "$load_client" ]] || { echo "no $load_client: build it (ninja web_load_client) or set PAPERBOY_BENCH_LOAD_CLIENT" >&2; exit 1; }
work=$(mktemp -d /tmp/paperboy-web-bench-XXXXXX)
data=${PAPERBOY_BENCH_DATA:-$work/data}
server=""
stop_server() {
  if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  server=""
}
trap 'stop_server; rm -rf "$work"' EXIT

if [[ ! -f "$data/paperboy.db" ]]; then
  case $corpus_kind in
    demo)
      # Exit status 3: some records rejected (a few days of the HF capture hold Python repr() text).
      "$paperboy" -q --data "$data" ingest demo ../shared/data/hf-daily-papers >/dev/null \
        2> "$work/ingest.log" || [[ $? == 3 ]]
      ;;
    1m)
      corpus=${PAPERBOY_BENCH_CORPUS:-/tmp/indexops-bench/corpus-1000000.jsonl}
      [[ -f "$corpus" ]] || { echo "no $corpus: make it with search_bench generate 1000000 (bench/search)" >&2; exit 1; }
      python3 bench/web/canonical_corpus.py "$corpus" > "$work/canonical.jsonl"
      "$paperboy" -q --data "$data" ingest "$work/canonical.jsonl" >/dev/null 2> "$work/ingest.log"
      rm "$work/canonical.jsonl"
      ;;
    *) echo "PAPERBOY_BENCH_STORE: expected demo or 1m, got '$corpus_kind'" >&2; exit 1 ;;
  esac
fi

# Starts the server with `--page-cache-ms $1` and sets $server and $base.
start_server() {
  "$paperboy" -q --data "$data" serve --port 0 --threads "$threads" --page-cache-ms "$1" \
    ${render_slots:+--render-slots "$render_slots"} 2> "$work/serve.log" &
  server=$!
  # Serving may first bring the search index up to date (minutes for a new 1M store).
  for _ in $(seq 6000); do grep -q "serving .* on http" "$work/serve.log" 2>/dev/null && break; sleep 0.2; done
  base=$(grep -o "http://[^ ]*" "$work/serve.log" | head -1)
  [[ -n "$base" ]] || { echo "the server did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
}
start_server 1000

# 300 paper pages: 100 from each of three months of the feed (the last one, 6 and 12 months
# before), and 120 searches: 30 queries, each by relevance, by date, by upvotes and its page 2.
last_month=$(curl -sf "$base/healthz" | python3 -c 'import json, sys; print(json.load(sys.stdin)["last_feed_day"][:7])')
for back in 0 6 12; do
  month=$(date -d "$last_month-01 -$back months" +%Y-%m)
  curl -sf "$base/api/daily_papers?month=$month&limit=100" |
    python3 -c 'import json, sys; print("\n".join("/papers/" + e["paper"]["id"] for e in json.load(sys.stdin)))'
done > "$work/papers.txt"
bench/web/search_paths.sh > "$work/searches.txt"
echo "/" > "$work/home.txt"
echo "/api/daily_papers" > "$work/api.txt"
echo "/healthz" > "$work/health.txt"
cat "$work/home.txt" "$work/papers.txt" "$work/searches.txt" "$work/api.txt" > "$work/mix.txt"
echo "store: $corpus_kind; $(curl -sf "$base/healthz")"
echo "paths: $(wc -l < "$work/papers.txt") paper pages, $(wc -l < "$work/searches.txt") searches"

wrk_run() {
  local paths=$1 duration=$2
  PATHS=$paths wrk -t2 -c64 -d"${duration}s" --timeout 10s --latency -s bench/web/rotate.lua "$base"
}
to_ms() {  # wrk prints 850.00us, 12.34ms or 1.20s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[^m]s$/) n *= 1000; printf "%.1f", n }'
}
# Requests/s, p99 (ms) and errors (socket errors + non-2xx) of a wrk --latency report.
summary() {
  local report=$1
  local rps p99 errors
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<< "$report")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<< "$report")")
  errors=$(awk '/Socket errors:/ {gsub(",", ""); s = $4 + $6 + $8 + $10} /Non-2xx/ {n = $NF} END {print s + n}' <<< "$report")
  echo "$rps $p99 $errors"
}
# The same paths from web_load_client: requests/s, p99 and mean (ms), errors, and the requests
# in flight by Little's law (mean latency x throughput, at most the 64 connections).
client_run() {
  local report
  report=$("$load_client" --url "$base" --paths "$1" --connections 64 --seconds "$2" --rate "${3:-0}")
  awk '/^summary:/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                     printf "%.0f %.1f %.2f %d %.1f\n", v["rps"], v["p99_ms"], v["mean_ms"], v["errors"],
                            v["rps"] * v["mean_ms"] / 1000 }' <<< "$report"
}
label_of() {
  case $1 in
    health) echo "/healthz (peer)" ;; home) echo "home /" ;; papers) echo "paper pages" ;;
    searches) echo "search page" ;; api) echo "/api/daily_papers" ;;
  esac
}

echo "machine: $(nproc) cores; load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server: --threads $threads${render_slots:+ --render-slots $render_slots}"
printf '| request | answers | wrk requests/s | ratio to /healthz | client requests/s | client p99 ms | in flight | wrk p99 ms (corrected) | goal requests/s | p99 ms at the goal rate | errors |\n'
printf '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for cache_ms in 1000 0; do
  if [[ $cache_ms == 0 ]]; then stop_server; start_server 0; fi
  answers=$([[ $cache_ms == 0 ]] && echo "rendered" || echo "shared 1 s")
  wrk_run "$work/health.txt" 5 > /dev/null  # warm-up
  peer_rps=""
  for name in health home papers searches api; do
    read -r rps p99 errors <<< "$(summary "$(wrk_run "$work/$name.txt" "$seconds")")"
    peer_rps=${peer_rps:-$rps}
    read -r client_rps client_p99 _ client_errors in_flight <<< "$(client_run "$work/$name.txt" "$seconds")"
    goal=$([[ $name == searches ]] && echo 1000 || echo 3000)
    read -r goal_rps goal_p99 _ goal_errors _ <<< "$(client_run "$work/$name.txt" "$seconds" "$goal")"
    printf '| %s | %s | %s | %.2f | %s | %s | %s | %s | %s | %s | %s |\n' "$(label_of $name)" "$answers" \
      "$rps" "$(bc -l <<< "$rps / $peer_rps")" "$client_rps" "$client_p99" "$in_flight" "$p99" \
      "$goal_rps" "$goal_p99" "$((errors + client_errors + goal_errors))"
  done
done
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
[[ $soak_seconds == 0 ]] && exit 0

# Soak: the whole mix for soak_seconds with shared answers, resident memory sampled every 10 s.
stop_server
start_server 1000
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$server/status"; }
echo "soak: ${soak_seconds}s of the mix; RSS at start: $(rss) KB"
client_run "$work/mix.txt" "$soak_seconds" > "$work/soak.txt" &
soak=$!
: > "$work/rss.txt"
while kill -0 "$soak" 2>/dev/null; do rss >> "$work/rss.txt"; sleep 10; done
wait "$soak"
read -r rps p99 mean errors in_flight < "$work/soak.txt"
echo "soak (web_load_client): $rps requests/s, p99 $p99 ms, mean $mean ms, $in_flight in flight, $errors errors"
# Flat means the second half of the soak grows no further than the first half reached.
awk '{rss[NR] = $1} END {
       half = int(NR / 2); for (i = 1; i <= NR; i++) { if (i <= half && rss[i] > first_max) first_max = rss[i];
                                                       if (rss[i] > max) max = rss[i] }
       printf "soak RSS: first sample %d KB, last %d KB, max of the first half %d KB, max overall %d KB (%d samples)\n",
              rss[1], rss[NR], first_max, max, NR }' "$work/rss.txt"
echo "RSS samples (KB): $(tr '\n' ' ' < "$work/rss.txt")"
