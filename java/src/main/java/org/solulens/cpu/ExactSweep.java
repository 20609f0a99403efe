package org.solulens.cpu;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;

/**
 * The exact all-(position, neuron) ablation sweep by the algebra of docs/design.md, in double: an ablation only
 * moves {@code resid_post[p]} along one direction, so position p's ablated logits are
 * {@code α·A[p] (+ γ·A2[p]) + δ·B[n] + β} with scalars α, γ, δ per (p, n), and
 * {@code Δloss = LSE(logits') - logits'[t] - (LSE(logits) - logits[t])}, the clean terms taken from the same rows.
 * <ul>
 * <li>site post: {@code A = Y = ȳ_p Ŵ}, {@code B} from W_out rows (Z rows for the paper ablation);</li>
 * <li>site mid: {@code A = Ř}, {@code A2 = M̌}, {@code B = Ž} (the MLP LayerNorm re-normalises every neuron).</li>
 * </ul>
 * Positions are processed in chunks so that the per-position rows take at most {@link #CHUNK_BYTES}.
 */
public final class ExactSweep {
    /** Bound on the double rows A (and A2) held at once: chunk = CHUNK_BYTES / (8 · d_vocab · rows per position). */
    static final long CHUNK_BYTES = 64L << 20;
    private static final int NEURON_BLOCK = 32;
    /** Positions sharing each row of B while it is in cache. */
    private static final int POSITION_BLOCK = 4;
    /**
     * The single path's tiles: a chunk of 2048 words of 16 rows of B and of 8 positions' q and A is 384 KB, under the
     * 512 KB L2 of a Zen 3 core (4096 words, 768 KB, ran 8% slower there; benchmarks/NOTES.md).
     */
    private static final int SINGLE_POSITION_BLOCK = 8, SINGLE_NEURON_BLOCK = 16, VOCAB_CHUNK = 2048;

    private ExactSweep() {}

    /**
     * The largest change of any logit (a bound from the coefficients and the rows' largest magnitudes) for which the
     * single-precision path is used; beyond it the pair takes the double path. Below it no term of the sum can
     * overflow or underflow in float32 (e^±20), and a clean probability lost to float32's range (below 1.2e-38) would
     * weigh at most 1.2e-38 · e^40 · d_vocab relative to the sum: under 1e-14 for any vocabulary below 2^31.
     */
    static final double SINGLE_MAX_CHANGE = 20;

    /** The sweep of one prompt, in double. */
    public static SweepResult run(SweepConstants k, ForwardResult clean, SweepRequest req) {
        return run(k, clean, req, SweepPrecision.DOUBLE, positions -> { });
    }

    /** The sweep of one prompt, telling {@code positionsDone} the size of each chunk of positions as it finishes. */
    public static SweepResult run(SweepConstants k, ForwardResult clean, SweepRequest req, SweepPrecision precision,
                                  java.util.function.IntConsumer positionsDone) {
        return run(k, clean, req, precision, positionsDone, null);
    }

    /**
     * The sweep of one prompt, as above. At site post its rows A are made from the clean logits
     * ({@link SweepConstants#unembedFromLogits}): {@code forwardLogits} when given (the logits [P + 1, d_vocab] of the
     * forward pass that made {@code clean}, which the sweep overwrites), else the same logits made again from
     * {@code clean}'s ln_final ({@link SweepConstants#logitsOf}), so that both give the same bits.
     */
    public static SweepResult run(SweepConstants k, ForwardResult clean, SweepRequest req, SweepPrecision precision,
                                  java.util.function.IntConsumer positionsDone, double[] forwardLogits) {
        int P = clean.tokens().length - 1, N = k.cfg.dMlp(), V = k.cfg.dVocab();
        double[] delta = new double[Math.max(P, 0) * N];
        double[] cosine = req.withCosine() ? new double[delta.length] : null;
        Arrays.fill(delta, Double.NaN);
        if (cosine != null) {
            Arrays.fill(cosine, Double.NaN);
        }
        if (precision == SweepPrecision.SINGLE && cosine == null) {
            FloatExpSum.warmUp();
        }
        boolean mid = req.ablation().site() == Ablation.Site.MID;
        int rowsPerPosition = mid ? 2 : 1;
        int chunk = (int) Math.max(1, CHUNK_BYTES / (8L * V * rowsPerPosition));
        double[] logits = mid || P == 0 ? null : forwardLogits != null ? forwardLogits : k.logitsOf(clean);
        for (int p0 = 0; p0 < P; p0 += chunk) {
            int p1 = Math.min(P, p0 + chunk);
            SweepChunk c = SweepChunk.of(k, clean, req, p0, p1);
            double[] a = mid ? k.unembed(c.rowsA, 0, p1 - p0) : k.unembedFromLogits(logits, clean.get(Hooks.LN_FINAL_SCALE).data(), p0, p1);
            double[] a2 = c.rowsA2 == null ? null : k.unembed(c.rowsA2, 0, p1 - p0);
            boolean single = precision == SweepPrecision.SINGLE && cosine == null;
            sweepChunk(k, clean.tokens(), c, a, a2, req, p0, p1, delta, cosine, single);
            positionsDone.accept(p1 - p0);
        }
        return new SweepResult(P, N, delta, cosine);
    }

