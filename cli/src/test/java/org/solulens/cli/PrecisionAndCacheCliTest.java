package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.io.Npy;

/** {@code --precision}, {@code --no-cache} and {@code cache list|clear}, with the cache pointed at a temporary folder. */
class PrecisionAndCacheCliTest {
    private static final String PROMPT = "The cat sat on the mat because it was warm";

    @TempDir
    Path tmp;
    private Path cacheDir;

    @BeforeEach
    void pointTheCacheAtATemporaryFolder() {
        cacheDir = tmp.resolve("cache");
        System.setProperty("solulens.cache.dir", cacheDir.toString());
    }

    @AfterEach
    void restore() {
        System.clearProperty("solulens.cache.dir");
    }

    @Test
    void singleAndDoublePrecisionSweepsAgreeAndDoubleIsRefusedOnTheGpuPaths() throws IOException {
        Path single = tmp.resolve("single"), dbl = tmp.resolve("double");
        CliRunner.Outcome o = CliRunner.run("sweep", "--prompt", PROMPT, "--device", "cpu", "--out", single.toString(), "--quiet");
        assertEquals(0, o.code(), o.err());
        o = CliRunner.run("sweep", "--prompt", PROMPT, "--device", "cpu", "--precision", "double", "--no-cache", "--out", dbl.toString(), "--quiet");
        assertEquals(0, o.code(), o.err());
        float[] a = Npy.read(single.resolve("delta_loss.npy")).data(), b = Npy.read(dbl.resolve("delta_loss.npy")).data();
        double worst = 0;
        int differ = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
            differ += a[i] != b[i] ? 1 : 0;
        }
        assertTrue(worst < 1e-6, "max |single - double| " + worst);
        assertTrue(differ > 0, "the two precisions are different paths");
        o = CliRunner.run("sweep", "--prompt", PROMPT, "--device", "emulator", "--precision", "double", "--out", tmp.resolve("e").toString());
        assertEquals(2, o.code(), o.out());
        assertTrue(o.err().contains("--precision double is the CPU's float64 sweep"), o.err());
        o = CliRunner.run("sweep", "--prompt", PROMPT, "--precision", "half", "--out", tmp.resolve("h").toString());
        assertEquals(2, o.code(), o.out());
        assertTrue(o.err().contains("unknown precision 'half'; expected single or double"), o.err());
        // the demo model's B (2 MB) is under the cache's minimum: nothing written
        assertFalse(Files.exists(cacheDir) && Files.list(cacheDir).findAny().isPresent(), "small models are not cached");
    }

    @Test
    void cacheListsAndClearsItsEntries() throws IOException {
        CliRunner.Outcome o = CliRunner.run("cache");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains(cacheDir + " (empty)"), o.out());
        Files.createDirectories(cacheDir);
        Files.write(cacheDir.resolve("b-00ff.bconst"), new byte[3 << 20]);
        Files.writeString(cacheDir.resolve("unrelated.txt"), "kept");
        o = CliRunner.run("cache", "list");
        assertTrue(o.out().contains("b-00ff.bconst") && o.out().contains("1 entries, 3 MB"), o.out());
        o = CliRunner.run("cache", "clear");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("cleared (3 MB freed)"), o.out());
        assertFalse(Files.exists(cacheDir.resolve("b-00ff.bconst")));
        assertTrue(Files.exists(cacheDir.resolve("unrelated.txt")), "only cache entries are deleted");
        o = CliRunner.run("cache", "wipe");
        assertEquals(2, o.code(), o.out());
        assertTrue(o.err().contains("unknown cache action 'wipe'; expected list or clear"), o.err());
    }
}
