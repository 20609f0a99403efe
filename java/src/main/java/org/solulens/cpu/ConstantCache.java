package org.solulens.cpu;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A per-user cache of the exact sweep's model constant B (d_mlp x d_vocab float32, 395 MB for solu-1l) and its rows'
 * largest magnitudes, so that only the first sweep on a model pays for building it. One file per (weights, ablation
 * kind), named by a digest of both; read through a memory map, verified (header, length, CRC-32C of the contents);
 * written to a temporary file and renamed into place, so a reader sees a whole file or none and two processes racing
 * to write the same entry both leave a valid one. The total size is bounded: after each write the least recently used
 * entries are deleted until the rest fit. A corrupted, truncated or unreadable entry is rebuilt with a warning; a cache
 * folder that cannot be written leaves B in memory only, also with a warning.
 */
public final class ConstantCache {
    private static final Logger log = LoggerFactory.getLogger(ConstantCache.class);
    private static final byte[] MAGIC = "SLCONST1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** magic, rows, columns, key digest (32 bytes), CRC-32C of the payload. */
    private static final int HEADER_BYTES = 8 + 4 + 4 + 32 + 8;
    private static final String SUFFIX = ".bconst";
    /** Read and written in slices of at most this size (a mapping is limited to 2 GB). */
    private static final int SLICE_BYTES = 1 << 28;
    /** Room left on the cache's disk after a new entry, or it is not written. */
    private static final long MIN_FREE_BYTES = 64L << 20;
    /** The pages {@link #prepare} writes a byte of (4 KB on the platforms SoluLens runs on; a larger page is only touched more often). */
    private static final int PAGE_BYTES = 4096;
    /** Default bound on the cache's total size. */
    public static final long DEFAULT_MAX_BYTES = 8L << 30;
    /** Entries smaller than this are not worth a file (the demo model's B is 2 MB and takes milliseconds). */
    public static final long DEFAULT_MIN_ENTRY_BYTES = 16L << 20;

    private final Path dir;
    private final long maxBytes, minEntryBytes;
    private volatile boolean unwritableReported;
    /** A new entry's file made ahead of its fill ({@link #prepare}), until {@link #build} takes it or it is dropped. */
    private Prepared prepared;

    /**
     * What {@link #prepare}'s thread made: set by that thread, read once it has ended (or, for {@link #key} and
     * {@link #reading}, once {@link #decided} is open).
     */
    private static final class Prepared {
        volatile boolean stop;
        Thread thread;
        /** Opens once the thread knows the key and whether the entry exists (or has failed to learn it). */
        final java.util.concurrent.CountDownLatch decided = new java.util.concurrent.CountDownLatch(1);
        byte[] key;
        long bytes;
        /** The entry exists: the thread reads it ({@link #found}) instead of making a new file. */
        boolean reading;
        BMatrix found;
        Path tmp;
        MappedByteBuffer mapping;
    }

    /** A cache in {@code dir} (created on first write) holding at most {@code maxBytes}, skipping entries under {@code minEntryBytes}. */
    public ConstantCache(Path dir, long maxBytes, long minEntryBytes) {
        if (maxBytes < 0 || minEntryBytes < 0) {
            throw new IllegalArgumentException("cache bounds must be >= 0, got max " + maxBytes + ", min entry " + minEntryBytes);
        }
        this.dir = dir.toAbsolutePath().normalize();
        this.maxBytes = maxBytes;
        this.minEntryBytes = minEntryBytes;
    }

