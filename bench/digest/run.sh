#!/usr/bin/env bash
# Digest benchmark: queue and send digests for N subscribers (default 100,000) with varied
# topics against a local SMTP sink (Debian's aiosmtpd, counting only), and report the time, the
# rate and the peak memory of `paperboy digest send`.
#
#   bench/digest/run.sh [N] [PAPERBOY_BINARY]
#
# The store holds the 72k arXiv listing records of shared/data (59k papers with categories,
# authors, abstracts), with a keyword index, so saved searches really run.
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-100000}
paperboy=$(realpath "${2:-build/release/paperboy}")
work=$(mktemp -d /tmp/paperboy-digest-bench-XXXXXX)
trap 'kill "$sink" 2>/dev/null || true; rm -rf "$work"' EXIT

"$paperboy" -q --data "$work/data" ingest ../shared/data/arxiv-daily-cs/*.jsonl >/dev/null || [[ $? == 3 ]]
/usr/bin/python3 bench/digest/generate_subscribers.py "$work/data/paperboy.db" "$count"

mkdir -p "$work/mail"
/usr/bin/python3 src/mail/testdata/smtp_sink.py "$work/mail" --count-only > "$work/sink.out" &
sink=$!
for _ in $(seq 50); do grep -q PORT "$work/sink.out" 2>/dev/null && break; sleep 0.2; done
port=$(awk '/PORT/ {print $2}' "$work/sink.out")

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "%e s wall, %U s user, %S s system, %M KB peak" \
  "$paperboy" --data "$work/data" digest --smtp-port "$port" \
  --from "paperboy <digest@bench.example.org>" send
kill "$sink"; wait "$sink" 2>/dev/null || true
echo "sink accepted $(cat "$work/mail/count") messages"
