package org.solulens.cpu;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;

/**
 * The exact all-(position, neuron) ablation sweep by the algebra of DESIGN.md, in double: an ablation only
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

    private ExactSweep() {}

    public static SweepResult run(SweepConstants k, ForwardResult clean, SweepRequest req) {
        int P = clean.tokens().length - 1, N = k.cfg.dMlp(), V = k.cfg.dVocab();
        double[] delta = new double[Math.max(P, 0) * N];
        double[] cosine = req.withCosine() ? new double[delta.length] : null;
        Arrays.fill(delta, Double.NaN);
        if (cosine != null) {
            Arrays.fill(cosine, Double.NaN);
        }
        boolean mid = req.ablation().site() == Ablation.Site.MID;
        int rowsPerPosition = mid ? 2 : 1;
        int chunk = (int) Math.max(1, CHUNK_BYTES / (8L * V * rowsPerPosition));
        for (int p0 = 0; p0 < P; p0 += chunk) {
            int p1 = Math.min(P, p0 + chunk);
            Chunk c = mid ? midChunk(k, clean, req, p0, p1) : postChunk(k, clean, req, p0, p1);
            sweepChunk(k, clean.tokens(), c, req, p0, p1, delta, cosine);
        }
        return new SweepResult(P, N, delta, cosine);
    }

    /** What one chunk of positions contributes: rows A (and A2) and the scalars per (p, n). */
    private interface Chunk {
        double[] a();

        double[] a2();

        SweepConstants.Directions dirs();

        /** Fills {alpha, gamma, delta} for ablating neuron n at position p (relative index q = p - p0); n < 0: clean. */
        void coefficients(int q, int n, double[] out);
    }

    private static Chunk postChunk(SweepConstants k, ForwardResult clean, SweepRequest req, int p0, int p1) {
        int D = k.cfg.dModel(), N = k.cfg.dMlp(), rows = p1 - p0;
        boolean paper = req.ablation().kind() == Ablation.Kind.PAPER;
        SweepConstants.Directions dirs = paper ? k.zRows() : k.outRows();
        double[] resid = clean.get(Hooks.RESID_POST).data();
        double[] act = clean.get(paper ? Hooks.MLP_LN_NORMALIZED : Hooks.MLP_POST).data();
        double[] yBar = Arrays.copyOfRange(resid, p0 * D, p1 * D);
        double[] yy = new double[rows];
        for (int q = 0; q < rows; q++) {
            yy[q] = SweepConstants.centre(yBar, q * D, D);
        }
        double[] y = k.unembed(yBar, 0, rows);
        double[] g = crossDots(yBar, rows, dirs.centred, N, D);
        double eps = k.cfg.eps();
        return new Chunk() {
            public double[] a() {
                return y;
            }

            public double[] a2() {
                return null;
            }

            public SweepConstants.Directions dirs() {
                return dirs;
            }

            public void coefficients(int q, int n, double[] out) {
                double c = n < 0 ? 0 : paper ? act[(p0 + q) * N + n] : act[(p0 + q) * N + n] - req.ablation().replacement(n);
                double var = n < 0 ? yy[q] / D + eps : (yy[q] - 2 * c * g[q * N + n] + c * c * dirs.norm2[n]) / D + eps;
                double inv = 1 / Math.sqrt(var);
                out[0] = inv;
                out[1] = 0;
                out[2] = -c * inv;
            }
        };
    }

    private static Chunk midChunk(SweepConstants k, ForwardResult clean, SweepRequest req, int p0, int p1) {
        int D = k.cfg.dModel(), N = k.cfg.dMlp(), rows = p1 - p0;
        SweepConstants.Directions dirs = k.zRows();
        double[] midAct = clean.get(Hooks.MLP_MID).data();
        double[] residMid = clean.get(Hooks.RESID_MID).data();
        // R = resid_mid + b W_out + b_out (what resid_post is when the MLP LayerNorm outputs only its bias)
        double[] bias = new double[N];
        for (int j = 0; j < N; j++) {
            bias[j] = k.mlpBias(j);
        }
        double[] bWout = MatMul.multiply(bias, 1, N, k.w.wOut, 0, D, k.w.bOut, 0);
        double[] r = new double[rows * D], mBar = new double[rows * N], mm = new double[rows];
        double[] gm = new double[rows * N];
        for (int q = 0; q < rows; q++) {
            for (int i = 0; i < D; i++) {
                r[q * D + i] = residMid[(p0 + q) * D + i] + bWout[i];
            }
            System.arraycopy(midAct, (p0 + q) * N, mBar, q * N, N);
            mm[q] = SweepConstants.centre(mBar, q * N, N);
            for (int j = 0; j < N; j++) {
                gm[q * N + j] = k.mlpGain(j) * mBar[q * N + j];
            }
        }
        double[] m = MatMul.multiply(gm, rows, N, k.w.wOut, 0, D, null, 0);   // M = (g ⊙ m̄) W_out
        double[] rr = new double[rows], mmD = new double[rows], rm = new double[rows];
        for (int q = 0; q < rows; q++) {
            rr[q] = SweepConstants.centre(r, q * D, D);
            mmD[q] = SweepConstants.centre(m, q * D, D);
            rm[q] = SweepConstants.dot(r, q * D, m, q * D, D);
        }
        double[] aR = k.unembed(r, 0, rows), aM = k.unembed(m, 0, rows);
        double[] rz = crossDots(r, rows, dirs.centred, N, D), mz = crossDots(m, rows, dirs.centred, N, D);
        double eps = k.cfg.eps();
        return new Chunk() {
            public double[] a() {
                return aR;
            }

            public double[] a2() {
                return aM;
            }

            public SweepConstants.Directions dirs() {
                return dirs;
            }

            public void coefficients(int q, int n, double[] out) {
                double d = n < 0 ? 0 : midAct[(p0 + q) * N + n] - req.ablation().replacement(n);
                double mn = n < 0 ? 0 : mBar[q * N + n];
                double s2 = (mm[q] - 2 * d * mn + d * d * (1 - 1.0 / N)) / N + eps;
                double a = 1 / Math.sqrt(s2);
                double zz = n < 0 ? 0 : dirs.norm2[n], xr = n < 0 ? 0 : rz[q * N + n], xm = n < 0 ? 0 : mz[q * N + n];
                double x2 = rr[q] + a * a * mmD[q] + a * a * d * d * zz + 2 * a * rm[q] - 2 * a * d * xr - 2 * a * a * d * xm;
                double inv = 1 / Math.sqrt(x2 / D + eps);
                out[0] = inv;
                out[1] = a * inv;
                out[2] = -a * d * inv;
            }
        };
    }

    /** {@code out[q, n] = x[q] · dirs[n]} for rows of width d. */
    private static double[] crossDots(double[] x, int rows, double[] dirs, int n, int d) {
        double[] out = new double[rows * n];
        IntStream.range(0, rows).parallel().forEach(q -> {
            for (int j = 0; j < n; j++) {
                out[q * n + j] = SweepConstants.dot(x, q * d, dirs, j * d, d);
            }
        });
        return out;
    }

    private static void sweepChunk(SweepConstants k, int[] tokens, Chunk c, SweepRequest req, int p0, int p1,
                                   double[] delta, double[] cosine) {
        int N = k.cfg.dMlp(), V = k.cfg.dVocab(), rows = p1 - p0;
        double[] a = c.a(), a2 = c.a2(), beta = k.beta;
        double betaMax = SweepConstants.max(beta, 0, V);
        ExpSum expSum = ExpSum.best();
        // Per position: the clean loss from the same rows (so that rounding in A cancels), the row maxima, and the
        // clean logits when cosines are wanted.
        double[] cleanLoss = new double[rows], aMax = new double[rows], a2Max = new double[rows];
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
                out[0] = shift + Math.log(expSum.sum(coef[0], a, coef[1], a2, q * V, 0, null, 0, beta, V, shift));
                out[1] = coef[0] * a[q * V + target] + beta[target] + (a2 == null ? 0 : coef[1] * a2[q * V + target]);
            }
            cleanLoss[q] = out[0] - out[1];
        });
        // Tiles of (a few positions) x (a block of neurons): each row of B is read once per tile and reused for
        // every position of it while it is still in cache.
        int qBlocks = (rows + POSITION_BLOCK - 1) / POSITION_BLOCK, nBlocks = (N + NEURON_BLOCK - 1) / NEURON_BLOCK;
        float[] b = c.dirs().b;
        IntStream.range(0, qBlocks * nBlocks).parallel().forEach(task -> {
            int q0 = (task / nBlocks) * POSITION_BLOCK, q1 = Math.min(rows, q0 + POSITION_BLOCK);
            int n0 = (task % nBlocks) * NEURON_BLOCK, n1 = Math.min(N, n0 + NEURON_BLOCK);
            double[] coef = new double[3], out = new double[3];
            for (int n = n0; n < n1; n++) {
                for (int q = q0; q < q1; q++) {
                    int p = p0 + q, target = tokens[p + 1];
                    if (!req.isSelected(p, n, N)) {
                        continue;
                    }
                    c.coefficients(q, n, coef);
                    double shift = bound(coef, aMax[q], a2Max[q], c.dirs().bAbsMax[n], betaMax);
                    if (cosine != null) {
                        logSumExp(coef, a, a2, b, q * V, n * V, beta, V, target, shift, null, cleanLogits[q], out);
                        cosine[p * N + n] = out[2];
                    } else {
                        out[0] = shift + Math.log(expSum.sum(coef[0], a, coef[1], a2, q * V, coef[2], b, n * V, beta, V, shift));
                        out[1] = coef[0] * a[q * V + target] + beta[target] + coef[2] * b[n * V + target]
                                + (a2 == null ? 0 : coef[1] * a2[q * V + target]);
                    }
                    delta[p * N + n] = (out[0] - out[1]) - cleanLoss[q];
                }
            }
        });
    }

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
        out[0] = shift + Math.log(sum);
        out[2] = clean == null ? Double.NaN : dot / Math.sqrt(normSq * cleanSq);
    }
}
