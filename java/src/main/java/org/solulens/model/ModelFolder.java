package org.solulens.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.solulens.model.hub.NeelConfig;

/**
 * Loads a model folder: {@code config.json} (TransformerLens cfg), one or more {@code *.safetensors} with
 * TransformerLens state-dict names, and an optional {@code tokenizer.json} — or, with no safetensors, a Hugging Face
 * snapshot of a PyTorch checkpoint ({@link CheckpointFolder}).
 */
public final class ModelFolder {
    /** Buffers TransformerLens keeps in its state dict; they are not weights. */
    private static final Set<String> IGNORED_SUFFIXES = Set.of(".mask", ".IGNORE");

    private ModelFolder() {}

    /** Loads the folder; a tensor the model does not use is an error (see {@link #load(Path, boolean)}). */
    public static SoluModel load(Path dir) throws IOException {
        return load(dir, false);
    }

    /**
     * Loads the folder. A tensor in the files that the config's model does not use (a second layer's weights, an MLP
     * LayerNorm under a GELU config) means the config does not describe the checkpoint: an error listing them, unless
     * {@code ignoreExtraTensors}. TransformerLens's buffers ({@code *.mask}, {@code *.IGNORE}) are never counted.
     */
    public static SoluModel load(Path dir, boolean ignoreExtraTensors) throws IOException {
        if (!Files.exists(dir)) {
            throw new ModelFormatException("model folder " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(dir + " is not a folder; a model folder holds config.json and *.safetensors");
        }
        if (!hasFiles(dir, "*.safetensors") && hasFiles(dir, "*.pth")) {
            return CheckpointFolder.load(dir, ignoreExtraTensors);
        }
        ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
        Map<String, SafetensorsReader> owner = new HashMap<>();
        for (Path file : safetensorsFiles(dir)) {
            SafetensorsReader reader = SafetensorsReader.open(file);
            for (String name : reader.entries().keySet()) {
                SafetensorsReader previous = owner.putIfAbsent(name, reader);
                if (previous != null) {
                    throw new ModelFormatException("tensor '" + name + "' is in both " + previous.file() + " and " + file);
                }
            }
        }
        SoluWeights weights = SoluWeights.from(config, name -> {
            SafetensorsReader reader = owner.get(name);
            if (reader == null || isBuffer(name)) {
                return null;
            }
            return reader.read(name);
        });
        checkNoExtraTensors(dir, config, owner.keySet(), weights, ignoreExtraTensors);
        Path tok = dir.resolve("tokenizer.json");
        if (Files.exists(tok) && !Files.isRegularFile(tok)) {
            throw new ModelFormatException(tok + " is not a file; a model folder's tokenizer.json is the Hugging Face tokenizer file");
        }
        TextTokenizer tokenizer = Files.isRegularFile(tok) ? TextTokenizer.load(tok) : null;
        return new SoluModel(config, weights, tokenizer, dir.toAbsolutePath().normalize().toString());
    }

    /**
     * Reads only a model folder's configuration (either config.json format), not its weights: for checking a request
     * against the model's sizes before the load.
     *
     * @param dir the model folder
     * @return its configuration
     * @throws IOException if config.json cannot be read; {@link ModelFormatException} if it is malformed
     */
    public static ModelConfig readConfig(Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        JsonNode root = ModelConfig.readObject(file);
        try {
            return NeelConfig.isTrainerFormat(root) ? NeelConfig.from(root, dir.toAbsolutePath().normalize().toString()).config()
                    : ModelConfig.fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file + ": " + e.getMessage());
        }
    }

    /** TransformerLens's buffers in a state dict ({@code *.mask}, {@code *.IGNORE}): not weights. */
    static boolean isBuffer(String name) {
        return IGNORED_SUFFIXES.stream().anyMatch(name::endsWith);
    }

    /**
     * A tensor in the files that the config's model does not use (a second layer's weights, an MLP LayerNorm under a
     * GELU config) means the config does not describe the checkpoint: an error listing them, unless ignored.
     */
    static void checkNoExtraTensors(Path dir, ModelConfig config, java.util.Collection<String> names, SoluWeights weights, boolean ignore) {
        if (ignore) {
            return;
        }
        List<String> extra = names.stream().filter(name -> !weights.byName().containsKey(name) && !isBuffer(name)).sorted().toList();
        if (!extra.isEmpty()) {
            throw new ModelFormatException(dir + ": " + extra.size() + " tensor(s) that a one-layer " + config.actFn().tlName()
                    + " model does not use: " + (extra.size() > 8 ? extra.subList(0, 8) + " ..." : extra)
                    + "; does config.json (n_layers, act_fn, normalization_type) describe this checkpoint?"
                    + " --ignore-extra-tensors loads it anyway");
        }
    }

    static boolean hasFiles(Path dir, String glob) throws IOException {
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, glob)) {
            return stream.iterator().hasNext();
        }
    }

    private static List<Path> safetensorsFiles(Path dir) throws IOException {
        Path single = dir.resolve("model.safetensors");
        if (Files.isRegularFile(single)) {
            return List.of(single);
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*.safetensors")) {
            stream.forEach(files::add);
        }
        if (files.isEmpty()) {
            throw new ModelFormatException("model folder " + dir + " has no model.safetensors (or other *.safetensors file),"
                    + " and no PyTorch checkpoint (*.pth) either");
        }
        files.sort(null);
        return files;
    }
}
