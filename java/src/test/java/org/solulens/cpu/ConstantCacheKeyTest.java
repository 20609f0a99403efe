package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.model.SoluWeights;
import org.solulens.model.Tensor;
import org.solulens.testing.TestModels;

/** B's cache key: it changes with every tensor B is made from, and with nothing else. */
class ConstantCacheKeyTest {
    private static final ModelConfig CFG = TestModels.config(16, 40, 2, 8, 32, 301, ActivationFunction.SOLU_LN);

    private static byte[][] keys(SoluWeights w) {
        SweepConstants k = new SweepConstants(CFG, w);
        return new byte[][] {k.cacheKey(k.outRows()), k.cacheKey(k.zRows())};
    }

    /** The model's weights with one value of one tensor changed by one float32 step. */
    private static SoluWeights nudged(SoluWeights w, String name) {
        Map<String, Tensor> byName = new LinkedHashMap<>(w.byName());
        Tensor t = byName.get(name);
        float[] v = t.toArray();
        v[v.length / 3] = Math.nextUp(v[v.length / 3]);
        byName.put(name, Tensor.of(name, t.shape(), v));
        return SoluWeights.from(CFG, byName::get);
    }

    @Test
    void theKeyChangesWithEachTensorBIsMadeFromAndWithNoOther() {
        SoluWeights w = TestModels.random(CFG, 31).weights();
        byte[][] base = keys(w);
        assertFalse(Arrays.equals(base[0], base[1]), "out and z directions have different keys");
        assertArrayEquals(base[0], keys(SoluWeights.from(CFG, new LinkedHashMap<>(w.byName())::get))[0],
                "the same values in other tensor objects give the same key");
        for (String name : new String[] {"blocks.0.mlp.W_out", "ln_final.w", "unembed.W_U"}) {
            byte[][] k = keys(nudged(w, name));
            assertFalse(Arrays.equals(base[0], k[0]), name + " changes the out key");
            assertFalse(Arrays.equals(base[1], k[1]), name + " changes the z key");
        }
        byte[][] mlpLn = keys(nudged(w, "blocks.0.mlp.ln.w"));
        assertArrayEquals(base[0], mlpLn[0], "the MLP LayerNorm's gain is not in the out directions' B");
        assertFalse(Arrays.equals(base[1], mlpLn[1]), "but is in the z directions'");
        for (String name : new String[] {"embed.W_E", "blocks.0.mlp.W_in", "ln_final.b", "blocks.0.attn.W_Q"}) {
            byte[][] k = keys(nudged(w, name));
            assertArrayEquals(base[0], k[0], name + " is not in B");
            assertArrayEquals(base[1], k[1], name + " is not in B");
        }
    }

    /** SHA-256 of the size (a little-endian long) and of the SHA-256 of each part's little-endian float32 bytes. */
    private static byte[] expectedDigest(float[] values) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(values.length).array());
        for (int from = 0; from < values.length; from += TensorDigests.PART_FLOATS) {
            int n = Math.min(TensorDigests.PART_FLOATS, values.length - from);
            ByteBuffer bytes = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(values, from, n);
            md.update(MessageDigest.getInstance("SHA-256").digest(bytes.array()));
        }
        return md.digest();
    }

    @Test
    void aTensorsDigestIsTheSha256OfItsPartsSha256s() throws Exception {
        SoluModel m = TestModels.random(CFG, 32);
        Tensor wU = m.weights().wU;
        byte[] expected = expectedDigest(wU.toArray());
        assertArrayEquals(expected, TensorDigests.digest(wU));
        assertArrayEquals(expected, TensorDigests.of(wU));
        assertArrayEquals(expected, TensorDigests.of(wU), "the second time, from the memo");
        assertArrayEquals(expected, TensorDigests.of(Tensor.of("unembed.W_U", wU.shape(), wU.toArray())), "another tensor, the same values");
    }

    @Test
    void aTensorOfSeveralPartsIsDigestedPartByPartAndEveryPartCounts() throws Exception {
        java.util.Random rng = new java.util.Random(33);
        float[] values = new float[2 * TensorDigests.PART_FLOATS + 12345];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rng.nextGaussian();
        }
        byte[] digest = TensorDigests.digest(Tensor.of("w", new int[] {values.length}, values));
        assertArrayEquals(expectedDigest(values), digest);
        for (int at : new int[] {0, TensorDigests.PART_FLOATS + 7, values.length - 1}) {
            float[] nudged = values.clone();
            nudged[at] = Math.nextUp(nudged[at]);
            assertFalse(Arrays.equals(digest, TensorDigests.digest(Tensor.of("w", new int[] {values.length}, nudged))), "a change at " + at);
        }
    }
}
