package org.solulens.gpu;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.lwjgl.system.MemoryUtil;

/** Devices to test on (the emulator always; CUDA where it can run) and host-buffer helpers. */
final class DeviceTesting {
    private DeviceTesting() {}

    /** "emulator", and "cuda" when a GPU can run here (the CUDA cases are skipped with the reason otherwise). */
    static Stream<String> devices() {
        return Stream.of("emulator", "cuda");
    }

    static Device open(String kind) {
        if (kind.equals("cuda")) {
            String why = CudaDevice.unavailableReason();
            org.junit.jupiter.api.Assumptions.assumeTrue(why == null, "no CUDA here: " + why);
            return new CudaDevice();
        }
        return new EmulatedDevice();
    }

    static DeviceBuffer upload(Device d, float[] values) {
        DeviceBuffer b = d.allocateFloats(values.length);
        FloatBuffer host = MemoryUtil.memAllocFloat(Math.max(1, values.length));
        try {
            host.put(values).flip();
            d.copyToDevice(b, host);
        } finally {
            MemoryUtil.memFree(host);
        }
        return b;
    }

    static DeviceBuffer upload(Device d, double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return upload(d, f);
    }

    static DeviceBuffer uploadInts(Device d, int[] values) {
        DeviceBuffer b = d.allocate(4L * Math.max(1, values.length));
        IntBuffer host = MemoryUtil.memAllocInt(Math.max(1, values.length));
        try {
            host.put(values).flip();
            d.copyToDevice(b, host);
        } finally {
            MemoryUtil.memFree(host);
        }
        return b;
    }

    /** A buffer filled with NaN, so that elements a kernel fails to write show up. */
    static DeviceBuffer poisoned(Device d, int count) {
        float[] nan = new float[count];
        java.util.Arrays.fill(nan, Float.NaN);
        return upload(d, nan);
    }

    static float[] download(Device d, DeviceBuffer b, int count) {
        FloatBuffer host = MemoryUtil.memAllocFloat(Math.max(1, count));
        try {
            host.limit(count);
            d.copyToHost(host, b, 0);
            float[] out = new float[count];
            host.get(out);
            return out;
        } finally {
            MemoryUtil.memFree(host);
        }
    }

    /** Closes buffers at the end of a test. */
    static final class Buffers implements AutoCloseable {
        final List<DeviceBuffer> list = new ArrayList<>();

        DeviceBuffer add(DeviceBuffer b) {
            list.add(b);
            return b;
        }

        @Override
        public void close() {
            list.forEach(DeviceBuffer::close);
        }
    }
}