    private static void sweepChunk(SweepConstants k, int[] tokens, SweepChunk c, double[] a, double[] a2, SweepRequest req,
                                   int p0, int p1, double[] delta, double[] cosine, boolean single) {
        int N = k.cfg.dMlp(), V = k.cfg.dVocab(), rows = p1 - p0;
        double[] beta = k.beta;
        double betaMax = SweepConstants.max(beta, 0, V);
        ExpSum expSum = ExpSum.best();
        // Per position: the clean loss from the same rows (so that rounding in A cancels), the row maxima, and the
        // clean logits when cosines are wanted.
        double[] cleanLoss = new double[rows], cleanLogSumExp = new double[rows], aMax = new double[rows], a2Max = new double[rows];
        double[][] cleanLogits = new double[rows][];
        IntStream.range(0, rows).parallel().forEach(q -> {
            aMax[q] = SweepConstants.max(a, q * V, V);
            a2Max[q] = a2 == null ? 0 : SweepConstants.max(a2, q * V, V);
            double[] coef = new double[3], out = new double[3];
            c.coefficients(q, -1, coef);
            double shift = bound(coef, aMax[q], a2Max[q], 0, betaMax);
            int target = tokens[p0 + q + 1];
            if (cosine != null) {
                cleanLogits[q] = new double[V];
                logSumExp(coef, a, a2, null, q * V, 0, beta, V, target, shift, cleanLogits[q], null, out);
            } else {
                out[0] = logSumExp(expSum, coef, a, a2, q * V, null, 0, beta, V, shift);
                out[1] = coef[0] * a[q * V + target] + beta[target] + (a2 == null ? 0 : coef[1] * a2[q * V + target]);
            }
            cleanLogSumExp[q] = out[0];
            cleanLoss[q] = out[0] - out[1];
        });
        SinglePrecisionRows f = single ? SinglePrecisionRows.of(c, a, a2, beta, V, rows, cleanLogSumExp, expSum) : null;
        // Tiles of (a few positions) x (a block of neurons): each row of B is read once per tile and reused for
        // every position of it while it is still in cache (the single path also walks the vocabulary in chunks).
        int positionBlock = single ? SINGLE_POSITION_BLOCK : POSITION_BLOCK, neuronBlock = single ? SINGLE_NEURON_BLOCK : NEURON_BLOCK;
        int qBlocks = (rows + positionBlock - 1) / positionBlock, nBlocks = (N + neuronBlock - 1) / neuronBlock;
        BMatrix bm = k.bMatrix(c.dirs);
        double[] bAbsMax = bm.rowAbsMax();
        // the double path reads B's rows from a heap array; in the single path it takes only the pairs whose logits
        // could move by more than SINGLE_MAX_CHANGE, and each copies its row rather than making the whole B a heap copy
        float[] heapB = single ? null : bm.array();
        IntStream.range(0, qBlocks * nBlocks).parallel().forEach(task -> {
            int q0 = (task / nBlocks) * positionBlock, q1 = Math.min(rows, q0 + positionBlock);
            int n0 = (task % nBlocks) * neuronBlock, n1 = Math.min(N, n0 + neuronBlock);
            double[] coef = new double[3], out = new double[3];
            SingleTile tile = f == null ? null : new SingleTile(q0, q1, n0, n1);
            float[] rowB = null;
            int rowOf = -1;
            for (int n = n0; n < n1; n++) {
                for (int q = q0; q < q1; q++) {
                    int p = p0 + q, target = tokens[p + 1];
                    if (!req.isSelected(p, n, N)) {
                        continue;
                    }
                    c.coefficients(q, n, coef);
                    if (tile != null && tile.admit(q, n, coef, f, bAbsMax[n])) {
                        continue;
                    }
                    double shift = bound(coef, aMax[q], a2Max[q], bAbsMax[n], betaMax);
                    float[] b = heapB;
                    int bo = n * V;
                    if (b == null) {
                        if (rowOf != n) {
                            rowB = rowB == null ? new float[V] : rowB;
                            bm.copyRow(n, rowB);
                            rowOf = n;
                        }
                        b = rowB;
                        bo = 0;
                    }
                    if (cosine != null) {
                        logSumExp(coef, a, a2, b, q * V, bo, beta, V, target, shift, null, cleanLogits[q], out);
                        cosine[p * N + n] = out[2];
                    } else {
                        out[0] = logSumExp(expSum, coef, a, a2, q * V, b, bo, beta, V, shift);
                        out[1] = coef[0] * a[q * V + target] + beta[target] + coef[2] * b[bo + target]
                                + (a2 == null ? 0 : coef[1] * a2[q * V + target]);
                    }
                    delta[p * N + n] = (out[0] - out[1]) - cleanLoss[q];
                }
            }
            if (tile != null) {
                tile.sweep(f, bm, V);
                tile.finish(tokens, p0, a, a2, bm, V, N, delta);
            }
        });
    }

