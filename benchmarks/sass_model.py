#!/usr/bin/env python3
"""A SASS-level performance model of the sweep kernels (cuda/sweep.cu), from the built fatbin, without a GPU.

Takes the sm_90 cubin out of the fatbin, disassembles it with nvdisasm (benchmarks/get_nvdisasm.sh fetches one),
finds in each sweep kernel the inner loops (the loops that hold MUFU.EX2 and no barrier: one per site and path)
and their enclosing slice loops, and counts per element of the P x N x V sweep:

  issue   warp instructions issued per element x 32 lanes: the inner loop's instructions over the elements one
          iteration computes, plus the slice loop's own instructions spread over its inner iterations
          (SWEEP_CHUNK / 32 of them). A Hopper SM issues 4 warp instructions a clock (one per scheduler):
          128 lane-slots.
  mufu    MUFU.EX2 per element. An SM's special-function units do 16 a clock.

Elements per clock per SM = min(16 / mufu, 128 / issue); the time of the full solu-1l sweep (1024 positions x
2048 neurons x 48262 vocabulary) follows at 132 SMs and 1.98 GHz (H100 SXM and H200 alike: same SMs, same clock).
Not modelled: latencies (16 warps an SM hide them, by assumption), the other pipes' own limits, the L1/L2 path
except as the estimate printed below the table, and the part of the sweep outside sweep_forward (host algebra,
the coefficient upload, the clean log-probabilities).

The rare path of the online update (a new running maximum: a branch around the rescaling) is not counted: a
conditional branch forward inside the inner loop is taken as the common case.

Which loop is which: an iteration computes SWEEP_POSITIONS elements for each B value it loads (4 bytes of its
global loads), so elements = SWEEP_POSITIONS x LDG bytes / 4; a loop with floating-point compares (FSETP) keeps a running maximum (the online path); a loop
that reads more than 8 bytes of shared memory per (position, vocabulary entry) reads A2 too (site mid).

  benchmarks/sass_model.py [--fatbin F] [--nvdisasm N] [--markdown] [--check NOTES.md] [--sass OUT.sass]
--check fails (exit 1) when the default kernel's (ex2) predicted time or issue slots per element at either site are
more than 5% above the figures committed in NOTES.md (its line "sass_model: ex2 post X ms (Y issue
slots/element), ex2 mid ..."), or the time is above the 25 ms goal. The time alone would not notice an inner loop
that grows while the kernel stays bound by the ex2 rate.
"""
import argparse
import collections
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMS, CLOCK_HZ = 132, 1.98e9
HBM = {"H100": 3.35e12, "H200": 4.8e12}   # bytes/s, the SXM parts' specification (not measured here)
RECORD_BYTES = {"post": 8, "mid": 16}     # a staged record {log2 q, A} or {log2 q, A, A2, 0} (cuda/sweep.cu)
ISSUE_SLOTS, MUFU_PER_CLOCK = 128, 16
SOLU_1L = (1024, 2048, 48262)   # positions (one 1025-token prompt), d_mlp, d_vocab
GOAL_MS, REGRESSION = 25.0, 1.05
# "BRA `(.L_x_1)", "@P0 BRA `(.L_x_1)" and "@P0 BRA P5, `(.L_x_1)" (taken when both predicates hold)
BRANCH = re.compile(r"\bBRA\s+(?:!?U?P\w+,\s*)?`\((\.L_x_\d+)\)")
KERNELS = {"sweep_forward": "ex2", "sweep_forward_poly": "poly"}


def define(name):
    text = open(os.path.join(ROOT, "cuda", "sweep.cu")).read()
    return int(re.search(r"#define %s (\d+)" % name, text).group(1))


def cubins(fatbin):
    """(arch, bytes) of every ELF image in a fatbin."""
    data = open(fatbin, "rb").read()
    out = []
    for at in range(0, len(data) - 64, 8):
        if data[at:at + 4] != b"\x7fELF":
            continue
        shoff, = struct.unpack_from("<Q", data, at + 0x28)
        flags, = struct.unpack_from("<I", data, at + 0x30)
        phoff, = struct.unpack_from("<Q", data, at + 0x20)
        phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", data, at + 0x36)
        size = max(shoff + shentsize * shnum, phoff + phentsize * phnum)
        for s in range(shnum):   # the image ends where its last section or the section headers end
            offset, length = struct.unpack_from("<QQ", data, at + shoff + s * shentsize + 24)
            kind, = struct.unpack_from("<I", data, at + shoff + s * shentsize + 4)
            if kind != 8:   # SHT_NOBITS occupies nothing
                size = max(size, offset + length)
        arch = (flags >> 8) & 0xFF if data[at + 7] == 0x41 else flags & 0xFF
        out.append((arch, bytearray(data[at:at + size])))
    return out


