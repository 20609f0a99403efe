package org.solulens.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import org.solulens.model.TaskRanges;
import org.solulens.model.Tensor;

/**
 * SHA-256 digests of weight tensors (over their little-endian float32 bytes, {@link #digest}), each computed once per
 * tensor: the constant cache's key reads W_U's 99 MB (0.15 s of a fresh JVM for solu-1l on one core), and a run that
 * sweeps both direction kinds (site post and mid, the paper's experiments) keys two B's on it.
 */
final class TensorDigests {
    /** Identity keys (a tensor is immutable); an entry goes with its tensor. */
    private static final Map<Tensor, byte[]> DIGESTS = Collections.synchronizedMap(new WeakHashMap<>());

    private TensorDigests() {}

    /**
     * The digest of {@code t}, computed on first use; one at a time, so that a sweep's thread asking for a digest that
     * the thread preparing its cache file is computing (ConstantCache.prepare) waits for it instead of computing it too.
     */
    static byte[] of(Tensor t) {
        synchronized (DIGESTS) {
            byte[] d = DIGESTS.get(t);
            if (d == null) {
                d = digest(t);
                DIGESTS.put(t, d);
            }
            return d.clone();
        }
    }

    /** Floats per part: 8 MB, so that W_U's 99 MB make twelve parts for the cores to share. */
    static final int PART_FLOATS = 1 << 21;

    /**
     * SHA-256 of the tensor's size and of the SHA-256 of each part of {@link #PART_FLOATS} values, as little-endian
     * float32 bytes (the safetensors layout): the parts are digested in parallel (a single SHA-256 over W_U took 0.15 s
     * of one core of a fresh JVM, the other idle). A tensor whose values lie in memory as those bytes (a float32
     * safetensors file's mapping) is digested natively ({@link NativeSha256}) where the library loads.
     */
    static byte[] digest(Tensor t) {
        return digest(t, NativeSha256.isNative());
    }

    /** {@link #digest}, natively where {@code allowNative} and the tensor's bytes allow (tests compare both). */
    static byte[] digest(Tensor t, boolean allowNative) {
        FloatBuffer values = t.buffer();
        boolean inPlace = allowNative && values.isDirect() && values.order() == ByteOrder.LITTLE_ENDIAN;
        int n = values.capacity(), parts = (n + PART_FLOATS - 1) / PART_FLOATS;
        byte[][] digests = new byte[parts][];
        // tasks of consecutive parts, each with one scratch buffer: 4 KB, so that SHA-256's many calls get its caller
        // compiled, with the CPU's SHA instructions, after ~20 MB (fed 1 MB at a time it ran as interpreted or C1 code)
        int tasks = TaskRanges.count(parts);
        java.util.stream.IntStream.range(0, tasks).parallel().forEach(task -> {
            ByteBuffer scratch = ByteBuffer.allocate(1 << 12).order(ByteOrder.LITTLE_ENDIAN);
            for (int p = TaskRanges.start(parts, tasks, task), end = TaskRanges.start(parts, tasks, task + 1); p < end; p++) {
                int from = p * PART_FLOATS, len = Math.min(PART_FLOATS, n - from);
                digests[p] = inPlace ? NativeSha256.digest(values, 4L * from, 4L * len) : sha256(values.slice(from, len), scratch);
            }
        });
        MessageDigest md = sha256();
        md.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n));
        for (byte[] d : digests) {
            md.update(d);
        }
        return md.digest();
    }

    /** SHA-256 of the values as little-endian float32 bytes, through {@code scratch} (little-endian). */
    private static byte[] sha256(FloatBuffer values, ByteBuffer scratch) {
        MessageDigest md = sha256();
        while (values.hasRemaining()) {
            scratch.clear();
            FloatBuffer out = scratch.asFloatBuffer();
            int n = Math.min(out.capacity(), values.remaining());
            FloatBuffer part = values.slice();
            part.limit(n);
            out.put(part);
            values.position(values.position() + n);
            scratch.limit(4 * n);
            md.update(scratch);
        }
        return md.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java platform", e);
        }
    }
}
