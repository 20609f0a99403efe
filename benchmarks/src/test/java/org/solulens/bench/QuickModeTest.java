package org.solulens.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The benchmarks' quick mode: every kernel runs on the CPU and the emulator and yields a time and a floor. */
class QuickModeTest {
    @Test
    void everyKernelRunsOnTheCpuAndTheEmulator() throws Exception {
        List<Benchmarks.Row> rows = Benchmarks.run(new String[] {"--quick", "--devices", "cpu,emulator"}, false);
        for (String device : List.of("cpu", "emulator")) {
            for (String kernel : KernelCase.KERNELS) {
                long found = rows.stream().filter(r -> r.device().equals(device) && r.kernel().equals(kernel)).count();
                assertEquals(1, found, kernel + " on " + device);
            }
        }
        for (Benchmarks.Row r : rows) {
            assertTrue(r.seconds() > 0 && Double.isFinite(r.seconds()), r.toString());
        }
        Map<String, double[]> rates = Benchmarks.referenceRates(rows);
        for (double[] rate : rates.values()) {
            for (double x : rate) {
                assertTrue(x > 0 && Double.isFinite(x), "reference rates " + java.util.Arrays.toString(rate));
            }
        }
    }

    @Test
    void unknownKernelIsRefusedByName() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Benchmarks.run(new String[] {"--kernels", "softmax"}, false));
        assertEquals("unknown kernel 'softmax'", e.getMessage());
    }
}
