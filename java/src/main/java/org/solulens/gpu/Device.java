package org.solulens.gpu;

import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;

/**
 * The seam between SoluLens's GPU orchestration and what runs the kernels: a real GPU ({@link CudaDevice}) or the
 * CPU emulator ({@link EmulatedDevice}). Everything above it — buffer lifetimes, argument packing, kernel order —
 * is the same code on both. Host buffers passed in are direct (off-heap).
 */
public interface Device extends AutoCloseable {
    /** "cuda (NVIDIA H100 ...)" or "emulator". */
    String name();

    DeviceBuffer allocate(long bytes);

    default DeviceBuffer allocateFloats(long count) {
        return allocate(4 * Math.max(1, count));
    }

    /** Copies src's remaining elements (a direct float, int or long buffer) to the start of dst. */
    void copyToDevice(DeviceBuffer dst, Buffer src);

    /** Bytes in a direct buffer's remaining elements. */
    static long bytesOf(Buffer b) {
        if (b instanceof FloatBuffer || b instanceof IntBuffer) {
            return 4L * b.remaining();
        }
        if (b instanceof LongBuffer) {
            return 8L * b.remaining();
        }
        throw new IllegalArgumentException("copies take float, int or long buffers, not " + b.getClass().getSimpleName());
    }

    /** Copies dst.remaining() floats from {@code src}, starting {@code offsetFloats} floats in. */
    void copyToHost(FloatBuffer dst, DeviceBuffer src, long offsetFloats);

    /** A new buffer holding {@code values}. */
    default DeviceBuffer upload(float[] values) {
        FloatBuffer host = org.lwjgl.system.MemoryUtil.memAllocFloat(Math.max(1, values.length));
        try {
            host.put(values).flip();
            DeviceBuffer b = allocateFloats(values.length);
            return filled(b, host);
        } finally {
            org.lwjgl.system.MemoryUtil.memFree(host);
        }
    }

    /** {@code b} after copying {@code host} into it; if the copy fails, b is freed (nothing leaks) and the failure thrown. */
    private DeviceBuffer filled(DeviceBuffer b, Buffer host) {
        try {
            copyToDevice(b, host);
            return b;
        } catch (RuntimeException e) {
            throw Closing.after(e, b);
        }
    }

    /** A new buffer holding {@code values} narrowed to float32. */
    default DeviceBuffer upload(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return upload(f);
    }

    default DeviceBuffer upload(int[] values) {
        IntBuffer host = org.lwjgl.system.MemoryUtil.memAllocInt(Math.max(1, values.length));
        try {
            host.put(values).flip();
            DeviceBuffer b = allocate(4L * Math.max(1, values.length));
            return filled(b, host);
        } finally {
            org.lwjgl.system.MemoryUtil.memFree(host);
        }
    }

    default DeviceBuffer upload(long[] values) {
        LongBuffer host = org.lwjgl.system.MemoryUtil.memAllocLong(Math.max(1, values.length));
        try {
            host.put(values).flip();
            DeviceBuffer b = allocate(8L * Math.max(1, values.length));
            return filled(b, host);
        } finally {
            org.lwjgl.system.MemoryUtil.memFree(host);
        }
    }

    /** {@code count} floats from {@code src}, starting {@code offsetFloats} in, widened to double. */
    default double[] download(DeviceBuffer src, long offsetFloats, int count) {
        FloatBuffer host = org.lwjgl.system.MemoryUtil.memAllocFloat(Math.max(1, count));
        try {
            host.limit(count);
            copyToHost(host, src, offsetFloats);
            double[] out = new double[count];
            for (int i = 0; i < count; i++) {
                out[i] = host.get(i);
            }
            return out;
        } finally {
            org.lwjgl.system.MemoryUtil.memFree(host);
        }
    }

    /** Launches a kernel of the fatbin by name; errors name the kernel and the launch shape. */
    void launch(String kernel, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args);

    /**
     * {@code C = A B} (row-major, leading dimensions, offsets in floats) by the device's BLAS library; returns false
     * when it has none, and the caller launches SoluLens's own matmul kernel instead.
     */
    default boolean blasGemm(DeviceBuffer c, long cOffset, DeviceBuffer a, long aOffset, DeviceBuffer b, long bOffset,
                             int m, int n, int k, int lda, int ldb, int ldc) {
        return false;
    }

    void synchronize();

    /** Free device memory in bytes, for sizing work (the emulator: unbounded). */
    default long freeBytes() {
        return Long.MAX_VALUE;
    }

    /** Device buffers allocated and not yet freed (for leak checks). */
    long liveBuffers();

    @Override
    void close();
}
