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
    private static final String RESOURCE_DIR = "/org/solulens/demo/";

    private DemoModel() {}

    /** {@return the demo model's configuration, without its weights} */
    public static ModelConfig config() {
        try {
            return ModelConfig.fromJson(new ObjectMapper().readTree(resource("config.json")));
        } catch (IOException e) {
            throw new UncheckedIOException("the bundled demo model could not be read from the jar", e);
        }
    }

    /** {@return the demo model, read from the jar's resources} */
    public static SoluModel load() {
        try {
            ModelConfig cfg = ModelConfig.fromJson(new ObjectMapper().readTree(resource("config.json")));
            SafetensorsReader weights = SafetensorsReader.fromBytes(resource("model.safetensors"), "demo model.safetensors");
            SoluWeights w = SoluWeights.from(cfg, name -> weights.entries().containsKey(name) ? weights.read(name) : null);
            TextTokenizer tokenizer = TextTokenizer.fromBytes(resource("tokenizer.json"), "<|BOS|>", "demo tokenizer.json");
            return new SoluModel(cfg, w, tokenizer, DESCRIPTION);
        } catch (IOException e) {
            throw new UncheckedIOException("the bundled demo model could not be read from the jar", e);
        }
    }

    /** A list of common English words, all in the demo vocabulary (the random-words prompt family draws from it). */
    public static String[] words() {
        try {
            return new String(resource("words.txt"), StandardCharsets.UTF_8).trim().split("\\s+");
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
}
