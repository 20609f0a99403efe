package org.solulens.cpu;

import java.util.Arrays;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.FrozenScales;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepRequest;

/**
 * The algebra of one chunk of positions of an exact sweep (docs/design.md), everything except the unembedding:
 * position p's ablated logits are {@code α·A[p] (+ γ·A2[p]) + δ·B[n] + β} where {@code A = rowsA · Ŵ},
 * {@code A2 = rowsA2 · Ŵ} and {@code B = dirs.centred · Ŵ} (Ŵ = ln_final.w ⊙ W_U), and the scalars come from Gram
 * terms computed here in double. The CPU sweep unembeds the rows in double; the GPU sweep on the device.
 * <ul>
 * <li>site post: rowsA = ȳ (centred resid_post), B from W_out rows (Z rows for the paper ablation);</li>
 * <li>site mid: rowsA = R̄, rowsA2 = M̄, B from Z rows (the MLP LayerNorm re-normalises every neuron).</li>
 * </ul>
 */
public final class SweepChunk {
    public final int p0, p1;
    /** [p1 - p0, d_model] centred rows whose unembedding is A. */
    public final double[] rowsA;
    /** [p1 - p0, d_model] rows of A2, or null (site post). */
    public final double[] rowsA2;
    public final SweepConstants.Directions dirs;
    private final Coefficients coefficients;

    /**
     * The chunk's two kinds of matrix product, P·N·D multiply-adds each: in double on the CPU ({@link #cpuProducts}), or
     * on a device, where they would otherwise cost more than the sweep kernel.
     */
    public interface Products {
        /** {@code out[q, n] = x[q] · dirs.centred[n]} for {@code rows} rows of width d_model. */
        double[] crossDots(double[] x, int rows, SweepConstants.Directions dirs);

        /** {@code x · W_out}: {@code rows} rows of width d_mlp times W_out [d_mlp, d_model]. */
        double[] timesWout(double[] x, int rows);
    }

    /** The products in double on the CPU. */
    public static Products cpuProducts(SweepConstants k) {
        int D = k.cfg.dModel(), N = k.cfg.dMlp();
        return new Products() {
            @Override
            public double[] crossDots(double[] x, int rows, SweepConstants.Directions dirs) {
                return MatMul.multiplyTransposed(x, rows, dirs.centred, N, D);
            }

            @Override
            public double[] timesWout(double[] x, int rows) {
                return MatMul.multiply(x, rows, N, k.w.wOut, 0, D, null, 0);
            }
        };
    }

    /** Fills {α, γ, δ} for ablating neuron n at position p0 + q; n < 0 gives the clean position's. */
    @FunctionalInterface
    interface Coefficients {
        void of(int q, int n, double[] out);
    }

    private SweepChunk(int p0, int p1, double[] rowsA, double[] rowsA2, SweepConstants.Directions dirs, Coefficients coefficients) {
        this.p0 = p0;
        this.p1 = p1;
        this.rowsA = rowsA;
        this.rowsA2 = rowsA2;
        this.dirs = dirs;
        this.coefficients = coefficients;
    }

    /** {α, γ, δ} for ablating neuron n at position p0 + q; n &lt; 0: the clean position (δ = 0). */
    public void coefficients(int q, int n, double[] out) {
        coefficients.of(q, n, out);
    }

    public static SweepChunk of(SweepConstants k, ForwardResult clean, SweepRequest req, int p0, int p1) {
        return of(k, clean, req, p0, p1, cpuProducts(k));
    }

    public static SweepChunk of(SweepConstants k, ForwardResult clean, SweepRequest req, int p0, int p1, Products products) {
        return req.ablation().site() == Ablation.Site.MID ? mid(k, clean, req, p0, p1, products) : post(k, clean, req, p0, p1, products);
    }

    /** The directions whose B a sweep of this ablation reads: Z rows at site mid and for the paper ablation, else W_out rows. */
    static SweepConstants.Directions directions(SweepConstants k, Ablation ablation) {
        return ablation.site() == Ablation.Site.MID || ablation.kind() == Ablation.Kind.PAPER ? k.zRows() : k.outRows();
    }

