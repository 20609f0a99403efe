package org.solulens.gpu;

import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * A device that counts the launches of each kernel and reports as much free memory as a test says, so that tests
 * can see how work is split into launches and force the memory-bounded chunking on any device.
 */
final class InstrumentedDevice implements Device {
    private final Device inner;
    private final long freeBytes;
    final Map<String, Integer> launches = new HashMap<>();

    InstrumentedDevice(Device inner, long freeBytes) {
        this.inner = inner;
        this.freeBytes = freeBytes;
    }

    int launches(String kernel) {
        return launches.getOrDefault(kernel, 0);
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        return inner.allocate(bytes);
    }

    @Override
    public void copyToDevice(DeviceBuffer dst, Buffer src) {
        inner.copyToDevice(dst, src);
    }

    @Override
    public void copyToHost(FloatBuffer dst, DeviceBuffer src, long offsetFloats) {
        inner.copyToHost(dst, src, offsetFloats);
    }

    @Override
    public void launch(String kernel, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        launches.merge(kernel, 1, Integer::sum);
        inner.launch(kernel, grid, block, sharedBytes, args);
    }

    @Override
    public boolean blasGemm(DeviceBuffer c, long cOffset, DeviceBuffer a, long aOffset, DeviceBuffer b, long bOffset,
                            int m, int n, int k, int lda, int ldb, int ldc) {
        return inner.blasGemm(c, cOffset, a, aOffset, b, bOffset, m, n, k, lda, ldb, ldc);
    }

    @Override
    public void synchronize() {
        inner.synchronize();
    }

    @Override
    public long freeBytes() {
        return Math.min(freeBytes, inner.freeBytes());
    }

    @Override
    public long liveBuffers() {
        return inner.liveBuffers();
    }

    @Override
    public void close() {
        inner.close();
    }
}
