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
 * TransformerLens hook on its {@code hook_scale} would make it. The arithmetic after the activation is {@link MlpTail}.
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
            double[] cleanLogits = cosine == null ? null   // the clean resid_post row, nothing added (a zero resid_mid)
                    : MlpTail.logits(k.cfg, k.w, Arrays.copyOfRange(clean.get(Hooks.RESID_POST).data(), p * D, (p + 1) * D), 1, new double[D], 0, Double.NaN);
            double mlpLnScale = mid && req.frozen().mlpLn() ? clean.get(Hooks.MLP_LN_SCALE).data()[p] : Double.NaN;
            double finalScale = req.frozen().lnFinal() ? clean.get(Hooks.LN_FINAL_SCALE).data()[p] : Double.NaN;
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
                    mlpOut = MlpTail.mlpOut(k.cfg, k.w, act, rows, mid, mlpLnScale);
                }
                double[] logits = MlpTail.logits(k.cfg, k.w, mlpOut, rows, residMid, p, finalScale);
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