    private static SweepChunk post(SweepConstants k, ForwardResult clean, SweepRequest req, int p0, int p1, Products products) {
        int D = k.cfg.dModel(), N = k.cfg.dMlp(), rows = p1 - p0;
        boolean paper = req.ablation().kind() == Ablation.Kind.PAPER;
        SweepConstants.Directions dirs = directions(k, req.ablation());
        double[] resid = clean.get(Hooks.RESID_POST).data();
        double[] act = clean.get(paper ? Hooks.MLP_LN_NORMALIZED : Hooks.MLP_POST).data();
        double[] yBar = Arrays.copyOfRange(resid, p0 * D, p1 * D);
        double[] yy = new double[rows];
        for (int q = 0; q < rows; q++) {
            yy[q] = SweepConstants.centre(yBar, q * D, D);
        }
        double[] g = products.crossDots(yBar, rows, dirs);
        double eps = k.cfg.eps();
        boolean frozenFinal = req.frozen().lnFinal();
        return new SweepChunk(p0, p1, yBar, null, dirs, (q, n, out) -> {
            double c = n < 0 ? 0 : paper ? act[(p0 + q) * N + n] : act[(p0 + q) * N + n] - req.ablation().replacement(n);
            // a frozen ln_final keeps the clean scale: only the centred residual moves
            double var = n < 0 || frozenFinal ? yy[q] / D + eps : (yy[q] - 2 * c * g[q * N + n] + c * c * dirs.norm2[n]) / D + eps;
            double inv = 1 / Math.sqrt(var);
            out[0] = inv;
            out[1] = 0;
            out[2] = -c * inv;
        });
    }

    private static SweepChunk mid(SweepConstants k, ForwardResult clean, SweepRequest req, int p0, int p1, Products products) {
        int D = k.cfg.dModel(), N = k.cfg.dMlp(), rows = p1 - p0;
        SweepConstants.Directions dirs = directions(k, req.ablation());
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
        double[] m = products.timesWout(gm, rows);   // M = (g ⊙ m̄) W_out
        double[] rr = new double[rows], mmD = new double[rows], rm = new double[rows];
        for (int q = 0; q < rows; q++) {
            rr[q] = SweepConstants.centre(r, q * D, D);
            mmD[q] = SweepConstants.centre(m, q * D, D);
            rm[q] = SweepConstants.dot(r, q * D, m, q * D, D);
        }
        double[] rz = products.crossDots(r, rows, dirs), mz = products.crossDots(m, rows, dirs);
        double eps = k.cfg.eps();
        FrozenScales frozen = req.frozen();
        return new SweepChunk(p0, p1, r, m, dirs, (q, n, out) -> {
            double d = n < 0 ? 0 : midAct[(p0 + q) * N + n] - req.ablation().replacement(n);
            double mn = n < 0 ? 0 : mBar[q * N + n];
            // a = 1 / the MLP LayerNorm's scale: re-computed from the ablated m̄, or frozen at the clean one
            double s2 = frozen.mlpLn() ? mm[q] / N + eps : (mm[q] - 2 * d * mn + d * d * (1 - 1.0 / N)) / N + eps;
            double a = 1 / Math.sqrt(s2);
            // inv = 1 / ln_final's scale: from the Gram terms of the ablated residual, or the clean one (a0, d = 0)
            double aFinal = frozen.lnFinal() ? 1 / Math.sqrt(mm[q] / N + eps) : a, dFinal = frozen.lnFinal() ? 0 : d;
            double zz = n < 0 ? 0 : dirs.norm2[n], xr = n < 0 ? 0 : rz[q * N + n], xm = n < 0 ? 0 : mz[q * N + n];
            double x2 = rr[q] + aFinal * aFinal * mmD[q] + aFinal * aFinal * dFinal * dFinal * zz + 2 * aFinal * rm[q]
                    - 2 * aFinal * dFinal * xr - 2 * aFinal * aFinal * dFinal * xm;
            double inv = 1 / Math.sqrt(x2 / D + eps);
            out[0] = inv;
            out[1] = a * inv;
            out[2] = -a * d * inv;
        });
    }
}
