#!/usr/bin/env python3
"""Writes the PyTorch-checkpoint test fixtures (java/src/test/resources/pth/) with PyTorch itself.

Run with Debian's python3-torch (apt-get install python3-torch): /usr/bin/python3 tools/make_pth_fixtures.py
Everything is small and seeded, so the files are the same on every run of the same PyTorch.

  solu-small/            a hub-style snapshot: the trainer's config.json and model_final.pth (torch.save of a
                         TransformerLens-named state dict of a random solu-1l-shaped model, float32, without
                         unembed.b_U and with TransformerLens's attn.mask / attn.IGNORE buffers, as the real one)
  solu-small-reference/  the same weights in SoluLens's own folder format (config.json + model.safetensors written
                         here by hand), which the test loads through the safetensors path and compares with
  solu-small-f16/, solu-small-bf16/  the weights as float16 / bfloat16 checkpoints, each with model.safetensors of the
                         same dtype beside it as the expected values
  gelu-small/            a gelu-1l-shaped snapshot (no MLP LayerNorm)
  shared-storage.pth     tensors that share one storage at offsets, one transposed (non-contiguous), and
                         shared-storage.json with their expected values
  evil-*.pth             torch.save of objects whose unpickling would call os.system, builtins.eval or
                         subprocess.Popen (each would create a file under target/ named in evil.json)
"""
import json
import math
import os
import struct
import subprocess  # noqa: F401  (pickled by reference in evil-popen.pth; never called here)
from collections import OrderedDict

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "java", "src", "test", "resources", "pth")
D_MODEL, D_MLP, N_HEADS, D_HEAD, N_CTX, D_VOCAB = 16, 40, 2, 8, 12, 97


def state_dict(seed, act_fn):
    g = torch.Generator().manual_seed(seed)

    def r(*shape, scale=0.3):
        return (torch.randn(*shape, generator=g) * scale).float()

    sd = OrderedDict()
    sd["embed.W_E"] = r(D_VOCAB, D_MODEL)
    sd["pos_embed.W_pos"] = r(N_CTX, D_MODEL)
    sd["blocks.0.ln1.w"] = 1 + r(D_MODEL, scale=0.1)
    sd["blocks.0.ln1.b"] = r(D_MODEL, scale=0.1)
    sd["blocks.0.ln2.w"] = 1 + r(D_MODEL, scale=0.1)
    sd["blocks.0.ln2.b"] = r(D_MODEL, scale=0.1)
    sd["blocks.0.attn.W_Q"] = r(N_HEADS, D_MODEL, D_HEAD)
    sd["blocks.0.attn.W_K"] = r(N_HEADS, D_MODEL, D_HEAD)
    sd["blocks.0.attn.W_V"] = r(N_HEADS, D_MODEL, D_HEAD)
    sd["blocks.0.attn.W_O"] = r(N_HEADS, D_HEAD, D_MODEL)
    sd["blocks.0.attn.b_Q"] = r(N_HEADS, D_HEAD, scale=0.1)
    sd["blocks.0.attn.b_K"] = r(N_HEADS, D_HEAD, scale=0.1)
    sd["blocks.0.attn.b_V"] = r(N_HEADS, D_HEAD, scale=0.1)
    sd["blocks.0.attn.b_O"] = r(D_MODEL, scale=0.1)
    sd["blocks.0.attn.mask"] = torch.tril(torch.ones(N_CTX, N_CTX)).bool()
    sd["blocks.0.attn.IGNORE"] = torch.tensor(-1e5)
    sd["blocks.0.mlp.W_in"] = r(D_MODEL, D_MLP)
    sd["blocks.0.mlp.b_in"] = r(D_MLP, scale=0.1)
    sd["blocks.0.mlp.W_out"] = r(D_MLP, D_MODEL)
    sd["blocks.0.mlp.b_out"] = r(D_MODEL, scale=0.1)
    if act_fn == "solu_ln":
        sd["blocks.0.mlp.ln.w"] = 1 + r(D_MLP, scale=0.1)
        sd["blocks.0.mlp.ln.b"] = r(D_MLP, scale=0.1)
    sd["ln_final.w"] = 1 + r(D_MODEL, scale=0.1)
    sd["ln_final.b"] = r(D_MODEL, scale=0.1)
    sd["unembed.W_U"] = r(D_MODEL, D_VOCAB)
    return sd   # no unembed.b_U: the real checkpoints have none


