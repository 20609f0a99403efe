package org.solulens.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.solulens.model.ActivationFunction;
import org.solulens.model.RandomWeights;
import org.solulens.model.ModelConfig;
import org.solulens.model.Normalization;
import org.solulens.model.SoluModel;
import org.solulens.model.SoluWeights;

/** Seeded random models of any shape, in memory or written as model folders. */
public final class TestModels {
    private TestModels() {}

    public static ModelConfig config(int dModel, int dMlp, int nHeads, int dHead, int nCtx, int dVocab, ActivationFunction act) {
        return new ModelConfig("test", dModel, dMlp, nHeads, dHead, nCtx, dVocab, act, Normalization.LN, 1e-5,
                Math.sqrt(dHead), true);
    }

    public static SoluModel random(ModelConfig cfg, long seed) {
        return new SoluModel(cfg, RandomWeights.of(cfg, seed), null, "random test model (seed " + seed + ")");
    }

    /** The same model with one tensor replaced (by name). */
    public static SoluModel withTensor(SoluModel model, org.solulens.model.Tensor replacement) {
        Map<String, org.solulens.model.Tensor> tensors = model.weights().byName();
        SoluWeights weights = SoluWeights.from(model.config(),
                name -> name.equals(replacement.name()) ? replacement : tensors.get(name));
        return new SoluModel(model.config(), weights, model.tokenizer(), model.description() + " with " + replacement.name() + " replaced");
    }

    /** The TransformerLens cfg.to_dict() subset a model folder needs. */
    public static Map<String, Object> configJson(ModelConfig cfg) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n_layers", 1);
        m.put("d_model", cfg.dModel());
        m.put("d_mlp", cfg.dMlp());
        m.put("n_heads", cfg.nHeads());
        m.put("d_head", cfg.dHead());
        m.put("n_ctx", cfg.nCtx());
        m.put("d_vocab", cfg.dVocab());
        m.put("act_fn", cfg.actFn().tlName());
        m.put("normalization_type", cfg.normalization().tlName());
        m.put("eps", cfg.eps());
        m.put("positional_embedding_type", "standard");
        m.put("some_field_soluLens_ignores", "x");
        return m;
    }

    /** Writes config.json and model.safetensors for these weights into {@code dir}. */
    public static Path writeFolder(Path dir, ModelConfig cfg, SoluWeights weights) throws IOException {
        java.nio.file.Files.createDirectories(dir);
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), configJson(cfg));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), weights.byName());
        return dir;
    }

    public static int[] randomTokens(java.util.Random rng, int length, int vocab) {
        int[] t = new int[length];
        for (int i = 0; i < length; i++) {
            t[i] = rng.nextInt(vocab);
        }
        return t;
    }
}
