package org.solulens.cpu;

/** Per-token next-token cross-entropy: {@code loss[p] = logsumexp(logits[p]) - logits[p, tokens[p+1]]}. */
public final class CrossEntropy {
    private CrossEntropy() {}

    public static double[] nextTokenLoss(double[] logits, int[] tokens, int vocab) {
        double[] loss = new double[tokens.length - 1];
        for (int p = 0; p + 1 < tokens.length; p++) {
            loss[p] = logSumExp(logits, p * vocab, vocab) - logits[p * vocab + tokens[p + 1]];
        }
        return loss;
    }

    /** log(sum exp) of {@code n} values from {@code offset}, shifted by their max. */
    public static double logSumExp(double[] x, int offset, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(x[offset + i] - max);
        }
        return max + Math.log(sum);
    }
}
