package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM (what Ctrl-C does too: the JVM's shutdown) ends a run inside a long emulator kernel at once: launches stop
 * between blocks, and nothing at exit waits for the kernel to finish.
 */
class InterruptTest {
    @Test
    void aRunInsideALongEmulatorKernelExitsWithinASecondOfSigterm() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        // bench-sweep at solu-1l's shape on the emulator: building B alone is minutes of kernel launches
        List<String> command = new ArrayList<>(List.of(java.toString(), "--add-modules", "jdk.incubator.vector", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "bench-sweep", "--device", "emulator", "--shape",
                "solu-1l", "--length", "2", "--repeats", "1"));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder seen = new StringBuilder();
            for (String line; (line = out.readLine()) != null; ) {
                seen.append(line).append('\n');
                if (line.startsWith("shape")) {
                    break;   // the table's header: the model is made and the emulator is running its kernels
                }
            }
            assertTrue(seen.toString().contains("shape"), seen.toString());
            Thread.sleep(10_000);   // into the long launches of B (earlier ones last a second or two)
            assertTrue(process.isAlive(), "the run ended by itself: " + seen);
            long start = System.nanoTime();
            process.destroy();   // SIGTERM
            boolean ended = process.waitFor(30, TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(ended, "still running 30 s after SIGTERM");
            assertTrue(seconds < 1.0, "exited " + seconds + " s after SIGTERM");
        } finally {
            process.destroyForcibly();
        }
    }
}
