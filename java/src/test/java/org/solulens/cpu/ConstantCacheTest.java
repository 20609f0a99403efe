package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;

/** The per-user cache of B: hit, miss, damaged files, racing writers, a read-only folder, the size bound. */
class ConstantCacheTest {
    @TempDir
    Path dir;

    private static final ModelConfig CFG = TestModels.config(16, 24, 2, 8, 16, 301, ActivationFunction.SOLU_LN);

    private ConstantCache cache() {
        return new ConstantCache(dir, 1L << 30, 0);
    }

    /** B as a fresh, uncached SweepConstants makes it. */
    private static float[] built(SoluModel model, boolean z) {
        SweepConstants k = new SweepConstants(model.config(), model.weights());
        return k.bMatrix(z ? k.zRows() : k.outRows());
    }

    private static float[] viaCache(SoluModel model, ConstantCache cache, boolean z) {
        SweepConstants k = new SweepConstants(model.config(), model.weights(), cache);
        return k.bMatrix(z ? k.zRows() : k.outRows());
    }

    private List<Path> entries() throws IOException {
        return cache().list().stream().map(ConstantCache.Item::file).toList();
    }

    @Test
    void aMissWritesTheEntryAndAHitReadsTheSameBits() throws IOException {
        SoluModel model = TestModels.random(CFG, 1);
        float[] expected = built(model, false);
        assertArrayEquals(expected, viaCache(model, cache(), false));
        assertEquals(1, entries().size(), "one entry after the miss");
        Path file = entries().get(0);
        FileTime written = Files.getLastModifiedTime(file);
        Files.setLastModifiedTime(file, FileTime.fromMillis(written.toMillis() - 60_000));
        assertArrayEquals(expected, viaCache(model, cache(), false));
        assertTrue(Files.getLastModifiedTime(file).toMillis() > written.toMillis() - 60_000, "a hit marks the entry as used");
        assertEquals(1, entries().size());
        // the other direction kind, and other weights, are other entries
        assertArrayEquals(built(model, true), viaCache(model, cache(), true));
        SoluModel other = TestModels.random(CFG, 2);
        assertArrayEquals(built(other, false), viaCache(other, cache(), false));
        assertEquals(3, entries().size());
    }

    @Test
    void aHitDoesNotRebuild() throws IOException {
        SoluModel model = TestModels.random(CFG, 3);
        viaCache(model, cache(), false);
        Path file = entries().get(0);
        // overwrite one value in place and fix the checksum, as if the cached B had been built from other numbers:
        // a hit must return what the file holds, proving that nothing was rebuilt
        ConstantCache.Entry entry = cache().read(keyOf(file), CFG.dMlp(), CFG.dVocab());
        assertNotNull(entry);
        entry.b()[5] = 12345f;
        cache().write(keyOf(file), CFG.dMlp(), CFG.dVocab(), entry);
        assertEquals(12345f, viaCache(model, cache(), false)[5]);
    }

