package org.solulens.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import org.solulens.model.Tensor;

/**
 * SHA-256 digests of weight tensors (of their little-endian float32 bytes), each computed once per tensor: the
 * constant cache's key reads W_U's 99 MB (0.15 s of a fresh JVM for solu-1l), and a run that sweeps both direction
 * kinds (site post and mid, the paper's experiments) keys two B's on it.
 */
final class TensorDigests {
    /** Identity keys (a tensor is immutable); an entry goes with its tensor. */
    private static final Map<Tensor, byte[]> DIGESTS = Collections.synchronizedMap(new WeakHashMap<>());

    private TensorDigests() {}

    /** The digest of {@code t}, computed on first use. */
    static byte[] of(Tensor t) {
        byte[] d = DIGESTS.get(t);
        if (d == null) {
            d = digest(t);
            DIGESTS.put(t, d);
        }
        return d.clone();
    }

    /** SHA-256 of the tensor's values as little-endian float32 bytes (the safetensors layout), in 1 MB slices. */
    static byte[] digest(Tensor t) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java platform", e);
        }
        ByteBuffer scratch = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer values = t.buffer().duplicate();
        values.rewind();
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
}
