package org.solulens.cli;

import java.io.PrintWriter;
import org.solulens.backend.SweepResult;

/**
 * Where numbers leave a command: a NaN or infinite loss is an error naming the prompt and the position (finite but
 * huge weights overflow the logits; such a run used to print "n/a" or write all-NaN results and exit 0). With
 * {@code --allow-nonfinite} they are counted and reported once instead.
 */
final class NonFiniteOutputs {
    private final boolean allow;
    private long count;
    private String first;

    NonFiniteOutputs(boolean allow) {
        this.allow = allow;
    }

    /** Clean next-token losses of one prompt. */
    void checkLoss(int prompt, double[] loss) {
        for (int p = 0; p < loss.length; p++) {
            if (!Double.isFinite(loss[p])) {
                found("prompt " + prompt + ", position " + p + ": the loss is " + loss[p]
                        + " (the logits overflow: are the weights or the ablation values far too large?)");
            }
        }
    }

    /** A sweep's Δloss at the selected pairs ({@code selected} [P, d_mlp] or null for all; unselected pairs hold NaN). */
    void checkDelta(int prompt, SweepResult r, boolean[] selected) {
        for (int p = 0; p < r.positions(); p++) {
            for (int n = 0; n < r.dMlp(); n++) {
                if ((selected == null || selected[p * r.dMlp() + n]) && !Double.isFinite(r.delta(p, n))) {
                    found("prompt " + prompt + ", position " + p + ", neuron " + n + ": the Δloss is " + r.delta(p, n));
                }
            }
        }
    }

    private void found(String what) {
        if (!allow) {
            throw new IllegalStateException(what + " (--allow-nonfinite reports such values as one warning instead of failing)");
        }
        if (count++ == 0) {
            first = what;
        }
    }

    /** The one warning line, when anything was found and allowed. */
    void report(PrintWriter err) {
        if (count > 0) {
            err.println("warning: " + count + " non-finite value(s) kept (--allow-nonfinite); the first: " + first);
        }
    }
}
