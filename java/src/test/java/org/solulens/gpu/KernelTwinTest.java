package org.solulens.gpu;

import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.solulens.cpu.CausalAttention;
import org.solulens.cpu.CrossEntropy;
import org.solulens.cpu.LayerNorm;
import org.solulens.cpu.MatMul;
import org.solulens.cpu.MlpActivation;
import org.solulens.model.ActivationFunction;
import org.solulens.model.Tensor;

/**
 * Every kernel against its CPU twin (cpu/, float64) on random inputs at awkward sizes (not multiples of the block
 * size; a prime vocabulary), outputs poisoned with NaN first so that an element a kernel fails to write fails the
 * test. Runs on the emulator, and on a GPU when one is present. Tolerances are float32 rounding of the sizes used.
 */
@Tag("device")
class KernelTwinTest {
    private static final Random RNG = new Random(2026);

    static java.util.stream.Stream<String> devices() {
        return DeviceTesting.devices();
    }

    private static double[] gaussian(int n, double scale) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (scale * RNG.nextGaussian());   // representable in float: both sides see the same inputs
        }
        return x;
    }

    private static Tensor tensor(String name, double[] v, int... shape) {
        float[] f = new float[v.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) v[i];
        }
        return Tensor.of(name, shape, f);
    }

    private static void assertClose(double[] expected, float[] actual, double abs, double rel, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            if (Double.isInfinite(expected[i])) {
                assertEquals(expected[i], actual[i], 0, what + "[" + i + "]");
                continue;
            }
            assertEquals(expected[i], actual[i], abs + rel * Math.abs(expected[i]), what + "[" + i + "]");
        }
    }

    /**
     * The sweep kernel's two exponentials over the exponents it feeds them (|x| ≤ 64): the polynomial's bound is its
     * fit's 2.4e-7 in float32; the special-function unit's ex2.approx is an approximation of a few ulp, held here to
     * 2^-21 (4.8e-7, 8 ulp): a relative error of every term moves the sweep's Δloss by at most as much, a quarter of
     * its 2e-6 bound.
     */
    @ParameterizedTest
    @MethodSource("devices")
    void bothExp2sMatchTheirTwinWithinTheirStatedRelativeError(String kind) {
        int n = 20011;
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (-64 + 128.0 * i / (n - 1) + 1e-3 * RNG.nextGaussian());   // also near integers and halves
        }
        double[] expected = new double[n];
        for (int i = 0; i < n; i++) {
            expected[i] = Math.pow(2, x[i]);
        }
        try (Device d = DeviceTesting.open(kind); DeviceTesting.Buffers b = new DeviceTesting.Buffers()) {
            DeviceBuffer in = b.add(DeviceTesting.upload(d, x));
            for (boolean poly : new boolean[] {false, true}) {
                DeviceBuffer out = b.add(DeviceTesting.poisoned(d, n));
                Kernels.exp2(d, out, in, n, poly);
                assertClose(expected, DeviceTesting.download(d, out, n), 0, poly ? 2.5e-7 : 4.8e-7, (poly ? "poly" : "hardware") + " exp2");
            }
        }
    }

    /** Double operands split into float32 parts, products accumulated in double: C within ~1e-13 of the double product. */
    @ParameterizedTest
    @MethodSource("devices")
    void splitMatmulKeepsDoublePrecision(String kind) {
        int m = 5, k = 77, n = 41;
        double[] a = new double[m * k], b = new double[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = RNG.nextGaussian();   // not float-representable: the lo part matters
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = RNG.nextGaussian();
        }
        double[] expected = new double[m * n];
        double largest = 0;
        for (int r = 0; r < m; r++) {
            for (int c = 0; c < n; c++) {
                for (int i = 0; i < k; i++) {
                    expected[r * n + c] += a[r * k + i] * b[i * n + c];
                }
                largest = Math.max(largest, Math.abs(expected[r * n + c]));
            }
        }
        try (Device d = DeviceTesting.open(kind); DeviceTesting.Buffers bufs = new DeviceTesting.Buffers()) {
            DeviceBuffer[] as = split(d, bufs, a), bs = split(d, bufs, b);
            DeviceBuffer hi = bufs.add(DeviceTesting.poisoned(d, m * n)), lo = bufs.add(DeviceTesting.poisoned(d, m * n));
            Kernels.matmulSplit(d, hi, lo, as[0], as[1], bs[0], bs[1], m, n, k);
            double[] h = d.download(hi, 0, m * n), l = d.download(lo, 0, m * n);
            for (int i = 0; i < m * n; i++) {
                assertEquals(expected[i], h[i] + l[i], 1e-13 * largest, "C[" + i + "]");
                assertEquals((float) expected[i], (float) h[i], Math.ulp((float) expected[i]), "hi part of C[" + i + "]");
            }
        }
    }

    private static DeviceBuffer[] split(Device d, DeviceTesting.Buffers bufs, double[] x) {
        float[][] parts = Kernels.splitHiLo(x);
        return new DeviceBuffer[] {bufs.add(d.upload(parts[0])), bufs.add(d.upload(parts[1]))};
    }

    @ParameterizedTest
    @MethodSource("devices")
    void rowAbsMaxMatchesItsTwin(String kind) {
        int rows = 3, cols = 1031;
        double[] x = gaussian(rows * cols, 2.0);
        x[cols + 17] = -40;   // the largest magnitude of row 1 is negative
        try (Device d = DeviceTesting.open(kind); DeviceTesting.Buffers b = new DeviceTesting.Buffers()) {
            DeviceBuffer out = b.add(DeviceTesting.poisoned(d, rows));
            Kernels.rowAbsMax(d, out, b.add(DeviceTesting.upload(d, x)), rows, cols);
            double[] expected = new double[rows];
            for (int i = 0; i < x.length; i++) {
                expected[i / cols] = Math.max(expected[i / cols], Math.abs(x[i]));
            }
            assertClose(expected, DeviceTesting.download(d, out, rows), 0, 0, "row_absmax");
            assertEquals(40, expected[1], 0);
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void interleaveRows4PutsFourRowsSideBySideAndZeroPadsTheLastGroup(String kind) {
        int rows = 7, cols = 13;   // two groups of four rows, the second with one row of padding
        double[] x = gaussian(rows * cols, 1.0);
        int floats = (int) Kernels.interleavedFloats(rows, cols);
        assertEquals(2 * cols * 4, floats);
        try (Device d = DeviceTesting.open(kind); DeviceTesting.Buffers b = new DeviceTesting.Buffers()) {
            DeviceBuffer out = b.add(DeviceTesting.poisoned(d, floats));
            Kernels.interleaveRows4(d, out, b.add(DeviceTesting.upload(d, x)), rows, cols);
            double[] expected = new double[floats];
            for (int g = 0; g < 2; g++) {
                for (int c = 0; c < cols; c++) {
                    for (int r = 0; r < 4; r++) {
                        int row = 4 * g + r;
                        expected[(g * cols + c) * 4 + r] = row < rows ? (float) x[row * cols + c] : 0;
                    }
                }
            }
            assertClose(expected, DeviceTesting.download(d, out, floats), 0, 0, "interleave_rows4");
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void layerNormMatchesItsTwinIncludingATinyVarianceRow(String kind) {
        int rows = 5, width = 300;
        double[] x = gaussian(rows * width, 1.0), w = gaussian(width, 0.2), b = gaussian(width, 0.1);
        for (int i = 0; i < width; i++) {
            w[i] += 1;
            x[width + i] = (float) (3.0 + 1e-3 * RNG.nextGaussian());   // row 1: variance ~1e-6, well under eps's scale
        }
        double[] out = new double[x.length], norm = new double[x.length], scale = new double[rows];
        LayerNorm.forward(x, rows, width, tensor("w", w, width), tensor("b", b, width), 1e-5, norm, scale, out);
        try (Device d = DeviceTesting.open(kind); DeviceTesting.Buffers buf = new DeviceTesting.Buffers()) {
            DeviceBuffer gx = buf.add(DeviceTesting.upload(d, x)), gw = buf.add(DeviceTesting.upload(d, w)), gb = buf.add(DeviceTesting.upload(d, b));
            DeviceBuffer gOut = buf.add(DeviceTesting.poisoned(d, x.length)), gNorm = buf.add(DeviceTesting.poisoned(d, x.length));
            DeviceBuffer gScale = buf.add(DeviceTesting.poisoned(d, rows));
            Kernels.layerNorm(d, gOut, gNorm, gScale, gx, gw, gb, rows, width, 1e-5f);
            // float32 centring of values near 3 leaves ~1e-7 absolute error; the tiny row divides it by scale ~3e-3
            assertClose(scale, DeviceTesting.download(d, gScale, rows), 1e-8, 1e-5, "scale");
            assertClose(norm, DeviceTesting.download(d, gNorm, x.length), 2e-4, 1e-5, "normalized");
            assertClose(out, DeviceTesting.download(d, gOut, x.length), 2e-4, 1e-5, "out");
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void activationsMatchTheirTwins(String kind) {
        int rows = 3, width = 517;
        double[] pre = gaussian(rows * width, 2.0);
        try (Device d = DeviceTesting.open(kind); DeviceTesting.Buffers buf = new DeviceTesting.Buffers()) {
            DeviceBuffer gPre = buf.add(DeviceTesting.upload(d, pre));
            for (ActivationFunction f : ActivationFunction.values()) {
                double[] expected = new double[pre.length];
                MlpActivation.forward(f, pre, rows, width, expected);
                DeviceBuffer out = buf.add(DeviceTesting.poisoned(d, pre.length));
                switch (f) {
                    case SOLU, SOLU_LN -> Kernels.solu(d, out, gPre, rows, width);
                    case GELU -> Kernels.elementwise(d, "gelu_forward", out, gPre, pre.length);
                    case GELU_NEW -> Kernels.elementwise(d, "gelu_new_forward", out, gPre, pre.length);
                    case RELU -> Kernels.elementwise(d, "relu_forward", out, gPre, pre.length);
                }
                assertClose(expected, DeviceTesting.download(d, out, pre.length), 1e-6, 1e-5, f.tlName());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void matmulMatchesItsTwinWithOffsetsLeadingDimensionsAndBias(String kind) {
        int m = 37, n = 70, k = 45, ldb = 83, offset = 9;   // B is a 45 x 70 window of a 45 x 83 matrix, 9 columns in
        double[] a = gaussian(m * k, 1.0), bFull = gaussian(k * ldb, 1.0), bias = gaussian(n, 0.5);
        double[] b = new double[k * n];
        for (int r = 0; r < k; r++) {
            System.arraycopy(bFull, r * ldb + offset, b, r * n, n);
        }
        double[] expected = MatMul.multiply(a, m, k, tensor("b", b, k, n), 0, n, tensor("bias", bias, n), 0);
        try (Device d = DeviceTesting.open(kind); DeviceTesting.Buffers buf = new DeviceTesting.Buffers()) {
            DeviceBuffer ga = buf.add(DeviceTesting.upload(d, a)), gb = buf.add(DeviceTesting.upload(d, bFull));
            DeviceBuffer gBias = buf.add(DeviceTesting.upload(d, bias)), c = buf.add(DeviceTesting.poisoned(d, m * n));
            Kernels.matmul(d, c, 0, ga, 0, gb, offset, gBias, 0, m, n, k, k, ldb, n);
            assertClose(expected, DeviceTesting.download(d, c, m * n), 2e-5, 1e-5, "C");
            // the bias kernel that follows a cuBLAS product: an (m-1) x (n-3) block of C starting 3 floats in
            double[] want = toDouble(DeviceTesting.download(d, c, m * n));
            for (int r = 0; r < m - 1; r++) {
                for (int col = 0; col < n - 3; col++) {
                    want[3 + r * n + col] += (float) bias[col];
                }
            }
            Kernels.biasAdd(d, c, 3, gBias, 0, m - 1, n - 3, n);
            assertClose(want, DeviceTesting.download(d, c, m * n), 1e-5, 1e-6, "C after bias add");
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @ParameterizedTest
    @MethodSource("devices")
    void packedAttentionOfTwoPromptsMatchesItsTwinPerPrompt(String kind) {
        int heads = 3, dHead = 5;
        int[] lengths = {7, 2};
        int rows = 9;
        double[] q = gaussian(rows * heads * dHead, 1.0), k = gaussian(rows * heads * dHead, 1.0), v = gaussian(rows * heads * dHead, 1.0);
        int[] start = new int[rows], length = new int[rows];
        long[] base = new long[rows];
        for (int r = 0; r < rows; r++) {
            boolean first = r < 7;
            start[r] = first ? 0 : 7;
            length[r] = first ? 7 : 2;
            base[r] = first ? 0 : (long) heads * 49;
        }
        int scoreTotal = heads * (49 + 4);
        try (Device d = DeviceTesting.open(kind); DeviceTesting.Buffers buf = new DeviceTesting.Buffers()) {
            DeviceBuffer gq = buf.add(DeviceTesting.upload(d, q)), gk = buf.add(DeviceTesting.upload(d, k)), gv = buf.add(DeviceTesting.upload(d, v));
            DeviceBuffer z = buf.add(DeviceTesting.poisoned(d, q.length)), scores = buf.add(DeviceTesting.poisoned(d, scoreTotal));
            DeviceBuffer pattern = buf.add(DeviceTesting.poisoned(d, scoreTotal));
            DeviceBuffer gBase = buf.add(d.upload(base));
            Kernels.attention(d, z, scores, pattern, gq, gk, gv, buf.add(DeviceTesting.uploadInts(d, start)),
                    buf.add(DeviceTesting.uploadInts(d, length)), gBase, rows, heads, dHead, (float) Math.sqrt(dHead));
            float[] gz = DeviceTesting.download(d, z, q.length), gs = DeviceTesting.download(d, scores, scoreTotal);
            float[] gp = DeviceTesting.download(d, pattern, scoreTotal);
            int stride = heads * dHead;
            for (int s = 0; s < 2; s++) {
                int r0 = s == 0 ? 0 : 7, len = lengths[s], sb = s == 0 ? 0 : heads * 49;
                CausalAttention.Result twin = CausalAttention.attend(java.util.Arrays.copyOfRange(q, r0 * stride, (r0 + len) * stride),
                        java.util.Arrays.copyOfRange(k, r0 * stride, (r0 + len) * stride),
                        java.util.Arrays.copyOfRange(v, r0 * stride, (r0 + len) * stride), len, heads, dHead, Math.sqrt(dHead));
                assertClose(twin.z(), java.util.Arrays.copyOfRange(gz, r0 * stride, (r0 + len) * stride), 1e-5, 1e-5, "z of prompt " + s);
                assertClose(twin.scores(), java.util.Arrays.copyOfRange(gs, sb, sb + heads * len * len), 1e-5, 1e-5, "scores of prompt " + s);
                assertClose(twin.pattern(), java.util.Arrays.copyOfRange(gp, sb, sb + heads * len * len), 1e-6, 1e-5, "pattern of prompt " + s);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void crossEntropyAndEmbeddingMatchTheirTwins(String kind) {
        int vocab = 1009, d = 19;   // a prime vocabulary
        int[] tokens = {5, 1008, 0, 77, 300};
        double[] logits = gaussian(tokens.length * vocab, 3.0);
        double[] expected = CrossEntropy.nextTokenLoss(logits, tokens, vocab);
        int[] targets = {1008, 0, 77, 300, -1};
        double[] wE = gaussian(vocab * d, 1.0), wPos = gaussian(8 * d, 1.0);
        int[] positions = {0, 1, 2, 0, 1};   // two prompts: 3 tokens, then 2
        try (Device dev = DeviceTesting.open(kind); DeviceTesting.Buffers buf = new DeviceTesting.Buffers()) {
            DeviceBuffer loss = buf.add(DeviceTesting.poisoned(dev, tokens.length));
            Kernels.crossEntropy(dev, loss, buf.add(DeviceTesting.upload(dev, logits)), buf.add(DeviceTesting.uploadInts(dev, targets)),
                    tokens.length, vocab);
            float[] got = DeviceTesting.download(dev, loss, tokens.length);
            assertClose(expected, java.util.Arrays.copyOf(got, 4), 1e-5, 1e-6, "loss");
            assertEquals(Float.NaN, got[4], 0, "the row without a target stays unwritten");
            int rows = tokens.length;
            DeviceBuffer e = buf.add(DeviceTesting.poisoned(dev, rows * d)), p = buf.add(DeviceTesting.poisoned(dev, rows * d));
            DeviceBuffer r = buf.add(DeviceTesting.poisoned(dev, rows * d));
            Kernels.embed(dev, e, p, r, buf.add(DeviceTesting.upload(dev, wE)), buf.add(DeviceTesting.upload(dev, wPos)),
                    buf.add(DeviceTesting.uploadInts(dev, tokens)), buf.add(DeviceTesting.uploadInts(dev, positions)), rows, d);
            float[] resid = DeviceTesting.download(dev, r, rows * d);
            for (int i = 0; i < rows * d; i++) {
                int row = i / d, c = i % d;
                assertEquals((float) (wE[tokens[row] * d + c] + wPos[positions[row] * d + c]), resid[i], 1e-6, "resid_pre " + i);
            }
        }
    }
}
