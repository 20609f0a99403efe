package org.solulens.cpu;

import java.util.Arrays;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;

/**
 * The slow truth: for every selected (p, n), actually recompute position p from the ablated activation on —
 * the MLP LayerNorm (site mid), the MLP output, resid_post, the final LayerNorm, the logits over the whole
 * vocabulary and the loss — in double. The ablations of one position are batched into one matrix product
 * with the unembedding (the "batched re-forward" baseline). A frozen LayerNorm divides by its clean scale, as a
 * TransformerLens hook on its {@code hook_scale} would make it.
 */
public final class ReforwardSweep {
    /** Ablations of one position recomputed together (bounds the [batch, d_vocab] logits block). */
    private static final int BATCH = 64;

    private ReforwardSweep() {}

    public static SweepResult run(SweepConstants k, ForwardResult clean, SweepRequest req) {
        int P = clean.tokens().length - 1, N = k.cfg.dMlp(), D = k.cfg.dModel(), V = k.cfg.dVocab();
        double[] delta = new double[Math.max(P, 0) * N];
        double[] cosine = req.withCosine() ? new double[delta.length] : null;
        Arrays.fill(delta, Double.NaN);
        if (cosine != null) {
            Arrays.fill(cosine, Double.NaN);
        }
        Ablation ab = req.ablation();
        boolean paper = ab.kind() == Ablation.Kind.PAPER, mid = ab.site() == Ablation.Site.MID;
        double[] residMid = clean.get(Hooks.RESID_MID).data();
        double[] source = clean.get(mid ? Hooks.MLP_MID : paper ? Hooks.MLP_LN_NORMALIZED : Hooks.MLP_POST).data();
        // In TransformerLens's processed model the MLP writes normalized · Z + (b_out + Σ_j b_j W_out[j]).
        double[] paperRows = paper ? k.zRows().raw : null;
        double[] paperBias = paper ? paperBias(k) : null;
        for (int p = 0; p < P; p++) {
            int[] neurons = selected(req, p, N);
            double[] cleanLogits = cosine == null ? null : logits(k, finalLayerNorm(k, Arrays.copyOfRange(clean.get(Hooks.RESID_POST).data(), p * D, (p + 1) * D), 1), 1);
            for (int b0 = 0; b0 < neurons.length; b0 += BATCH) {
                int rows = Math.min(BATCH, neurons.length - b0);
                double[] act = new double[rows * N];
                for (int r = 0; r < rows; r++) {
                    int n = neurons[b0 + r];
                    System.arraycopy(source, p * N, act, r * N, N);
                    act[r * N + n] = paper ? 0 : ab.replacement(n);
                }
                double[] mlpOut;
                if (paper) {
                    mlpOut = MatMul.multiply(act, rows, N, paperRows, D);
                    addRowVector(mlpOut, rows, paperBias);
                } else {
                    double[] post = !mid ? act : req.frozen().mlpLn()
                            ? layerNormWithScale(act, rows, N, k.w.mlpLnW, k.w.mlpLnB, clean.get(Hooks.MLP_LN_SCALE).data()[p])
                            : mlpLayerNorm(k, act, rows);
                    mlpOut = MatMul.multiply(post, rows, N, k.w.wOut, 0, D, k.w.bOut, 0);
                }
                for (int r = 0; r < rows; r++) {
                    for (int i = 0; i < D; i++) {
                        mlpOut[r * D + i] += residMid[p * D + i];          // now resid_post'
                    }
                }
                double[] normalized = req.frozen().lnFinal()
                        ? layerNormWithScale(mlpOut, rows, D, k.w.lnFinalW, k.w.lnFinalB, clean.get(Hooks.LN_FINAL_SCALE).data()[p])
                        : finalLayerNorm(k, mlpOut, rows);
                double[] logits = logits(k, normalized, rows);
                int target = clean.tokens()[p + 1];
                for (int r = 0; r < rows; r++) {
                    int n = neurons[b0 + r];
                    double loss = CrossEntropy.logSumExp(logits, r * V, V) - logits[r * V + target];
                    delta[p * N + n] = loss - clean.loss()[p];
                    if (cosine != null) {
                        cosine[p * N + n] = cosineSimilarity(logits, r * V, cleanLogits, V);
                    }
                }
            }
        }
        return new SweepResult(P, N, delta, cosine);
    }

    private static int[] selected(SweepRequest req, int p, int n) {
        return java.util.stream.IntStream.range(0, n).filter(j -> req.isSelected(p, j, n)).toArray();
    }

    private static double[] paperBias(SweepConstants k) {
        int N = k.cfg.dMlp(), D = k.cfg.dModel();
        double[] bias = new double[D];
        for (int i = 0; i < D; i++) {
            bias[i] = k.w.bOut.get(i);
        }
        for (int j = 0; j < N; j++) {
            for (int i = 0; i < D; i++) {
                bias[i] += k.mlpBias(j) * k.w.wOut.get(j * D + i);
            }
        }
        return bias;
    }

    private static double[] mlpLayerNorm(SweepConstants k, double[] mid, int rows) {
        int N = k.cfg.dMlp();
        double[] normalized = new double[mid.length], scale = new double[rows], out = new double[mid.length];
        LayerNorm.forward(mid, rows, N, k.w.mlpLnW, k.w.mlpLnB, k.cfg.eps(), normalized, scale, out);
        return out;
    }

    private static double[] finalLayerNorm(SweepConstants k, double[] resid, int rows) {
        int D = k.cfg.dModel();
        double[] normalized = new double[resid.length], scale = new double[rows], out = new double[resid.length];
        LayerNorm.forward(resid, rows, D, k.w.lnFinalW, k.w.lnFinalB, k.cfg.eps(), normalized, scale, out);
        return out;
    }

    /** {@code (x - mean(x)) / scale · gain + bias} per row, the scale given (frozen) rather than computed. */
    private static double[] layerNormWithScale(double[] x, int rows, int width, org.solulens.model.Tensor gain,
                                               org.solulens.model.Tensor bias, double scale) {
        double[] out = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int i = 0; i < width; i++) {
                mean += x[r * width + i];
            }
            mean /= width;
            for (int i = 0; i < width; i++) {
                double z = (x[r * width + i] - mean) / scale;
                out[r * width + i] = gain == null ? z : z * gain.get(i) + bias.get(i);
            }
        }
        return out;
    }

    private static double[] logits(SweepConstants k, double[] x, int rows) {
        return MatMul.multiply(x, rows, k.cfg.dModel(), k.w.wU, 0, k.cfg.dVocab(), k.w.bU, 0);
    }

    private static void addRowVector(double[] m, int rows, double[] v) {
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < v.length; i++) {
                m[r * v.length + i] += v[i];
            }
        }
    }

    static double cosineSimilarity(double[] a, int ao, double[] b, int n) {
        double dot = 0, aa = 0, bb = 0;
        for (int i = 0; i < n; i++) {
            dot += a[ao + i] * b[i];
            aa += a[ao + i] * a[ao + i];
            bb += b[i] * b[i];
        }
        return dot / Math.sqrt(aa * bb);
    }
}
