package org.solulens.gpu;

/**
 * Typed launches of the kernels in cuda/: each method fixes the launch shape its kernel's header comment gives,
 * so the GPU backend and the kernel tests launch them the same way.
 */
public final class Kernels {
    /** Threads per block of the row kernels (LayerNorm, SoLU, attention, cross-entropy). */
    static final int ROW_THREADS = 128;
    private static final int ELEMENT_THREADS = 256;

    private Kernels() {}

    private static int blocksFor(long count) {
        long blocks = (count + ELEMENT_THREADS - 1) / ELEMENT_THREADS;
        if (blocks > Integer.MAX_VALUE) {
            throw new DeviceException("a launch over " + count + " elements is too large");
        }
        return (int) Math.max(1, blocks);
    }

    public static void embed(Device d, DeviceBuffer embed, DeviceBuffer pos, DeviceBuffer resid, DeviceBuffer wE, DeviceBuffer wPos,
                             DeviceBuffer tokens, DeviceBuffer positions, int rows, int dModel) {
        d.launch("embed_forward", Dim3.of(blocksFor((long) rows * dModel)), Dim3.of(ELEMENT_THREADS), 0, new KernelArgs()
                .ptr(embed).ptr(pos).ptr(resid).ptr(wE).ptr(wPos).ptr(tokens).ptr(positions).i32(rows).i32(dModel));
    }

    public static void add(Device d, DeviceBuffer out, DeviceBuffer a, DeviceBuffer b, long count) {
        d.launch("add_forward", Dim3.of(blocksFor(count)), Dim3.of(ELEMENT_THREADS), 0, new KernelArgs().ptr(out).ptr(a).ptr(b).i64(count));
    }

    /** w, b null: LNPre. */
    public static void layerNorm(Device d, DeviceBuffer out, DeviceBuffer normalized, DeviceBuffer scale, DeviceBuffer x,
                                 DeviceBuffer w, DeviceBuffer b, int rows, int width, float eps) {
        KernelArgs args = new KernelArgs().ptr(out).ptr(normalized).ptr(scale).ptr(x);
        if (w == null) {
            args.nullPtr().nullPtr();
        } else {
            args.ptr(w).ptr(b);
        }
        d.launch("layernorm_forward", Dim3.of(rows), Dim3.of(ROW_THREADS), 0, args.i32(rows).i32(width).f32(eps));
    }

    public static void solu(Device d, DeviceBuffer mid, DeviceBuffer pre, int rows, int width) {
        d.launch("solu_forward", Dim3.of(rows), Dim3.of(ROW_THREADS), 0, new KernelArgs().ptr(mid).ptr(pre).i32(rows).i32(width));
    }

    /** An elementwise activation: "gelu_forward", "gelu_new_forward" or "relu_forward". */
    public static void elementwise(Device d, String kernel, DeviceBuffer out, DeviceBuffer x, int count) {
        d.launch(kernel, Dim3.of(blocksFor(count)), Dim3.of(ELEMENT_THREADS), 0, new KernelArgs().ptr(out).ptr(x).i32(count));
    }

    /**
     * {@code C = A B (+ bias)} with leading dimensions; offsets are in floats from each buffer's start.
     */
    public static void matmul(Device d, DeviceBuffer c, long cOffset, DeviceBuffer a, long aOffset, DeviceBuffer b, long bOffset,
                              DeviceBuffer bias, long biasOffset, int m, int n, int k, int lda, int ldb, int ldc) {
        if (d.blasGemm(c, cOffset, a, aOffset, b, bOffset, m, n, k, lda, ldb, ldc)) {
            if (bias != null) {
                biasAdd(d, c, cOffset, bias, biasOffset, m, n, ldc);
            }
            return;
        }
        KernelArgs args = new KernelArgs().ptr(c, cOffset).ptr(a, aOffset).ptr(b, bOffset);
        if (bias == null) {
            args.nullPtr();
        } else {
            args.ptr(bias, biasOffset);
        }
        d.launch("matmul_forward", Dim3.of((n + 31) / 32, (m + 31) / 32), Dim3.of(32, 8), 0,
                args.i32(m).i32(n).i32(k).i32(lda).i32(ldb).i32(ldc));
    }

