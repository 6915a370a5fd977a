#!/usr/bin/env bash
# Keyword search benchmarks, paperboy against SQLite FTS5 and Xapian in one run.
# Usage: bench/search/run.sh [RECORDS]   (default 100000)
# 1. relevance on SciFact (BEIR): nDCG@10 / recall@100, tuned on 2/3 of the queries, held-out 1/3;
# 2. speed on a generated arXiv-like corpus: build time, index size, peak memory, and per query
#    class p50 / p99 latency (ms) and queries per second, single-threaded, top 10.
# Prints Markdown for docs/benchmarks.md. Builds its own release tree in build/search-bench.
set -euo pipefail
cd "$(dirname "$0")/../.."
records=${1:-100000}
work=${BENCH_DIR:-/tmp/paperboy-search-bench}
build=build/search-bench
mkdir -p "$work"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPAPERBOY_TESTS=OFF \
  -DPAPERBOY_SEARCH_BENCH=ON >/dev/null
ninja -C "$build" search_eval search_bench >/dev/null

echo "## Relevance: SciFact (BEIR), $(date -u +%F)"
echo
"$build/src/search/search_eval" ../shared/data/scifact "$work/eval"
echo

corpus="$work/corpus-$records.jsonl"
queries="$work/queries-$records.tsv"
[[ -f $corpus ]] || "$build/src/search/search_bench" generate "$records" ../shared/data/arxiv-daily-cs "$corpus" "$queries"
echo "## Speed: $records generated arXiv-like records, $(nproc) cores"
echo
echo "Latency cells are p50 ms / p99 ms / queries per second; every engine answers the top 10."
echo
echo "| engine | records | build s | index MB | peak RSS MB | 1 word | 2 words | 3 words | 5 words | phrase |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for engine in paperboy fts5 xapian; do
  "$build/src/search/search_bench" run "$engine" "$corpus" "$queries" "$work/$engine"
done
# The same indexes queried with the semantics lined up (build columns: opening time only):
# paperboy requiring every word, as fts5 and xapian above; xapian ranking any word.
"$build/src/search/search_bench" query paperboy-and "$corpus" "$queries" "$work/paperboy"
"$build/src/search/search_bench" query xapian-or "$corpus" "$queries" "$work/xapian"
# The issue compares index size with Xapian's compacted database (apt-get install xapian-tools).
if command -v xapian-compact >/dev/null; then
  rm -rf "$work/xapian-compact"
  xapian-compact "$work/xapian/xapian" "$work/xapian-compact" >/dev/null
  echo
  echo "Xapian's index after xapian-compact: $(du -sm "$work/xapian-compact" | cut -f1) MB"
fi
