#!/usr/bin/env python3
"""Train SoluLens's bundled demo model: a small one-layer SoLU transformer on the King James Bible.

Runs on Debian's packages only, on CPU:

    apt-get install python3-torch python3-matplotlib bible-kjv
    /usr/bin/python3 tools/train_demo_model.py            # ~20 minutes on 2 cores
    /usr/bin/python3 tools/train_demo_model.py --act gelu # its GELU twin (the smearing study's control)

The architecture, the parameter names and the conventions are TransformerLens's (a HookedTransformer with
act_fn "solu_ln", normalization_type "LN", learned positions, one layer; attention scores divided by
sqrt(d_head); LayerNorm (x - mean) / sqrt(var + eps) * w + b with the biased variance). With --act gelu it trains
the twin with act_fn "gelu" (exact GELU, no MLP LayerNorm) on the same data, seed, size and steps (its parameters
draw the same random numbers, the MLP LayerNorm's having none), into demo-gelu/ (config and weights; it shares
demo/tokenizer.json) and demo-gelu-reference/ and train_demo_model_gelu.{log,png}. It writes:

  java/src/main/resources/org/solulens/demo/   config.json, model.safetensors, tokenizer.json (the shipped model)
  java/src/test/resources/demo-reference/       prompts.json and, per prompt, logits.npy and loss.npy computed
                                                here in float64: SoluLens's parity test compares against them
  tools/train_demo_model.log, tools/train_demo_model_loss.png   the training log and loss curve

Text: the King James Version (1611; its copyright has expired), as Debian's bible-kjv prints it. Held-out
text: every 20th chapter. Tokenizer: word level, lower-cased, split on whitespace and punctuation as the
Hugging Face "Whitespace" pre-tokenizer does (\\w+|[^\\w\\s]+); the most frequent tokens, plus the words of
SoluLens's bundled prompts and word list, so that "ice" and the other prompt words are single tokens. Everything is seeded:
the same machine and torch version give the same weights.
"""
import argparse
import json
import math
import pathlib
import re
import struct
import subprocess
import time
from collections import Counter

import numpy as np
import torch
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEMO = ROOT / "java/src/main/resources/org/solulens/demo"
PROMPTS = ROOT / "java/src/main/resources/org/solulens/prompts/sentences.txt"
REFERENCE = ROOT / "java/src/test/resources/demo-reference"
LOG = ROOT / "tools/train_demo_model.log"

CFG = dict(n_layers=1, d_model=128, d_mlp=512, n_heads=4, d_head=32, n_ctx=256, act_fn="solu_ln",
           normalization_type="LN", eps=1e-5, positional_embedding_type="standard", use_attn_scale=True,
           default_prepend_bos=True, model_name="solulens-demo-kjv")
VOCAB_SIZE = 4096
SEQ = 128            # training windows (BOS + 127 tokens); the model accepts up to n_ctx
BATCH = 32
STEPS = 1500
LR = 3e-3
SEED = 1611
SPECIAL = ["<|BOS|>", "<unk>"]
TOKEN_RE = re.compile(r"\w+|[^\w\s]+")


def configure(act):
    """Points the outputs at the SoLU model or its GELU twin."""
    global DEMO, REFERENCE, LOG, CFG, LOSS_PNG
    if act == "gelu":
        DEMO = ROOT / "java/src/main/resources/org/solulens/demo-gelu"
        REFERENCE = ROOT / "java/src/test/resources/demo-gelu-reference"
        LOG = ROOT / "tools/train_demo_model_gelu.log"
        LOSS_PNG = ROOT / "tools/train_demo_model_gelu_loss.png"
        CFG = dict(CFG, act_fn="gelu", model_name="solulens-demo-kjv-gelu")


LOSS_PNG = ROOT / "tools/train_demo_model_loss.png"
WORDS = ROOT / "java/src/main/resources/org/solulens/demo/words.txt"


def log(msg, lines=[]):
    print(msg, flush=True)
    lines.append(msg)
    LOG.write_text("\n".join(lines) + "\n")