    /** {@code values} as the two float32 parts {hi, lo} that {@link #matmulSplit} takes: hi + lo equals each value to ~1e-14. */
    static float[][] splitHiLo(double[] values) {
        float[] hi = new float[values.length], lo = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            hi[i] = (float) values[i];
            lo[i] = (float) (values[i] - hi[i]);
        }
        return new float[][] {hi, lo};
    }

    /**
     * {@code C = A B} accumulated in double, each operand given as float32 parts (hi + lo; a null lo is zero), C
     * returned as hi and, when cLo is not null, lo parts. Row-major, packed. See cuda/matmul_split.cu.
     */
    public static void matmulSplit(Device d, DeviceBuffer cHi, DeviceBuffer cLo, DeviceBuffer aHi, DeviceBuffer aLo, DeviceBuffer bHi,
                                   DeviceBuffer bLo, int m, int n, int k) {
        d.launch("matmul_split_forward", Dim3.of((n + 31) / 32, (m + 31) / 32), Dim3.of(32, 8), 0,
                new KernelArgs().ptr(cHi).ptr(cLo).ptr(aHi).ptr(aLo).ptr(bHi).ptr(bLo).i32(m).i32(n).i32(k));
    }

    /** {@code c[r, col] += bias[col]} over an m x n block with leading dimension ldc. */
    public static void biasAdd(Device d, DeviceBuffer c, long cOffset, DeviceBuffer bias, long biasOffset, int m, int n, int ldc) {
        d.launch("bias_add_forward", Dim3.of(blocksFor((long) m * n)), Dim3.of(ELEMENT_THREADS), 0,
                new KernelArgs().ptr(c, cOffset).ptr(bias, biasOffset).i32(m).i32(n).i32(ldc));
    }

    public static void attention(Device d, DeviceBuffer z, DeviceBuffer scores, DeviceBuffer pattern, DeviceBuffer q, DeviceBuffer k,
                                 DeviceBuffer v, DeviceBuffer promptStart, DeviceBuffer promptLength, DeviceBuffer scoreBase,
                                 int rows, int heads, int dHead, float attnScale) {
        d.launch("attention_forward", Dim3.of(rows, heads), Dim3.of(ROW_THREADS), 0, new KernelArgs().ptr(z).ptr(scores).ptr(pattern)
                .ptr(q).ptr(k).ptr(v).ptr(promptStart).ptr(promptLength).ptr(scoreBase).i32(rows).i32(heads).i32(dHead).f32(attnScale));
    }

    /** log2 q[p] with q[p] = softmax(α0[p] A[p] + γ0[p] A2[p] + β): each position's clean next-token distribution. */
    /**
     * The clean base-2 log-probabilities, written with A (and A2) as the records the sweep kernel stages:
     * {@code records} holds [rows][vocab][2] floats at site post (a2 null), [rows][vocab][4] at site mid.
     */
    public static void sweepCleanLog2Probs(Device d, DeviceBuffer records, DeviceBuffer a, DeviceBuffer a2, DeviceBuffer beta,
                                           DeviceBuffer alpha0, DeviceBuffer gamma0, int rows, int vocab) {
        d.launch("sweep_clean_log2probs", Dim3.of(rows), Dim3.of(ROW_THREADS), 0,
                new KernelArgs().ptr(records).ptr(a).ptr(a2).ptr(beta).ptr(alpha0).ptr(gamma0).i32(rows).i32(vocab));
    }

    /** Floats of {@link #interleaveRows4}'s output for a [rows, cols] input. */
    public static long interleavedFloats(int rows, int cols) {
        return (rows + 3L) / 4 * cols * 4;
    }

    /** out[g][c] = the float4 (in[4g][c], ..., in[4g + 3][c]), rows past the last 0: B as the sweep kernel loads it. */
    public static void interleaveRows4(Device d, DeviceBuffer out, DeviceBuffer in, int rows, int cols) {
        d.launch("interleave_rows4", Dim3.of(blocksFor(interleavedFloats(rows, cols))), Dim3.of(ELEMENT_THREADS), 0,
                new KernelArgs().ptr(out).ptr(in).i32(rows).i32(cols));
    }

    /** out[i] = 2^x[i], on the special-function units or (poly) as the sweep kernel's polynomial: see cuda/exp2.cuh. */
    public static void exp2(Device d, DeviceBuffer out, DeviceBuffer x, int count, boolean poly) {
        d.launch("exp2_forward", Dim3.of(blocksFor(count)), Dim3.of(ELEMENT_THREADS), 0,
                new KernelArgs().ptr(out).ptr(x).i32(count).i32(poly ? 1 : 0));
    }

    /** out[r] = max over columns of |x[r, c]|: the bounds that let the sweep kernel skip its running maximum. */
    public static void rowAbsMax(Device d, DeviceBuffer out, DeviceBuffer x, int rows, int cols) {
        d.launch("row_absmax", Dim3.of(rows), Dim3.of(ROW_THREADS), 0, new KernelArgs().ptr(out).ptr(x).i32(rows).i32(cols));
    }

    /**
     * Every (position, neuron) pair of a chunk in one launch; a2, absA2 null at site post; selected null: all pairs.
     * records: from {@link #sweepCleanLog2Probs}; b4: B through {@link #interleaveRows4}; absA, absA2, absB:
     * {@link #rowAbsMax} of A, A2 and B. See cuda/sweep.cu.
     */
    public static void sweep(Device d, SweepKernel kernel, DeviceBuffer delta, DeviceBuffer records, DeviceBuffer a, DeviceBuffer a2,
                             DeviceBuffer b4, DeviceBuffer coef, DeviceBuffer targets, DeviceBuffer selected, DeviceBuffer absA,
                             DeviceBuffer absA2, DeviceBuffer absB, int rows, int neurons, int vocab) {
        KernelArgs args = new KernelArgs().ptr(delta).ptr(records).ptr(a).ptr(a2).ptr(b4).ptr(coef).ptr(targets).ptr(selected)
                .ptr(absA).ptr(absA2).ptr(absB).f32(kernel.shiftFreeLimit);
        d.launch(kernel.function, Dim3.of((rows + SWEEP_POSITIONS - 1) / SWEEP_POSITIONS, (neurons + SWEEP_NEURONS - 1) / SWEEP_NEURONS),
                Dim3.of(SWEEP_THREADS), 0, args.i32(rows).i32(neurons).i32(vocab));
    }

    /** The corpus sweep's fold of one window's Δloss on the device (cuda/corpus.cu): per neuron, 128 threads a block. */
    public static void corpusFold(Device d, DeviceBuffer sums, DeviceBuffer extremes, DeviceBuffer above, DeviceBuffer histogram,
                                  DeviceBuffer candidates, DeviceBuffer candidateValues, DeviceBuffer delta, DeviceBuffer activation,
                                  DeviceBuffer settings, int rows, int neurons, int bins, int k) {
        d.launch("corpus_fold", Dim3.of((neurons + 127) / 128), Dim3.of(128), 0, new KernelArgs().ptr(sums).ptr(extremes).ptr(above).ptr(histogram)
                .ptr(candidates).ptr(candidateValues).ptr(delta).ptr(activation).ptr(settings).i32(rows).i32(neurons).i32(bins).i32(k));
    }

    /** Δloss at the {@code context} rows ending at each fold candidate (NaN before row 0). */
    public static void corpusContexts(Device d, DeviceBuffer out, DeviceBuffer candidates, DeviceBuffer delta, int rows, int neurons, int k,
                                      int context) {
        d.launch("corpus_contexts", Dim3.of((neurons + 127) / 128), Dim3.of(128), 0,
                new KernelArgs().ptr(out).ptr(candidates).ptr(delta).i32(rows).i32(neurons).i32(k).i32(context));
    }

    /** rows[n] = resid - c[n] w_out[n] for every neuron: the ablated resid_post rows of one position (re-forward baseline). */
    public static void ablateRows(Device d, DeviceBuffer rows, DeviceBuffer resid, DeviceBuffer wOut, DeviceBuffer c, int neurons, int dModel) {
        d.launch("ablate_rows_forward", Dim3.of(blocksFor((long) neurons * dModel)), Dim3.of(ELEMENT_THREADS), 0,
                new KernelArgs().ptr(rows).ptr(resid).ptr(wOut).ptr(c).i32(neurons).i32(dModel));
    }

    /** The tile of sweep_forward (cuda/sweep.cu's SWEEP_* constants). */
    static final int SWEEP_POSITIONS = 4, SWEEP_NEURONS = 32, SWEEP_THREADS = 256;

    public static void crossEntropy(Device d, DeviceBuffer loss, DeviceBuffer logits, DeviceBuffer targets, int rows, int vocab) {
        d.launch("cross_entropy_forward", Dim3.of(rows), Dim3.of(ROW_THREADS), 0,
                new KernelArgs().ptr(loss).ptr(logits).ptr(targets).i32(rows).i32(vocab));
    }
}