def disassemble(fatbin, nvdisasm):
    images = [image for arch, image in cubins(fatbin) if arch == 90]
    if not images:
        sys.exit("sass_model: no sm_90 image in " + fatbin)
    image = images[0]
    # nvdisasm 11.8 knows the CUDA 12 ELF ABI: OS/ABI 0x33, ABI version 7, e_flags 0x5a055a for sm_90.
    image[7], image[8] = 0x33, 7
    struct.pack_into("<I", image, 0x30, 0x5A055A)
    with tempfile.NamedTemporaryFile(suffix=".cubin", delete=False) as f:
        f.write(image)
    try:
        run = subprocess.run([nvdisasm, "-c", f.name], capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit("sass_model: nvdisasm failed: " + run.stderr.strip())
        return run.stdout
    finally:
        os.unlink(f.name)


def functions(sass):
    """Function name -> (instructions, labels): opcodes without predicates, label -> instruction index."""
    out, name = {}, None
    for line in sass.splitlines():
        m = re.match(r"^\.text\.(\w+):", line.strip())
        if m:
            name = m.group(1)
            out[name] = ([], {})
            continue
        if name is None:
            continue
        insts, labels = out[name]
        m = re.match(r"^(\.L_x_\d+):", line.strip())
        if m:
            labels[m.group(1)] = len(insts)
            continue
        m = re.match(r"\s*/\*[0-9a-f]{4,}\*/\s+(.*?)\s*;", line)
        if m:
            insts.append(m.group(1))
    return out


def opcode(inst):
    return re.sub(r"^@!?U?P\w+\s+", "", inst).split()[0]


def loops(insts, labels):
    """(start, end) of every backward branch's loop."""
    found = []
    for i, inst in enumerate(insts):
        m = BRANCH.search(inst)
        if m and labels.get(m.group(1), len(insts)) <= i:
            found.append((labels[m.group(1)], i))
    return found


def common_path(insts, labels, start, end):
    """The instructions an iteration of loop [start, end] issues on its common path: a conditional branch forward
    inside the loop is taken (in the sweep's inner loop such branches skip the online path's rare rescaling), and
    an unconditional one followed."""
    path, i = [], start
    while i <= end:
        path.append(insts[i])
        m = BRANCH.search(insts[i])
        target = labels.get(m.group(1), -1) if m else -1
        i = target if i < target <= end else i + 1
    return path


def load_bytes(op):
    """Bytes one lane loads with a load opcode: LDS.128 and LDG.E.128.CONSTANT 16, LDS.64 8, LDG.E 4."""
    widths = [int(w) for w in re.findall(r"\.(\d+)", op) if int(w) in (64, 128)]
    return widths[0] // 8 if widths else 4


def shared_bytes(ops):
    return sum(n * load_bytes(op) for op, n in ops.items() if op.startswith("LDS"))


def analyse(insts, labels, positions, neurons_per_lane, iterations):
    rows = []
    all_loops = loops(insts, labels)
    for start, end in all_loops:
        body = [opcode(x) for x in common_path(insts, labels, start, end)]
        ops = collections.Counter(body)
        if ops["MUFU.EX2"] == 0 or any(op.startswith("BAR") for op in body):
            continue
        outer = [(s, e) for s, e in all_loops if s <= start and e >= end and (s, e) != (start, end)]
        if not outer:
            sys.exit("sass_model: an inner loop without a slice loop around it")
        s, e = min(outer, key=lambda r: r[1] - r[0])
        # the slice loop's own instructions: all of it but the inner loop (its branches around the inner loop are
        # not rare paths, so it is counted whole)
        outer_extra = (e - s + 1) - (end - start + 1)
        # the iteration's B values (4 bytes each, from its global loads), each serving SWEEP_POSITIONS elements
        elements = positions * sum(n * load_bytes(op) for op, n in ops.items() if op.startswith("LDG")) // 4
        online = any(op.startswith("FSETP") for op in ops)
        # (position, vocabulary entry) slots an iteration reads: one per position per B value of one neuron
        slots = elements / neurons_per_lane
        site = "mid" if shared_bytes(ops) / slots > 8 else "post"
        # a warp instruction serves 32 lanes, each with its own elements: lane-slots per element = instructions per
        # lane-iteration / elements per lane-iteration
        issue = (len(body) + outer_extra / iterations) / elements
        rows.append({"path": "online" if online else "shift-free", "site": site, "elements": elements, "inner": len(body),
                     "outer": outer_extra, "issue": issue, "mufu": ops["MUFU.EX2"] / elements, "ops": ops})
    return rows


def predict(row):
    """(elements/clk/SM, compute ms, what binds it, issue slots used)."""
    issue_rate = ISSUE_SLOTS / row["issue"]   # elements a clock an SM can issue for
    mufu_rate = MUFU_PER_CLOCK / row["mufu"]
    rate = min(issue_rate, mufu_rate)
    p, n, v = SOLU_1L
    ms = p * n * v / (rate * SMS * CLOCK_HZ) * 1e3
    bound = "MUFU" if mufu_rate <= issue_rate else "issue"
    return rate, ms, bound, row["issue"] * rate / ISSUE_SLOTS


def memory(site):
    """(L2 -> SM bytes per element, device-memory bytes of the whole solu-1l sweep).

    L2 -> SM: each 16-byte load of B serves SWEEP_POSITIONS x 4 elements; each staged record serves the block's
    SWEEP_NEURONS neurons. Device memory: blocks run positions-first (grid.x), so a neuron group's rows of B
    (32 x d_vocab x 4 bytes) are read once and stay in L2 while every position's block passes, but the records
    of all positions (P x d_vocab x record bytes, far more than L2 holds) are read again for each neuron group."""
    p, n, v = SOLU_1L
    positions, neurons = define("SWEEP_POSITIONS"), define("SWEEP_NEURONS")
    per_element = 4 / positions + RECORD_BYTES[site] / neurons
    groups = -(-n // neurons)
    return per_element, p * v * RECORD_BYTES[site] * groups + n * v * 4


def table(results, markdown):
    head = ["kernel", "site", "path", "elem/iter", "inner", "slice", "issue/elem", "ex2/elem", "elem/clk/SM", "bound",
            "issue used", "compute ms", "H100 ms", "H200 ms"]
    lines = []
    fmt = (lambda cells: "| " + " | ".join(cells) + " |") if markdown else (lambda cells: "  ".join("%-11s" % c for c in cells))
    lines.append(fmt(head))
    if markdown:
        lines.append("|" + "---|" * len(head))
    for r in results:
        rate, ms, bound, used = predict(r)
        hbm_bytes = memory(r["site"])[1]
        per_gpu = ["%.1f" % max(ms, hbm_bytes / HBM[g] * 1e3) for g in ("H100", "H200")]
        lines.append(fmt([r["kernel"], r["site"], r["path"], str(r["elements"]), str(r["inner"]), str(r["outer"]),
                          "%.2f" % r["issue"], "%.2f" % r["mufu"], "%.1f" % rate, bound, "%.0f%%" % (100 * used), "%.1f" % ms]
                         + per_gpu))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fatbin", default=os.path.join(ROOT, "java", "target", "classes", "cuda", "solulens.fatbin"))
    fetched = os.path.join(os.path.expanduser("~"), ".cache", "solulens", "sass-tools", "usr", "bin", "nvdisasm")
    ap.add_argument("--nvdisasm", default=os.environ.get("NVDISASM") or shutil.which("nvdisasm") or fetched,
                    help="default: $NVDISASM, the PATH, or where benchmarks/get_nvdisasm.sh puts it")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown (for NOTES.md)")
    ap.add_argument("--check", metavar="NOTES", help="fail on a >5%% regression of the default kernel against NOTES")
    ap.add_argument("--sass", metavar="OUT", help="also write the disassembly here")
    ap.add_argument("--verbose", action="store_true", help="print each inner loop's instruction mix")
    args = ap.parse_args()
    for what, path in (("fatbin", args.fatbin), ("nvdisasm", args.nvdisasm)):
        if not os.path.exists(path):
            message = "sass_model: no %s at %s (%s)" % (what, path, "build with nvcc on the PATH" if what == "fatbin"
                                                          else "benchmarks/get_nvdisasm.sh fetches one")
            if os.environ.get("CI") == "true" or args.check is None:
                sys.exit(message)
            print(message + "; skipped outside CI")
            return 0
    sass = disassemble(args.fatbin, args.nvdisasm)
    if args.sass:
        open(args.sass, "w").write(sass)
    positions, iterations = define("SWEEP_POSITIONS"), define("SWEEP_CHUNK") // 32
    results = []
    funcs = functions(sass)
    for name, kernel in KERNELS.items():
        if name not in funcs:
            sys.exit("sass_model: no function %s in the cubin" % name)
        rows = analyse(*funcs[name], positions, define("SWEEP_NEURONS") // (define("SWEEP_THREADS") // 32), iterations)
        kinds = sorted((r["site"], r["path"]) for r in rows)
        if kinds != sorted({(s, p) for s in ("post", "mid") for p in ("shift-free", "online")}) or len(rows) != 4:
            sys.exit("sass_model: %s: expected one inner loop per site and path, found %s" % (name, kinds))
        for r in sorted(rows, key=lambda r: (r["site"] != "post", r["path"])):
            r["kernel"] = kernel if r["path"] == "shift-free" else ("online" if kernel == "ex2" else "poly (online path)")
            results.append(r)
    print(table(results, args.markdown))
    p, n, v = SOLU_1L
    print("\nModel: %d SMs at %.2f GHz, %d issue slots and %d MUFU.EX2 a clock per SM; solu-1l sweep = %d x %d x %d elements."
          % (SMS, CLOCK_HZ / 1e9, ISSUE_SLOTS, MUFU_PER_CLOCK, p, n, v))
    print("H100/H200 ms: the larger of the compute time and the device-memory time (HBM %s TB/s)."
          % " and ".join("%.2f" % (HBM[g] / 1e12) for g in ("H100", "H200")))
    for site in ("post", "mid"):
        rate = max(predict(r)[0] for r in results if r["kernel"] == "ex2" and r["site"] == site)
        per_element, hbm_bytes = memory(site)
        ms = min(predict(r)[1] for r in results if r["kernel"] == "ex2" and r["site"] == site)
        print("site %s, ex2: L2 -> SM %.2f bytes/element = %.1f TB/s at %.1f elements/clk/SM; device memory %.1f GB a sweep "
              "= %.1f TB/s over the %.1f ms (H100 %.0f%%, H200 %.0f%% of HBM)"
              % (site, per_element, per_element * rate * SMS * CLOCK_HZ / 1e12, rate, hbm_bytes / 1e9, hbm_bytes / ms / 1e9,
                 ms, 100 * hbm_bytes / ms / 1e9 / (HBM["H100"] / 1e12), 100 * hbm_bytes / ms / 1e9 / (HBM["H200"] / 1e12)))
    if args.verbose:
        for r in results:
            print("\n%s %s %s: %s" % (r["kernel"], r["site"], r["path"], dict(r["ops"].most_common())))
    if args.check:
        return check(results, args.check)
    return 0


LINE = re.compile(r"sass_model: ex2 post ([\d.]+) ms \(([\d.]+) issue slots/element\), ex2 mid ([\d.]+) ms \(([\d.]+) issue slots/element\)")


def check(results, notes):
    m = LINE.search(open(notes).read())
    if not m:
        sys.exit("sass_model: %s has no line 'sass_model: ex2 post X ms (Y issue slots/element), ex2 mid X ms (Y issue "
                 "slots/element)'" % notes)
    committed = {"post": (float(m.group(1)), float(m.group(2))), "mid": (float(m.group(3)), float(m.group(4)))}
    failed = False
    for r in results:
        if r["kernel"] != "ex2":
            continue
        ms, slots = predict(r)[1], r["issue"]
        ms_limit = min(committed[r["site"]][0] * REGRESSION, GOAL_MS)
        slots_limit = committed[r["site"]][1] * REGRESSION
        ok = ms <= ms_limit and slots <= slots_limit
        failed |= not ok
        print("check: ex2 at site %s: %.1f ms (limit %.1f), %.2f issue slots/element (limit %.2f): %s"
              % (r["site"], ms, ms_limit, slots, slots_limit, "ok" if ok else "REGRESSED"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