def kjv_chapters():
    text = subprocess.run(["bible", "Genesis1:1-Revelation22:21"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=True).stdout
    chapters, current = [], []
    for line in text.splitlines():
        if re.fullmatch(r"\s*\S.*\s\d+\s*", line) and not line.startswith(" "):   # a chapter heading, "Genesis 1"
            if current:
                chapters.append(" ".join(current))
            current = []
            continue
        line = re.sub(r"^\s*\d+\s", " ", line).strip()                             # verse numbers
        if line:
            current.append(line)
    if current:
        chapters.append(" ".join(current))
    return chapters


def tokenize(text):
    return TOKEN_RE.findall(text.lower())


def build_vocab(train_tokens):
    # the bundled prompts and word list (the random-words family draws from it) must be in the vocabulary
    forced = set(tokenize(PROMPTS.read_text())) | set(tokenize(WORDS.read_text()))
    counts = Counter(train_tokens)
    vocab = list(SPECIAL)
    for word in sorted(forced - set(vocab)):
        vocab.append(word)
    for word, _ in counts.most_common():
        if len(vocab) >= VOCAB_SIZE:
            break
        if word not in forced:
            vocab.append(word)
    return vocab


def tokenizer_json(vocab):
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, t in enumerate(SPECIAL)]
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": {"type": "Lowercase"}, "pre_tokenizer": {"type": "Whitespace"},
            "post_processor": None, "decoder": None,
            "model": {"type": "WordLevel", "vocab": {t: i for i, t in enumerate(vocab)}, "unk_token": "<unk>"}}


def init_params(cfg, generator):
    d, n, h, dh, v = cfg["d_model"], cfg["d_mlp"], cfg["n_heads"], cfg["d_head"], cfg["d_vocab"]

    def normal(*shape, std):
        return (torch.randn(*shape, generator=generator) * std).requires_grad_()

    def const(*shape, value):
        return torch.full(shape, float(value)).requires_grad_()

    p = {
        "embed.W_E": normal(v, d, std=0.02), "pos_embed.W_pos": normal(cfg["n_ctx"], d, std=0.02),
        "blocks.0.ln1.w": const(d, value=1), "blocks.0.ln1.b": const(d, value=0),
        "blocks.0.attn.W_Q": normal(h, d, dh, std=d ** -0.5), "blocks.0.attn.W_K": normal(h, d, dh, std=d ** -0.5),
        "blocks.0.attn.W_V": normal(h, d, dh, std=d ** -0.5), "blocks.0.attn.W_O": normal(h, dh, d, std=(h * dh) ** -0.5),
        "blocks.0.attn.b_Q": const(h, dh, value=0), "blocks.0.attn.b_K": const(h, dh, value=0),
        "blocks.0.attn.b_V": const(h, dh, value=0), "blocks.0.attn.b_O": const(d, value=0),
        "blocks.0.ln2.w": const(d, value=1), "blocks.0.ln2.b": const(d, value=0),
        "blocks.0.mlp.W_in": normal(d, n, std=d ** -0.5), "blocks.0.mlp.b_in": const(n, value=0),
        "blocks.0.mlp.ln.w": const(n, value=1), "blocks.0.mlp.ln.b": const(n, value=0),
        "blocks.0.mlp.W_out": normal(n, d, std=n ** -0.5), "blocks.0.mlp.b_out": const(d, value=0),
        "ln_final.w": const(d, value=1), "ln_final.b": const(d, value=0),
        "unembed.W_U": normal(d, v, std=d ** -0.5), "unembed.b_U": const(v, value=0),
    }
    if cfg["act_fn"] == "gelu":   # no MLP LayerNorm (its parameters drew no random numbers)
        del p["blocks.0.mlp.ln.w"], p["blocks.0.mlp.ln.b"]
    return p


def layer_norm(x, w, b, eps):
    x = x - x.mean(-1, keepdim=True)
    scale = (x.pow(2).mean(-1, keepdim=True) + eps).sqrt()
    return x / scale * w + b


