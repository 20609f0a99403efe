package org.solulens.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The shape and conventions of a one-layer model, read from a TransformerLens {@code cfg.to_dict()}.
 *
 * @param attnScale the divisor of the attention scores ({@code sqrt(d_head)} unless the config says otherwise)
 * @param defaultPrependBos whether text prompts get a BOS token by default (TransformerLens's {@code default_prepend_bos})
 */
public record ModelConfig(
        String modelName,
        int dModel,
        int dMlp,
        int nHeads,
        int dHead,
        int nCtx,
        int dVocab,
        ActivationFunction actFn,
        Normalization normalization,
        double eps,
        double attnScale,
        boolean defaultPrependBos) {

    /** Checks that every size is a positive integer and eps and attn_scale are positive and finite; throws naming the field. */
    public ModelConfig {
        requirePositive("d_model", dModel);
        requirePositive("d_mlp", dMlp);
        requirePositive("n_heads", nHeads);
        requirePositive("d_head", dHead);
        requirePositive("n_ctx", nCtx);
        requirePositive("d_vocab", dVocab);
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("eps must be a positive finite number, got " + eps);
        }
        if (!(attnScale > 0) || Double.isInfinite(attnScale)) {
            throw new IllegalArgumentException("attn_scale must be a positive finite number, got " + attnScale);
        }
    }

    private static void requirePositive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + " must be a positive integer, got " + value);
        }
    }

    /** Reads {@code config.json}; fields SoluLens does not use are ignored. */
    public static ModelConfig read(Path file) throws IOException {
        JsonNode root = readObject(file);
        try {
            return fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file + ": " + e.getMessage());
        }
    }

    /** A config file's JSON object; a missing file, invalid JSON or a non-object is an error naming the file. */
    public static JsonNode readObject(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(file + ": file not found (a model folder needs config.json)");
        }
        JsonNode root;
        try {
            root = org.solulens.io.Json.read(file);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new ModelFormatException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(file + ": expected a JSON object (TransformerLens cfg.to_dict(), or a trainer's config)");
        }
        return root;
    }

    /** Reads a TransformerLens-style {@code config.json} (HookedTransformerConfig field names); throws naming a missing or wrong field. */
    public static ModelConfig fromJson(JsonNode root) {
        int nLayers = requiredInt(root, "n_layers");
        if (nLayers != 1) {
            throw new IllegalArgumentException("n_layers is " + nLayers + "; SoluLens supports one-layer models only (n_layers = 1)");
        }
        String positional = optionalText(root, "positional_embedding_type", "standard");
        if (!positional.equals("standard")) {
            throw new IllegalArgumentException("positional_embedding_type '" + positional
                    + "' is not supported; expected 'standard' (learned positions)");
        }
        requireFalse(root, "attn_only", "attention-only models have no MLP to study");
        requireFalse(root, "parallel_attn_mlp", "the MLP must read resid_mid");
        requireFalse(root, "gated_mlp", "gated MLPs are not supported");
        requireFalse(root, "final_rms", "RMSNorm is not supported");
        requireFalse(root, "post_embedding_ln", "post-embedding LayerNorm is not supported");
        int dVocab = requiredInt(root, "d_vocab");
        JsonNode out = root.get("d_vocab_out");
        if (out != null && !out.isNull()) {
            int dVocabOut = requiredInt(root, "d_vocab_out");
            if (dVocabOut != -1 && dVocabOut != dVocab) {
                throw new IllegalArgumentException("d_vocab_out " + dVocabOut + " differs from d_vocab " + dVocab + "; not supported");
            }
        }
        int dHead = requiredInt(root, "d_head");
        double attnScale = 1.0;
        if (optionalBoolean(root, "use_attn_scale", true)) {
            // TransformerLens writes -1 for "not set" (its __post_init__ then uses sqrt(d_head))
            attnScale = optionalNumber(root, "attn_scale", -1);
            if (attnScale == -1) {
                attnScale = Math.sqrt(dHead);
            }
        }
        return new ModelConfig(
                optionalText(root, "model_name", "custom"),
                requiredInt(root, "d_model"),
                requiredInt(root, "d_mlp"),
                requiredInt(root, "n_heads"),
                dHead,
                requiredInt(root, "n_ctx"),
                dVocab,
                ActivationFunction.fromTlName(requiredText(root, "act_fn")),
                Normalization.fromTlName(requiredText(root, "normalization_type")),
                optionalNumber(root, "eps", 1e-5),
                attnScale,
                optionalBoolean(root, "default_prepend_bos", true));
    }

    /** The config as TransformerLens field names, for manifests and {@code info}. */
    public Map<String, Object> toTlMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_name", modelName);
        m.put("n_layers", 1);
        m.put("d_model", dModel);
        m.put("d_mlp", dMlp);
        m.put("n_heads", nHeads);
        m.put("d_head", dHead);
        m.put("n_ctx", nCtx);
        m.put("d_vocab", dVocab);
        m.put("act_fn", actFn.tlName());
        m.put("normalization_type", normalization.tlName());
        m.put("eps", eps);
        m.put("attn_scale", attnScale);
        m.put("positional_embedding_type", "standard");
        m.put("default_prepend_bos", defaultPrependBos);
        return m;
    }

    /** Number of parameters, counted as TransformerLens's state dict holds them (buffers excluded). */
    public long parameterCount() {
        long d = dModel, n = dMlp, h = nHeads, dh = dHead, v = dVocab;
        long ln = normalization == Normalization.LN ? 2 * d : 0;
        long attn = 4 * h * d * dh + 3 * h * dh + d;
        long mlp = d * n + n + n * d + d + (actFn.hasMlpLayerNorm() && normalization == Normalization.LN ? 2 * n : 0);
        return v * d + (long) nCtx * d + 3 * ln + attn + mlp + d * v + v;
    }

    private static JsonNode required(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            throw new IllegalArgumentException("required field '" + field + "' is missing");
        }
        return node;
    }

    private static int requiredInt(JsonNode root, String field) {
        JsonNode node = required(root, field);
        if (!node.isIntegralNumber()) {
            throw new IllegalArgumentException("field '" + field + "' must be an integer, got " + node);
        }
        if (!node.canConvertToInt()) {
            throw new IllegalArgumentException("field '" + field + "' is " + node + ", too large (at most " + Integer.MAX_VALUE + ")");
        }
        return node.asInt();
    }

    /** A number, or {@code fallback} when the field is absent or null; any other type is an error. */
    private static double optionalNumber(JsonNode root, String field, double fallback) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isNumber()) {
            throw new IllegalArgumentException("field '" + field + "' must be a number, got " + node);
        }
        return node.asDouble();
    }

    /** true or false, or {@code fallback} when the field is absent or null; a string such as "yes" is an error. */
    private static boolean optionalBoolean(JsonNode root, String field, boolean fallback) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isBoolean()) {
            throw new IllegalArgumentException("field '" + field + "' must be true or false, got " + node);
        }
        return node.asBoolean();
    }

    private static String requiredText(JsonNode root, String field) {
        JsonNode node = required(root, field);
        if (!node.isTextual()) {
            throw new IllegalArgumentException("field '" + field + "' must be a string, got " + node);
        }
        return node.asText();
    }

    private static String optionalText(JsonNode root, String field, String fallback) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isTextual()) {
            throw new IllegalArgumentException("field '" + field + "' must be a string, got " + node);
        }
        return node.asText();
    }

    private static void requireFalse(JsonNode root, String field, String why) {
        if (optionalBoolean(root, field, false)) {
            throw new IllegalArgumentException(field + " is true; not supported: " + why);
        }
    }
}
