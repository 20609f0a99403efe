#!/usr/bin/env python3
"""SoluLens against PyTorch, side by side, on the same weights and tokens.

For each prompt length it times
  - one forward pass: PyTorch (float32) and SoluLens (`solulens run --repeat`: in-process best time, and the
    whole process with JVM start and model load);
  - every neuron ablated at every position: the loop TransformerLens users write (one forward per neuron with
    `hook_post[:, :, n] = 0`), plain and batched by neurons, both extrapolated from a sample of neurons; and
    SoluLens's exact sweep (`solulens sweep`, the whole process);
and checks that the numbers agree (logits' loss and Δloss on the sampled neurons), then prints one table.

The PyTorch model is TransformerLens's `HookedTransformer` when that package is importable; otherwise a plain
PyTorch one-layer SoLU model with the same computation and hook semantics, checked first against the outputs
TransformerLens computed (java/src/test/resources/tl-reference). Both run in float32, as users run them.

It also times the same exact algebra written in PyTorch (vectorised, float32, blocked over neurons; a whole process,
as the sweep is) and checks SoluLens's Δloss against it, and times `solulens sweep` twice: cold (B built) and with B
read from the constant cache.

Usage, with the official PyTorch wheel (MKL, AVX-512/AVX2 kernels; Debian's python3-torch computes exp ~30x slower
and is refused):
  python3 -m venv /tmp/torch && /tmp/torch/bin/pip install torch numpy
  /tmp/torch/bin/python benchmarks/compare_pytorch.py                 # random solu-1l-shaped model, 64/256/1024 tokens
  /tmp/torch/bin/python benchmarks/compare_pytorch.py --model DIR --lengths 64 --sample 16
The SoluLens jar must be built first (mvn -B -q package -DskipTests).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

try:
    import torch
except ImportError:
    sys.exit("compare_pytorch.py: PyTorch is not importable from " + sys.executable
             + " (python3 -m venv /tmp/torch && /tmp/torch/bin/pip install torch numpy; run it with /tmp/torch/bin/python)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLULENS = os.path.join(ROOT, "solulens")
TL_REFERENCE = os.path.join(ROOT, "java", "src", "test", "resources", "tl-reference", "solu1l-random-small")
SOLU_1L = dict(d_model=512, d_mlp=2048, n_heads=8, d_head=64, n_ctx=1024, d_vocab=48262)
# TransformerLens computes in float32: its Δloss and SoluLens's float64 agree to a few 1e-6 (the goal: 1e-5).
AGREEMENT = 1e-5

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "F64": np.float64, "BOOL": np.bool_}


# ---------------------------------------------------------------- model folders (safetensors + config.json)

def read_safetensors(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = DTYPES.get(entry["dtype"])
        if dtype is None:   # bfloat16: the upper half of a float32
            raw = np.frombuffer(data[begin:end], dtype=np.uint16).astype(np.uint32) << 16
            arr = raw.view(np.float32)
        else:
            arr = np.frombuffer(data[begin:end], dtype=dtype)
        out[name] = arr.reshape(entry["shape"])
    return out


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
        blobs.append(arr.tobytes())
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(len(raw).to_bytes(8, "little"))
        f.write(raw)
        for b in blobs:
            f.write(b)


def make_random_model(folder, seed=3):
    """A solu-1l-shaped model with random weights, scaled as SoluLens's RandomWeights (logits of order 1)."""
    s = SOLU_1L
    d, n, h, dh, v = s["d_model"], s["d_mlp"], s["n_heads"], s["d_head"], s["d_vocab"]
    rng = np.random.default_rng(seed)
    g = lambda std, mean, *shape: (mean + std * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)
    t = {"embed.W_E": g(1.0, 0, v, d), "pos_embed.W_pos": g(0.5, 0, s["n_ctx"], d)}
    for ln in ("blocks.0.ln1", "blocks.0.ln2", "ln_final"):
        t[ln + ".w"], t[ln + ".b"] = g(0.1, 1.0, d), g(0.05, 0, d)
    for m in "QKV":
        t["blocks.0.attn.W_" + m], t["blocks.0.attn.b_" + m] = g(d ** -0.5, 0, h, d, dh), g(0.05, 0, h, dh)
    t["blocks.0.attn.W_O"], t["blocks.0.attn.b_O"] = g((h * dh) ** -0.5, 0, h, dh, d), g(0.05, 0, d)
    t["blocks.0.mlp.W_in"], t["blocks.0.mlp.b_in"] = g(2 * d ** -0.5, 0, d, n), g(0.1, 0, n)
    t["blocks.0.mlp.ln.w"], t["blocks.0.mlp.ln.b"] = g(0.1, 1.0, n), g(0.05, 0, n)
    t["blocks.0.mlp.W_out"], t["blocks.0.mlp.b_out"] = g(n ** -0.5, 0, n, d), g(0.05, 0, d)
    t["unembed.W_U"], t["unembed.b_U"] = g(d ** -0.5, 0, d, v), g(0.1, 0, v)
    os.makedirs(folder, exist_ok=True)
    write_safetensors(os.path.join(folder, "model.safetensors"), t)
    cfg = dict(s, n_layers=1, act_fn="solu_ln", normalization_type="LN", eps=1e-5,
               positional_embedding_type="standard", model_name="random solu-1l shape (compare_pytorch.py)")
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)