def forward(p, tokens, cfg):
    """tokens [batch, pos] -> logits [batch, pos, d_vocab], TransformerLens's math."""
    eps = cfg["eps"]
    pos = tokens.shape[1]
    x = p["embed.W_E"][tokens] + p["pos_embed.W_pos"][:pos]
    a = layer_norm(x, p["blocks.0.ln1.w"], p["blocks.0.ln1.b"], eps)
    q = torch.einsum("bpd,hde->bphe", a, p["blocks.0.attn.W_Q"]) + p["blocks.0.attn.b_Q"]
    k = torch.einsum("bpd,hde->bphe", a, p["blocks.0.attn.W_K"]) + p["blocks.0.attn.b_K"]
    v = torch.einsum("bpd,hde->bphe", a, p["blocks.0.attn.W_V"]) + p["blocks.0.attn.b_V"]
    scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(cfg["d_head"])
    mask = torch.triu(torch.ones(pos, pos, dtype=torch.bool), diagonal=1)
    pattern = scores.masked_fill(mask, float("-inf")).softmax(-1)
    z = torch.einsum("bhqk,bkhe->bqhe", pattern, v)
    x = x + torch.einsum("bqhe,hed->bqd", z, p["blocks.0.attn.W_O"]) + p["blocks.0.attn.b_O"]
    pre = layer_norm(x, p["blocks.0.ln2.w"], p["blocks.0.ln2.b"], eps) @ p["blocks.0.mlp.W_in"] + p["blocks.0.mlp.b_in"]
    if cfg["act_fn"] == "gelu":
        post = F.gelu(pre)                      # exact (erf) GELU, TransformerLens's "gelu"
    else:
        mid = pre * pre.softmax(-1)
        post = layer_norm(mid, p["blocks.0.mlp.ln.w"], p["blocks.0.mlp.ln.b"], eps)
    x = x + post @ p["blocks.0.mlp.W_out"] + p["blocks.0.mlp.b_out"]
    return layer_norm(x, p["ln_final.w"], p["ln_final.b"], eps) @ p["unembed.W_U"] + p["unembed.b_U"]


def next_token_loss(logits, tokens):
    """Per-token loss [batch, pos-1]: position p predicts token p+1."""
    logp = logits[:, :-1].log_softmax(-1)
    return -logp.gather(-1, tokens[:, 1:, None])[..., 0]


