package org.solulens.cpu;

/** Per-token next-token cross-entropy: {@code loss[p] = logsumexp(logits[p]) - logits[p, tokens[p+1]]}. */
public final class CrossEntropy {
    /** Below this many exponentials the rows run on the calling thread. */
    private static final long PARALLEL_THRESHOLD = 1L << 16;

    private CrossEntropy() {}

    public static double[] nextTokenLoss(double[] logits, int[] tokens, int vocab) {
        double[] loss = new double[Math.max(tokens.length - 1, 0)];
        java.util.stream.IntStream rows = java.util.stream.IntStream.range(0, loss.length);
        if ((long) loss.length * vocab >= PARALLEL_THRESHOLD) {
            rows = rows.parallel();
        }
        rows.forEach(p -> loss[p] = logSumExp(logits, p * vocab, vocab) - logits[p * vocab + tokens[p + 1]]);
        return loss;
    }

    /**
     * log(sum exp) of {@code n} values from {@code offset}, shifted by their max (found by the sweep's own loop, so that
     * a fresh JVM compiles one such loop, not two).
     */
    public static double logSumExp(double[] x, int offset, int n) {
        double max = SweepConstants.max(x, offset, n);
        return max + Math.log(ExpSum.best().sumExp(x, offset, n, max));
    }
}