# ---------------------------------------------------------------- the PyTorch model

class PlainSolu1L:
    """TransformerLens's one-layer SoLU model in plain PyTorch: same equations, same hook points (mid, post)."""

    def __init__(self, folder):
        with open(os.path.join(folder, "config.json")) as f:
            self.cfg = json.load(f)
        if self.cfg.get("act_fn") != "solu_ln" or self.cfg.get("n_layers", 1) != 1:
            raise SystemExit("compare_pytorch.py: the plain model covers one-layer solu_ln models only")
        self.eps = float(self.cfg.get("eps", 1e-5))
        dh = self.cfg["d_head"]
        scale = self.cfg.get("attn_scale", -1)
        self.attn_scale = dh ** 0.5 if scale is None or scale < 0 else scale
        self.w = {k: torch.from_numpy(np.array(v, dtype=np.float32))
                  for k, v in read_safetensors(os.path.join(folder, "model.safetensors")).items()
                  if not k.endswith((".mask", ".IGNORE"))}
        if "unembed.b_U" not in self.w:
            self.w["unembed.b_U"] = torch.zeros(self.cfg["d_vocab"])

    def layer_norm(self, x, prefix):
        x = x - x.mean(-1, keepdim=True)
        scale = (x.pow(2).mean(-1, keepdim=True) + self.eps).sqrt()
        return x / scale * self.w[prefix + ".w"] + self.w[prefix + ".b"]

    @torch.no_grad()
    def forward(self, tokens, hook_post=None, hook_mid=None):
        """tokens [batch, P] -> per-position loss [batch, P-1] (and logits); hooks edit activations in place."""
        w, P = self.w, tokens.shape[1]
        resid = w["embed.W_E"][tokens] + w["pos_embed.W_pos"][:P]
        x = self.layer_norm(resid, "blocks.0.ln1")
        q = torch.einsum("bpd,hde->bphe", x, w["blocks.0.attn.W_Q"]) + w["blocks.0.attn.b_Q"]
        k = torch.einsum("bpd,hde->bphe", x, w["blocks.0.attn.W_K"]) + w["blocks.0.attn.b_K"]
        v = torch.einsum("bpd,hde->bphe", x, w["blocks.0.attn.W_V"]) + w["blocks.0.attn.b_V"]
        scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / self.attn_scale
        mask = torch.triu(torch.ones(P, P, dtype=torch.bool), 1)
        pattern = scores.masked_fill(mask, float("-inf")).softmax(-1)
        z = torch.einsum("bhqk,bkhe->bqhe", pattern, v)
        resid = resid + torch.einsum("bqhe,hed->bqd", z, w["blocks.0.attn.W_O"]) + w["blocks.0.attn.b_O"]
        pre = self.layer_norm(resid, "blocks.0.ln2") @ w["blocks.0.mlp.W_in"] + w["blocks.0.mlp.b_in"]
        mid = pre * pre.softmax(-1)
        if hook_mid is not None:
            hook_mid(mid)
        post = self.layer_norm(mid, "blocks.0.mlp.ln")
        if hook_post is not None:
            hook_post(post)
        resid = resid + post @ w["blocks.0.mlp.W_out"] + w["blocks.0.mlp.b_out"]
        logits = self.layer_norm(resid, "ln_final") @ w["unembed.W_U"] + w["unembed.b_U"]
        logp = logits.log_softmax(-1)
        loss = -logp[:, :-1].gather(-1, tokens[:, 1:, None])[..., 0]
        self.last = dict(resid_post=resid, post=post)
        return loss, logits


