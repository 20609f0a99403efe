package org.solulens.testing;

import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluWeights;
import org.solulens.model.Tensor;

/**
 * A second, independent forward pass for tests: two-dimensional arrays, one formula per line, nothing
 * shared with the production code (no MatMul, no LayerNorm class). Returns the logits [P][V].
 */
public final class NaiveForward {
    private NaiveForward() {}

    public static double[][] logits(ModelConfig c, SoluWeights w, int[] tokens) {
        return logits(c, w, tokens, null, null);
    }

    /**
     * An intervention at one position, as a TransformerLens user writes it with hooks: {@code neurons} of
     * {@code hook_mid} ({@code mid}) or {@code hook_post} set to {@code values}, and the MLP LayerNorm's and
     * ln_final's {@code hook_scale} at that position replaced by the given values (NaN: computed as usual).
     */
    public record Patch(int position, boolean mid, int[] neurons, double[] values, double mlpLnScale, double finalScale) {}

    /** The LayerNorm scales of a clean pass: {mlp.ln hook_scale [P], ln_final hook_scale [P]}. */
    public static double[][] scales(ModelConfig c, SoluWeights w, int[] tokens) {
        double[][] scales = new double[2][tokens.length];
        logits(c, w, tokens, null, scales);
        return scales;
    }

    /**
     * The MLP LayerNorm's {@code hook_scale} at {@code position} of a pass whose {@code blocks.0.hook_resid_mid} there is
     * replaced by {@code residMid}, as a TransformerLens user would replace it with a hook.
     */
    public static double mlpLnScaleWithResidMid(ModelConfig c, SoluWeights w, int[] tokens, int position, double[] residMid) {
        double[][] scales = new double[2][tokens.length];
        forward(c, w, tokens, null, scales, position, residMid);
        return scales[0][position];
    }

    /** The logits with {@code patch} applied (null: none); {@code scalesOut}, if given, receives the two scales. */
    public static double[][] logits(ModelConfig c, SoluWeights w, int[] tokens, Patch patch, double[][] scalesOut) {
        return forward(c, w, tokens, patch, scalesOut, -1, null);
    }

    private static double[][] forward(ModelConfig c, SoluWeights w, int[] tokens, Patch patch, double[][] scalesOut, int residAt,
                                      double[] residMid) {
        int P = tokens.length, D = c.dModel(), N = c.dMlp(), H = c.nHeads(), E = c.dHead(), V = c.dVocab();
        double[][] x = new double[P][D];
        for (int p = 0; p < P; p++) {
            for (int d = 0; d < D; d++) {
                x[p][d] = (double) w.wE.get(tokens[p] * D + d) + w.wPos.get(p * D + d);
            }
        }
        double[][] a = norm(x, w.ln1W, w.ln1B, c.eps());
        double[][] attnOut = new double[P][D];
        for (int h = 0; h < H; h++) {
            double[][] q = new double[P][E], k = new double[P][E], v = new double[P][E];
            for (int p = 0; p < P; p++) {
                for (int e = 0; e < E; e++) {
                    q[p][e] = w.bQ.get(h * E + e);
                    k[p][e] = w.bK.get(h * E + e);
                    v[p][e] = w.bV.get(h * E + e);
                    for (int d = 0; d < D; d++) {
                        int i = (h * D + d) * E + e;
                        q[p][e] += a[p][d] * w.wQ.get(i);
                        k[p][e] += a[p][d] * w.wK.get(i);
                        v[p][e] += a[p][d] * w.wV.get(i);
                    }
                }
            }
            for (int p = 0; p < P; p++) {
                double[] weight = new double[p + 1];
                double total = 0;
                for (int j = 0; j <= p; j++) {
                    double s = 0;
                    for (int e = 0; e < E; e++) {
                        s += q[p][e] * k[j][e];
                    }
                    weight[j] = Math.exp(s / c.attnScale());
                    total += weight[j];
                }
                for (int e = 0; e < E; e++) {
                    double z = 0;
                    for (int j = 0; j <= p; j++) {
                        z += weight[j] / total * v[j][e];
                    }
                    for (int d = 0; d < D; d++) {
                        attnOut[p][d] += z * w.wO.get((h * E + e) * D + d);
                    }
                }
            }
        }
        for (int p = 0; p < P; p++) {
            for (int d = 0; d < D; d++) {
                x[p][d] += attnOut[p][d] + w.bO.get(d);
            }
        }
        if (residMid != null) {
            x[residAt] = residMid.clone();
        }
        double[][] b = norm(x, w.ln2W, w.ln2B, c.eps());
        double[][] act = new double[P][N];
        for (int p = 0; p < P; p++) {
            double[] pre = new double[N];
            for (int n = 0; n < N; n++) {
                pre[n] = w.bIn.get(n);
                for (int d = 0; d < D; d++) {
                    pre[n] += b[p][d] * w.wIn.get(d * N + n);
                }
            }
            act[p] = activate(c.actFn(), pre);
        }
        int at = patch == null ? -1 : patch.position();
        if (patch != null && patch.mid()) {
            for (int i = 0; i < patch.neurons().length; i++) {
                act[at][patch.neurons()[i]] = patch.values()[i];
            }
        }
        if (c.actFn() == ActivationFunction.SOLU_LN) {
            act = norm(act, w.mlpLnW, w.mlpLnB, c.eps(), at, patch == null ? Double.NaN : patch.mlpLnScale(),
                    scalesOut == null ? null : scalesOut[0]);
        }
        if (patch != null && !patch.mid()) {
            for (int i = 0; i < patch.neurons().length; i++) {
                act[at][patch.neurons()[i]] = patch.values()[i];
            }
        }
        for (int p = 0; p < P; p++) {
            for (int d = 0; d < D; d++) {
                double out = w.bOut.get(d);
                for (int n = 0; n < N; n++) {
                    out += act[p][n] * w.wOut.get(n * D + d);
                }
                x[p][d] += out;
            }
        }
        double[][] f = norm(x, w.lnFinalW, w.lnFinalB, c.eps(), at, patch == null ? Double.NaN : patch.finalScale(),
                scalesOut == null ? null : scalesOut[1]);
        double[][] logits = new double[P][V];
        for (int p = 0; p < P; p++) {
            for (int t = 0; t < V; t++) {
                logits[p][t] = w.bU.get(t);
                for (int d = 0; d < D; d++) {
                    logits[p][t] += f[p][d] * w.wU.get(d * V + t);
                }
            }
        }
        return logits;
    }

