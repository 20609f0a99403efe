package org.solulens.model.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.solulens.model.ModelFormatException;

/**
 * The Hugging Face hub cache on disk ({@code huggingface-cli download} fills it), read offline, found where
 * huggingface_hub looks: {@code $HF_HUB_CACHE}, else {@code $HF_HOME/hub}, else {@code $XDG_CACHE_HOME/huggingface/hub},
 * else {@code $HOME/.cache/huggingface/hub}. A repository {@code org/name} lives in
 * {@code models--org--name/snapshots/<commit>/}, whose files are links to {@code ../../blobs/}; {@code refs/<name>}
 * holds the commit a branch or tag points at. Names and revisions are checked, and every file a snapshot offers must
 * resolve to a file inside the repository's folder, so that nothing outside the cache is read through it.
 */
public final class HubCache {
    private static final Pattern REPO = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*");
    /** One path segment of a ref or a commit: no separators, no control characters, not "." or "..". */
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._-]+");

    private final Path root;
    private final String foundVia;

    /** The cache at {@code root}. */
    public HubCache(Path root) {
        this(root, "given");
    }

    private HubCache(Path root, String foundVia) {
        this.root = root;
        this.foundVia = foundVia;
    }

    /** The cache the environment names, as huggingface_hub finds it. */
    public static HubCache fromEnvironment() {
        return fromEnvironment(System.getenv(), System.getProperty("user.home"));
    }

    /** As {@link #fromEnvironment()}, from the given variables; {@code userHome} stands in for an unset {@code HOME}. */
    static HubCache fromEnvironment(Map<String, String> env, String userHome) {
        if (isSet(env.get("HF_HUB_CACHE"))) {
            return new HubCache(Path.of(env.get("HF_HUB_CACHE")), "$HF_HUB_CACHE");
        }
        if (isSet(env.get("HF_HOME"))) {
            return new HubCache(Path.of(env.get("HF_HOME"), "hub"), "$HF_HOME/hub");
        }
        if (isSet(env.get("XDG_CACHE_HOME"))) {
            return new HubCache(Path.of(env.get("XDG_CACHE_HOME"), "huggingface", "hub"), "$XDG_CACHE_HOME/huggingface/hub");
        }
        if (isSet(env.get("HOME"))) {
            return new HubCache(Path.of(env.get("HOME"), ".cache", "huggingface", "hub"), "$HOME/.cache/huggingface/hub");
        }
        return new HubCache(Path.of(userHome, ".cache", "huggingface", "hub"), "user.home, HOME being unset");
    }

    private static boolean isSet(String value) {
        return value != null && !value.isBlank();
    }

    /** The cache's folder. */
    public Path root() {
        return root;
    }

    /** The folder and how it was found, for messages: "/home/me/.cache/huggingface/hub (from $HOME/.cache/huggingface/hub)". */
    public String describe() {
        return root + " (from " + foundVia + ")";
    }

    /**
     * The snapshot folder of {@code repo} ("org/name") at {@code revision} (a commit hash or a ref such as "main" or
     * "refs/pr/1"), or at refs/main, or else the newest snapshot, when revision is null. Empty if the cache has none.
     *
     * @throws IllegalArgumentException for a repository or revision that is not a name (a path that leaves the
     *     repository's folder, "..", an absolute path, control characters)
     * @throws ModelFormatException when the snapshot or one of its files leads outside the repository's folder
     */
    public Optional<Path> snapshot(String repo, String revision) throws IOException {
        if (repo == null || !REPO.matcher(repo).matches()) {
            throw new IllegalArgumentException("not a Hugging Face repository name: " + printable(repo) + " (expected ORG/NAME)");
        }
        if (revision != null) {
            checkRevision(revision);
        }
        Path dir = root.resolve("models--" + repo.replace("/", "--"));
        Path snapshots = dir.resolve("snapshots");
        if (!Files.isDirectory(snapshots)) {
            return Optional.empty();
        }
        String wanted = revision != null ? revision : "main";
        Path ref = dir.resolve("refs").resolve(wanted);
        Optional<Path> found;
        if (Files.isRegularFile(ref)) {
            String commit = Files.readString(ref).trim();
            if (!isSegment(commit)) {
                throw new ModelFormatException(ref + " does not hold a commit hash: " + printable(commit));
            }
            found = Optional.of(snapshots.resolve(commit)).filter(Files::isDirectory);
        } else if (revision != null) {
            found = revision.contains("/") ? Optional.empty() : Optional.of(snapshots.resolve(revision)).filter(Files::isDirectory);
        } else {
            try (Stream<Path> all = Files.list(snapshots)) {
                found = all.filter(Files::isDirectory).max(Comparator.comparing(p -> {
                    try {
                        return Files.getLastModifiedTime(p);
                    } catch (IOException e) {
                        return java.nio.file.attribute.FileTime.fromMillis(0);
                    }
                }));
            }
        }
        if (found.isPresent()) {
            requireInside(found.get(), dir);
        }
        return found;
    }

    /** A revision is a commit hash or a ref name: segments of letters, digits, '.', '_' and '-' joined by '/'. */
    static void checkRevision(String revision) {
        String why = revision.isEmpty() ? "it is empty"
                : revision.startsWith("/") ? "it is an absolute path"
                : revision.chars().anyMatch(c -> c < 0x20 || c == 0x7f) ? "it holds control characters"
                : !List.of(revision.split("/", -1)).stream().allMatch(HubCache::isSegment)
                        ? "a revision is a commit hash or a branch or tag name (letters, digits, '.', '_', '-', and '/' between"
                                + " parts; no '..' or empty parts)"
                : null;
        if (why != null) {
            throw new IllegalArgumentException("not a revision: " + printable(revision) + ": " + why);
        }
    }

    private static boolean isSegment(String s) {
        return SEGMENT.matcher(s).matches() && !s.equals(".") && !s.equals("..");
    }

    /** Every file the snapshot offers (links followed) must lie inside the repository's folder, as its blobs do. */
    private static void requireInside(Path snapshot, Path repoDir) throws IOException {
        Path inside = repoDir.toRealPath();
        Path real = snapshot.toRealPath();
        if (!real.startsWith(inside)) {
            throw new ModelFormatException("the Hugging Face snapshot " + snapshot + " leads outside its repository's folder, to " + real);
        }
        try (Stream<Path> files = Files.walk(real)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path target;
                try {
                    target = f.toRealPath();
                } catch (java.nio.file.NoSuchFileException e) {
                    continue;   // a dangling link (a download in progress): reading it fails with its own error
                }
                if (!target.startsWith(inside)) {
                    throw new ModelFormatException("the Hugging Face snapshot " + snapshot + " has " + real.relativize(f)
                            + ", a link to " + target + " outside its repository's folder " + repoDir + "; refusing to read it");
                }
            }
        }
    }

    private static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(c -> b.append(c < 0x20 || c == 0x7f ? String.format("\\u%04x", c) : new String(Character.toChars(c))));
        return b.append('"').toString();
    }

    /** Like {@link #snapshot} but an error saying how to fetch it when the cache lacks it. */
    public Path requireSnapshot(String repo, String revision, String files) throws IOException {
        return snapshot(repo, revision).orElseThrow(() -> new ModelFormatException("the Hugging Face cache " + describe() + " has no "
                + repo + (revision == null ? "" : " at revision " + revision) + "; fetch it with: " + downloadCommand(repo, files)
                + " (HF_HUB_CACHE, HF_HOME or XDG_CACHE_HOME choose the cache)"));
    }

    /** The command that fetches {@code files} of {@code repo} into the cache. */
    public static String downloadCommand(String repo, String files) {
        return "huggingface-cli download " + repo + (files.isEmpty() ? "" : " " + files);
    }
}
