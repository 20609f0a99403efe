package org.solulens.cpu;

import java.util.stream.IntStream;
import org.solulens.model.TaskRanges;

/**
 * What the single-precision path of {@link ExactSweep} reads for one chunk of positions, in float32: the rows A (and
 * A2) and each position's clean probabilities {@code q = softmax(α_c A + γ_c A2 + β)}, plus per position the clean
 * coefficients and the rows' largest magnitudes (for the bound on how far an ablation can move a logit).
 */
final class SinglePrecisionRows {
    /** [rows, V] each. */
    final float[] a, a2, q;
    /** [rows]: max_v |A[v]|, max_v |A2[v]| (0 without A2). */
    final double[] aAbsMax, a2AbsMax;
    /** [rows, 2]: the clean position's α and γ. */
    final double[] cleanCoef;

    private SinglePrecisionRows(float[] a, float[] a2, float[] q, double[] aAbsMax, double[] a2AbsMax, double[] cleanCoef) {
        this.a = a;
        this.a2 = a2;
        this.q = q;
        this.aAbsMax = aAbsMax;
        this.a2AbsMax = a2AbsMax;
        this.cleanCoef = cleanCoef;
    }

    /** @param cleanLogSumExp [rows]: each clean position's log-sum-exp, from the sweep's clean pass over the same rows */
    static SinglePrecisionRows of(SweepChunk c, double[] a, double[] a2, double[] beta, int V, int rows, double[] cleanLogSumExp, ExpSum expSum) {
        float[] aF = new float[rows * V], a2F = a2 == null ? null : new float[rows * V], q = new float[rows * V];
        double[] aAbsMax = new double[rows], a2AbsMax = new double[rows], cleanCoef = new double[2 * rows];
        // tasks of consecutive rows, each with one logits row: a new one per row was 386 KB of fresh heap for solu-1l
        int tasks = TaskRanges.count(rows);
        IntStream.range(0, tasks).parallel().forEach(task -> {
            double[] coef = new double[3], logits = new double[V];
            for (int r = TaskRanges.start(rows, tasks, task), end = TaskRanges.start(rows, tasks, task + 1); r < end; r++) {
                c.coefficients(r, -1, coef);
                cleanCoef[2 * r] = coef[0];
                cleanCoef[2 * r + 1] = coef[1];
                aAbsMax[r] = toFloat(a, r * V, V, aF);
                a2AbsMax[r] = a2 == null ? 0 : toFloat(a2, r * V, V, a2F);
                for (int v = 0; v < V; v++) {
                    logits[v] = coef[0] * a[r * V + v] + beta[v] + (a2 == null ? 0 : coef[1] * a2[r * V + v]);
                }
                expSum.expInto(logits, 0, V, cleanLogSumExp[r], q, r * V);
            }
        });
        return new SinglePrecisionRows(aF, a2F, q, aAbsMax, a2AbsMax, cleanCoef);
    }

    /** Copies {@code x[o .. o+n)} into {@code out} at the same offset, rounded to float; returns the largest magnitude. */
    private static double toFloat(double[] x, int o, int n, float[] out) {
        double m = 0;
        for (int i = o; i < o + n; i++) {
            out[i] = (float) x[i];
            m = Math.max(m, Math.abs(x[i]));
        }
        return m;
    }
}
