package org.solulens.cpu;

import java.lang.ref.Reference;
import java.nio.Buffer;
import java.util.Objects;

/**
 * SHA-256 of a direct buffer's bytes in C++ (native/cpu/sha256.cpp): with the CPU's SHA extensions where it has them,
 * else in portable C++. For the constant cache's key ({@link TensorDigests}): a fresh JVM runs Java's SHA-256
 * interpreted or as C1 code until C2 compiles it with those instructions, and digesting solu-1l's W_U took 0.2–0.3 s
 * of a core in a cold sweep (benchmarks/NOTES.md). The same digests as {@code MessageDigest}, which is the path where
 * the library cannot load.
 */
final class NativeSha256 {
    private static final boolean NATIVE = CpuNativeLibrary.loadError() == null;
    private static final boolean SHA_EXTENSIONS = NATIVE && hasShaExtensions0();

    private NativeSha256() {}

    /** Whether digests run natively in this JVM. */
    static boolean isNative() {
        return NATIVE;
    }

    /** Whether this CPU has the SHA extensions (the native digest then uses them). */
    static boolean hasShaExtensions() {
        return SHA_EXTENSIONS;
    }

    /** The SHA-256 of the {@code n} bytes from {@code byteOffset} of the direct {@code buffer} (whatever its position). */
    static byte[] digest(Buffer buffer, long byteOffset, long n) {
        return digest(buffer, byteOffset, n, SHA_EXTENSIONS);
    }

    /** {@link #digest} with or without the SHA extensions (tests; with them only where {@link #hasShaExtensions}). */
    static byte[] digest(Buffer buffer, long byteOffset, long n, boolean withShaExtensions) {
        if (!NATIVE) {
            throw new IllegalStateException("the native digest cannot run here: " + CpuNativeLibrary.loadError());
        }
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("the native digest reads direct buffers only");
        }
        if (withShaExtensions && !SHA_EXTENSIONS) {
            throw new IllegalArgumentException("this CPU has no SHA extensions");
        }
        Objects.checkFromIndexSize(byteOffset, n, bytes(buffer));
        byte[] out = new byte[32];
        digest0(buffer, byteOffset, n, withShaExtensions, out);
        Reference.reachabilityFence(buffer);
        return out;
    }

    /** The buffer's capacity in bytes. */
    private static long bytes(Buffer buffer) {
        int width = buffer instanceof java.nio.ByteBuffer ? 1 : buffer instanceof java.nio.ShortBuffer || buffer instanceof java.nio.CharBuffer ? 2
                : buffer instanceof java.nio.IntBuffer || buffer instanceof java.nio.FloatBuffer ? 4 : 8;
        return (long) width * buffer.capacity();
    }

    private static native boolean hasShaExtensions0();

    private static native void digest0(Buffer buffer, long byteOffset, long n, boolean withShaExtensions, byte[] out);
}
