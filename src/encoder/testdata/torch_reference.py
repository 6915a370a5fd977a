#!/usr/bin/env python3
"""Reference for the C++ sentence encoder, in plain PyTorch (no transformers package).

Writes tiny randomly initialised BERT sentence-embedding checkpoints in the file layout that
sentence-transformers publishes (config.json, model.safetensors, vocab.txt and/or tokenizer.json,
modules.json, 1_Pooling/config.json, sentence_bert_config.json), tokenizes test sentences with a
WordPiece tokenizer written here from BERT's definition, runs Hugging Face BertModel's forward
pass (padding + attention mask, exact GELU) and pooling, and writes reference.json with the
token ids and embeddings the C++ encoder must reproduce.

Usage: torch_reference.py OUTPUT_DIR
The bench (bench/encoder/) imports make_checkpoint, WordPiece and encode from here.
"""
import json
import math
import os
import struct
import sys
import unicodedata

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit("torch_reference.py: PyTorch is not installed for " + sys.executable +
             "; install Debian's python3-torch (scripts/setup.sh does)")


# --- WordPiece, after BERT's tokenization.py (BasicTokenizer + WordpieceTokenizer) ----------

def _is_whitespace(char):
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char):
    if char in "\t\n\r":
        return False
    return unicodedata.category(char).startswith("C")


def _is_punctuation(char):
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or
            0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or
            0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class WordPiece:
    def __init__(self, vocab, lowercase=True, strip_accents=None, unk="[UNK]"):
        self.vocab = vocab
        self.lowercase = lowercase
        self.strip_accents = lowercase if strip_accents is None else strip_accents
        self.unk = unk

    def basic_tokens(self, text):
        cleaned = []
        for char in text:
            cp = ord(char)
            if cp == 0 or cp == 0xFFFD or _is_control(char):
                continue
            cleaned.append(" " if _is_whitespace(char) else char)
        spaced = []
        for char in cleaned:
            spaced.append(" " + char + " " if _is_cjk(ord(char)) else char)
        words = []
        for token in "".join(spaced).split():
            if self.lowercase:
                token = token.lower()
            if self.strip_accents:
                token = "".join(c for c in unicodedata.normalize("NFD", token)
                                if unicodedata.category(c) != "Mn")
            current = ""
            for char in token:
                if _is_punctuation(char):
                    if current:
                        words.append(current)
                    words.append(char)
                    current = ""
                else:
                    current += char
            if current:
                words.append(current)
        return words

    def pieces(self, word):
        if len(word) > 100:
            return [self.unk]
        pieces, start = [], 0
        while start < len(word):
            end, match = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    match = piece
                    break
                end -= 1
            if match is None:
                return [self.unk]
            pieces.append(match)
            start = end
        return pieces

    def ids(self, text, max_tokens):
        pieces = [p for word in self.basic_tokens(text) for p in self.pieces(word)]
        pieces = ["[CLS]"] + pieces[:max_tokens - 2] + ["[SEP]"]
        return [self.vocab[p] for p in pieces]


# --- checkpoint files --------------------------------------------------------------------

def write_safetensors(path, tensors, dtype):
    """tensors: name -> float32 tensor. dtype "F32" or "F16"."""
    torch_type = {"F32": torch.float32, "F16": torch.float16}[dtype]
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, tensor in tensors.items():
        data = tensor.to(torch_type).contiguous().numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # as the safetensors writer does: 8-byte aligned data
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(encoded)))
        out.write(encoded)
        for blob in blobs:
            out.write(blob)


def random_weights(config, seed):
    generator = torch.Generator().manual_seed(seed)

    def normal(*shape, std=0.2, mean=0.0):
        return torch.randn(*shape, generator=generator) * std + mean

    hidden, inter = config["hidden_size"], config["intermediate_size"]
    weights = {
        "embeddings.word_embeddings.weight": normal(config["vocab_size"], hidden, std=0.5),
        "embeddings.position_embeddings.weight": normal(config["max_position_embeddings"], hidden),
        "embeddings.token_type_embeddings.weight": normal(config["type_vocab_size"], hidden),
        "embeddings.LayerNorm.weight": normal(hidden, std=0.1, mean=1.0),
        "embeddings.LayerNorm.bias": normal(hidden, std=0.1),
    }
    for layer in range(config["num_hidden_layers"]):
        base = "encoder.layer.%d." % layer
        for name, (rows, cols) in {
                "attention.self.query": (hidden, hidden), "attention.self.key": (hidden, hidden),
                "attention.self.value": (hidden, hidden), "attention.output.dense": (hidden, hidden),
                "intermediate.dense": (inter, hidden), "output.dense": (hidden, inter)}.items():
            weights[base + name + ".weight"] = normal(rows, cols, std=1.0 / math.sqrt(cols))
            weights[base + name + ".bias"] = normal(rows, std=0.1)
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            weights[base + name + ".weight"] = normal(hidden, std=0.1, mean=1.0)
            weights[base + name + ".bias"] = normal(hidden, std=0.1)
    return weights