class TransformerLensSolu1L:
    """The same interface over TransformerLens's own HookedTransformer, for machines where it is installed."""

    def __init__(self, folder):
        import transformer_lens
        with open(os.path.join(folder, "config.json")) as f:
            self.cfg = json.load(f)
        keys = ("n_layers", "d_model", "d_mlp", "n_heads", "d_head", "n_ctx", "d_vocab", "act_fn", "eps",
                "normalization_type", "positional_embedding_type")
        cfg = transformer_lens.HookedTransformerConfig(**{k: self.cfg[k] for k in keys if k in self.cfg})
        self.model = transformer_lens.HookedTransformer(cfg)
        state = {k: torch.from_numpy(np.array(v, dtype=np.float32))
                 for k, v in read_safetensors(os.path.join(folder, "model.safetensors")).items()
                 if not k.endswith((".mask", ".IGNORE"))}
        self.model.load_state_dict(state, strict=False)
        self.model.eval()

    @torch.no_grad()
    def forward(self, tokens, hook_post=None, hook_mid=None):
        hooks = [(name, lambda act, hook, fn=fn: fn(act) or act) for name, fn in
                 (("blocks.0.mlp.hook_post", hook_post), ("blocks.0.mlp.hook_mid", hook_mid)) if fn is not None]
        logits = self.model.run_with_hooks(tokens, return_type="logits", fwd_hooks=hooks)
        logp = logits.log_softmax(-1)
        return -logp[:, :-1].gather(-1, tokens[:, 1:, None])[..., 0], logits


def pytorch_model_class():
    """TransformerLens's HookedTransformer where it is importable, else the plain model."""
    try:
        import transformer_lens  # noqa: F401
        return TransformerLensSolu1L, "TransformerLens " + getattr(transformer_lens, "__version__", "")
    except ImportError:
        return PlainSolu1L, "plain PyTorch (TransformerLens is not installed)"


def check_against_transformerlens(model_cls):
    """The plain model must reproduce TransformerLens's own outputs before any time is compared."""
    model = model_cls(TL_REFERENCE)
    worst = 0.0
    for k in sorted(os.listdir(os.path.join(TL_REFERENCE, "ref"))):
        ref = os.path.join(TL_REFERENCE, "ref", k)
        with open(os.path.join(ref, "tokens.json")) as f:
            tokens = torch.tensor([json.load(f)])
        loss, logits = model.forward(tokens)
        worst = max(worst, float(np.abs(loss[0].numpy() - np.load(os.path.join(ref, "loss.npy"))).max()))
        worst = max(worst, float(np.abs(logits[0].numpy() - np.load(os.path.join(ref, "logits.npy"))).max()) / 10)
        for name, hook in (("sweep_post_zero.npy", "post"), ("sweep_mid_zero.npy", "mid")):
            expected = np.load(os.path.join(ref, name))
            for n in (0, 7, expected.shape[1] - 1):
                def zero(act, n=n):
                    act[:, :, n] = 0
                ablated, _ = model.forward(tokens, **{"hook_" + hook: zero})
                worst = max(worst, float(np.abs((ablated - loss)[0].numpy() - expected[:, n]).max()))
    if worst > AGREEMENT:
        raise SystemExit(f"compare_pytorch.py: the plain PyTorch model differs from TransformerLens by {worst:.2e}")
    return worst


# ---------------------------------------------------------------- the exact algebra, written in PyTorch

