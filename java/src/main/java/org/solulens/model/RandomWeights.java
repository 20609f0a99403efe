package org.solulens.model;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * Seeded random weights for any one-layer shape, at the scales a trained model has (unit-variance embeddings,
 * 1/sqrt(fan-in) matrices, LayerNorm gains near 1 and biases near 0), so that no weight is 0 or 1. They come from
 * {@link java.util.Random}, whose sequence (and {@code nextGaussian}) the Java specification fixes: the same on
 * every machine. Tests and benchmarks use them.
 */
public final class RandomWeights {
    private RandomWeights() {}

    /** {@return weights for {@code cfg}, the same for the same seed on every machine} */
    public static SoluWeights of(ModelConfig cfg, long seed) {
        Random rng = new Random(seed);
        int d = cfg.dModel(), n = cfg.dMlp(), h = cfg.nHeads(), dh = cfg.dHead(), v = cfg.dVocab();
        Map<String, Tensor> t = new HashMap<>();
        gaussian(t, rng, "embed.W_E", 1.0, 0, v, d);
        gaussian(t, rng, "pos_embed.W_pos", 0.5, 0, cfg.nCtx(), d);
        for (String ln : new String[] {"blocks.0.ln1", "blocks.0.ln2", "ln_final"}) {
            gaussian(t, rng, ln + ".w", 0.1, 1.0, d);
            gaussian(t, rng, ln + ".b", 0.05, 0, d);
        }
        double attnIn = 1 / Math.sqrt(d);
        for (String m : new String[] {"Q", "K", "V"}) {
            gaussian(t, rng, "blocks.0.attn.W_" + m, attnIn, 0, h, d, dh);
            gaussian(t, rng, "blocks.0.attn.b_" + m, 0.05, 0, h, dh);
        }
        gaussian(t, rng, "blocks.0.attn.W_O", 1 / Math.sqrt(h * dh), 0, h, dh, d);
        gaussian(t, rng, "blocks.0.attn.b_O", 0.05, 0, d);
        gaussian(t, rng, "blocks.0.mlp.W_in", 2 / Math.sqrt(d), 0, d, n);
        gaussian(t, rng, "blocks.0.mlp.b_in", 0.1, 0, n);
        gaussian(t, rng, "blocks.0.mlp.ln.w", 0.1, 1.0, n);
        gaussian(t, rng, "blocks.0.mlp.ln.b", 0.05, 0, n);
        gaussian(t, rng, "blocks.0.mlp.W_out", 1 / Math.sqrt(n), 0, n, d);
        gaussian(t, rng, "blocks.0.mlp.b_out", 0.05, 0, d);
        gaussian(t, rng, "unembed.W_U", 1 / Math.sqrt(d), 0, d, v);
        gaussian(t, rng, "unembed.b_U", 0.1, 0, v);
        return SoluWeights.from(cfg, t::get);
    }

    private static void gaussian(Map<String, Tensor> into, Random rng, String name, double std, double mean, int... shape) {
        float[] values = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (mean + std * rng.nextGaussian());
        }
        into.put(name, Tensor.of(name, shape, values));
    }
}
