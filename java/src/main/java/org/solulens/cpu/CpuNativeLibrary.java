package org.solulens.cpu;

import org.solulens.natives.NativeLoader;

/**
 * {@code libsolulens_cpu.so} (native/cpu: the exact sweep's inner loops and the loss's softmax sums for AVX2 CPUs), loaded
 * once per JVM on {@link NativeLoader}'s thread: a second copy of the library would leave its twin uninitialised.
 */
final class CpuNativeLibrary {
    private static final String RESOURCE = "/native/linux-x86_64/libsolulens_cpu.so";
    private static boolean loaded;

    private CpuNativeLibrary() {}

    /** Null once the library is loaded, else why it cannot load here. A failure is not kept: the next call tries again. */
    static synchronized String loadError() {
        if (loaded) {
            return null;
        }
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return "built for linux-x86_64 only, this is " + os + "/" + arch;
        }
        if (CpuNativeLibrary.class.getResource(RESOURCE) == null) {
            return RESOURCE + " is not in this build (built by native/build.sh)";
        }
        try {
            NativeLoader.load("the CPU sweep's inner loops", () -> {
                NativeLoader.loadFromJar(CpuNativeLibrary.class, RESOURCE);
                return null;
            });
        } catch (RuntimeException | LinkageError e) {
            return String.valueOf(e.getCause() != null ? e.getCause() : e);
        }
        loaded = true;
        return null;
    }

    /**
     * The loop {@code -Dsolulens.exp} asks for ({@code auto}, the default: native where it loads and has the Vector
     * API's width here, or the Vector API is absent; else the Vector API's; else scalar). {@code -Dsolulens.scalar=true}
     * means scalar. On a CPU without AVX-512 the native loop's 256 bits are taken to be the Vector API's width without
     * asking it: initialising the Vector API cost a fresh JVM ~0.07 s before the sweep (70 classes; benchmarks/NOTES.md).
     *
     * @param nativeLoop the native loop (a {@code T}) or why it cannot run
     * @param sameWidth whether the native loop's lanes are the Vector API's here (asked only when the module is present)
     * @param vectorLoop made only when chosen: a lambda, not a method reference (linking {@code VectorExpSum::new}
     *        loads the Vector API's classes, which fails in a JVM without the module)
     */
    static <T> T choose(String what, Class<T> type, java.util.function.Supplier<Object> nativeLoop, java.util.function.BooleanSupplier sameWidth,
                        java.util.function.Supplier<T> vectorLoop, T scalarLoop) {
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(CpuNativeLibrary.class);
        String asked = Boolean.getBoolean("solulens.scalar") ? "scalar" : System.getProperty("solulens.exp", "auto");
        if (!java.util.List.of("auto", "native", "vector", "scalar").contains(asked)) {
            throw new IllegalArgumentException("-Dsolulens.exp must be auto, native, vector or scalar, not " + asked);
        }
        boolean vectorModule = vectorModule();
        Object whyNotNative = "not asked for";
        if (asked.equals("native") || asked.equals("auto") && (!vectorModule || cpuKnownWithoutAvx512() || sameWidth.getAsBoolean())) {
            Object loop = nativeLoop.get();
            if (type.isInstance(loop)) {
                log.debug("{}: native", what);
                return type.cast(loop);
            }
            if (asked.equals("native")) {
                throw new IllegalStateException("-Dsolulens.exp=native, but the native " + what + " cannot run: " + loop);
            }
            whyNotNative = loop;
            log.debug("{}: not native ({})", what, loop);
        }
        if (asked.equals("vector") && !vectorModule) {
            throw new IllegalStateException("-Dsolulens.exp=vector needs --add-modules jdk.incubator.vector");
        }
        if (asked.equals("scalar")) {
            log.debug("{}: scalar", what);
            return scalarLoop;
        }
        if (!vectorModule) {
            // neither fast loop: worth a line in the log, with what would give one
            log.info("{}: scalar, several times slower (start java with --add-modules jdk.incubator.vector; the native loop cannot run: {})",
                    what, whyNotNative);
            return scalarLoop;
        }
        return vectorLoop.get();
    }

    /** Whether this JVM was started with the Vector API's module ({@code --add-modules jdk.incubator.vector}). */
    static boolean vectorModule() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** Whether /proc/cpuinfo lists this CPU's flags without AVX-512 (avx512f); false where it cannot be read. */
    static boolean cpuKnownWithoutAvx512() {
        try (java.io.BufferedReader r = java.nio.file.Files.newBufferedReader(java.nio.file.Path.of("/proc/cpuinfo"))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.startsWith("flags")) {
                    return !java.util.Arrays.asList(line.split("\\s+")).contains("avx512f");
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // unknown: the Vector API is asked
        }
        return false;
    }
}
