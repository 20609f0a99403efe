package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.solulens.model.Tensor;

/** The native SHA-256, with and without the SHA extensions, gives MessageDigest's digests; tensors' digests agree either way. */
class NativeSha256Test {
    /** Around the padding's edges (55/56 bytes: one or two final blocks; 64: a whole block) and over many blocks. */
    private static final int[] LENGTHS = {0, 1, 3, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096 + 7, (1 << 20) + 13};

    @Test
    void theDigestIsNativeOnLinuxX86() {
        if (CpuNativeLibrary.loadError() == null) {
            assertTrue(NativeSha256.isNative());
            assertEquals(NativeFloatExpSumTest.cpuHas("sha_ni"), NativeSha256.hasShaExtensions(), "the CPUID check agrees with /proc/cpuinfo");
        }
    }

    private static List<Boolean> paths() {
        List<Boolean> paths = new ArrayList<>(List.of(false));
        if (NativeSha256.hasShaExtensions()) {
            paths.add(true);
        }
        return paths;
    }

    @Test
    void everyLengthAndOffsetGivesMessageDigestsDigest() throws Exception {
        Assumptions.assumeTrue(NativeSha256.isNative(), "the native library does not load here");
        Random rng = new Random(71);
        for (int n : LENGTHS) {
            for (int offset : new int[] {0, 1, 13}) {
                byte[] bytes = new byte[offset + n + 5];
                rng.nextBytes(bytes);
                ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes);
                direct.position(3);   // the position is not the start: the offset is
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                md.update(bytes, offset, n);
                byte[] expected = md.digest();
                for (boolean extensions : paths()) {
                    assertArrayEquals(expected, NativeSha256.digest(direct, offset, n, extensions),
                            n + " bytes at " + offset + (extensions ? ", SHA extensions" : ", portable"));
                }
            }
        }
    }

    @Test
    void aFloatBufferIsDigestedAsItsBytes() throws Exception {
        Assumptions.assumeTrue(NativeSha256.isNative(), "the native library does not load here");
        ByteBuffer bytes = ByteBuffer.allocateDirect(4 * 1001).order(ByteOrder.LITTLE_ENDIAN);
        Random rng = new Random(72);
        while (bytes.hasRemaining()) {
            bytes.put((byte) rng.nextInt());
        }
        FloatBuffer floats = bytes.flip().asFloatBuffer();
        byte[] heap = new byte[4 * 1000];
        bytes.duplicate().position(4).get(heap);
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(heap), NativeSha256.digest(floats, 4, 4000), "byte offsets in a float buffer");
        assertThrows(IndexOutOfBoundsException.class, () -> NativeSha256.digest(floats, 8, 4000), "past the end");
        assertThrows(IndexOutOfBoundsException.class, () -> NativeSha256.digest(floats, -1, 4), "before the start");
        assertThrows(IllegalArgumentException.class, () -> NativeSha256.digest(FloatBuffer.allocate(4), 0, 4), "a heap buffer");
    }

    @Test
    void aMappedTensorsDigestIsTheSameNativeOrNot() {
        Assumptions.assumeTrue(NativeSha256.isNative(), "the native library does not load here");
        Random rng = new Random(73);
        int n = 2 * TensorDigests.PART_FLOATS + 777;
        ByteBuffer bytes = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) rng.nextGaussian();
            bytes.putFloat(values[i]);
        }
        Tensor direct = new Tensor("unembed.W_U", new int[] {n}, bytes.flip().asFloatBuffer());
        Tensor heap = Tensor.of("unembed.W_U", new int[] {n}, values);
        byte[] java = TensorDigests.digest(direct, false);
        assertArrayEquals(java, TensorDigests.digest(direct, true), "native");
        assertArrayEquals(java, TensorDigests.digest(heap, true), "a heap tensor (digested in Java)");
        ByteBuffer bigEndian = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.BIG_ENDIAN);
        bigEndian.asFloatBuffer().put(values);
        assertArrayEquals(java, TensorDigests.digest(new Tensor("unembed.W_U", new int[] {n}, bigEndian.asFloatBuffer()), true),
                "big-endian bytes in memory: digested in Java, as little-endian float32");
    }
}