def make_checkpoint(folder, config, vocab_tokens, seed=1, dtype="F32", prefix="", pooling="mean",
                    normalize=True, tokenizer_files=("vocab.txt",), lowercase=True,
                    max_seq_length=None):
    """Writes a checkpoint folder; returns (weights as float32 after dtype rounding, WordPiece)."""
    os.makedirs(os.path.join(folder, "1_Pooling"), exist_ok=True)
    config = dict(config, vocab_size=len(vocab_tokens))
    full_config = dict(config, model_type="bert", architectures=["BertModel"], hidden_act="gelu",
                       position_embedding_type="absolute", hidden_dropout_prob=0.1,
                       attention_probs_dropout_prob=0.1, layer_norm_eps=1e-12,
                       pad_token_id=0, torch_dtype="float32")
    with open(os.path.join(folder, "config.json"), "w") as out:
        json.dump(full_config, out, indent=2)

    weights = random_weights(config, seed)
    stored = {prefix + name: tensor for name, tensor in weights.items()}
    if prefix:
        # Checkpoints saved from BertForMaskedLM & co. carry a pooler we do not use.
        hidden = config["hidden_size"]
        stored[prefix + "pooler.dense.weight"] = torch.zeros(hidden, hidden)
        stored[prefix + "pooler.dense.bias"] = torch.zeros(hidden)
    write_safetensors(os.path.join(folder, "model.safetensors"), stored, dtype)
    if dtype == "F16":
        weights = {name: tensor.half().float() for name, tensor in weights.items()}

    vocab = {token: index for index, token in enumerate(vocab_tokens)}
    if "vocab.txt" in tokenizer_files:
        with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as out:
            out.write("".join(token + "\n" for token in vocab_tokens))
        with open(os.path.join(folder, "tokenizer_config.json"), "w") as out:
            json.dump({"do_lower_case": lowercase, "strip_accents": None,
                       "tokenize_chinese_chars": True, "unk_token": "[UNK]",
                       "tokenizer_class": "BertTokenizer"}, out, indent=2)
    if "tokenizer.json" in tokenizer_files:
        special = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False,
                    "rstrip": False, "normalized": False, "special": True}
                   for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")]
        with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as out:
            json.dump({
                "version": "1.0", "truncation": None, "padding": None, "added_tokens": special,
                "normalizer": {"type": "BertNormalizer", "clean_text": True,
                               "handle_chinese_chars": True, "strip_accents": None,
                               "lowercase": lowercase},
                "pre_tokenizer": {"type": "BertPreTokenizer"},
                "post_processor": {"type": "TemplateProcessing",
                                   "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                                              {"Sequence": {"id": "A", "type_id": 0}},
                                              {"SpecialToken": {"id": "[SEP]", "type_id": 0}}]},
                "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
                "model": {"type": "WordPiece", "unk_token": "[UNK]",
                          "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
                          "vocab": vocab}}, out, ensure_ascii=False)

    with open(os.path.join(folder, "1_Pooling", "config.json"), "w") as out:
        json.dump({"word_embedding_dimension": config["hidden_size"],
                   "pooling_mode_cls_token": pooling == "cls",
                   "pooling_mode_mean_tokens": pooling == "mean",
                   "pooling_mode_max_tokens": pooling == "max",
                   "pooling_mode_mean_sqrt_len_tokens": False}, out, indent=2)
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling"}]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize",
                        "type": "sentence_transformers.models.Normalize"})
    with open(os.path.join(folder, "modules.json"), "w") as out:
        json.dump(modules, out, indent=2)
    if max_seq_length is not None:
        with open(os.path.join(folder, "sentence_bert_config.json"), "w") as out:
            json.dump({"max_seq_length": max_seq_length, "do_lower_case": False}, out)
    return weights, WordPiece(vocab, lowercase=lowercase)


# --- forward pass, as Hugging Face BertModel + sentence-transformers pooling --------------

