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
        return k.bMatrix(z ? k.zRows() : k.outRows()).array();
    }

    private static float[] viaCache(SoluModel model, ConstantCache cache, boolean z) {
        SweepConstants k = new SweepConstants(model.config(), model.weights(), cache);
        return k.bMatrix(z ? k.zRows() : k.outRows()).array();
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
    void sweepsOnACachedBGiveTheBitsOfSweepsOnABuiltInMemory() {
        // a miss builds B straight into its file's mapping, a hit reads it in place: the single path's native loop reads
        // the mapping, the double path and the Java loops read copies; every Δloss must be the in-memory B's, bit for bit
        ModelConfig cfg = TestModels.config(16, 40, 2, 8, 32, 4001, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 9);
        int[] tokens = TestModels.randomTokens(new java.util.Random(9), 10, cfg.dVocab());
        for (SweepPrecision precision : SweepPrecision.values()) {
            for (org.solulens.backend.Ablation ablation : List.of(org.solulens.backend.Ablation.zero(org.solulens.backend.Ablation.Site.POST),
                    org.solulens.backend.Ablation.zero(org.solulens.backend.Ablation.Site.MID))) {
                org.solulens.backend.SweepRequest req = new org.solulens.backend.SweepRequest(ablation,
                        org.solulens.backend.SweepMethod.EXACT, null, false);
                double[] expected = sweep(model, tokens, req, precision, null);
                double[] miss = sweep(model, tokens, req, precision, cache());
                double[] hit = sweep(model, tokens, req, precision, cache());
                for (int i = 0; i < expected.length; i++) {
                    String what = precision + " " + ablation.label() + " pair " + i;
                    assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(miss[i]), what + " (miss)");
                    assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(hit[i]), what + " (hit)");
                }
            }
        }
        SweepConstants k = new SweepConstants(cfg, model.weights(), cache());
        assertNotNull(k.bMatrix(k.outRows()).mapped(), "a hit is read in place");
        // the demo model at hook_mid has pairs whose logits move far: they take the double path, on rows copied out of
        // the mapping one at a time
        SoluModel demo = org.solulens.model.DemoModel.load();
        org.solulens.backend.SweepRequest mid = new org.solulens.backend.SweepRequest(
                org.solulens.backend.Ablation.zero(org.solulens.backend.Ablation.Site.MID), org.solulens.backend.SweepMethod.EXACT, null, false);
        int far = 0;
        for (String text : org.solulens.analysis.PromptFamilies.defaultSentences()) {
            int[] demoTokens = demo.tokenize(text, true);
            double[] expected = sweep(demo, demoTokens, mid, SweepPrecision.SINGLE, null);
            sweep(demo, demoTokens, mid, SweepPrecision.SINGLE, cache());
            double[] hit = sweep(demo, demoTokens, mid, SweepPrecision.SINGLE, cache());
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(hit[i]), "demo, mid, \"" + text + "\" pair " + i);
                far += Math.abs(expected[i]) > 5 ? 1 : 0;   // such pairs take the double path (SinglePrecisionSweepTest)
            }
        }
        assertTrue(far > 0, "some pairs moved logits far");
    }

    @Test
    void aSweepPreparedAheadGivesTheSameBitsAndAClosedBackendLeavesNoFile() throws Exception {
        // prepareSweep makes the constants and starts B's file on a thread of its own while the forward pass runs
        ModelConfig cfg = TestModels.config(16, 40, 2, 8, 32, 4001, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 46);
        int[] tokens = TestModels.randomTokens(new java.util.Random(46), 12, cfg.dVocab());
        org.solulens.backend.SweepRequest req = new org.solulens.backend.SweepRequest(
                org.solulens.backend.Ablation.zero(org.solulens.backend.Ablation.Site.POST), org.solulens.backend.SweepMethod.EXACT, null, false);
        double[] expected = sweep(model, tokens, req, SweepPrecision.SINGLE, null);
        for (int round = 0; round < 2; round++) {   // a miss, then a hit read ahead
            try (CpuBackend backend = new CpuBackend(model, SweepPrecision.SINGLE, cache())) {
                backend.prepareSweep(req);
                double[] delta = backend.sweep(backend.run(tokens, req.requiredHooks(cfg)), req).delta();
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(delta[i]), "round " + round + ", pair " + i);
                }
            }
            assertEquals(1, entries().size());
        }
        clearCache();
        for (int i = 0; i < 5; i++) {   // closed at once, whichever the prepare threads have got to
            CpuBackend backend = new CpuBackend(model, SweepPrecision.SINGLE, cache());
            backend.prepareSweep(req);
            backend.close();
            awaitThreads("solulens-sweep-constants");
            awaitPrepareThreads();
            assertEquals(List.of(), temporaries(), "round " + i + ": nothing left by a closed backend");
            assertEquals(List.of(), entries());
        }
    }

    private void clearCache() throws IOException {
        cache().clear();
    }

    /** Waits (up to 30 s) until no thread of this name runs. */
    private static void awaitThreads(String name) throws InterruptedException {
        long until = System.nanoTime() + 30_000_000_000L;
        while (Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name) && t.isAlive())) {
            assertTrue(System.nanoTime() < until, name + " did not end");
            Thread.sleep(5);
        }
    }

    private static double[] sweep(SoluModel model, int[] tokens, org.solulens.backend.SweepRequest req, SweepPrecision precision,
                                  ConstantCache cache) {
        try (CpuBackend backend = new CpuBackend(model, precision, cache)) {
            return backend.sweep(backend.run(tokens, req.requiredHooks(model.config())), req).delta();
        }
    }

    @Test
    void aHitDoesNotRebuild() throws IOException {
        SoluModel model = TestModels.random(CFG, 3);
        viaCache(model, cache(), false);
        Path file = entries().get(0);
        // overwrite one value in place and fix the checksum, as if the cached B had been built from other numbers:
        // a hit must return what the file holds, proving that nothing was rebuilt
        BMatrix entry = cache().read(keyOf(file), CFG.dMlp(), CFG.dVocab());
        assertNotNull(entry);
        assertNotNull(entry.mapped(), "a hit is read in place from the file's mapping");
        entry.array()[5] = 12345f;
        cache().write(keyOf(file), entry);
        assertEquals(12345f, viaCache(model, cache(), false)[5]);
    }

    @Test
    void aCorruptedOrTruncatedEntryIsRebuiltAndRewritten() throws IOException {
        SoluModel model = TestModels.random(CFG, 4);
        float[] expected = built(model, false);
        viaCache(model, cache(), false);
        Path file = entries().get(0);
        long size = Files.size(file);
        flipBit(file, size - 10, 0x40);     // one flipped bit in B
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

    /** Flips the bits of {@code mask} in the byte at {@code offset} of {@code file}. */
    private static void flipBit(Path file, long offset, int mask) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int x = f.read();
            f.seek(offset);
            f.write(x ^ mask);
        }
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
    void aReadOnlyFolderFallsBackToBuildingInMemory() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.getFileStore(dir).supportsFileAttributeView("posix"), "POSIX permissions");
        Path ro = Files.createDirectory(dir.resolve("ro"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        // root writes past permissions (CI runs as root): there the folder is made immutable, which binds root too
        boolean immutable = canCreateIn(ro) && chattr("+i", ro);
        try {
            org.junit.jupiter.api.Assumptions.assumeFalse(canCreateIn(ro),
                    "neither permissions nor chattr +i keep this user from writing in " + ro);
            SoluModel model = TestModels.random(CFG, 7);
            ConstantCache readOnly = new ConstantCache(ro, 1L << 30, 0);
            assertArrayEquals(built(model, false), viaCache(model, readOnly, false));
            assertArrayEquals(built(model, false), viaCache(model, readOnly, false));
            assertTrue(readOnly.list().isEmpty());
            try (java.util.stream.Stream<Path> left = Files.list(ro)) {
                assertEquals(List.of(), left.toList(), "nothing written");
            }
        } finally {
            if (immutable) {
                assertTrue(chattr("-i", ro), "chattr -i " + ro);
            }
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    /** Whether a file can be created in {@code folder} (it is deleted again). */
    private static boolean canCreateIn(Path folder) {
        try {
            Files.delete(Files.createFile(folder.resolve("probe")));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Runs {@code chattr flag folder}; false where chattr is missing or refuses (a file system without the flag). */
    private static boolean chattr(String flag, Path folder) throws InterruptedException {
        try {
            Process p = new ProcessBuilder("chattr", flag, folder.toString()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
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

    /** Files in the cache folder that are not entries: temporaries. */
    private List<Path> temporaries() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var files = Files.list(dir)) {
            return files.filter(f -> !f.getFileName().toString().endsWith(".bconst")).toList();
        }
    }

    /** Waits (up to 30 s) until a temporary file appears: prepare's thread has made its file. */
    private void awaitTemporary() throws Exception {
        long until = System.nanoTime() + 30_000_000_000L;
        while (temporaries().isEmpty()) {
            assertTrue(System.nanoTime() < until, "prepare made no file");
            Thread.sleep(5);
        }
    }

    @Test
    void aFilePreparedAheadIsTheOneTheBuildFillsAndPublishes() throws Exception {
        SoluModel model = TestModels.random(CFG, 41);
        float[] expected = built(model, false);
        ConstantCache cache = cache();
        SweepConstants k = new SweepConstants(model.config(), model.weights(), cache);
        k.prepareB(k.outRows());
        awaitTemporary();
        Path prepared = temporaries().get(0);
        Object preparedFile = Files.readAttributes(prepared, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        assertArrayEquals(expected, k.bMatrix(k.outRows()).array());
        assertFalse(Files.exists(prepared), "the prepared file was renamed into place");
        assertEquals(List.of(), temporaries());
        assertEquals(1, entries().size());
        assertEquals(preparedFile, Files.readAttributes(entries().get(0), java.nio.file.attribute.BasicFileAttributes.class).fileKey(),
                "the entry is the prepared file (the same inode)");
        assertArrayEquals(expected, viaCache(model, cache(), false), "and read back");
    }

    @Test
    void nothingIsPreparedForABAlreadyCachedAndAnUntakenFileIsDropped() throws Exception {
        SoluModel model = TestModels.random(CFG, 42);
        ConstantCache cache = cache();
        SweepConstants k = new SweepConstants(model.config(), model.weights(), cache);
        k.prepareB(k.outRows());
        awaitTemporary();
        k.dropPrepared();
        assertEquals(List.of(), temporaries(), "a closed backend's prepared file is deleted");
        assertEquals(List.of(), entries());

        float[] expected = viaCache(model, cache, false);   // now cached
        SweepConstants again = new SweepConstants(model.config(), model.weights(), cache);
        again.prepareB(again.outRows());
        assertArrayEquals(expected, again.bMatrix(again.outRows()).array(), "a hit, with a prepare pending or done");
        assertEquals(List.of(), temporaries(), "a hit leaves no prepared file");
        again.dropPrepared();
        assertEquals(List.of(), temporaries(), "no file was made for a B the cache holds");
        assertEquals(1, entries().size());
    }

    /** Waits (up to 30 s) until no prepare thread runs: it has read its entry or made its file. */
    private static void awaitPrepareThreads() throws Exception {
        long until = System.nanoTime() + 30_000_000_000L;
        while (Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("solulens-cache-prepare") && t.isAlive())) {
            assertTrue(System.nanoTime() < until, "prepare's thread did not end");
            Thread.sleep(5);
        }
    }

    @Test
    void anEntryIsReadAheadAndTheSweepTakesThatRead() throws Exception {
        SoluModel model = TestModels.random(CFG, 44);
        ConstantCache cache = cache();
        float[] expected = viaCache(model, cache, false);   // now cached
        Path file = entries().get(0);
        SweepConstants k = new SweepConstants(model.config(), model.weights(), cache);
        k.prepareB(k.outRows());
        awaitPrepareThreads();
        // the read ahead holds the entry's mapping: with the file gone, only that read can give B without a rebuild
        Files.delete(file);
        BMatrix b = k.bMatrix(k.outRows());
        assertNotNull(b.mapped(), "in place, through the mapping read ahead");
        assertArrayEquals(expected, b.array());
        assertEquals(List.of(), entries(), "nothing rebuilt or written: the read ahead was taken");
        assertEquals(List.of(), temporaries());
    }

    @Test
    void aCorruptedEntryReadAheadIsRebuilt() throws Exception {
        SoluModel model = TestModels.random(CFG, 45);
        ConstantCache cache = cache();
        float[] expected = viaCache(model, cache, false);
        Path file = entries().get(0);
        long size = Files.size(file);
        flipBit(file, size - 6, 0x08);
        SweepConstants k = new SweepConstants(model.config(), model.weights(), cache);
        k.prepareB(k.outRows());
        awaitPrepareThreads();
        assertFalse(Files.exists(file), "the read ahead found the flipped bit and deleted the entry");
        assertArrayEquals(expected, k.bMatrix(k.outRows()).array());
        assertEquals(size, Files.size(file), "rebuilt and written again");
        assertEquals(List.of(), temporaries());
        assertArrayEquals(expected, viaCache(model, cache(), false), "and read back");
    }

    @Test
    void aFilePreparedForOtherDirectionsIsNotUsedForThese() throws Exception {
        SoluModel model = TestModels.random(CFG, 43);
        ConstantCache cache = cache();
        SweepConstants k = new SweepConstants(model.config(), model.weights(), cache);
        k.prepareB(k.zRows());
        awaitTemporary();
        assertArrayEquals(built(model, false), k.bMatrix(k.outRows()).array());
        assertEquals(List.of(), temporaries(), "the z rows' prepared file was deleted when the out rows' B was built");
        assertArrayEquals(built(model, true), k.bMatrix(k.zRows()).array(), "the z rows' B is built without it");
        assertEquals(2, entries().size());
    }
}