    private static double[] activate(ActivationFunction f, double[] pre) {
        double[] out = new double[pre.length];
        if (f == ActivationFunction.SOLU || f == ActivationFunction.SOLU_LN) {
            double z = 0;
            for (double u : pre) {
                z += Math.exp(u);
            }
            for (int i = 0; i < pre.length; i++) {
                out[i] = pre[i] * Math.exp(pre[i]) / z;
            }
            return out;
        }
        for (int i = 0; i < pre.length; i++) {
            double u = pre[i];
            out[i] = switch (f) {
                case RELU -> u > 0 ? u : 0;
                case GELU_NEW -> 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u * u * u)));
                case GELU -> u * normalCdf(u);
                default -> throw new IllegalStateException();
            };
        }
        return out;
    }

    /** Phi(u) by Simpson's rule on the density from 0 to u: slow, simple, accurate to ~1e-13. */
    static double normalCdf(double u) {
        int steps = 20000;
        double h = u / steps, sum = 0;
        for (int i = 0; i <= steps; i++) {
            double t = i * h;
            double weight = i == 0 || i == steps ? 1 : (i % 2 == 1 ? 4 : 2);
            sum += weight * Math.exp(-t * t / 2);
        }
        return 0.5 + sum * h / 3 / Math.sqrt(2 * Math.PI);
    }

    private static double[][] norm(double[][] x, Tensor gain, Tensor bias, double eps) {
        return norm(x, gain, bias, eps, -1, Double.NaN, null);
    }

    /** LayerNorm; row {@code fixedRow}'s scale is {@code fixedScale} unless that is NaN; scales go to scaleOut. */
    private static double[][] norm(double[][] x, Tensor gain, Tensor bias, double eps, int fixedRow, double fixedScale, double[] scaleOut) {
        double[][] y = new double[x.length][];
        for (int p = 0; p < x.length; p++) {
            int n = x[p].length;
            double mean = 0, var = 0;
            for (double u : x[p]) {
                mean += u / n;
            }
            for (double u : x[p]) {
                var += (u - mean) * (u - mean) / n;
            }
            y[p] = new double[n];
            double scale = p == fixedRow && !Double.isNaN(fixedScale) ? fixedScale : Math.sqrt(var + eps);
            if (scaleOut != null) {
                scaleOut[p] = scale;
            }
            for (int i = 0; i < n; i++) {
                double z = (x[p][i] - mean) / scale;
                y[p][i] = gain == null ? z : z * gain.get(i) + bias.get(i);
            }
        }
        return y;
    }
}