    /**
     * The pairs of one tile that take the single-precision path: {@code Δloss = log Σ_v q_v exp(d_v) - d_target}, the
     * sum over the vocabulary in chunks of {@link #VOCAB_CHUNK} so that the tile's slices of B, q and A stay in the
     * core's cache while every pair of the tile passes over them. The chunks are fixed, so each pair's sum is added in
     * the same order whatever the tiling or the number of threads.
     */
    private static final class SingleTile {
        final int q0, n0, positions, neurons;
        /** [positions x neurons], by (q - q0) * neurons + (n - n0): the coefficients' changes, whether admitted, the sums. */
        final double[] dA, dA2, dB, sums;
        final boolean[] admitted;

        SingleTile(int q0, int q1, int n0, int n1) {
            this.q0 = q0;
            this.n0 = n0;
            positions = q1 - q0;
            neurons = n1 - n0;
            int size = positions * neurons;
            dA = new double[size];
            dA2 = new double[size];
            dB = new double[size];
            sums = new double[size];
            admitted = new boolean[size];
        }

        /** Takes the pair if no logit can move by more than {@link #SINGLE_MAX_CHANGE}; else the caller sweeps it in double. */
        boolean admit(int q, int n, double[] coef, SinglePrecisionRows f, double bAbsMax) {
            int i = (q - q0) * neurons + (n - n0);
            dA[i] = coef[0] - f.cleanCoef[2 * q];
            dA2[i] = coef[1] - f.cleanCoef[2 * q + 1];
            dB[i] = coef[2];
            double change = Math.abs(dA[i]) * f.aAbsMax[q] + Math.abs(dA2[i]) * f.a2AbsMax[q] + Math.abs(dB[i]) * bAbsMax;
            admitted[i] = change <= SINGLE_MAX_CHANGE;
            return admitted[i];
        }

        void sweep(SinglePrecisionRows f, BMatrix b, int V) {
            FloatExpSum.best().sweepTile(f.q, f.a, f.a2, b, q0, positions, n0, neurons, VOCAB_CHUNK, dA, dA2, dB, admitted, sums);
        }

        /** Δloss of each admitted pair; d_target from the double rows. */
        void finish(int[] tokens, int p0, double[] a, double[] a2, BMatrix b, int V, int N, double[] delta) {
            for (int i = 0; i < positions; i++) {
                int q = q0 + i, target = tokens[p0 + q + 1];
                for (int j = 0; j < neurons; j++) {
                    int t = i * neurons + j, n = n0 + j;
                    if (admitted[t]) {
                        double dTarget = dA[t] * a[q * V + target] + dB[t] * b.get(n, target) + (a2 == null ? 0 : dA2[t] * a2[q * V + target]);
                        delta[(p0 + q) * N + n] = Math.log(sums[t]) - dTarget;
                    }
                }
            }
        }
    }