def bert_forward(weights, config, input_ids, attention_mask):
    batch, length = input_ids.shape
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    head_size = hidden // heads
    eps = 1e-12
    w = weights
    x = (w["embeddings.word_embeddings.weight"][input_ids] +
         w["embeddings.position_embeddings.weight"][torch.arange(length)][None] +
         w["embeddings.token_type_embeddings.weight"][0])
    x = F.layer_norm(x, (hidden,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    extended = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min

    def split(t):
        return t.view(batch, length, heads, head_size).transpose(1, 2)

    for layer in range(config["num_hidden_layers"]):
        p = "encoder.layer.%d." % layer

        def linear(name, t):
            return F.linear(t, w[p + name + ".weight"], w[p + name + ".bias"])

        q, k, v = (split(linear("attention.self." + n, x)) for n in ("query", "key", "value"))
        scores = q @ k.transpose(-1, -2) / math.sqrt(head_size) + extended
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, hidden)
        a = F.layer_norm(linear("attention.output.dense", context) + x, (hidden,),
                         w[p + "attention.output.LayerNorm.weight"],
                         w[p + "attention.output.LayerNorm.bias"], eps)
        i = F.gelu(linear("intermediate.dense", a))
        x = F.layer_norm(linear("output.dense", i) + a, (hidden,), w[p + "output.LayerNorm.weight"],
                         w[p + "output.LayerNorm.bias"], eps)
    return x


def pool(tokens, attention_mask, pooling, normalize):
    mask = attention_mask[:, :, None].float()
    if pooling == "cls":
        pooled = tokens[:, 0]
    elif pooling == "mean":
        pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    else:
        pooled = tokens.masked_fill(mask == 0, -1e9).max(1).values
    return F.normalize(pooled, p=2, dim=1) if normalize else pooled


def encode(weights, config, id_lists, pooling, normalize):
    """id_lists: token id lists of one batch; pads to the longest with [PAD] = 0 and a mask."""
    length = max(len(ids) for ids in id_lists)
    input_ids = torch.zeros(len(id_lists), length, dtype=torch.long)
    attention_mask = torch.zeros(len(id_lists), length, dtype=torch.long)
    for row, ids in enumerate(id_lists):
        input_ids[row, :len(ids)] = torch.tensor(ids)
        attention_mask[row, :len(ids)] = 1
    with torch.no_grad():
        return pool(bert_forward(weights, config, input_ids, attention_mask), attention_mask,
                    pooling, normalize)


# --- the test's checkpoints and sentences -----------------------------------------------

TEST_CONFIG = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
               "intermediate_size": 64, "max_position_embeddings": 40, "type_vocab_size": 2}

WORDS = ["the", "is", "all", "you", "need", "attention", "transform", "##er", "##ers", "learn",
         "deep", "neural", "network", "##s", "don", "cafe", "naive", "resume", "deja", "vu",
         "text", "mixed", "with", "model", "angstrom", "istanbul", "cooperate", "zebra", "like",
         "full", "width", "long", "sentence", "that", "goes", "on", "and", "Cafe", "The"]

SENTENCES = [
    "Attention is all you need.",
    "Café, naïve résumé — déjà vu!",
    "Transformers learn; deep neural networks (DNNs) don't?",
    "zebra-like xylophone \u00f8 \U0001F642 and a\u00adb",
    "中文 text mixed with 中国",
    "",
    "  \t\n ",
    "Ångström İstanbul co\u00adoperate\u200b ＦＵＬＬ　ｗｉｄｔｈ",
    "a long sentence that goes on and on " * 8,
    "The Cafe model learns with the deep network.",
]


def test_vocab():
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += [chr(c) for c in range(33, 127) if not chr(c).isalnum()]
    tokens += [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)]
    tokens += [chr(c) for c in range(ord("A"), ord("Z") + 1)] + ["##" + chr(c) for c in range(ord("A"), ord("Z") + 1)]
    tokens += [str(d) for d in range(10)] + ["##" + str(d) for d in range(10)]
    tokens += ["—", "中", "ｆ", "##ｕ", "##ｌ"]
    return tokens + [w for w in WORDS if w not in tokens]


VARIANTS = [
    # name, checkpoint arguments, options.max_tokens the C++ side passes (0: the checkpoint's)
    ("mean-normalized-f32-vocab-prefixed",
     dict(dtype="F32", prefix="bert.", pooling="mean", normalize=True, tokenizer_files=("vocab.txt",),
          max_seq_length=24), 0),
    ("cls-f16-tokenizer-json-cased",
     dict(dtype="F16", pooling="cls", normalize=False, tokenizer_files=("tokenizer.json",),
          lowercase=False), 0),
    ("max-normalized-f32-both",
     dict(dtype="F32", pooling="max", normalize=True, tokenizer_files=("vocab.txt", "tokenizer.json")),
     12),
]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    torch.manual_seed(0)
    reference = {"sentences": SENTENCES, "variants": []}
    for seed, (name, arguments, options_max_tokens) in enumerate(VARIANTS, start=1):
        folder = os.path.join(out_dir, name)
        weights, tokenizer = make_checkpoint(folder, TEST_CONFIG, test_vocab(), seed=seed, **arguments)
        max_tokens = options_max_tokens or arguments.get("max_seq_length") or \
            TEST_CONFIG["max_position_embeddings"]
        ids = [tokenizer.ids(s, max_tokens) for s in SENTENCES]
        config = dict(TEST_CONFIG, vocab_size=len(tokenizer.vocab))
        # Two batches of different shapes, so padding is exercised in both.
        half = len(ids) // 2
        embeddings = torch.cat([encode(weights, config, ids[:half], arguments["pooling"], arguments["normalize"]),
                                encode(weights, config, ids[half:], arguments["pooling"], arguments["normalize"])])
        reference["variants"].append({
            "folder": name, "options_max_tokens": options_max_tokens, "max_tokens": max_tokens,
            "words": [tokenizer.basic_tokens(s) for s in SENTENCES],
            "ids": ids, "embeddings": embeddings.tolist()})
    with open(os.path.join(out_dir, "reference.json"), "w", encoding="utf-8") as out:
        json.dump(reference, out, ensure_ascii=False)


if __name__ == "__main__":
    main()