@torch.no_grad()
def algebra_sweep(model, tokens, block=64):
    """Δloss [P-1, d_mlp] of zero-ablating every neuron at hook_post at every position, by DESIGN.md's exact algebra:
    an ablation moves resid_post[p] along W_out[n] only, so the ablated logits are (A_p - c B_n) / σ' + β with
    A = (ȳ ⊙ g_f) W_U, B = (ū ⊙ g_f) W_U (ū: W_out's centred rows), c = post[p, n], and σ' from Gram terms. Float32,
    vectorised; per position, blocks of `block` neurons are written in place into one preallocated [block, d_vocab]
    buffer (so that it stays in cache) and reduced by torch.logsumexp. Returns (Δloss, seconds building B)."""
    w, eps = model.w, model.eps
    loss, _ = model.forward(tokens)
    resid, post = model.last["resid_post"][0], model.last["post"][0]
    g_f, W_U = w["ln_final.w"], w["unembed.W_U"]
    beta = w["ln_final.b"] @ W_U + w["unembed.b_U"]
    t0 = time.perf_counter()
    u = w["blocks.0.mlp.W_out"] - w["blocks.0.mlp.W_out"].mean(-1, keepdim=True)
    B = (u * g_f) @ W_U
    t_b = time.perf_counter() - t0
    uu = (u * u).sum(-1)
    P, D = resid.shape
    N, V = B.shape
    y = resid - resid.mean(-1, keepdim=True)
    A = (y * g_f) @ W_U
    yy, yu = (y * y).sum(-1), y @ u.T
    targets = tokens[0, 1:]
    out = torch.empty(P - 1, N)
    buf = torch.empty(block, V)
    for p in range(P - 1):
        c = post[p]
        inv = ((yy[p] - 2 * c * yu[p] + c * c * uu) / D + eps).rsqrt()
        t = int(targets[p])
        for n0 in range(0, N, block):
            n1 = min(N, n0 + block)
            b = buf[:n1 - n0]
            torch.mul(B[n0:n1], (-c[n0:n1])[:, None], out=b)
            b.add_(A[p]).mul_(inv[n0:n1, None]).add_(beta)
            out[p, n0:n1] = torch.logsumexp(b, -1) - b[:, t] - loss[0, p]
    return out.numpy(), t_b


def algebra_worker(folder, ids, out_path, threads):
    """The algebra peer as a whole process (model load, forward, B, sweep), as `solulens sweep` is timed."""
    torch.set_num_threads(threads)
    model = PlainSolu1L(folder)
    tokens = torch.tensor([[int(x) for x in ids.split(",")]])
    t0 = time.perf_counter()
    delta, t_b = algebra_sweep(model, tokens)
    np.save(out_path, delta)
    print(json.dumps(dict(b_seconds=t_b, sweep_seconds=time.perf_counter() - t0)))


# ---------------------------------------------------------------- timing

def blas_in_use():
    """The BLAS PyTorch was built with (official wheels link MKL statically) or, failing that, the one it loaded."""
    config = torch.__config__.show()
    for line in config.splitlines():
        if "BLAS_INFO=" in line:
            return line.split("BLAS_INFO=")[1].split(",")[0].strip()
    torch.ones(64, 64) @ torch.ones(64, 64)
    with open("/proc/self/maps") as f:
        libs = sorted({line.split()[-1] for line in f if "blas" in line.lower() or "mkl" in line.lower()})
    return ", ".join("/".join(x.split("/")[-2:]) for x in libs) or "none found"


def cpu_capability():
    """The vector instruction set PyTorch's own kernels (exp, logsumexp) dispatch to: AVX512, AVX2, ... or DEFAULT."""
    try:
        return torch.backends.cpu.get_cpu_capability()
    except AttributeError:
        return "unknown (PyTorch " + torch.__version__ + " cannot say; builds before 2.1 include Debian's 1.13)"


def measured_exp_rate(threads):
    """Float32 exponentials per second of this PyTorch on a row of solu-1l's vocabulary, in cache."""
    x = torch.randn(64, 48262)
    y = torch.empty_like(x)
    return x.numel() / best_of(lambda: torch.exp(x, out=y), 20)


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def torch_sweep_sample(model, tokens, neurons, batch):
    """Δloss [P-1, len(neurons)] from one forward per neuron (batch 1) or per `batch` neurons; and the seconds."""
    clean, _ = model.forward(tokens)
    out = np.zeros((tokens.shape[1] - 1, len(neurons)))
    t0 = time.perf_counter()
    for i in range(0, len(neurons), batch):
        chunk = neurons[i:i + batch]

        def zero(post, chunk=chunk):
            for j, n in enumerate(chunk):
                post[j, :, n] = 0
        loss, _ = model.forward(tokens.expand(len(chunk), -1), hook_post=zero)
        out[:, i:i + len(chunk)] = (loss - clean).T.numpy()
    return out, time.perf_counter() - t0


