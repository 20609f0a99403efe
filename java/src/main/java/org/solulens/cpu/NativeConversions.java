package org.solulens.cpu;

import java.lang.ref.Reference;
import java.nio.Buffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Objects;

/**
 * Float/double conversions of the CPU backend's large products: widening a float32 weight for dgemm (W_U: 24.7M values
 * for solu-1l) and rounding dgemm's double rows to float32 (the sweep's B: 98.8M). In C++ (native/cpu) where the
 * library loads and the CPU has AVX2, else in Java; the same values either way (widening is exact, rounding is IEEE
 * round-to-nearest in both). Native because a fresh JVM runs these loops interpreted and then compiled twice before they
 * reach memory speed: in a cold 64-token sweep B's rounding took ~0.3 s of wall time in Java (benchmarks/NOTES.md).
 */
final class NativeConversions {
    private static final boolean NATIVE = load();

    private NativeConversions() {}

    private static boolean load() {
        return CpuNativeLibrary.loadError() == null && init0() == null;
    }

    /** Whether the conversions run natively in this JVM. */
    static boolean isNative() {
        return NATIVE;
    }

    /** {@code dst[dstIndex + i] = src[srcIndex + i]} for i < n, dst the {@code n} doubles at native address {@code dst}. */
    static void widen(FloatBuffer src, int srcIndex, long dst, int n) {
        Objects.checkFromIndexSize(srcIndex, n, src.capacity());
        if (NATIVE && src.isDirect() && src.order() == java.nio.ByteOrder.nativeOrder()) {
            widen0(src, srcIndex, dst, n);
            Reference.reachabilityFence(src);
            return;
        }
        float[] floats = new float[Math.min(n, 1 << 16)];
        double[] doubles = new double[floats.length];
        for (int done = 0; done < n; ) {
            int len = Math.min(floats.length, n - done);
            src.get(srcIndex + done, floats, 0, len);
            for (int j = 0; j < len; j++) {
                doubles[j] = floats[j];
            }
            org.lwjgl.system.MemoryUtil.memDoubleBuffer(dst + 8L * done, len).put(doubles, 0, len);
            done += len;
        }
    }

    /**
     * {@code dst[dstIndex + i] = (float) src[srcIndex + i]} for i < n; returns the largest {@code |dst[dstIndex + i]|}
     * (0 for n = 0; NaN when one is NaN).
     */
    static float narrow(DoubleBuffer src, int srcIndex, FloatBuffer dst, int dstIndex, int n) {
        Objects.checkFromIndexSize(srcIndex, n, src.capacity());
        Objects.checkFromIndexSize(dstIndex, n, dst.capacity());
        if (dst.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
        }
        if (NATIVE && src.isDirect() && dst.isDirect() && src.order() == java.nio.ByteOrder.nativeOrder()
                && dst.order() == java.nio.ByteOrder.nativeOrder()) {
            float largest = narrow0(src, srcIndex, dst, dstIndex, n);
            Reference.reachabilityFence(src);
            Reference.reachabilityFence(dst);
            return largest;
        }
        return narrowInJava(src, srcIndex, dst, dstIndex, n);
    }

    /** {@link #narrow} in Java: the oracle of the tests, and the path where the native one cannot run. */
    static float narrowInJava(DoubleBuffer src, int srcIndex, FloatBuffer dst, int dstIndex, int n) {
        float[] row = new float[Math.min(n, 1 << 16)];
        float largest = 0;
        boolean nan = false;
        for (int done = 0; done < n; ) {
            int len = Math.min(row.length, n - done);
            for (int c = 0; c < len; c++) {
                float x = (float) src.get(srcIndex + done + c);
                row[c] = x;
                float magnitude = Math.abs(x);
                nan |= magnitude != magnitude;
                largest = Math.max(largest, magnitude);
            }
            dst.put(dstIndex + done, row, 0, len);
            done += len;
        }
        return nan ? Float.NaN : largest;
    }

    private static native String init0();

    private static native void widen0(Buffer src, long srcIndex, long dst, long n);

    private static native float narrow0(Buffer src, long srcIndex, Buffer dst, long dstIndex, long n);
}
