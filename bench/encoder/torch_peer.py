#!/usr/bin/env python3
"""The PyTorch side of the sentence encoder benchmark.

  torch_peer.py prepare OUT_DIR ARXIV_DIR TITLES ABSTRACTS
      writes a MiniLM-sized random checkpoint (6 layers, 384 hidden, 12 heads, 1536
      intermediate, 30,522-token vocabulary of the corpus's most frequent words) to OUT_DIR, and
      the benchmark texts, real arXiv titles and abstracts one a line, to OUT_DIR/titles.txt and
      OUT_DIR/abstracts.txt
  torch_peer.py run MODEL_DIR TEXTS THREADS BATCH
      encodes TEXTS as sentence-transformers' encode() does (sorted by length, batches padded
      with an attention mask, mean pooling, normalised) with torch on the CPU, and prints JSON
      {"texts", "tokens", "seconds", "cpu_seconds", "per_second"}; the time covers the forward
      passes and pooling (tokenizing in Python is left out, in the peer's favour).
"""
import collections
import glob
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src",
                                "encoder", "testdata"))
import torch_reference  # noqa: E402  (also checks that torch is installed)
import torch  # noqa: E402

MINILM = {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
          "intermediate_size": 1536, "max_position_embeddings": 512, "type_vocab_size": 2}
VOCAB_SIZE = 30522
MAX_SEQ_LENGTH = 256  # all-MiniLM-L6-v2's sentence_bert_config.json


def read_records(arxiv_dir):
    for path in sorted(glob.glob(os.path.join(arxiv_dir, "*.jsonl"))):
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)


def prepare(out_dir, arxiv_dir, title_count, abstract_count):
    titles, abstracts, seen = [], [], set()
    counts = collections.Counter()
    splitter = torch_reference.WordPiece({})
    for record in read_records(arxiv_dir):
        if record["id"] in seen:
            continue
        seen.add(record["id"])
        title = " ".join(record["title"].split())
        abstract = " ".join(record["summary"].split())
        counts.update(splitter.basic_tokens(title + " " + abstract))
        if len(titles) < title_count:
            titles.append(title)
        if len(abstracts) < abstract_count:
            abstracts.append(abstract)
        if len(seen) >= 20000 and len(titles) >= title_count and len(abstracts) >= abstract_count:
            break
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    characters = sorted({c for word in counts for c in word})
    tokens += characters + ["##" + c for c in characters]
    known = set(tokens)
    for word, _ in counts.most_common():
        if len(tokens) == VOCAB_SIZE:
            break
        if word not in known:
            tokens.append(word)
            known.add(word)
    tokens += ["[unused%d]" % i for i in range(VOCAB_SIZE - len(tokens))]
    torch_reference.make_checkpoint(out_dir, MINILM, tokens, seed=7, tokenizer_files=("vocab.txt",),
                                    max_seq_length=MAX_SEQ_LENGTH)
    for name, texts in (("titles.txt", titles), ("abstracts.txt", abstracts)):
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as out:
            out.write("".join(text + "\n" for text in texts))


def load_weights(model_dir):
    import numpy
    with open(os.path.join(model_dir, "model.safetensors"), "rb") as stream:
        data = stream.read()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    weights = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        array = numpy.frombuffer(data, dtype=numpy.float32, count=(end - begin) // 4,
                                 offset=8 + length + begin)
        weights[name] = torch.from_numpy(array.copy()).reshape(entry["shape"])
    return weights


def run(model_dir, texts_path, threads, batch):
    torch.set_num_threads(threads)
    with open(os.path.join(model_dir, "vocab.txt"), encoding="utf-8") as lines:
        vocab = {line.rstrip("\n"): index for index, line in enumerate(lines)}
    with open(os.path.join(model_dir, "config.json")) as stream:
        config = json.load(stream)
    weights = load_weights(model_dir)
    tokenizer = torch_reference.WordPiece(vocab)
    with open(texts_path, encoding="utf-8") as lines:
        texts = [line.rstrip("\n") for line in lines]
    ids = [tokenizer.ids(text, MAX_SEQ_LENGTH) for text in texts]
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))  # as sentence-transformers does
    torch_reference.encode(weights, config, [ids[i] for i in order[:batch]], "mean", True)  # warm up
    cpu_start, start = time.process_time(), time.perf_counter()
    for first in range(0, len(order), batch):
        torch_reference.encode(weights, config, [ids[i] for i in order[first:first + batch]],
                               "mean", True)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    print(json.dumps({"texts": len(texts), "tokens": sum(len(i) for i in ids), "seconds": seconds,
                      "cpu_seconds": cpu_seconds, "per_second": len(texts) / seconds}))


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) == 6 and sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
