package org.solulens.gpu;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Devices to test on (the emulator always; CUDA where it can run) and host-buffer helpers. */
final class DeviceTesting {
    private DeviceTesting() {}

    /**
     * "emulator" and "cuda" (the CUDA cases are skipped with the reason where no GPU can run), or the devices the
     * property {@code solulens.test.devices} names: the stand-in driver's test run (pom.xml) asks for "cuda" only.
     */
    static Stream<String> devices() {
        String only = System.getProperty("solulens.test.devices", "").trim();
        return only.isEmpty() ? Stream.of("emulator", "cuda") : Stream.of(only.split(","));
    }

    static Device open(String kind) {
        if (kind.equals("cuda")) {
            String why = CudaDevice.unavailableReason();
            if (!System.getProperty("solulens.test.devices", "").isBlank()) {
                org.solulens.testing.KernelBuild.assumeKernelsUnlessCi();
                org.junit.jupiter.api.Assertions.assertNull(why, "CUDA was asked for (solulens.test.devices) and cannot run");
            }
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
