package org.solulens.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * The model every command uses when no {@code --model} is given: a small SoLU-1L with a word-level
 * tokenizer shipped in the jar and <b>seeded random weights</b>, made in memory on first use. The
 * weights come from {@link java.util.Random}, whose sequence (and {@code nextGaussian}) the Java
 * specification fixes, so they are the same on every machine and JVM.
 */
public final class DemoModel {
    public static final String DESCRIPTION = "bundled demo model (RANDOM weights, seed " + DemoModel.SEED + "; not trained)";
    static final long SEED = 20231;
    private static final String RESOURCE_DIR = "/org/solulens/demo/";

    private DemoModel() {}

    /** The demo model's configuration; d_vocab is the size of the bundled vocabulary. */
    public static ModelConfig config(int dVocab) {
        return new ModelConfig("solulens-demo-random", 64, 256, 4, 16, 128, dVocab,
                ActivationFunction.SOLU_LN, Normalization.LN, 1e-5, 4.0, true);
    }

    public static SoluModel load() {
        try {
            byte[] json = resource("tokenizer.json");
            TextTokenizer tokenizer = TextTokenizer.fromBytes(json, "<|BOS|>", "demo tokenizer.json");
            int vocab = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).path("model").path("vocab").size();
            ModelConfig cfg = config(vocab);
            return new SoluModel(cfg, randomWeights(cfg, SEED), tokenizer, DESCRIPTION);
        } catch (IOException e) {
            throw new UncheckedIOException("the bundled demo model could not be read from the jar", e);
        }
    }

    /** The words of the demo vocabulary, in vocabulary order (also a word list for prompt families). */
    public static String[] words() {
        try {
            return new String(resource("words.txt"), java.nio.charset.StandardCharsets.UTF_8).trim().split("\\s+");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = DemoModel.class.getResourceAsStream(RESOURCE_DIR + name)) {
            if (in == null) {
                throw new IOException("resource " + RESOURCE_DIR + name + " is missing from the jar");
            }
            return in.readAllBytes();
        }
    }

    /**
     * Random weights at scales a trained model has (unit-variance embeddings, 1/sqrt(fan-in) matrices,
     * LayerNorm gains near 1 and biases near 0), so that every activation is well away from 0 and 1.
     */
    public static SoluWeights randomWeights(ModelConfig cfg, long seed) {
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