def trainer_config(act_fn):
    # the fields TransformerLens reads, and a few of the trainer's own it ignores
    return {"n_layers": 1, "d_model": D_MODEL, "d_mlp": D_MLP, "d_head": D_HEAD, "n_heads": N_HEADS, "n_ctx": N_CTX,
            "d_vocab": D_VOCAB, "act_fn": act_fn, "attn_only": False, "normalization": "LN", "shortformer_pos": False,
            "tokenizer_name": "NeelNanda/gpt-neox-tokenizer-digits", "lr": 0.001, "batch_size": 32, "seed": 1}


def tl_config(act_fn):
    return {"model_name": "fixture", "n_layers": 1, "d_model": D_MODEL, "d_mlp": D_MLP, "d_head": D_HEAD, "n_heads": N_HEADS,
            "n_ctx": N_CTX, "d_vocab": D_VOCAB, "act_fn": act_fn, "normalization_type": "LN", "eps": 1e-5,
            "attn_scale": math.sqrt(D_HEAD), "positional_embedding_type": "standard"}


def write_safetensors(path, tensors):
    """The safetensors format by hand: an 8-byte header length, a JSON header, the raw little-endian data."""
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        data = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def snapshot(folder, sd, act_fn):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(trainer_config(act_fn), f, indent=2)
    torch.save(sd, os.path.join(folder, "model_final.pth"))


def reference(folder, sd, act_fn, dtype=None):
    os.makedirs(folder, exist_ok=True)
    if act_fn is not None:
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(tl_config(act_fn), f, indent=2)
    weights = OrderedDict((k, v if dtype is None else v.to(dtype)) for k, v in sd.items() if not k.endswith((".mask", ".IGNORE")))
    write_safetensors(os.path.join(folder, "model.safetensors"), weights)


class Evil:
    """An object whose unpickling calls `call(*args)`: what a malicious checkpoint holds."""

    def __init__(self, call, args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


def main():
    os.makedirs(OUT, exist_ok=True)
    sd = state_dict(1, "solu_ln")
    snapshot(os.path.join(OUT, "solu-small"), sd, "solu_ln")
    reference(os.path.join(OUT, "solu-small-reference"), sd, "solu_ln")
    for name, dtype in (("f16", torch.float16), ("bf16", torch.bfloat16)):
        folder = os.path.join(OUT, "solu-small-" + name)
        half = OrderedDict((k, v.to(dtype) if v.is_floating_point() and v.dim() > 0 else v) for k, v in sd.items())
        snapshot(folder, half, "solu_ln")
        reference(os.path.join(folder, "expected"), half, None)
    snapshot(os.path.join(OUT, "gelu-small"), state_dict(2, "gelu"), "gelu")

    base = torch.arange(100, dtype=torch.float32) * 0.5 - 7
    shared = OrderedDict()
    shared["a"] = base[10:30].view(4, 5)
    shared["b"] = base[50:70].view(5, 4).t()   # a transposed view: strides (1, 4)
    shared["c"] = base[3:9]
    torch.save(shared, os.path.join(OUT, "shared-storage.pth"))
    with open(os.path.join(OUT, "shared-storage.json"), "w") as f:
        json.dump({k: {"shape": list(v.shape), "values": v.contiguous().flatten().tolist()} for k, v in shared.items()}, f)

    evil = {
        "evil-os-system.pth": Evil(os.system, ("touch target/solulens-pwned-os-system",)),
        "evil-eval.pth": Evil(eval, ("open('target/solulens-pwned-eval', 'w')",)),
        "evil-popen.pth": Evil(subprocess.Popen, (["touch", "target/solulens-pwned-popen"],)),
    }
    for name, obj in evil.items():
        torch.save({"embed.W_E": obj}, os.path.join(OUT, name))
    # pickle protocol 2 (torch.save's) writes Python 2 names where they differ: builtins -> __builtin__,
    # subprocess.Popen -> commands.Popen; os.system is posix.system on Linux
    with open(os.path.join(OUT, "evil.json"), "w") as f:
        json.dump({"evil-os-system.pth": ["posix.system", "target/solulens-pwned-os-system"],
                   "evil-eval.pth": ["__builtin__.eval", "target/solulens-pwned-eval"],
                   "evil-popen.pth": ["commands.Popen", "target/solulens-pwned-popen"]}, f, indent=2)
    print("fixtures written to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
