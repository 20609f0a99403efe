package org.solulens.cpu;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;

/**
 * The first-order estimate of every ablation (attribution patching): {@code Δloss ≈ -c · ∂loss(p)/∂activation[p, n]}
 * with c the change the ablation makes. The gradient flows back through the unembedding, the final LayerNorm,
 * W_out and (site mid) the MLP LayerNorm; it is exact for small c and wrong where the loss is curved.
 */
public final class AttributionSweep {
    private AttributionSweep() {}

    public static SweepResult run(SweepConstants k, ForwardResult clean, SweepRequest req) {
        int P = clean.tokens().length - 1, N = k.cfg.dMlp(), D = k.cfg.dModel(), V = k.cfg.dVocab();
        double eps = k.cfg.eps();
        Ablation ab = req.ablation();
        boolean paper = ab.kind() == Ablation.Kind.PAPER, mid = ab.site() == Ablation.Site.MID;
        double[] delta = new double[Math.max(P, 0) * N];
        Arrays.fill(delta, Double.NaN);
        double[] resid = clean.get(Hooks.RESID_POST).data();
        double[] act = clean.get(mid ? Hooks.MLP_MID : paper ? Hooks.MLP_LN_NORMALIZED : Hooks.MLP_POST).data();
        double[] rows = paper ? k.zRows().raw : k.outRows().raw;
        IntStream.range(0, P).parallel().forEach(p -> {
            // d loss / d resid_post[p], through the final LayerNorm
            double[] yBar = Arrays.copyOfRange(resid, p * D, (p + 1) * D);
            double sigma = Math.sqrt(SweepConstants.centre(yBar, 0, D) / D + eps);
            double[] xHat = new double[D];
            for (int i = 0; i < D; i++) {
                xHat[i] = yBar[i] / sigma;
            }
            double[] logits = new double[V];
            for (int i = 0; i < D; i++) {
                double x = xHat[i] * k.gFinal[i];
                int o = i * V;
                for (int v = 0; v < V; v++) {
                    logits[v] += x * k.w.wU.get(o + v);
                }
            }
            for (int v = 0; v < V; v++) {
                logits[v] += k.beta[v];
            }
            double lse = CrossEntropy.logSumExp(logits, 0, V);
            double[] h = new double[D];   // d loss / d xHat = g_f ⊙ (W_U (softmax - onehot))
            for (int i = 0; i < D; i++) {
                double s = 0;
                int o = i * V;
                for (int v = 0; v < V; v++) {
                    s += k.w.wU.get(o + v) * Math.exp(logits[v] - lse);
                }
                h[i] = k.gFinal[i] * (s - k.w.wU.get(o + clean.tokens()[p + 1]));
            }
            double[] dy = layerNormBackward(h, xHat, sigma);
            double[] gradient = new double[N];   // d loss / d (post, normalized or mid)[p, n]
            for (int n = 0; n < N; n++) {
                gradient[n] = SweepConstants.dot(dy, 0, rows, n * D, D);
            }
            if (mid) {
                double s = clean.get(Hooks.MLP_LN_SCALE).data()[p];
                double[] mHat = Arrays.copyOfRange(clean.get(Hooks.MLP_LN_NORMALIZED).data(), p * N, (p + 1) * N);
                double[] h2 = new double[N];
                for (int n = 0; n < N; n++) {
                    h2[n] = k.mlpGain(n) * gradient[n];
                }
                gradient = layerNormBackward(h2, mHat, s);
            }
            for (int n = 0; n < N; n++) {
                if (req.isSelected(p, n, N)) {
                    double c = paper ? act[p * N + n] : act[p * N + n] - ab.replacement(n);
                    delta[p * N + n] = -c * gradient[n];
                }
            }
        });
        return new SweepResult(P, N, delta, null);
    }

    /** Backward of {@code xHat = (x - mean x) / scale}: {@code dx = (h - mean(h) - xHat · (h·xHat) / n) / scale}. */
    private static double[] layerNormBackward(double[] h, double[] xHat, double scale) {
        int n = h.length;
        double mean = 0, proj = 0;
        for (int i = 0; i < n; i++) {
            mean += h[i] / n;
            proj += h[i] * xHat[i] / n;
        }
        double[] dx = new double[n];
        for (int i = 0; i < n; i++) {
            dx[i] = (h[i] - mean - xHat[i] * proj) / scale;
        }
        return dx;
    }
}
