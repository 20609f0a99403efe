package org.solulens.gpu;

import org.solulens.natives.NativeLoader;

/** The JNI entry points of the CPU emulator (native/emulator), loaded from the jar on first use. */
final class EmulatorNative {
    private static final String RESOURCE = "/native/linux-x86_64/libsolulens_emulator.so";
    private static boolean loaded;

    private EmulatorNative() {}

    /** Why the library can never load in this JVM (another platform, a build without it), or null. */
    private static String missing() {
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return "the emulator is built for linux-x86_64 only, this is " + os + "/" + arch;
        }
        if (EmulatorNative.class.getResource(RESOURCE) == null) {
            return "the emulator library " + RESOURCE + " is not in this build (built by native/build.sh)";
        }
        return null;
    }

    /**
     * Loads the library if it is not loaded yet (on {@link NativeLoader}'s thread, which no interrupt reaches: the copy
     * out of the jar fails on an interrupt) and returns null, or else why it cannot load. A failure is not kept: the
     * next call tries again.
     */
    static synchronized String loadError() {
        if (loaded) {
            return null;
        }
        String missing = missing();
        if (missing != null) {
            return missing;
        }
        try {
            NativeLoader.load("the CPU emulator", () -> {
                NativeLoader.initialize("org.lwjgl.system.MemoryUtil");   // the emulator's device memory
                NativeLoader.loadFromJar(EmulatorNative.class, RESOURCE);
                return null;
            });
        } catch (RuntimeException | LinkageError e) {
            Throwable cause = e instanceof IllegalStateException && e.getCause() != null ? e.getCause() : e;
            return String.valueOf(cause.getMessage());
        }
        loaded = true;
        // At exit (Ctrl-C, SIGTERM, System.exit) a launch in progress stops at its next block instead of
        // holding the process until the kernel finishes.
        Runtime.getRuntime().addShutdownHook(new Thread(EmulatorNative::cancel, "solulens-emulator-cancel"));
        return null;
    }

    /** "name signature" for every kernel of the emulator, the signature one letter per parameter (p, i, l, f). */
    static native String[] kernels();

    /** Stops every launch, running or to come, between blocks: for a process that is shutting down. */
    static native void cancel();

    /** Returns null on success, else the error. {@code args}: one 8-byte slot per argument. */
    static native String launch(String kernel, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes, long[] args, int workers);
}