    @Test
    void aCorruptedOrTruncatedEntryIsRebuiltAndRewritten() throws IOException {
        SoluModel model = TestModels.random(CFG, 4);
        float[] expected = built(model, false);
        viaCache(model, cache(), false);
        Path file = entries().get(0);
        long size = Files.size(file);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(size - 10);
            int x = f.read();
            f.seek(size - 10);
            f.write(x ^ 0x40);     // one flipped bit in B
        }
        assertNull(cache().read(keyOf(file), CFG.dMlp(), CFG.dVocab()), "the checksum catches a flipped bit");
        assertFalse(Files.exists(file), "the damaged entry is deleted");
        assertArrayEquals(expected, viaCache(model, cache(), false));
        assertEquals(size, Files.size(file), "rebuilt and written again");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size / 2);
        }
        assertArrayEquals(expected, viaCache(model, cache(), false));
        assertEquals(size, Files.size(file), "a truncated entry is rebuilt");
        Files.write(file, new byte[0]);
        assertArrayEquals(expected, viaCache(model, cache(), false));
        assertEquals(size, Files.size(file), "an empty entry is rebuilt");
    }

    @Test
    void writersRacingOnTheSameEntryLeaveOneValidFileAndNoTemporaries() throws Exception {
        SoluModel model = TestModels.random(CFG, 5);
        float[] expected = built(model, false);
        int writers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<float[]>> results = new java.util.ArrayList<>();
            for (int i = 0; i < writers; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return viaCache(model, new ConstantCache(dir, 1L << 30, 0), false);
                }));
            }
            start.countDown();
            for (Future<float[]> r : results) {
                assertArrayEquals(expected, r.get());
            }
        } finally {
            pool.shutdownNow();
        }
        try (var files = Files.list(dir)) {
            List<Path> all = files.toList();
            assertEquals(1, all.size(), "one entry, no temporary files: " + all);
        }
        assertArrayEquals(expected, viaCache(model, cache(), false));
    }

    @Test
    void twoProcessesRacingToWriteLeaveAValidEntry() throws Exception {
        // two JVMs build and write the same entry at once; then this one must read it as a hit
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> children = new java.util.ArrayList<>();
        for (int i = 0; i < 2; i++) {
            children.add(new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                    Writer.class.getName(), dir.toString()).redirectErrorStream(true).start());
        }
        for (Process p : children) {
            String out = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.waitFor(), out);
        }
        SoluModel model = TestModels.random(CFG, 6);
        assertEquals(1, entries().size());
        Path file = entries().get(0);
        assertNotNull(cache().read(keyOf(file), CFG.dMlp(), CFG.dVocab()), "the entry verifies");
        assertArrayEquals(built(model, false), viaCache(model, cache(), false));
    }

    /** Builds seed 6's B through the cache in {@code args[0]}: the racing process. */
    static final class Writer {
        public static void main(String[] args) {
            viaCache(TestModels.random(CFG, 6), new ConstantCache(Path.of(args[0]), 1L << 30, 0), false);
        }
    }

    @Test
    void aReadOnlyFolderFallsBackToBuildingInMemory() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.getFileStore(dir).supportsFileAttributeView("posix"), "POSIX permissions");
        Path ro = Files.createDirectory(dir.resolve("ro"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            org.junit.jupiter.api.Assumptions.assumeFalse(Files.isWritable(ro), "running as a user who can write anywhere (root)");
            SoluModel model = TestModels.random(CFG, 7);
            ConstantCache readOnly = new ConstantCache(ro, 1L << 30, 0);
            assertArrayEquals(built(model, false), viaCache(model, readOnly, false));
            assertArrayEquals(built(model, false), viaCache(model, readOnly, false));
            assertTrue(readOnly.list().isEmpty());
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void aCacheFolderThatIsAFileFallsBackToBuildingInMemory() throws IOException {
        // works for root too: nothing can be created under a regular file
        Path notADir = Files.writeString(dir.resolve("not-a-folder"), "x");
        SoluModel model = TestModels.random(CFG, 8);
        ConstantCache broken = new ConstantCache(notADir.resolve("cache"), 1L << 30, 0);
        assertArrayEquals(built(model, false), viaCache(model, broken, false));
        assertTrue(broken.list().isEmpty());
    }

    @Test
    void theLeastRecentlyUsedEntriesGoFirstWhenTheBoundIsPassed() throws IOException {
        long entryBytes = 8L * CFG.dMlp() + 4L * CFG.dMlp() * CFG.dVocab() + 56;
        ConstantCache bounded = new ConstantCache(dir, 2 * entryBytes + 10, 0);
        SoluModel m1 = TestModels.random(CFG, 11), m2 = TestModels.random(CFG, 12), m3 = TestModels.random(CFG, 13);
        viaCache(m1, bounded, false);
        Path first = entries().get(0);
        Files.setLastModifiedTime(first, FileTime.fromMillis(System.currentTimeMillis() - 120_000));
        viaCache(m2, bounded, false);
        Path second = entries().stream().filter(p -> !p.equals(first)).findFirst().orElseThrow();
        Files.setLastModifiedTime(second, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        viaCache(m1, bounded, false);    // a hit: m1 becomes the most recently used
        viaCache(m3, bounded, false);    // over the bound: m2, the least recently used, goes
        List<Path> left = entries();
        assertEquals(2, left.size(), left.toString());
        assertTrue(left.contains(first), "the entry used again stays");
        assertFalse(left.contains(second), "the least recently used entry was evicted");
        assertEquals(2 * entryBytes, bounded.list().stream().mapToLong(ConstantCache.Item::bytes).sum());
    }

    @Test
    void smallEntriesAreNotCachedAndClearEmptiesTheFolder() throws IOException {
        SoluModel model = TestModels.random(CFG, 14);
        ConstantCache onlyLarge = new ConstantCache(dir, 1L << 30, 1L << 20);
        assertArrayEquals(built(model, false), viaCache(model, onlyLarge, false));
        assertTrue(entries().isEmpty(), "a 29 KB B is not worth a file under a 1 MB minimum");
        viaCache(model, cache(), false);
        viaCache(model, cache(), true);
        Files.writeString(dir.resolve(entries().get(0).getFileName() + ".tmp-1-2"), "left by a killed writer");
        assertTrue(cache().clear() > 0);
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }

    @Test
    void theDefaultFolderFollowsTheEnvironmentConventions() {
        Path d = ConstantCache.defaultDir();
        assertTrue(d.endsWith(Path.of("solulens", "constants")) || System.getenv("SOLULENS_CACHE_DIR") != null, d.toString());
    }

    /** The key is the file name's hex digest. */
    private static byte[] keyOf(Path file) {
        String name = file.getFileName().toString();
        return java.util.HexFormat.of().parseHex(name.substring(2, name.indexOf('.')));
    }
}
