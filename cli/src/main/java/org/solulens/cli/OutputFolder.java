package org.solulens.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * An output folder written as a whole or not at all. Checked before any work starts (a file in the way, no permission,
 * or earlier results without {@code --overwrite} fail in a second); an operating-system lock on a file beside it
 * ({@code .NAME.lock}, {@link HeldLock}) refuses a second live writer, and is released by the system when its process
 * ends, however it ends (the empty file stays and blocks nothing); results go to a hidden staging folder beside it,
 * which becomes the folder, with {@link #MANIFEST} (command,
 * version, files and sizes) written last, only when the command completes. An interrupted or failed run leaves the
 * earlier folder as it was and no partial results under its name; what a killed run (SIGKILL, the OOM killer, a
 * power cut) leaves beside it is cleared by the next run that takes the lock (see {@link #clearDeadRuns}).
 */
final class OutputFolder implements AutoCloseable {
    /** Written last into a completed folder: the command line, the version, every file and its size. */
    static final String MANIFEST = "output-manifest.json";

    private final Path dir, staging;
    private final HeldLock lock;
    private final Thread cleanup;
    private boolean done;

    private OutputFolder(Path dir, Path staging, HeldLock lock) {
        this.dir = dir;
        this.staging = staging;
        this.lock = lock;
        this.cleanup = new Thread(this::discard, "solulens-output-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);   // Ctrl-C: no staging folder left behind, the lock released
    }

    /** Checks {@code dir}, takes its lock and makes the staging folder; {@code option} names the option in errors. */
    static OutputFolder open(Path dir, String option, boolean overwrite) {
        Path abs = dir.toAbsolutePath().normalize();
        if (Files.exists(abs) && !Files.isDirectory(abs)) {
            throw new IllegalArgumentException(option + " " + dir + " is a file; expected a folder (created if missing)");
        }
        Path parent = abs.getParent();
        String name = abs.getFileName().toString();
        createFolder(parent, option, dir);
        HeldLock lock = HeldLock.take(parent.resolve("." + name + ".lock"), option + " " + dir);
        try {
            clearDeadRuns(parent, name);
            if (!overwrite && Files.isDirectory(abs) && !isEmpty(abs)) {
                throw new IllegalArgumentException(option + " " + dir + " already holds files (an earlier run's?); add --overwrite to"
                        + " replace them, or choose another folder");
            }
            // a plain createDirectory keeps the umask's permissions (a temp directory would be private to this user)
            Path staging = parent.resolve("." + name + ".partial-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
            return new OutputFolder(abs, Files.createDirectory(staging), lock);
        } catch (IOException e) {
            lock.release();
            throw new IllegalArgumentException(option + " " + dir + ": cannot write beside it (" + describe(e) + ")");
        } catch (RuntimeException e) {
            lock.release();
            throw e;
        }
    }

    /**
     * What runs that died without cleaning up left beside the folder; only called with the lock held, so no live run
     * owns any of it. Staging folders ({@code .NAME.partial-*}) are deleted. A run killed inside {@link #commit},
     * between moving the earlier folder aside and moving its own into place, left the earlier results as
     * {@code .NAME.old-*} and no folder: they are put back, so the folder is as it was before that run.
     */
    static void clearDeadRuns(Path parent, String name) throws IOException {
        List<Path> partial = new ArrayList<>(), old = new ArrayList<>();
        try (Stream<Path> s = Files.list(parent)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String n = p.getFileName().toString();
                if (n.startsWith("." + name + ".partial-")) {
                    partial.add(p);
                } else if (n.startsWith("." + name + ".old-")) {
                    old.add(p);
                }
            }
        }
        for (Path p : partial) {
            deleteTree(p);
        }
        Path dir = parent.resolve(name);
        for (Path p : old) {
            if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.move(p, dir, StandardCopyOption.ATOMIC_MOVE);
            } else {
                deleteTree(p);
            }
        }
    }

    /** Where the command writes its results. */
    Path staging() {
        return staging;
    }

    /** Writes the manifest last, then puts the results in place of the folder (replacing an earlier one). */
    void commit(List<String> command) throws IOException {
        List<Map<String, Object>> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(staging)) {
            for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile).sorted()::iterator) {
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("path", staging.relativize(p).toString());
                f.put("bytes", Files.size(p));
                files.add(f);
            }
        }
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("command", command);
        manifest.put("version", String.valueOf(Main.class.getPackage().getImplementationVersion()));
        manifest.put("completed", java.time.Instant.now().toString());
        manifest.put("files", files);
        org.solulens.io.Json.write(staging.resolve(MANIFEST), manifest, true);
        Path old = null;
        if (Files.exists(dir)) {
            old = Files.createTempDirectory(dir.getParent(), "." + dir.getFileName() + ".old-");
            Files.delete(old);
            Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
        done = true;
        if (old != null) {
            deleteTree(old);
        }
        lock.release();
        removeHook();
    }

    /** Without {@link #commit}: the staging folder is deleted and the earlier folder, if any, is left as it was. */
    @Override
    public void close() {
        discard();
        removeHook();
    }

    private synchronized void discard() {
        if (!done) {
            done = true;
            deleteTree(staging);
            lock.release();
        }
    }

    private void removeHook() {
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook runs or has run
        }
    }

    private static boolean isEmpty(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void createFolder(Path parent, String option, Path dir) {
        try {
            Files.createDirectories(parent);
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException(option + " " + dir + ": permission denied (cannot create " + e.getFile() + ")");
        } catch (IOException e) {
            throw new IllegalArgumentException(option + " " + dir + ": cannot create the folder (" + describe(e) + ")");
        }
        if (!Files.isWritable(parent)) {
            throw new IllegalArgumentException(option + " " + dir + ": permission denied (" + parent + " is not writable)");
        }
    }

    private static String describe(IOException e) {
        if (e instanceof AccessDeniedException a) {
            return "permission denied: " + a.getFile();
        }
        if (e instanceof java.nio.file.FileAlreadyExistsException f) {
            return "a file, not a folder, is in the way: " + f.getFile();
        }
        if (e instanceof FileSystemException f) {
            return (f.getReason() == null ? e.getClass().getSimpleName() : f.getReason()) + " at " + f.getFile();
        }
        return e.getMessage();
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(OutputFolder::deleteQuietly);
        } catch (IOException e) {
            // best effort: a hidden, clearly partial folder may stay
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // best effort
        }
    }
}