def run_solulens(args, cmd, env=None):
    t0 = time.perf_counter()
    p = subprocess.run([SOLULENS] + cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit("solulens " + " ".join(cmd[:1]) + " failed:\n" + p.stdout[-2000:] + p.stderr[-2000:])
    return p.stdout + p.stderr, elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="a SoluLens model folder (config.json + model.safetensors); default: a random "
                                    "solu-1l-shaped model made in a temporary folder")
    ap.add_argument("--lengths", default="64,256,1024", help="prompt lengths in tokens (default 64,256,1024)")
    ap.add_argument("--sample", type=int, default=16, help="neurons timed in PyTorch's loops, then extrapolated")
    ap.add_argument("--batch-rows", type=int, default=4096, help="positions per batched PyTorch forward")
    ap.add_argument("--repeats", type=int, default=3, help="PyTorch forward passes timed (the best is reported)")
    ap.add_argument("--java-repeats", type=int, default=30,
                    help="SoluLens forward passes timed in one process after a first, warming one (the best is reported; "
                         "the JIT needs a few passes to settle)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for PyTorch (default: all cores)")
    ap.add_argument("--algebra-worker", nargs=3, metavar=("FOLDER", "IDS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.algebra_worker:
        algebra_worker(*args.algebra_worker, args.threads)
        return
    if not os.path.exists(os.path.join(ROOT, "cli", "target", "solulens.jar")):
        raise SystemExit("compare_pytorch.py: build SoluLens first: mvn -B -q package -DskipTests")
    torch.set_num_threads(args.threads)
    blas, capability = blas_in_use(), cpu_capability()
    if "openblas" not in blas.lower() and "mkl" not in blas.lower():
        raise SystemExit(f"compare_pytorch.py: PyTorch runs the reference BLAS ({blas}); use the official wheel "
                         "(pip install torch: MKL) so that the comparison is fair")
    exp_rate = measured_exp_rate(args.threads)
    if not capability.upper().startswith("AVX") or exp_rate < 3e8:
        raise SystemExit(f"compare_pytorch.py: this PyTorch ({torch.__version__}, CPU capability {capability}) has no "
                         f"vectorised kernels here (float32 exp at {exp_rate:.2e}/s); Debian's python3-torch computes exp "
                         "~30x slower than the official wheel and would flatter SoluLens. Use: python3 -m venv v && "
                         "v/bin/pip install torch numpy && v/bin/python benchmarks/compare_pytorch.py")
    model_cls, model_label = pytorch_model_class()
    tl_diff = check_against_transformerlens(model_cls)
    work = tempfile.mkdtemp(prefix="solulens-compare-")
    try:
        folder = args.model
        if folder is None:
            folder = os.path.join(work, "model")
            make_random_model(folder)
        model = model_cls(folder)
        N, V = model.cfg["d_mlp"], model.cfg["d_vocab"]
        rng = np.random.default_rng(7)
        neurons = sorted(rng.choice(N, size=min(args.sample, N), replace=False).tolist())
        rows = []
        print(f"PyTorch {torch.__version__} ({args.threads} threads, CPU capability {capability}, BLAS: {blas}, float32 exp "
              f"{exp_rate:.2e}/s); model: {model_label}; against TransformerLens's reference outputs: {tl_diff:.1e}", flush=True)
        cache_dir = os.path.join(work, "constant-cache")
        env = dict(os.environ, SOLULENS_CACHE_DIR=cache_dir)
        for length in [int(x) for x in args.lengths.split(",")]:
            ids = rng.integers(0, V, size=length)
            tokens = torch.tensor(ids[None, :])
            id_list = ",".join(str(int(t)) for t in ids)
            forward = best_of(lambda: model.forward(tokens), args.repeats)
            plain, t_plain = torch_sweep_sample(model, tokens, neurons, 1)
            batch = max(1, min(len(neurons), args.batch_rows // length))
            batched, t_batched = torch_sweep_sample(model, tokens, neurons, batch)
            out_run, _ = run_solulens(args, ["run", "--model", folder, "--tokens", id_list, "--device", "cpu",
                                                       "--repeat", str(args.java_repeats)])
            run_inproc = float(out_run.split("forward pass: best ")[1].split(" s")[0])
            _, run_process = run_solulens(args, ["run", "--model", folder, "--tokens", id_list, "--device", "cpu"])
            sweep_dir = os.path.join(work, f"sweep{length}")
            sweep_cmd = ["sweep", "--model", folder, "--tokens", id_list, "--device", "cpu", "--site", "post",
                         "--ablation", "zero", "--out", sweep_dir, "--quiet", "--no-report"]   # the peers write Δloss only
            shutil.rmtree(cache_dir, ignore_errors=True)   # cold: B built (and written to the cache)
            _, sweep_process = run_solulens(args, sweep_cmd, env)
            shutil.rmtree(sweep_dir)
            _, sweep_cached = run_solulens(args, sweep_cmd, env)   # warm: B read from the cache
            delta = np.load(os.path.join(sweep_dir, "delta_loss.npy"))
            algebra_out = os.path.join(work, f"algebra{length}.npy")
            t0 = time.perf_counter()
            p = subprocess.run([sys.executable, os.path.abspath(__file__), "--threads", str(args.threads),
                                "--algebra-worker", folder, id_list, algebra_out], capture_output=True, text=True)
            algebra_process = time.perf_counter() - t0
            if p.returncode != 0:
                raise SystemExit("the PyTorch algebra peer failed:\n" + p.stdout[-2000:] + p.stderr[-2000:])
            algebra_parts = json.loads(p.stdout.strip().splitlines()[-1])
            algebra = np.load(algebra_out)
            diff = max(float(np.abs(delta[:, neurons] - plain).max()), float(np.abs(plain - batched).max()))
            algebra_diff = float(np.abs(delta - algebra).max())
            loss_java = float(out_run.split("mean loss ")[1].split()[0])
            loss_torch = float(model.forward(tokens)[0].mean())
            rows.append(dict(length=length, forward=forward, run_inproc=run_inproc, run_process=run_process,
                             plain=t_plain * N / len(neurons), batched=t_batched * N / len(neurons),
                             sweep=sweep_process, sweep_cached=sweep_cached, algebra=algebra_process,
                             algebra_b=algebra_parts["b_seconds"], algebra_sweep=algebra_parts["sweep_seconds"],
                             diff=diff, algebra_diff=algebra_diff, loss_diff=abs(loss_java - loss_torch)))
            r = rows[-1]
            print(f"  {length} tokens: torch forward {forward:.3f} s, solulens forward {run_inproc:.3f} s "
                  f"(process {run_process:.1f} s); torch loop {r['plain']:.0f} s / batched {r['batched']:.0f} s; "
                  f"torch algebra {algebra_process:.1f} s (B {r['algebra_b']:.1f} s, forward + B + sweep "
                  f"{r['algebra_sweep']:.1f} s); solulens sweep {sweep_process:.1f} s, B cached {sweep_cached:.1f} s; "
                  f"max |Δ| difference: loop {diff:.1e}, algebra {algebra_diff:.1e}", flush=True)
        print()
        print("| tokens | PyTorch forward | SoluLens forward (in process; whole process) | ratio "
              "| PyTorch per-neuron loop (plain; batched) | SoluLens sweep, whole process | speed-up (plain; batched) "
              "| max Δloss difference |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in rows:
            print(f"| {r['length']} | {r['forward']:.3f} s | {r['run_inproc']:.3f} s; {r['run_process']:.1f} s "
                  f"| {r['run_inproc'] / r['forward']:.2f}x | {r['plain']:.0f} s; {r['batched']:.0f} s "
                  f"| {r['sweep']:.1f} s | {r['plain'] / r['sweep']:.0f}x; {r['batched'] / r['sweep']:.0f}x "
                  f"| {r['diff']:.1e} |")
        print()
        print("| tokens | PyTorch per-neuron loop | the same exact algebra in PyTorch (whole process) | SoluLens sweep, cold "
              "| SoluLens sweep, B cached | vs loop (cold; cached) | vs algebra (cold; cached) | max difference from the algebra |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in rows:
            print(f"| {r['length']} | {r['plain']:.0f} s | {r['algebra']:.1f} s | {r['sweep']:.1f} s | {r['sweep_cached']:.1f} s "
                  f"| {r['plain'] / r['sweep']:.0f}x; {r['plain'] / r['sweep_cached']:.0f}x "
                  f"| {r['algebra'] / r['sweep']:.2f}x; {r['algebra'] / r['sweep_cached']:.2f}x | {r['algebra_diff']:.1e} |")
        print()
        print(f"PyTorch loops: {len(neurons)} of {N} neurons timed and extrapolated; ratio = SoluLens / PyTorch "
              f"(forward), PyTorch / SoluLens (sweep). Numbers agree when every difference is below {AGREEMENT:g}.")
        if max(max(r["diff"], r["algebra_diff"]) for r in rows) > AGREEMENT:
            raise SystemExit("compare_pytorch.py: SoluLens and PyTorch disagree beyond " + str(AGREEMENT))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
