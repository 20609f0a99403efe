package org.solulens.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.solulens.backend.Activation;
import org.solulens.backend.ForwardResult;
import org.solulens.model.SoluModel;

/**
 * Writes a forward pass's cache as one float32 {@code <hook name>.npy} per hook (C order, no batch
 * dimension) plus {@code manifest.json} describing the model, the tokens and every file.
 */
public final class CacheWriter {
    private CacheWriter() {}

    /** Writes {@code result}'s cache into {@code dir}: one {@code .npy} per hook and {@code manifest.json}. */
    public static void write(Path dir, SoluModel model, String backend, ForwardResult result, String promptText)
            throws IOException {
        Files.createDirectories(dir);
        Map<String, Object> files = new LinkedHashMap<>();
        for (Activation a : result.cache().values()) {
            String file = a.name() + ".npy";
            Npy.writeFloat32(dir.resolve(file), a.shape(), a.data());
            files.put(a.name(), Map.of("file", file, "shape", a.shape(), "dtype", "float32"));
        }
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("model", model.description());
        manifest.put("config", model.config().toTlMap());
        manifest.put("backend", backend);
        if (promptText != null) {
            manifest.put("prompt", promptText);
        }
        manifest.put("tokens", result.tokens());
        manifest.put("token_text", tokenTexts(model, result.tokens()));
        manifest.put("mean_loss", Double.isNaN(result.meanLoss()) ? null : result.meanLoss());
        manifest.put("conventions", List.of(
                "shapes are TransformerLens's without the batch dimension; hook_scale is squeezed to [pos]",
                "hook_normalized is taken before the LayerNorm's gain and bias (TransformerLens 3.x)",
                "loss[p] is the cross-entropy of predicting token p+1 at position p"));
        manifest.put("hooks", files);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(dir.resolve("manifest.json").toFile(), manifest);
    }

    private static List<String> tokenTexts(SoluModel model, int[] tokens) {
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        for (int t : tokens) {
            out.add(model.tokenText(t));
        }
        return out;
    }
}
