#!/usr/bin/env bash
# Sentence encoder throughput: paperboy's C++ encoder against the same model in PyTorch on the CPU,
# in one run on the same texts. The model is a MiniLM-sized random checkpoint (6 layers, 384
# hidden, 12 heads, 1536 intermediate, all-MiniLM-L6-v2's layout and 256-token limit); the texts
# are real arXiv titles and abstracts from shared/data/arxiv-daily-cs. Batch 32, 1 and 2 threads.
# Usage: bench/encoder/run.sh [TITLES] [ABSTRACTS]   (default 1024 titles, 128 abstracts)
# Prints Markdown for docs/benchmarks.md. Builds its own release tree in build/encoder-bench.
set -euo pipefail
cd "$(dirname "$0")/../.."
titles=${1:-1024}
abstracts=${2:-128}
work=${BENCH_DIR:-/tmp/paperboy-encoder-bench}
build=build/encoder-bench
python=/usr/bin/python3  # Debian's python3-torch is installed for the system Python
batch=32

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPAPERBOY_TESTS=OFF \
  -DPAPERBOY_ENCODER_BENCH=ON >/dev/null
ninja -C "$build" encoder_bench >/dev/null
model="$work/minilm-random-$titles-$abstracts"
[[ -f $model/model.safetensors ]] ||
  "$python" bench/encoder/torch_peer.py prepare "$model" ../shared/data/arxiv-daily-cs "$titles" "$abstracts"

field() { "$python" -c "import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

echo "## Sentence encoder: MiniLM-sized random checkpoint, batch $batch, $(date -u +%F), $(nproc) cores"
echo
echo "Machine load before the run: $(uptime | sed 's/.*load average/load average/')"
echo
echo "| texts | tokens | threads | paperboy texts/s | PyTorch texts/s | ratio | paperboy CPU s | PyTorch CPU s | CPU ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for kind in titles abstracts; do
  for threads in 1 2; do
    ours=$("$build/src/encoder/encoder_bench" "$model" "$model/$kind.txt" "$threads" "$batch")
    peer=$("$python" bench/encoder/torch_peer.py run "$model" "$model/$kind.txt" "$threads" "$batch")
    "$python" - "$kind" "$threads" "$ours" "$peer" <<'PY'
import json, sys
kind, threads, ours, peer = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
print("| %d %s | %d | %s | %.1f | %.1f | **%.2fx** | %.2f | %.2f | %.2fx |" % (
    ours["texts"], kind, ours["tokens"], threads, ours["per_second"], peer["per_second"],
    ours["per_second"] / peer["per_second"], ours["cpu_seconds"], peer["cpu_seconds"],
    peer["cpu_seconds"] / ours["cpu_seconds"]))
PY
  done
done
echo
echo "Machine load after the run: $(uptime | sed 's/.*load average/load average/')"
