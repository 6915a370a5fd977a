#!/usr/bin/env bash
# The 120 search requests of the web benchmarks: 30 queries, each by relevance, by date, by
# upvotes and its page 2, one path per line.
set -euo pipefail
printf '%s\n' "language model" "diffusion" "reinforcement learning" "video generation" "agents" \
  "mixture of experts" "retrieval augmented" "reasoning" "benchmark" "vision transformer" \
  "speech" "robot" "3d gaussian splatting" "state space model" "quantization" "alignment" \
  "multimodal" "code generation" "long context" "instruction tuning" "math" "scaling laws" \
  "tokenizer" "attention" "distillation" "preference optimization" "world model" "medical" \
  "graph" "evaluation" | sed 's/ /+/g; s|^|/search?q=|' |
  awk '{print; print $0 "&sort=date"; print $0 "&sort=upvotes"; print $0 "&page=2"}'
