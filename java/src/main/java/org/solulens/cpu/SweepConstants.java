package org.solulens.cpu;

import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluWeights;

/**
 * What an ablation sweep needs that depends only on the model (docs/design.md, "Why the exact sweep is cheap"), computed once:
 * the final LayerNorm's gain {@code g_f} and output bias {@code β = ln_final.b W_U + b_U}, and for each kind
 * of ablation direction the centred rows {@code ū_n}, their squared norms and {@code B[n, v] = (ū_n ⊙ g_f) · W_U[:, v]}.
 * Directions: {@code W_out[n]} (post-site ablations) and {@code Z_n = g_n W_out[n] - mean_j(g_j W_out[j])} (mid site and
 * the paper ablation; g = mlp.ln.w). Each B is d_mlp x d_vocab floats, made on first use.
 */
public final class SweepConstants {
    final ModelConfig cfg;
    final SoluWeights w;
    /** ln_final.w (ones for LNPre). */
    public final double[] gFinal;
    /** ln_final.b · W_U + b_U. */
    public final double[] beta;
    private Directions outRows, zRows;
    /** Where B is kept between processes, or null. */
    private final ConstantCache cache;

    /** Centred direction rows, one per neuron (their unembedding B is made separately, by whoever needs it). */
    public static final class Directions {
        /** "out" or "z": part of the cache key. */
        final String kind;
        final double[] raw;      // [N, D], before centring
        /** [N, D]: each row minus its mean. */
        public final double[] centred;
        /** [N]: squared norms of the centred rows. */
        public final double[] norm2;
        private BMatrix b;        // [N, V], made on first use by the CPU sweep

        Directions(String kind, double[] raw, double[] centred, double[] norm2) {
            this.kind = kind;
            this.raw = raw;
            this.centred = centred;
            this.norm2 = norm2;
        }
    }

    public SweepConstants(ModelConfig cfg, SoluWeights w) {
        this(cfg, w, null);
    }

    /** @param cache where B is read from and written to between processes, or null to build it in memory each time */
    public SweepConstants(ModelConfig cfg, SoluWeights w, ConstantCache cache) {
        this.cfg = cfg;
        this.w = w;
        this.cache = cache;
        int d = cfg.dModel(), v = cfg.dVocab();
        gFinal = new double[d];
        for (int i = 0; i < d; i++) {
            gFinal[i] = w.lnFinalW == null ? 1 : w.lnFinalW.get(i);
        }
        double[] bFinal = new double[d];
        for (int i = 0; i < d; i++) {
            bFinal[i] = w.lnFinalB == null ? 0 : w.lnFinalB.get(i);
        }
        beta = MatMul.multiply(bFinal, 1, d, w.wU, 0, v, w.bU, 0);
    }

