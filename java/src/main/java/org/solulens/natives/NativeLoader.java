package org.solulens.natives;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads native libraries on a thread of its own, which nothing ever interrupts.
 *
 * <p>Why: the first load on a machine extracts the library from its jar, and the extractions we depend on write
 * through interruptible NIO channels (JavaCPP takes a file lock on its cache, the emulator and DJL copy with
 * {@code Files.copy}). An interrupt of the loading thread in that window (a pipeline cancelling its workers, Ctrl-C,
 * an embedding application's pool shutting down) fails the load, and when the load ran inside a class initializer
 * that class stays unusable for the life of the JVM. Here the caller waits for the loader thread without reacting to
 * interrupts and gets its interrupt status back afterwards; a failed attempt is tried again after a pause, and
 * nothing remembers a failure: the next call tries again.
 */
public final class NativeLoader {
    private static final Logger log = LoggerFactory.getLogger(NativeLoader.class);
    /** Attempts per call, and the pause before each retry (an antivirus scan or a full cache folder may pass). */
    static final int ATTEMPTS = 3;
    private static final long[] PAUSE_MILLIS = {0, 100, 400};

    /** One thread, made when needed and ended after a few idle seconds, so that a JVM keeps no thread for it. */
    private static final ThreadPoolExecutor LOADER = new ThreadPoolExecutor(0, 1, 5, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
            LoaderThread::new);

    private static final class LoaderThread extends Thread {
        LoaderThread(Runnable task) {
            super(task, "solulens-native-loader");
            setDaemon(true);
        }
    }

    private NativeLoader() {}

    /**
     * Runs {@code load} on the loader thread and returns its value; {@code what} names the library in the log.
     * Called from the loader thread itself (a load that needs another), it runs in place.
     *
     * @throws LinkageError or a runtime exception: the last attempt's failure, as {@code load} threw it (a checked
     *         exception wrapped in an {@link IllegalStateException})
     */
    public static <T> T load(String what, Callable<T> load) {
        if (Thread.currentThread() instanceof LoaderThread) {
            return attempts(what, load);
        }
        Future<T> result = LOADER.submit(() -> attempts(what, load));
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return result.get();
                } catch (InterruptedException e) {
                    interrupted = true;   // a load lasts a second at most; the interrupt is handed back below
                } catch (ExecutionException e) {
                    throw rethrow(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Copies the library {@code resource} out of {@code owner}'s jar into a fresh temporary folder and loads it: for the
     * project's own JNI libraries, called inside {@link #load}. The copy and its folder are deleted as soon as the
     * library is loaded (a loaded library stays mapped after its file is gone), so that no run, not even a killed one,
     * leaves anything in the temporary folder.
     */
    public static void loadFromJar(Class<?> owner, String resource) throws java.io.IOException {
        loadFromJar(owner, resource, java.nio.file.Path.of(System.getProperty("java.io.tmpdir")));
    }

    static void loadFromJar(Class<?> owner, String resource, java.nio.file.Path tempParent) throws java.io.IOException {
        try (java.io.InputStream in = owner.getResourceAsStream(resource)) {
            if (in == null) {
                throw new java.io.FileNotFoundException(resource + " is not in " + owner.getName() + "'s jar");
            }
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory(tempParent, "solulens-native");
            java.nio.file.Path lib = dir.resolve(resource.substring(resource.lastIndexOf('/') + 1));
            try {
                java.nio.file.Files.copy(in, lib);
                System.load(lib.toString());
            } finally {
                deleteNowOrAtExit(lib, dir);
            }
        }
    }

    /**
     * Deletes {@code file}, then {@code dir}; where a system will not delete a loaded library, both at exit, in that
     * order ({@code deleteOnExit} deletes in the reverse order of registration: the folder must be registered first).
     */
    private static void deleteNowOrAtExit(java.nio.file.Path file, java.nio.file.Path dir) {
        try {
            java.nio.file.Files.deleteIfExists(file);
            java.nio.file.Files.deleteIfExists(dir);
        } catch (java.io.IOException | SecurityException e) {
            dir.toFile().deleteOnExit();
            file.toFile().deleteOnExit();
        }
    }

    /** Initialises {@code className} (whose static initializer loads its native library) on the loader thread. */
    public static void initialize(String className) {
        load(className, () -> Class.forName(className, true, NativeLoader.class.getClassLoader()));
    }

    private static <T> T attempts(String what, Callable<T> load) {
        Throwable last = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            try {
                Thread.sleep(PAUSE_MILLIS[attempt]);
                return load.call();
            } catch (Exception | LinkageError e) {
                last = e;
                log.debug("loading {}: attempt {} of {} failed", what, attempt + 1, ATTEMPTS, e);
            }
        }
        throw rethrow(last);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        if (t instanceof RuntimeException r) {
            return r;
        }
        return new IllegalStateException(t.getMessage(), t);
    }
}
