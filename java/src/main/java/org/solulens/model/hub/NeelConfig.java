package org.solulens.model.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.solulens.model.ModelConfig;

/**
 * The trainer's {@code config.json} of the {@code NeelNanda/*_C4_Code} models (solu-1l, gelu-1l) turned into a
 * TransformerLens config the way TransformerLens's {@code convert_neel_model_config} does: the shape fields,
 * {@code act_fn}, {@code attn_only}, {@code tokenizer_name}, {@code final_rms}, {@code normalization} (or
 * {@code normalization_type}) and {@code shortformer_pos}; everything else (eps, the attention scale, d_vocab_out,
 * prepending BOS) takes TransformerLens's defaults, which {@link #defaulted()} lists for {@code info}.
 */
public final class NeelConfig {
    private final ModelConfig config;
    private final String tokenizerName;
    private final List<String> defaulted = new ArrayList<>();

    private NeelConfig(JsonNode trainer, String modelName) {
        ObjectNode tl = JsonNodeFactory.instance.objectNode();
        for (String field : List.of("d_model", "n_layers", "d_mlp", "d_head", "n_heads", "n_ctx", "d_vocab", "act_fn", "attn_only")) {
            JsonNode v = trainer.get(field);
            if (v == null || v.isNull()) {
                throw new IllegalArgumentException("field '" + field + "' is missing (a NeelNanda trainer config.json has it)");
            }
            tl.set(field, v);
        }
        JsonNode tok = trainer.get("tokenizer_name");
        tokenizerName = tok == null || tok.isNull() ? null : tok.asText();
        tl.set("final_rms", trainer.has("final_rms") ? trainer.get("final_rms") : JsonNodeFactory.instance.booleanNode(false));
        JsonNode norm = trainer.has("normalization") ? trainer.get("normalization") : trainer.get("normalization_type");
        if (norm == null) {
            throw new IllegalArgumentException("neither 'normalization' nor 'normalization_type' is given");
        }
        tl.set("normalization_type", norm);
        JsonNode shortformer = trainer.get("shortformer_pos");
        if (shortformer != null && !shortformer.isBoolean()) {
            throw new IllegalArgumentException("field 'shortformer_pos' must be true or false, got " + shortformer);
        }
        tl.put("positional_embedding_type", shortformer != null && shortformer.asBoolean() ? "shortformer" : "standard");
        tl.put("model_name", modelName);
        config = ModelConfig.fromJson(tl);
        defaulted.add("eps = " + config.eps());
        defaulted.add("attn_scale = sqrt(d_head) = " + config.attnScale());
        defaulted.add("d_vocab_out = d_vocab");
        defaulted.add("default_prepend_bos = " + config.defaultPrependBos());
    }

    /** Whether {@code root} is a trainer config rather than TransformerLens's own (which has normalization_type and no trainer fields). */
    public static boolean isTrainerFormat(JsonNode root) {
        return root.has("normalization") || root.has("shortformer_pos") || (root.has("tokenizer_name") && !root.has("normalization_type"));
    }

    public static NeelConfig from(JsonNode trainer, String modelName) {
        return new NeelConfig(trainer, modelName);
    }

    public ModelConfig config() {
        return config;
    }

    /** The repository its tokenizer comes from ("NeelNanda/gpt-neox-tokenizer-digits"), or null. */
    public String tokenizerName() {
        return tokenizerName;
    }

    /** The fields TransformerLens would fill in, with the values SoluLens used. */
    public List<String> defaulted() {
        return List.copyOf(defaulted);
    }
}
