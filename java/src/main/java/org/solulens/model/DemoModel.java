package org.solulens.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The model every command uses when no {@code --model} is given, shipped inside the jar: a small SoLU-1L
 * (d_model 128, d_mlp 512, 4 heads, word-level vocabulary of 4096) trained on the King James Bible by
 * {@code tools/train_demo_model.py}. Its files are an ordinary model folder, read from the classpath.
 */
public final class DemoModel {
    /** How the demo model describes itself in logs and reports. */
    public static final String DESCRIPTION = "bundled demo model (SoLU-1L trained on the King James Bible, tools/train_demo_model.py)";
    /** How the GELU twin describes itself. */
    public static final String GELU_DESCRIPTION = "bundled GELU twin of the demo model (same data, seed, size and steps; tools/train_demo_model.py --act gelu)";
    /** The names {@code --model} knows the bundled models by. */
    public static final String NAME = "demo", GELU_NAME = "demo-gelu";
    private static final String RESOURCE_DIR = "/org/solulens/demo/", GELU_DIR = "/org/solulens/demo-gelu/";

    private DemoModel() {}

    /** {@return the demo model's configuration, without its weights} */
    public static ModelConfig config() {
        return config(RESOURCE_DIR);
    }

    /** {@return the GELU twin's configuration, without its weights} */
    public static ModelConfig geluConfig() {
        return config(GELU_DIR);
    }

    private static ModelConfig config(String dir) {
        try {
            return ModelConfig.fromJson(new ObjectMapper().readTree(resource(dir, "config.json")));
        } catch (IOException e) {
            throw new UncheckedIOException("the bundled demo model could not be read from the jar", e);
        }
    }

    /** {@return the demo model, read from the jar's resources} */
    public static SoluModel load() {
        return load(RESOURCE_DIR, DESCRIPTION);
    }

    /**
     * {@return the demo model's GELU twin (act_fn gelu, no MLP LayerNorm), the smearing study's control} It shares the
     * demo model's tokenizer.
     */
    public static SoluModel loadGelu() {
        return load(GELU_DIR, GELU_DESCRIPTION);
    }

    /** {@return the bundled model called {@code name} ({@link #NAME} or {@link #GELU_NAME}), or null for another name} */
    public static SoluModel byName(String name) {
        return NAME.equals(name) ? load() : GELU_NAME.equals(name) ? loadGelu() : null;
    }

    private static SoluModel load(String dir, String description) {
        try {
            ModelConfig cfg = config(dir);
            SafetensorsReader weights = SafetensorsReader.fromBytes(resource(dir, "model.safetensors"), dir + "model.safetensors");
            SoluWeights w = SoluWeights.from(cfg, name -> weights.entries().containsKey(name) ? weights.read(name) : null);
            TextTokenizer tokenizer = TextTokenizer.fromBytes(resource(RESOURCE_DIR, "tokenizer.json"), "<|BOS|>", "demo tokenizer.json");
            return new SoluModel(cfg, w, tokenizer, description);
        } catch (IOException e) {
            throw new UncheckedIOException("the bundled demo model could not be read from the jar", e);
        }
    }

    /** A list of common English words, all in the demo vocabulary (the random-words prompt family draws from it). */
    public static String[] words() {
        try {
            return new String(resource(RESOURCE_DIR, "words.txt"), StandardCharsets.UTF_8).trim().split("\\s+");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] resource(String dir, String name) throws IOException {
        try (InputStream in = DemoModel.class.getResourceAsStream(dir + name)) {
            if (in == null) {
                throw new IOException("resource " + dir + name + " is missing from the jar");
            }
            return in.readAllBytes();
        }
    }
}