    /**
     * The user's cache: the {@code solulens.cache.dir} system property or {@code SOLULENS_CACHE_DIR} if set, else the platform's cache folder ({@code XDG_CACHE_HOME} or
     * {@code ~/.cache} on Linux, {@code ~/Library/Caches} on macOS, {@code %LOCALAPPDATA%} on Windows) plus
     * {@code solulens/constants}; bounded by {@code SOLULENS_CACHE_MAX_BYTES} (default 8 GiB).
     */
    public static ConstantCache userDefault() {
        String max = System.getenv("SOLULENS_CACHE_MAX_BYTES");
        long maxBytes = DEFAULT_MAX_BYTES;
        if (max != null && !max.isBlank()) {
            try {
                maxBytes = Long.parseLong(max.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("SOLULENS_CACHE_MAX_BYTES must be a number of bytes, got '" + max + "'");
            }
        }
        return new ConstantCache(defaultDir(), maxBytes, DEFAULT_MIN_ENTRY_BYTES);
    }

    static Path defaultDir() {
        String explicit = System.getProperty("solulens.cache.dir", System.getenv("SOLULENS_CACHE_DIR"));
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String home = System.getProperty("user.home");
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        Path base;
        if (os.contains("win") && System.getenv("LOCALAPPDATA") != null) {
            base = Path.of(System.getenv("LOCALAPPDATA"));
        } else if (os.contains("mac")) {
            base = Path.of(home, "Library", "Caches");
        } else {
            String xdg = System.getenv("XDG_CACHE_HOME");
            base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(home, ".cache");
        }
        return base.resolve("solulens").resolve("constants");
    }

    public Path dir() {
        return dir;
    }

    /** A cached entry's file and size, for {@code cache list}. */
    public record Item(Path file, long bytes, FileTime lastUsed) {}

    /** Whether an entry of this size would be stored at all. */
    boolean worthCaching(int rows, int cols) {
        long bytes = payloadBytes(rows, cols) + HEADER_BYTES;
        return bytes >= minEntryBytes && bytes <= maxBytes;
    }

    /**
     * The entry under {@code key} with this shape, or null when there is none or it fails verification (then it is
     * deleted, with a warning, so that the caller's rebuilt entry replaces it). B is read in place through the file's
     * mapping (copied to the heap only when the file is too large for one mapping). An entry {@link #prepare}'s thread
     * is reading is taken from it, once read.
     */
    BMatrix read(byte[] key, int rows, int cols) {
        Prepared ahead = takeReadAhead(key, rows, cols);
        return ahead != null ? ahead.found : readFile(key, rows, cols);
    }

    private BMatrix readFile(byte[] key, int rows, int cols) {
        Path file = file(key);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long expected = HEADER_BYTES + payloadBytes(rows, cols);
            if (ch.size() != expected) {
                return rejected(file, "it holds " + ch.size() + " bytes, expected " + expected + " (truncated or from another shape)");
            }
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            while (header.hasRemaining() && ch.read(header) >= 0) {
                // read the whole header
            }
            header.flip();
            byte[] magic = new byte[MAGIC.length], digest = new byte[32];
            header.get(magic);
            int r = header.getInt(), c = header.getInt();
            header.get(digest);
            long crc = header.getLong();
            if (!java.util.Arrays.equals(magic, MAGIC) || r != rows || c != cols || !java.util.Arrays.equals(digest, key)) {
                return rejected(file, "its header does not match (format, shape or key)");
            }
            BMatrix b = inPlace(expected) ? readMapped(ch, rows, cols, crc) : readCopied(ch, rows, cols, crc);
            if (b == null) {
                return rejected(file, "its checksum does not match its contents (corrupted)");
            }
            touch(file);
            return b;
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | RuntimeException | InternalError e) {
            // InternalError: a page of the mapping could not be read (the JVM's report of SIGBUS)
            return rejected(file, "it could not be read: " + e);
        }
    }

    /** B in place in the file's mapping, or null when the checksum fails. */
    private static BMatrix readMapped(FileChannel ch, int rows, int cols, long crc) throws IOException {
        MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
        CRC32C check = new CRC32C();
        check.update(m.duplicate().position(HEADER_BYTES));
        if (check.getValue() != crc) {
            return null;
        }
        double[] absMax = new double[rows];
        m.duplicate().position(HEADER_BYTES).slice().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(absMax);
        return BMatrix.mapped(rows, cols, values(m, rows), absMax);
    }

    /**
     * Whether an entry of {@code bytes} is used in place through one mapping: under 2 GB (one mapping's limit), and on
     * a little-endian platform (the file's order, which the native loop reads as its own).
     */
    private static boolean inPlace(long bytes) {
        return bytes <= Integer.MAX_VALUE && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    }