def windows(ids, bos):
    """Consecutive windows of SEQ-1 tokens, each with BOS prepended (TransformerLens's convention)."""
    n = (len(ids) // (SEQ - 1)) * (SEQ - 1)
    body = torch.tensor(ids[:n]).view(-1, SEQ - 1)
    return torch.cat([torch.full((body.shape[0], 1), bos), body], dim=1)


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def main():
    parser = argparse.ArgumentParser(description="Train the bundled demo model (SoLU) or its GELU twin.")
    parser.add_argument("--act", choices=["solu_ln", "gelu"], default="solu_ln")
    configure(parser.parse_args().act)
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    generator = torch.Generator().manual_seed(SEED)
    started = time.time()

    chapters = kjv_chapters()
    held = [c for i, c in enumerate(chapters) if i % 20 == 19]
    train = [c for i, c in enumerate(chapters) if i % 20 != 19]
    train_tokens = [t for c in train for t in tokenize(c)]
    held_tokens = [t for c in held for t in tokenize(c)]
    vocab = build_vocab(train_tokens)
    index = {t: i for i, t in enumerate(vocab)}
    unk = index["<unk>"]
    train_ids = [index.get(t, unk) for t in train_tokens]
    held_ids = [index.get(t, unk) for t in held_tokens]
    cfg = dict(CFG, d_vocab=len(vocab), d_vocab_out=len(vocab))
    log(f"KJV: {len(chapters)} chapters, {len(train_tokens)} training tokens, {len(held_tokens)} held-out tokens "
        f"(every 20th chapter); vocabulary {len(vocab)} (unknown: {train_ids.count(unk) / len(train_ids):.2%} of training tokens)")
    log(f"model: {json.dumps(cfg)}; training windows of {SEQ} tokens, batch {BATCH}, {STEPS} steps, AdamW lr {LR}, seed {SEED}")

    data, held_data = windows(train_ids, 0), windows(held_ids, 0)
    p = init_params(cfg, generator)
    opt = torch.optim.AdamW(p.values(), lr=LR, betas=(0.9, 0.95), weight_decay=0.01)
    schedule = lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * min(s, STEPS) / STEPS))
    curve = []
    for step in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = LR * schedule(step)
        batch = data[torch.randint(0, data.shape[0], (BATCH,), generator=generator)]
        loss = next_token_loss(forward(p, batch, cfg), batch).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(p.values(), 1.0)
        opt.step()
        if step % 50 == 0 or step == STEPS - 1:
            with torch.no_grad():
                held_loss = next_token_loss(forward(p, held_data[:64], cfg), held_data[:64]).mean().item()
            curve.append((step, loss.item(), held_loss))
            log(f"step {step:5d}  train loss {loss.item():.4f}  held-out loss (64 windows) {held_loss:.4f}  "
                f"{time.time() - started:.0f}s")

    with torch.no_grad():
        losses = [next_token_loss(forward(p, held_data[i:i + 64], cfg), held_data[i:i + 64]).mean().item() * len(held_data[i:i + 64])
                  for i in range(0, held_data.shape[0], 64)]
        final = sum(losses) / held_data.shape[0]
    log(f"final held-out loss (all {held_data.shape[0]} held-out windows): {final:.4f}; unigram entropy of the held-out text "
        f"for comparison: {unigram_entropy(held_ids, len(vocab)):.4f}; {time.time() - started:.0f}s in all")

    DEMO.mkdir(parents=True, exist_ok=True)
    (DEMO / "config.json").write_text(json.dumps(cfg, indent=1) + "\n")
    write_safetensors(DEMO / "model.safetensors", p)
    if CFG["act_fn"] != "gelu":   # the twin shares the demo model's tokenizer (the vocabulary is built the same way)
        (DEMO / "tokenizer.json").write_text(json.dumps(tokenizer_json(vocab), indent=1) + "\n")
    write_reference(p, cfg, index, unk)
    plot(curve, final)


def unigram_entropy(ids, v):
    counts = np.bincount(ids, minlength=v).astype(np.float64)
    probs = counts[counts > 0] / counts.sum()
    return float(-(probs * np.log(probs)).sum())


def write_reference(p, cfg, index, unk):
    """Outputs of this script's forward pass, in float64 from the float32 weights as shipped, for a few prompts."""
    prompts = ["the ice is cold and the water is warm", "In the beginning God created the heaven and the earth.",
               "ice ice ice ice ice ice", "and he said unto them, go ye into all the world"]
    shipped = {k: v.detach().to(torch.float32).to(torch.float64) for k, v in p.items()}
    REFERENCE.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, text in enumerate(prompts):
        ids = [0] + [index.get(t, unk) for t in tokenize(text)]
        tokens = torch.tensor([ids])
        with torch.no_grad():
            logits = forward(shipped, tokens, cfg)
            loss = next_token_loss(logits, tokens)
        folder = REFERENCE / str(i)
        folder.mkdir(exist_ok=True)
        np.save(folder / "logits.npy", logits[0].numpy())
        np.save(folder / "loss.npy", loss[0].numpy())
        entries.append({"text": text, "tokens": ids})
    (REFERENCE / "prompts.json").write_text(json.dumps(entries, indent=1) + "\n")


def plot(curve, final):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    steps, train, held = zip(*curve)
    plt.figure(figsize=(8, 4.5))
    plt.plot(steps, train, label="training batch")
    plt.plot(steps, held, label="held-out (64 windows)")
    plt.axhline(final, color="gray", linestyle="--", label=f"final held-out loss {final:.3f}")
    plt.xlabel("step")
    plt.ylabel("next-token loss (nats)")
    plt.title("SoluLens demo model: " + ("GELU" if CFG["act_fn"] == "gelu" else "SoLU") + "-1L on the King James Bible")
    plt.legend()
    plt.grid(alpha=0.3)
    plt.tight_layout()
    plt.savefig(LOSS_PNG, dpi=100)


if __name__ == "__main__":
    main()
