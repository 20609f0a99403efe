package org.solulens.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;

/**
 * How the MLP LayerNorm's factor moves along a prompt: the quantities between the residual stream and the factor,
 * per position, read from one clean pass. Beside {@link LnFactorAttribution}'s "which input", these say through what:
 * how large {@code hook_pre} is, how peaked SoLU's softmax over neurons is (its entropy and its top share), how many
 * neurons hold 90% of the activation's mass, and what attention does (its entropy, its weight on BOS and, for
 * repeated tokens, on earlier copies of the same token), each averaged over heads.
 */
public final class LnFactorMediators {
    /** One position's mediators. */
    public record Row(int position, double preNorm, double softmaxEntropy, double softmaxTop1, int neuronsFor90Percent,
                      double attentionEntropy, double attentionOnBos, double attentionOnSameToken) {}

    /** A least-squares line {@code y = intercept + slope * log(position)} and its R². */
    public record Fit(double slope, double intercept, double r2, int points) {}

    private LnFactorMediators() {}

    /** The hooks {@link #of} reads, for a model of this configuration. */
    public static List<String> hooks(ModelConfig cfg) {
        return List.of(Hooks.MLP_PRE, cfg.actFn().hasMlpLayerNorm() ? Hooks.MLP_MID : Hooks.MLP_POST, Hooks.PATTERN);
    }

    /** Every position's mediators from {@code clean}, which must hold {@link #hooks}. */
    public static List<Row> of(SoluModel model, ForwardResult clean) {
        ModelConfig cfg = model.config();
        int[] tokens = clean.tokens();
        int P = tokens.length, N = cfg.dMlp(), H = cfg.nHeads();
        double[] pre = clean.get(Hooks.MLP_PRE).data();
        double[] act = clean.get(cfg.actFn().hasMlpLayerNorm() ? Hooks.MLP_MID : Hooks.MLP_POST).data();
        double[] pattern = clean.get(Hooks.PATTERN).data();   // [H, P, P]
        List<Row> out = new ArrayList<>(P);
        for (int p = 0; p < P; p++) {
            final int at = p;
            double norm = 0, max = Double.NEGATIVE_INFINITY;
            for (int n = 0; n < N; n++) {
                double x = pre[p * N + n];
                norm += x * x;
                max = Math.max(max, x);
            }
            double z = 0;
            for (int n = 0; n < N; n++) {
                z += Math.exp(pre[p * N + n] - max);
            }
            double entropy = 0, top = 0;
            for (int n = 0; n < N; n++) {
                double q = Math.exp(pre[p * N + n] - max) / z;
                entropy -= q > 0 ? q * Math.log(q) : 0;
                top = Math.max(top, q);
            }
            out.add(new Row(p, Math.sqrt(norm), entropy, top, neuronsFor(act, p * N, N, 0.9), attentionEntropy(pattern, H, P, p),
                    attentionOn(pattern, H, P, p, j -> j == 0), attentionOn(pattern, H, P, p, j -> j < at && tokens[j] == tokens[at])));
        }
        return out;
    }

    /** The fewest neurons whose |activation| adds up to {@code share} of the row's total. */
    static int neuronsFor(double[] act, int offset, int n, double share) {
        double[] mass = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) {
            mass[i] = Math.abs(act[offset + i]);
            total += mass[i];
        }
        Arrays.sort(mass);
        double kept = 0;
        for (int i = n - 1; i >= 0; i--) {
            kept += mass[i];
            if (kept >= share * total) {
                return n - i;
            }
        }
        return n;
    }

    private static double attentionEntropy(double[] pattern, int heads, int P, int p) {
        double sum = 0;
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j <= p; j++) {
                double a = pattern[(h * P + p) * P + j];
                sum -= a > 0 ? a * Math.log(a) : 0;
            }
        }
        return sum / heads;
    }

    private static double attentionOn(double[] pattern, int heads, int P, int p, java.util.function.IntPredicate keys) {
        double sum = 0;
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j <= p; j++) {
                if (keys.test(j)) {
                    sum += pattern[(h * P + p) * P + j];
                }
            }
        }
        return sum / heads;
    }

    /** The line through {@code (log p, y[p])} for positions {@code p >= from} (from at least 1), by least squares. */
    public static Fit fitAgainstLogPosition(double[] y, int from) {
        int start = Math.max(1, from), n = y.length - start;
        if (n < 2) {
            throw new IllegalArgumentException("a fit needs two positions from " + start + "; the prompt has " + y.length);
        }
        double sx = 0, sy = 0;
        for (int p = start; p < y.length; p++) {
            sx += Math.log(p);
            sy += y[p];
        }
        double mx = sx / n, my = sy / n, sxx = 0, sxy = 0, syy = 0;
        for (int p = start; p < y.length; p++) {
            double dx = Math.log(p) - mx, dy = y[p] - my;
            sxx += dx * dx;
            sxy += dx * dy;
            syy += dy * dy;
        }
        double slope = sxy / sxx;
        double r2 = syy == 0 ? 1 : sxy * sxy / (sxx * syy);
        return new Fit(slope, my - slope * mx, r2, n);
    }
}