    /**
     * {@code LSE_v(α a[v] + γ a2[v] + δ b[v] + β[v])}: one pass with {@code shift} (an upper bound on every logit). The
     * bound adds the terms' separate maxima, so it can overshoot the largest logit; when the MLP LayerNorm amplifies an
     * ablation by up to 1/sqrt(eps) it can overshoot by more than 700 and every exponential underflows (the sum 0 and
     * the loss infinite, as zero-ablating the demo model's strongest neurons at hook_mid did). Then a second pass finds
     * the largest logit and sums again from it.
     */
    private static double logSumExp(ExpSum expSum, double[] coef, double[] a, double[] a2, int ao, float[] b, int bo, double[] beta, int V,
                                    double shift) {
        double sum = expSum.sum(coef[0], a, coef[1], a2, ao, coef[2], b, bo, beta, V, shift);
        if (sum >= MIN_FULL_PRECISION_SUM) {
            return shift + Math.log(sum);
        }
        return logSumExpFromMax(expSum, coef, a, a2, ao, b, bo, beta, V);
    }

    /** The two-pass log-sum-exp: the largest logit first, then the sum from it. */
    private static double logSumExpFromMax(ExpSum expSum, double[] coef, double[] a, double[] a2, int ao, float[] b, int bo, double[] beta, int V) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < V; v++) {
            double l = coef[0] * a[ao + v] + beta[v] + (a2 == null ? 0 : coef[1] * a2[ao + v]) + (b == null ? 0 : coef[2] * b[bo + v]);
            max = Math.max(max, l);
        }
        return max + Math.log(expSum.sum(coef[0], a, coef[1], a2, ao, coef[2], b, bo, beta, V, max));
    }

    /**
     * A one-pass sum at least this large kept every significant term a normal double (the largest of at most 2^31
     * terms is then above 1e-290 / 2^31, far above the smallest normal, 2.2e-308): its logarithm is accurate.
     */
    private static final double MIN_FULL_PRECISION_SUM = 1e-290;

    /** An upper bound on every logit, so one pass of exp(logit - bound) never overflows. */
    private static double bound(double[] coef, double aMax, double a2Max, double bAbsMax, double betaMax) {
        return coef[0] * aMax + coef[1] * a2Max + Math.abs(coef[2]) * bAbsMax + betaMax;
    }

    /**
     * One pass over the vocabulary with {@code l_v = α a[v] + γ a2[v] + δ b[v] + β[v]}: {@code out[0] = LSE_v(l_v)},
     * {@code out[1] = l_target}, and with {@code clean} given, {@code out[2]} = cosine similarity of l with it.
     * {@code store}, if given, receives l.
     */
    private static void logSumExp(double[] coef, double[] a, double[] a2, float[] b, int ao, int bo, double[] beta, int V,
                                  int target, double shift, double[] store, double[] clean, double[] out) {
        double alpha = coef[0], gamma = coef[1], dl = coef[2];
        double sum = 0, dot = 0, normSq = 0, cleanSq = 0;
        for (int v = 0; v < V; v++) {
            double l = alpha * a[ao + v] + beta[v];
            if (a2 != null) {
                l += gamma * a2[ao + v];
            }
            if (b != null) {
                l += dl * b[bo + v];
            }
            sum += Math.exp(l - shift);
            if (store != null) {
                store[v] = l;
            }
            if (clean != null) {
                dot += l * clean[v];
                normSq += l * l;
                cleanSq += clean[v] * clean[v];
            }
            if (v == target) {
                out[1] = l;
            }
        }
        // the bound overshot the largest logit (see logSumExp): sum again from it
        out[0] = sum >= MIN_FULL_PRECISION_SUM ? shift + Math.log(sum) : logSumExpFromMax(ExpSum.best(), coef, a, a2, ao, b, bo, beta, V);
        out[2] = clean == null ? Double.NaN : dot / Math.sqrt(normSq * cleanSq);
    }
}
