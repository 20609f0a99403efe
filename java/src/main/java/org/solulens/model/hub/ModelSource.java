package org.solulens.model.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.solulens.model.ModelFormatException;

/**
 * What {@code --model} may name: a folder, or {@code hf:org/name[@revision]} — a repository in the Hugging Face cache,
 * offline (the newest snapshot, or refs/main, unless a revision is given).
 */
public final class ModelSource {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ModelSource.class);
    public static final String HUB_PREFIX = "hf:";

    private ModelSource() {}

    /** The folder {@code spec} names; for {@code hf:}, the snapshot, checked to hold a config and weights. */
    public static Path resolve(String spec) throws IOException {
        if (!spec.startsWith(HUB_PREFIX)) {
            return Path.of(spec);
        }
        String rest = spec.substring(HUB_PREFIX.length());
        int at = rest.indexOf('@');
        String repo = at < 0 ? rest : rest.substring(0, at), revision = at < 0 ? null : rest.substring(at + 1);
        if (!repo.matches("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*") || (revision != null && revision.isBlank())) {
            throw new IllegalArgumentException("--model " + spec + ": expected hf:ORG/NAME or hf:ORG/NAME@REVISION,"
                    + " e.g. hf:NeelNanda/SoLU_1L512W_C4_Code");
        }
        if (revision != null) {
            try {
                HubCache.checkRevision(revision);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--model " + spec + ": " + e.getMessage());
            }
        }
        HubCache cache = HubCache.fromEnvironment();
        Path snapshot = cache.requireSnapshot(repo, revision, "config.json model_final.pth");
        if (!Files.isRegularFile(snapshot.resolve("config.json"))) {
            throw new ModelFormatException(snapshot + " has no config.json; fetch it with: " + HubCache.downloadCommand(repo, "config.json"));
        }
        try (var files = Files.list(snapshot)) {
            if (files.map(p -> p.getFileName().toString()).noneMatch(n -> n.endsWith(".pth") || n.endsWith(".safetensors"))) {
                throw new ModelFormatException(snapshot + " has no weights (model_final.pth); fetch them with: "
                        + HubCache.downloadCommand(repo, "model_final.pth"));
            }
        }
        log.info("{}: snapshot {} in the Hugging Face cache {}", spec, snapshot.getFileName(), cache.describe());
        return snapshot;
    }
}
