package org.solulens.bench;

import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.Normalization;

/** The model shapes the kernel benchmarks run at: tokens is the prompt length (the sweep's is shorter on solu-1l). */
enum Shape {
    /** For the emulator and the quick mode: every kernel in milliseconds. */
    TINY(32, 128, 2, 16, 500, 16, 16),
    /** The bundled demo model's shape. */
    SMALL(128, 512, 4, 32, 4096, 64, 64),
    /** TransformerLens's solu-1l; the sweep at 16 tokens (1.5e9 exponentials). */
    SOLU_1L(512, 2048, 8, 64, 48262, 64, 16);

    final int dModel, dMlp, heads, dHead, vocab, tokens, sweepTokens;

    Shape(int dModel, int dMlp, int heads, int dHead, int vocab, int tokens, int sweepTokens) {
        this.dModel = dModel;
        this.dMlp = dMlp;
        this.heads = heads;
        this.dHead = dHead;
        this.vocab = vocab;
        this.tokens = tokens;
        this.sweepTokens = sweepTokens;
    }

    ModelConfig config() {
        return new ModelConfig("bench-" + label(), dModel, dMlp, heads, dHead, Math.max(tokens, sweepTokens), vocab,
                ActivationFunction.SOLU_LN, Normalization.LN, 1e-5, Math.sqrt(dHead), true);
    }

    /** The name used in JMH parameters and tables: tiny, small, solu-1l. */
    String label() {
        return this == SOLU_1L ? "solu-1l" : name().toLowerCase(java.util.Locale.ROOT);
    }

    static Shape parse(String label) {
        for (Shape s : values()) {
            if (s.label().equals(label)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown shape '" + label + "'; expected tiny, small or solu-1l");
    }
}
