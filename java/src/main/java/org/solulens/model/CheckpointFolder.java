package org.solulens.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.solulens.model.hub.HubCache;
import org.solulens.model.hub.NeelConfig;
import org.solulens.model.pth.TorchCheckpoint;

/**
 * A folder as the Hugging Face hub holds the {@code NeelNanda/*_C4_Code} models: {@code config.json} in the trainer's
 * format (or TransformerLens's), a PyTorch checkpoint ({@code model_final.pth}) with TransformerLens state-dict names,
 * and no tokenizer — that comes from the repository {@code tokenizer_name} names, looked up in the hub cache.
 * The checkpoint's pickle is read with an allow-list ({@link org.solulens.model.pth.SafePickle}), never executed.
 */
final class CheckpointFolder {
    private static final Logger log = LoggerFactory.getLogger(CheckpointFolder.class);

    private CheckpointFolder() {}

    static SoluModel load(Path dir, boolean ignoreExtraTensors) throws IOException {
        Path configFile = dir.resolve("config.json");
        JsonNode root = ModelConfig.readObject(configFile);
        List<String> notes = new ArrayList<>();
        ModelConfig config;
        String tokenizerName = null;
        try {
            if (NeelConfig.isTrainerFormat(root)) {
                NeelConfig neel = NeelConfig.from(root, dir.toAbsolutePath().normalize().toString());
                config = neel.config();
                tokenizerName = neel.tokenizerName();
                notes.add("config: the trainer's config.json, converted as TransformerLens's convert_neel_model_config does;"
                        + " defaulted as TransformerLens does: " + String.join(", ", neel.defaulted()));
            } else {
                config = ModelConfig.fromJson(root);
            }
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(configFile + ": " + e.getMessage());
        }
        Path pth = checkpointFile(dir);
        SoluWeights weights;
        try (TorchCheckpoint checkpoint = TorchCheckpoint.open(pth)) {
            weights = SoluWeights.from(config, name -> {
                if (!checkpoint.names().contains(name) || ModelFolder.isBuffer(name)) {
                    return null;
                }
                try {
                    return checkpoint.read(name);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            ModelFolder.checkNoExtraTensors(dir, config, checkpoint.names(), weights, ignoreExtraTensors);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        notes.add("weights: " + pth.getFileName() + " (a PyTorch checkpoint, read without running its pickle)");
        TextTokenizer tokenizer = null;
        Path local = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(local)) {
            tokenizer = TextTokenizer.load(local);
            notes.add("tokenizer: " + local);
        } else if (tokenizerName != null) {
            HubCache cache = HubCache.fromEnvironment();
            Path snapshot = cache.snapshot(tokenizerName, null).orElse(null);
            Path file = snapshot == null ? null : snapshot.resolve("tokenizer.json");
            if (file != null && Files.isRegularFile(file)) {
                tokenizer = TextTokenizer.load(file);
                notes.add("tokenizer: " + tokenizerName + " from the Hugging Face cache (" + file + ")");
            } else {
                String fetch = HubCache.downloadCommand(tokenizerName, "tokenizer.json tokenizer_config.json");
                notes.add("tokenizer: " + tokenizerName + " is not in the Hugging Face cache " + cache.describe() + "; fetch it with: " + fetch);
                log.warn("no tokenizer: {} is not in the Hugging Face cache {}; text prompts need it: {}", tokenizerName, cache.describe(), fetch);
            }
        }
        return new SoluModel(config, weights, tokenizer, dir.toAbsolutePath().normalize().toString(), notes);
    }

    /** model_final.pth, or the folder's only *.pth. */
    private static Path checkpointFile(Path dir) throws IOException {
        Path preferred = dir.resolve("model_final.pth");
        if (Files.isRegularFile(preferred)) {
            return preferred;
        }
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*.pth")) {
            stream.forEach(found::add);
        }
        if (found.size() != 1) {
            throw new ModelFormatException(dir + ": " + found.size() + " .pth files and no model_final.pth; which one is the model? "
                    + found);
        }
        return found.get(0);
    }
}
