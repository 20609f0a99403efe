package org.solulens.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The emulator behaves like a GPU where it matters: barriers, warp shuffles, atomics, launch limits. */
class EmulatorSelfTest {
    private static float[] randomValues(int n, long seed) {
        Random rng = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextInt(1000) / 8;   // exact in float, so sums are exact in any order
        }
        return v;
    }

    @Test
    void aTreeReductionIsExactWithItsBarriersAndWrongWithoutOne() {
        int blocks = 7, threads = 256;
        float[] in = randomValues(blocks * threads, 1);
        try (EmulatedDevice d = new EmulatedDevice(); DeviceTesting.Buffers b = new DeviceTesting.Buffers()) {
            DeviceBuffer input = b.add(DeviceTesting.upload(d, in));
            DeviceBuffer good = b.add(DeviceTesting.poisoned(d, blocks)), bad = b.add(DeviceTesting.poisoned(d, blocks));
            d.launch("emutest_block_sum", Dim3.of(blocks), Dim3.of(threads), 4 * threads, new KernelArgs().ptr(good).ptr(input));
            d.launch("emutest_block_sum_missing_barrier", Dim3.of(blocks), Dim3.of(threads), 4 * threads, new KernelArgs().ptr(bad).ptr(input));
            float[] sums = DeviceTesting.download(d, good, blocks), wrong = DeviceTesting.download(d, bad, blocks);
            for (int k = 0; k < blocks; k++) {
                float expected = 0;
                for (int t = 0; t < threads; t++) {
                    expected += in[k * threads + t];
                }
                assertEquals(expected, sums[k], 0, "block " + k);
                assertNotEquals(expected, wrong[k], "block " + k + ": without the barrier the sum must come out wrong");
            }
        }
    }

    @Test
    void warpShufflesReturnTheLanesCudaDefines() {
        int n = 96;   // three warps
        float[] in = randomValues(n, 2);
        try (EmulatedDevice d = new EmulatedDevice(); DeviceTesting.Buffers b = new DeviceTesting.Buffers()) {
            DeviceBuffer input = b.add(DeviceTesting.upload(d, in)), out = b.add(DeviceTesting.poisoned(d, 3 * n));
            d.launch("emutest_shuffles", Dim3.of(1), Dim3.of(n), 0, new KernelArgs().ptr(out).ptr(input));
            float[] r = DeviceTesting.download(d, out, 3 * n);
            for (int i = 0; i < n; i++) {
                int lane = i % 32, base = i - lane;
                assertEquals(in[base + (lane ^ 1)], r[3 * i], 0, "xor 1 at " + i);
                assertEquals(lane + 3 < 32 ? in[i + 3] : in[i], r[3 * i + 1], 0, "down 3 at " + i);
                assertEquals(in[base + 5], r[3 * i + 2], 0, "from lane 5 at " + i);
            }
        }
    }

    @Test
    void atomicsFromManyBlocksOnSeveralThreadsAddUpExactly() {
        int blocks = 40, threads = 64;
        float[] in = randomValues(blocks * threads, 3);
        try (EmulatedDevice d = new EmulatedDevice(); DeviceTesting.Buffers b = new DeviceTesting.Buffers()) {
            DeviceBuffer input = b.add(DeviceTesting.upload(d, in));
            DeviceBuffer sum = b.add(DeviceTesting.upload(d, new float[1])), count = b.add(DeviceTesting.uploadInts(d, new int[1]));
            d.launch("emutest_atomic_sum", Dim3.of(blocks), Dim3.of(threads), 0, new KernelArgs().ptr(sum).ptr(count).ptr(input));
            float expected = 0;
            for (float v : in) {
                expected += v;
            }
            assertEquals(expected, DeviceTesting.download(d, sum, 1)[0], 0);
            assertEquals(blocks * threads, Float.floatToRawIntBits(DeviceTesting.download(d, count, 1)[0]));
        }
    }

    @Test
    void badLaunchesAndDivergentBarriersAreErrorsNamingTheKernel() {
        try (EmulatedDevice d = new EmulatedDevice(); DeviceTesting.Buffers b = new DeviceTesting.Buffers()) {
            DeviceBuffer out = b.add(d.allocateFloats(2048));
            DeviceException e = assertThrows(DeviceException.class,
                    () -> d.launch("emutest_divergent_barrier", Dim3.of(1), Dim3.of(64), 0, new KernelArgs().ptr(out)));
            assertTrue(e.getMessage().contains("emutest_divergent_barrier") && e.getMessage().contains("__syncthreads()"), e.getMessage());
            e = assertThrows(DeviceException.class,
                    () -> d.launch("emutest_divergent_barrier", Dim3.of(1), Dim3.of(2048), 0, new KernelArgs().ptr(out)));
            assertTrue(e.getMessage().contains("1024 threads per block"), e.getMessage());
            e = assertThrows(DeviceException.class,
                    () -> d.launch("emutest_block_sum", Dim3.of(1), Dim3.of(32), 64 * 1024, new KernelArgs().ptr(out).ptr(out)));
            assertTrue(e.getMessage().contains("48 KiB"), e.getMessage());
            e = assertThrows(DeviceException.class, () -> d.launch("no_such_kernel", Dim3.of(1), Dim3.of(1), 0, new KernelArgs()));
            assertTrue(e.getMessage().contains("no kernel named 'no_such_kernel'"), e.getMessage());
            assertEquals(1, d.liveBuffers());
        }
    }
}
