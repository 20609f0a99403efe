package org.solulens.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The JNI entry points of the CPU emulator (native/emulator), loaded from the jar on first use. */
final class EmulatorNative {
    private static final String RESOURCE = "/native/linux-x86_64/libsolulens_emulator.so";
    private static String loadError;

    static {
        try {
            load();
            // At exit (Ctrl-C, SIGTERM, System.exit) a launch in progress stops at its next block instead of
            // holding the process until the kernel finishes.
            Runtime.getRuntime().addShutdownHook(new Thread(EmulatorNative::cancel, "solulens-emulator-cancel"));
        } catch (IOException | LinkageError e) {
            loadError = e.getMessage();
        }
    }

    private EmulatorNative() {}

    private static void load() throws IOException {
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new IOException("the emulator is built for linux-x86_64 only, this is " + os + "/" + arch);
        }
        try (InputStream in = EmulatorNative.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("the emulator library " + RESOURCE + " is not in this build (built by native/build.sh)");
            }
            Path dir = Files.createTempDirectory("solulens-emulator");
            Path lib = dir.resolve("libsolulens_emulator.so");
            Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
            lib.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            System.load(lib.toString());
        }
    }

    /** Null when the library loaded, else why not. */
    static String loadError() {
        return loadError;
    }

    /** "name signature" for every kernel of the emulator, the signature one letter per parameter (p, i, l, f). */
    static native String[] kernels();

    /** Stops every launch, running or to come, between blocks: for a process that is shutting down. */
    static native void cancel();

    /** Returns null on success, else the error. {@code args}: one 8-byte slot per argument. */
    static native String launch(String kernel, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes, long[] args, int workers);
}