    /**
     * A tensor's values widened to double, read in bulk: a fresh JVM ran W_out's 1M {@code Tensor.get} calls
     * interpreted, ~0.05 s of the sweep's start (benchmarks/NOTES.md).
     */
    private static double[] widened(org.solulens.model.Tensor t) {
        float[] values = t.toArray();
        double[] d = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            d[i] = values[i];
        }
        return d;
    }

    /** Rows W_out[n]. */
    public synchronized Directions outRows() {
        if (outRows == null) {
            outRows = directions("out", widened(w.wOut));
        }
        return outRows;
    }

    /** Rows Z_n = g_n W_out[n] - mean_j(g_j W_out[j]), g the MLP LayerNorm's gain (1 for LNPre). */
    public synchronized Directions zRows() {
        if (zRows == null) {
            int n = cfg.dMlp(), d = cfg.dModel();
            double[] raw = widened(w.wOut);
            double[] mean = new double[d];
            for (int j = 0; j < n; j++) {
                double g = mlpGain(j);
                for (int i = 0; i < d; i++) {
                    raw[j * d + i] *= g;
                    mean[i] += raw[j * d + i] / n;
                }
            }
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < d; i++) {
                    raw[j * d + i] -= mean[i];
                }
            }
            zRows = directions("z", raw);
        }
        return zRows;
    }

    double mlpGain(int j) {
        return w.mlpLnW == null ? 1 : w.mlpLnW.get(j);
    }

    double mlpBias(int j) {
        return w.mlpLnB == null ? 0 : w.mlpLnB.get(j);
    }

    private Directions directions(String kind, double[] raw) {
        int n = cfg.dMlp(), d = cfg.dModel();
        double[] centred = raw.clone();
        double[] norm2 = new double[n];
        for (int j = 0; j < n; j++) {
            norm2[j] = centre(centred, j * d, d);
        }
        return new Directions(kind, raw, centred, norm2);
    }

    /**
     * {@code B[n, v] = (ū_n ⊙ g_f) · W_U} in float32 (N x V), accumulated in double; made once per direction kind, or
     * read from the constant cache when one is given and holds it (then in place, through the file's mapping; a new B
     * is built straight into its cache file).
     */
    synchronized BMatrix bMatrix(Directions dirs) {
        if (dirs.b == null) {
            int n = cfg.dMlp(), v = cfg.dVocab();
            BMatrix.Fill fill = (out, rowAbsMax) -> fillB(dirs, out, rowAbsMax);
            if (cache == null || !cache.worthCaching(n, v)) {
                dirs.b = BMatrix.filledInMemory(n, v, fill);
            } else {
                byte[] key = cacheKey(dirs);
                BMatrix cached = cache.read(key, n, v);
                if (cached != null) {
                    cache.dropPrepared();   // a file prepared before another process published this entry
                }
                dirs.b = cached != null ? cached : cache.build(key, n, v, fill);
            }
        }
        return dirs.b;
    }

    /**
     * Starts what the first {@link #bMatrix} of {@code dirs} needs when B is not cached yet, on a thread of its own: the
     * key's digests and B's new cache file with its pages ({@link ConstantCache#prepare}). Nothing without a cache, or
     * once B is made.
     */
    synchronized void prepareB(Directions dirs) {
        if (cache != null && dirs.b == null) {
            cache.prepare(() -> cacheKey(dirs), cfg.dMlp(), cfg.dVocab());
        }
    }

    /** Deletes what {@link #prepareB} made that no B took. */
    void dropPrepared() {
        if (cache != null) {
            cache.dropPrepared();
        }
    }

    /** Writes B's rows into {@code out} (row-major, from index 0) and each row's max |B| into {@code rowAbsMax}. */
    private void fillB(Directions dirs, java.nio.FloatBuffer out, double[] rowAbsMax) {
        int n = cfg.dMlp(), v = cfg.dVocab();
        MatMul.current().multiplyNarrowed(scaledByFinalGain(dirs.centred, 0, n), n, cfg.dModel(), w.wU, v, out, rowAbsMax);
    }

    /**
     * What B is made from, digested: the direction kind, the shapes, the matrix product's implementation (OpenBLAS and
     * the Java loops may round a last float32 bit differently) and the digest of every tensor B reads (W_out, the MLP
     * LayerNorm's gain for Z rows, ln_final's gain, W_U; {@link TensorDigests}: each digested once per process).
     * v2: B's product in calls of a multiple of 64 rows (v1's calls of 173 rows gave other last bits); v3: the tensors'
     * own digests in place of their bytes; v4: the name of the product that makes B (the native product of float32
     * weights, or dgemm's), not of the backend's products in general; v5: tensor digests over parts digested in parallel.
     */
    byte[] cacheKey(Directions dirs) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            md.update(("solulens B v5|" + dirs.kind + "|" + cfg.dModel() + "|" + cfg.dMlp() + "|" + cfg.dVocab() + "|"
                    + MatMul.current().narrowedProductName())
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            for (org.solulens.model.Tensor t : keyTensors(dirs.kind)) {
                md.update((byte) (t == null ? 0 : 1));
                if (t != null) {
                    md.update(TensorDigests.of(t));
                }
            }
            return md.digest();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java platform", e);
        }
    }

    /** The tensors B of a direction kind is made from, in the key's order (null: a tensor that kind does not read). */
    private org.solulens.model.Tensor[] keyTensors(String kind) {
        return new org.solulens.model.Tensor[] {w.wOut, "z".equals(kind) ? w.mlpLnW : null, w.lnFinalW, w.wU};
    }

    /** {@code (rows[i] ⊙ g_f) · W_U} for {@code count} rows of width d_model starting at row {@code first}. */
    double[] unembed(double[] rows, int first, int count) {
        return MatMul.multiply(scaledByFinalGain(rows, first, count), count, cfg.dModel(), w.wU, 0, cfg.dVocab(), null, 0);
    }

    /**
     * The logits [P, d_vocab] of the forward pass that made {@code clean}, made again from its ln_final hook by the
     * forward's own code ({@link LayerNorm#gainAndBias}, then {@link CpuBackend#unembed}), so the same bits: a sweep
     * whose forward's logits are not at hand gives the numbers of one that took them.
     */
    double[] logitsOf(ForwardResult clean) {
        int rows = clean.tokens().length, d = cfg.dModel();
        double[] normalized = clean.get(Hooks.LN_FINAL_NORMALIZED).data(), lnFinal = new double[rows * d];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < d; i++) {
                lnFinal[r * d + i] = LayerNorm.gainAndBias(normalized[r * d + i], w.lnFinalW, w.lnFinalB, i);
            }
        }
        return CpuBackend.unembed(lnFinal, rows, cfg, w);
    }

    /**
     * Site post's rows A for positions [p0, p1), {@code A[q] = ȳ[p0 + q] · Ŵ}, made from the clean forward's logits and
     * written over them: a logit row is {@code ȳ/σ · Ŵ + β} (σ ln_final's scale, β = b_f · W_U + b_U), so
     * {@code A[q] = σ[p0 + q] · (logits[p0 + q] - β)}, {@link #unembed}'s values up to rounding in double, without its
     * product and its fresh [P, d_vocab] array. Row q of the result is row q of {@code logits}, made from row p0 + q;
     * for chunks of one size taken in order, no chunk's rows are among those an earlier chunk wrote over ([0, size)).
     *
     * @param logits the clean logits [≥ p1 rows, d_vocab], overwritten
     * @param scale ln_final's scale per position (the {@code ln_final.hook_scale} of the same forward pass)
     * @return {@code logits}, its first p1 - p0 rows now A's
     */
    double[] unembedFromLogits(double[] logits, double[] scale, int p0, int p1) {
        int v = cfg.dVocab(), rows = p1 - p0;
        if (p0 < 0 || rows < 0 || (long) p1 * v > logits.length || p1 > scale.length || (p0 > 0 && p0 < rows)) {
            throw new IllegalArgumentException("rows [" + p0 + ", " + p1 + ") of " + logits.length / v + " logit rows with "
                    + scale.length + " scales (a later chunk must start at or after its own length)");
        }
        java.util.stream.IntStream.range(0, rows).parallel().forEach(q -> {
            double s = scale[p0 + q];
            for (int i = 0, from = (p0 + q) * v, to = q * v; i < v; i++) {
                logits[to + i] = (logits[from + i] - beta[i]) * s;
            }
        });
        return logits;
    }

    private double[] scaledByFinalGain(double[] rows, int first, int count) {
        int d = cfg.dModel();
        double[] scaled = new double[count * d];
        for (int r = 0; r < count; r++) {
            for (int i = 0; i < d; i++) {
                scaled[r * d + i] = rows[(first + r) * d + i] * gFinal[i];
            }
        }
        return scaled;
    }

    /** Subtracts the mean of {@code x[o .. o+n)} in place and returns the sum of squares left. */
    static double centre(double[] x, int o, int n) {
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += x[o + i];
        }
        mean /= n;
        double ss = 0;
        for (int i = 0; i < n; i++) {
            x[o + i] -= mean;
            ss += x[o + i] * x[o + i];
        }
        return ss;
    }

    static double dot(double[] a, int ao, double[] b, int bo, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    static double max(double[] x, int o, int n) {
        double m = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            m = Math.max(m, x[o + i]);
        }
        return m;
    }
}