    /** B copied to the heap in slices (see {@link #inPlace}), or null when the checksum fails. */
    private static BMatrix readCopied(FileChannel ch, int rows, int cols, long crc) throws IOException {
        double[] absMax = new double[rows];
        float[] b = new float[Math.multiplyExact(rows, cols)];
        CRC32C check = new CRC32C();
        long pos = HEADER_BYTES;
        MappedByteBuffer first = ch.map(FileChannel.MapMode.READ_ONLY, pos, 8L * rows);
        check.update(first.duplicate());
        first.order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(absMax);
        pos += 8L * rows;
        for (long done = 0, total = 4L * b.length; done < total; ) {
            int slice = (int) Math.min(SLICE_BYTES, total - done);
            MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, pos + done, slice);
            check.update(m.duplicate());
            m.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(b, (int) (done / 4), slice / 4);
            done += slice;
        }
        return check.getValue() == crc ? BMatrix.inMemory(rows, cols, b, absMax) : null;
    }

    /** The float32 values of an entry's mapping (after the header and the row maxima). */
    private static FloatBuffer values(MappedByteBuffer m, int rows) {
        return m.duplicate().position(HEADER_BYTES + 8 * rows).slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    }

    /**
     * Starts what the first use of a B needs, on a daemon thread, and returns at once: the key (whose tensor digests
     * take ~0.1 s for solu-1l), then
     * <ul>
     * <li>when an entry holds it, the entry read and verified ({@link #read} takes it): the checksum's first pass over
     *     the file's mapping makes its pages present in this process, ~0.25 s for solu-1l's B on the 2-core VM;</li>
     * <li>else the new file beside its final name, mapped, with a byte of each page written so that its pages exist
     *     before the fill writes them. A fresh page cost ~15 µs on the 2-core VM, B's 395 MB of them ~1.4 s of one core.
     *     {@link #build} stops the thread where it has got to and takes the file.</li>
     * </ul>
     * Either moves the work to the time a sweep spends on its forward pass, where a core is idle (benchmarks/NOTES.md).
     * A B not stored in place, or a failure, leave nothing. One at a time: while one is pending, another call does
     * nothing.
     */
    synchronized void prepare(java.util.function.Supplier<byte[]> key, int rows, int cols) {
        long total = HEADER_BYTES + payloadBytes(rows, cols);
        if (prepared != null || !worthCaching(rows, cols) || !inPlace(total)) {
            return;
        }
        Prepared p = new Prepared();
        p.bytes = total;
        p.thread = new Thread(() -> prepareFile(p, key, rows, cols), "solulens-cache-prepare");
        p.thread.setDaemon(true);
        prepared = p;
        p.thread.start();
    }

    private void prepareFile(Prepared p, java.util.function.Supplier<byte[]> key, int rows, int cols) {
        try {
            byte[] k = key.get();
            Path file = file(k);
            p.key = k;
            p.reading = Files.exists(file);
            p.decided.countDown();
            if (p.reading) {
                p.found = readFile(k, rows, cols);
                return;
            }
            Path tmp = newTemporary(file, p.bytes);
            p.tmp = tmp;
            MappedByteBuffer m;
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                m = ch.map(FileChannel.MapMode.READ_WRITE, 0, p.bytes);
            }
            for (long at = 0; at < p.bytes && !p.stop; at += PAGE_BYTES) {
                m.put((int) at, (byte) 0);   // the file is new: its bytes are zeros
            }
            p.mapping = m;
        } catch (IOException | RuntimeException | InternalError e) {
            log.debug("constant cache: B's file not made ahead: {}", e.toString());   // build makes it, or reports why not
        } finally {
            p.decided.countDown();
        }
    }

    /**
     * The {@link Prepared} whose thread reads the entry under {@code key}, once it has read it, or null (none pending,
     * another key, or a new file being made): waits for the thread to learn its key (the digests a caller's own key
     * waits for anyway), then for its read.
     */
    private Prepared takeReadAhead(byte[] key, int rows, int cols) {
        Prepared p;
        synchronized (this) {
            p = prepared;
        }
        if (p == null) {
            return null;
        }
        awaitUninterruptibly(p.decided::await);
        if (!p.reading || !java.util.Arrays.equals(p.key, key) || p.bytes != HEADER_BYTES + payloadBytes(rows, cols)) {
            return null;
        }
        awaitUninterruptibly(p.thread::join);
        synchronized (this) {
            if (prepared == p) {
                prepared = null;
            }
        }
        return p;
    }

    private interface Wait {
        void await() throws InterruptedException;
    }

    /** Waits on {@code w}, handing an interrupt back to the thread afterwards (the threads waited on end soon). */
    private static void awaitUninterruptibly(Wait w) {
        boolean interrupted = false;
        while (true) {
            try {
                w.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The file {@link #prepare} made for {@code key} and {@code bytes}, its thread stopped; null if none (any other is deleted). */
    private Prepared takePrepared(byte[] key, long bytes) {
        Prepared p;
        synchronized (this) {
            p = prepared;
            prepared = null;
        }
        if (p == null) {
            return null;
        }
        p.stop = true;
        awaitUninterruptibly(p.thread::join);   // it stops within a page (or ends its read)
        if (p.mapping != null && java.util.Arrays.equals(p.key, key) && p.bytes == bytes) {
            return p;
        }
        deleteTemporary(p.tmp);
        return null;
    }

    /** Deletes a file {@link #prepare} made that no build took (a backend closed before its sweep's B). */
    void dropPrepared() {
        takePrepared(null, -1);
    }

    /**
     * A new B under {@code key}: filled straight into the mapping of a new file beside its final name (no heap copy,
     * no second write), checksummed, and renamed into place; then the least recently used entries are evicted until
     * the cache fits its bound. A B not used in place ({@link #inPlace}) is filled on the heap and written. Where the
     * entry cannot be stored (too small or too large for the cache, a read-only folder, a full disk) B is filled on the
     * heap only, and the failure is logged once; a failure after the fill keeps the filled values. A file {@link #prepare}
     * made for this key is filled instead of a new one.
     */
    BMatrix build(byte[] key, int rows, int cols, BMatrix.Fill fill) {
        long total = HEADER_BYTES + payloadBytes(rows, cols);
        if (!worthCaching(rows, cols)) {
            return BMatrix.filledInMemory(rows, cols, fill);
        }
        if (!inPlace(total)) {
            BMatrix b = BMatrix.filledInMemory(rows, cols, fill);
            write(key, b);
            return b;
        }
        Path file = file(key), tmp = null;
        BMatrix filled = null;
        try {
            Prepared ahead = takePrepared(key, total);
            MappedByteBuffer m;
            if (ahead != null) {
                tmp = ahead.tmp;
                m = ahead.mapping;
            } else {
                tmp = newTemporary(file, total);
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    m = ch.map(FileChannel.MapMode.READ_WRITE, 0, total);
                }
            }
            double[] absMax = new double[rows];
            FloatBuffer values = values(m, rows);
            fill.into(values.duplicate(), absMax);
            filled = BMatrix.mapped(rows, cols, values, absMax);
            m.duplicate().position(HEADER_BYTES).slice().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().put(absMax);
            // the header's checksum is written last, once the contents have gone through it
            CRC32C crc = new CRC32C();
            crc.update(m.duplicate().position(HEADER_BYTES));
            m.duplicate().order(ByteOrder.LITTLE_ENDIAN).put(MAGIC).putInt(rows).putInt(cols).put(key).putLong(crc.getValue());
            publish(tmp, file);
            tmp = null;
        } catch (IOException | RuntimeException | InternalError e) {
            // InternalError: a page of the mapping could not be written (the JVM's report of SIGBUS)
            unwritable(e);
        } finally {
            deleteTemporary(tmp);
        }
        return filled != null ? filled : BMatrix.filledInMemory(rows, cols, fill);
    }

    /**
     * Stores {@code b} under {@code key}: written beside its final name in slices and renamed into place, then the
     * cache is evicted down to its bound (B over 2 GB; tests). Failures are logged once and leave the cache as it was.
     */
    void write(byte[] key, BMatrix b) {
        int rows = b.rows();
        if (!worthCaching(rows, b.cols())) {
            return;
        }
        Path file = file(key), tmp = null;
        try {
            tmp = newTemporary(file, HEADER_BYTES + payloadBytes(rows, b.cols()));
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                // the header's checksum is written last, once the contents have gone through it
                ch.position(HEADER_BYTES);
                CRC32C crc = new CRC32C();
                ByteBuffer absMax = ByteBuffer.allocate(8 * rows).order(ByteOrder.LITTLE_ENDIAN);
                absMax.asDoubleBuffer().put(b.rowAbsMax());
                crc.update(absMax.duplicate());
                writeFully(ch, absMax);
                ByteBuffer slice = ByteBuffer.allocateDirect(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
                float[] values = b.array();
                for (int i = 0; i < values.length; ) {
                    int n = Math.min(slice.capacity() / 4, values.length - i);
                    slice.clear();
                    slice.asFloatBuffer().put(values, i, n);
                    slice.limit(4 * n);
                    crc.update(slice.duplicate());
                    writeFully(ch, slice);
                    i += n;
                }
                ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                header.put(MAGIC).putInt(rows).putInt(b.cols()).put(key).putLong(crc.getValue()).flip();
                ch.position(0);
                writeFully(ch, header);
            }
            publish(tmp, file);
            tmp = null;
        } catch (IOException | RuntimeException e) {
            unwritable(e);
        } finally {
            deleteTemporary(tmp);
        }
    }

    /** A fresh temporary name beside {@code file}, once the folder exists and its disk has room for {@code bytes}. */
    private Path newTemporary(Path file, long bytes) throws IOException {
        Files.createDirectories(dir);
        long free = Files.getFileStore(dir).getUsableSpace();
        if (free < bytes + MIN_FREE_BYTES) {
            // a page of a mapped file the disk has no room for faults when written: refuse before that
            throw new IOException("only " + (free >> 20) + " MB free, " + ((bytes + MIN_FREE_BYTES) >> 20) + " MB needed");
        }
        return dir.resolve(file.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    }

    /** Renames a complete temporary file into place (a reader sees the whole entry or none), then evicts. */
    private void publish(Path tmp, Path file) throws IOException {
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        evict(file);
    }

    private void unwritable(Throwable e) {
        if (!unwritableReported) {
            unwritableReported = true;
            log.warn("the constant cache {} cannot be written ({}); B stays in memory for this run (--no-cache skips the cache)", dir, e.toString());
        }
    }

    private static void deleteTemporary(Path tmp) {
        if (tmp != null) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a leftover temporary file is removed by clear() and ignored by everything else
            }
        }
    }

    /** The cached entries, most recently used first. */
    public List<Item> list() throws IOException {
        List<Item> items = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return items;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path f : files) {
                try {
                    items.add(new Item(f, Files.size(f), Files.getLastModifiedTime(f)));
                } catch (NoSuchFileException e) {
                    // evicted or cleared by another process meanwhile
                }
            }
        }
        items.sort(Comparator.comparing(Item::lastUsed).reversed());
        return items;
    }

    /** Deletes every entry and leftover temporary file; returns the bytes freed. */
    public long clear() throws IOException {
        long freed = 0;
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX + "*")) {
            for (Path f : files) {
                try {
                    long size = Files.size(f);
                    Files.delete(f);
                    freed += size;
                } catch (NoSuchFileException e) {
                    // gone already
                }
            }
        }
        return freed;
    }

    private void evict(Path justWritten) throws IOException {
        List<Item> items = list();
        long total = items.stream().mapToLong(Item::bytes).sum();
        for (int i = items.size() - 1; i >= 0 && total > maxBytes; i--) {
            Item oldest = items.get(i);
            if (oldest.file().equals(justWritten)) {
                continue;
            }
            try {
                Files.deleteIfExists(oldest.file());
                log.info("constant cache: evicted {} ({} MB) to stay under {} MB", oldest.file().getFileName(), oldest.bytes() >> 20, maxBytes >> 20);
            } catch (IOException e) {
                log.warn("constant cache: could not evict {}: {}", oldest.file(), e.toString());
            }
            total -= oldest.bytes();
        }
    }

    private BMatrix rejected(Path file, String why) {
        log.warn("the cached model constant {} is not usable: {}; building it again", file, why);
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.debug("could not delete {}: {}", file, e.toString());
        }
        return null;
    }

    /** Marks an entry as used now (its modification time orders the eviction). */
    private static void touch(Path file) {
        try {
            Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException e) {
            // a read-only cache still serves hits; its order of eviction just stays as it was
        }
    }

    Path file(byte[] key) {
        return dir.resolve("b-" + HexFormat.of().formatHex(key) + SUFFIX);
    }

    private static long payloadBytes(int rows, int cols) {
        return 8L * rows + 4L * rows * cols;
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
