package org.solulens.gpu;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

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
        return d.upload(values);
    }

    static DeviceBuffer upload(Device d, double[] values) {
        return d.upload(values);
    }

    static DeviceBuffer uploadInts(Device d, int[] values) {
        return d.upload(values);
    }

    /** A buffer filled with NaN, so that elements a kernel fails to write show up. */
    static DeviceBuffer poisoned(Device d, int count) {
        float[] nan = new float[count];
        java.util.Arrays.fill(nan, Float.NaN);
        return upload(d, nan);
    }

    static float[] download(Device d, DeviceBuffer b, int count) {
        double[] values = d.download(b, 0, count);
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = (float) values[i];
        }
        return out;
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
