package org.solulens.model.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.solulens.model.ModelFormatException;

/**
 * The Hugging Face hub cache on disk ({@code huggingface-cli download} fills it), read offline:
 * {@code $HF_HUB_CACHE}, else {@code $HF_HOME/hub}, else {@code ~/.cache/huggingface/hub}; a repository
 * {@code org/name} lives in {@code models--org--name/snapshots/<revision>/}.
 */
public final class HubCache {
    private final Path root;

    public HubCache(Path root) {
        this.root = root;
    }

    /** The cache the environment names, as huggingface_hub finds it. */
    public static HubCache fromEnvironment() {
        String hub = System.getenv("HF_HUB_CACHE");
        if (hub != null && !hub.isBlank()) {
            return new HubCache(Path.of(hub));
        }
        String home = System.getenv("HF_HOME");
        return new HubCache(home != null && !home.isBlank() ? Path.of(home, "hub")
                : Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub"));
    }

    public Path root() {
        return root;
    }

    /**
     * The snapshot folder of {@code repo} ("org/name") at {@code revision} (a commit hash or a ref such as "main"), or at
     * refs/main, or else the newest snapshot, when revision is null. Empty if the cache has none.
     */
    public Optional<Path> snapshot(String repo, String revision) throws IOException {
        Path dir = root.resolve("models--" + repo.replace("/", "--"));
        Path snapshots = dir.resolve("snapshots");
        if (!Files.isDirectory(snapshots)) {
            return Optional.empty();
        }
        String wanted = revision != null ? revision : "main";
        Path ref = dir.resolve("refs").resolve(wanted);
        if (Files.isRegularFile(ref)) {
            Path s = snapshots.resolve(Files.readString(ref).trim());
            return Files.isDirectory(s) ? Optional.of(s) : Optional.empty();
        }
        if (revision != null) {
            Path s = snapshots.resolve(revision);
            return Files.isDirectory(s) ? Optional.of(s) : Optional.empty();
        }
        try (Stream<Path> all = Files.list(snapshots)) {
            return all.filter(Files::isDirectory).max(Comparator.comparing(p -> {
                try {
                    return Files.getLastModifiedTime(p);
                } catch (IOException e) {
                    return java.nio.file.attribute.FileTime.fromMillis(0);
                }
            }));
        }
    }

    /** Like {@link #snapshot} but an error saying how to fetch it when the cache lacks it. */
    public Path requireSnapshot(String repo, String revision, String files) throws IOException {
        return snapshot(repo, revision).orElseThrow(() -> new ModelFormatException("the Hugging Face cache " + root + " has no "
                + repo + (revision == null ? "" : " at revision " + revision) + "; fetch it with: " + downloadCommand(repo, files)
                + " (HF_HOME or HF_HUB_CACHE choose the cache)"));
    }

    public static String downloadCommand(String repo, String files) {
        return "huggingface-cli download " + repo + (files.isEmpty() ? "" : " " + files);
    }
}
