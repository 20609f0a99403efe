package org.solulens.cpu;

import org.solulens.model.SoluWeights;

/**
 * Causal multi-head attention as TransformerLens computes it, in double: per head
 * {@code q = x W_Q + b_Q} (likewise k, v), {@code scores = q k^T / attn_scale} with -inf above the
 * diagonal, {@code pattern = softmax(scores)} over keys, {@code z = pattern v},
 * {@code out = sum_h z_h W_O[h] + b_O}.
 */
public final class CausalAttention {
    /** q, k, v, z: [P, H, d]; scores, pattern: [H, P, P]; out: [P, D]. */
    public record Result(double[] q, double[] k, double[] v, double[] scores, double[] pattern, double[] z, double[] out) {}

    /** Below this many multiply-adds the rows run on the calling thread. */
    private static final long PARALLEL_THRESHOLD = 1L << 18;

    private CausalAttention() {}

    public static Result forward(double[] x, int positions, int dModel, int nHeads, int dHead, double attnScale,
                                 SoluWeights w) {
        int hd = nHeads * dHead;
        double[] q = new double[positions * hd], k = new double[positions * hd], v = new double[positions * hd];
        for (int h = 0; h < nHeads; h++) {
            scatterHead(MatMul.multiply(x, positions, dModel, w.wQ, h * dModel * dHead, dHead, w.bQ, h * dHead), q, h, positions, nHeads, dHead);
            scatterHead(MatMul.multiply(x, positions, dModel, w.wK, h * dModel * dHead, dHead, w.bK, h * dHead), k, h, positions, nHeads, dHead);
            scatterHead(MatMul.multiply(x, positions, dModel, w.wV, h * dModel * dHead, dHead, w.bV, h * dHead), v, h, positions, nHeads, dHead);
        }
        Result attended = attend(q, k, v, positions, nHeads, dHead, attnScale);
        double[] z = attended.z();
        double[] out = new double[positions * dModel];
        for (int h = 0; h < nHeads; h++) {
            double[] zh = new double[positions * dHead];
            for (int p = 0; p < positions; p++) {
                System.arraycopy(z, (p * nHeads + h) * dHead, zh, p * dHead, dHead);
            }
            double[] part = MatMul.multiply(zh, positions, dHead, w.wO, h * dHead * dModel, dModel, null, 0);
            for (int i = 0; i < out.length; i++) {
                out[i] += part[i];
            }
        }
        for (int p = 0; p < positions; p++) {
            for (int c = 0; c < dModel; c++) {
                out[p * dModel + c] += w.bO.get(c);
            }
        }
        return new Result(q, k, v, attended.scores(), attended.pattern(), z, out);
    }

    /**
     * The attention proper from q, k, v [P, H, d]: scores and pattern [H, P, P], z [P, H, d] (the CPU twin of the
     * attention_forward kernel); q, k, v and out are left null in the result.
     */
    public static Result attend(double[] q, double[] k, double[] v, int positions, int nHeads, int dHead, double attnScale) {
        double[] scores = new double[nHeads * positions * positions];
        double[] pattern = new double[scores.length];
        double[] z = new double[positions * nHeads * dHead];
        // every (head, query row) is independent: rows in parallel once there is enough work to share
        java.util.stream.IntStream rows = java.util.stream.IntStream.range(0, nHeads * positions);
        if ((long) nHeads * positions * positions * dHead >= PARALLEL_THRESHOLD) {
            rows = rows.parallel();
        }
        rows.forEach(hi -> {
            int h = hi / positions, i = hi % positions;
            int row = (h * positions + i) * positions;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < positions; j++) {
                if (j > i) {
                    scores[row + j] = Double.NEGATIVE_INFINITY;
                    continue;
                }
                double dot = 0;
                for (int e = 0; e < dHead; e++) {
                    dot += q[(i * nHeads + h) * dHead + e] * k[(j * nHeads + h) * dHead + e];
                }
                scores[row + j] = dot / attnScale;
                max = Math.max(max, scores[row + j]);
            }
            double sum = 0;
            for (int j = 0; j <= i; j++) {
                pattern[row + j] = Math.exp(scores[row + j] - max);
                sum += pattern[row + j];
            }
            for (int j = 0; j <= i; j++) {
                double p = pattern[row + j] / sum;
                pattern[row + j] = p;
                for (int e = 0; e < dHead; e++) {
                    z[(i * nHeads + h) * dHead + e] += p * v[(j * nHeads + h) * dHead + e];
                }
            }
        });
        return new Result(null, null, null, scores, pattern, z, null);
    }

    private static void scatterHead(double[] head, double[] into, int h, int positions, int nHeads, int dHead) {
        for (int p = 0; p < positions; p++) {
            System.arraycopy(head, p * dHead, into, (p * nHeads + h) * dHead, dHead);
        }
    }
}
