package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The C++ inner loop (native/cpu) gives the Java loops' bits: against a plain-Java model of the lane order (any lane
 * count), which the Vector API loop must also match at its own width, and tile by tile against the Java tile loop.
 */
class NativeFloatExpSumTest {
    /** Where the native loop cannot run here (no AVX2: CI says so in the skip), the tests that need it are skipped. */
    private static NativeFloatExpSum nativeLoop() {
        Object loop = NativeFloatExpSum.load();
        if (cpuHasAvx2AndFma()) {
            assertTrue(loop instanceof FloatExpSum, "this CPU has AVX2 and FMA, but the native loop did not load: " + loop);
        }
        Assumptions.assumeTrue(loop instanceof FloatExpSum, "the native loop cannot run here: " + loop);
        return (NativeFloatExpSum) loop;
    }

    /** Both widths where this CPU runs both (8 lanes with AVX2; 16 too with AVX-512F). */
    private static java.util.List<NativeFloatExpSum> everyWidth() {
        nativeLoop();
        java.util.List<NativeFloatExpSum> loops = new java.util.ArrayList<>(java.util.List.of(NativeFloatExpSum.withLanes(8)));
        if (NativeFloatExpSum.withLanes(16) != null) {
            loops.add(NativeFloatExpSum.withLanes(16));
        }
        return loops;
    }

    static boolean cpuHasAvx2AndFma() {
        return cpuHas("avx2") && cpuHas("fma");
    }

    static boolean cpuHas(String flag) {
        try {
            return java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo")).stream()
                    .anyMatch(l -> l.startsWith("flags") && java.util.Arrays.asList(l.split("\\s+")).contains(flag));
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void theVectorLoopFollowsTheLaneOrderModelBitForBit() {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        FloatExpSum vector = new VectorFloatExpSum();
        assertSameBitsAsModel(vector, lanes, new Random(31));
    }

    @Test
    void theNativeLoopFollowsTheLaneOrderModelBitForBitAtEveryWidthThisCpuRuns() {
        for (NativeFloatExpSum loop : everyWidth()) {
            assertSameBitsAsModel(loop, loop.lanes(), new Random(32));
        }
    }

    @Test
    void sixteenLanesAreOfferedExactlyWhereTheCpuHasAvx512() {
        nativeLoop();
        boolean avx512 = cpuHas("avx512f");
        assertEquals(avx512, NativeFloatExpSum.withLanes(16) != null);
        assertEquals(avx512 ? 16 : 8, nativeLoop().lanes(), "the loaded loop runs the widest lanes here");
        assertEquals(null, NativeFloatExpSum.withLanes(4));
    }

    @Test
    void theNativeLoopGivesTheVectorLoopsBitsWhereBothHaveTheSameWidth() {
        NativeFloatExpSum widest = nativeLoop();
        Assumptions.assumeTrue(VectorFloatExpSum.lanes() == 8 || VectorFloatExpSum.lanes() == widest.lanes(), "the Vector API has "
                + VectorFloatExpSum.lanes() + " lanes here (the model test covers the native loop)");
        FloatExpSum loop = NativeFloatExpSum.withLanes(VectorFloatExpSum.lanes());
        FloatExpSumTest.Inputs in = new FloatExpSumTest.Inputs(33, 20_000);
        FloatExpSum vector = new VectorFloatExpSum();
        for (int n : new int[] {5, 64, 127, 2048, 4093, 19_990}) {
            assertEquals(vector.sum(in.q, 3, 0.4f, in.a, 1, -0.3f, in.a2, 7, -1.2f, in.b, 2, n),
                    loop.sum(in.q, 3, 0.4f, in.a, 1, -0.3f, in.a2, 7, -1.2f, in.b, 2, n), 0.0, "mid, n = " + n);
            assertEquals(vector.sum(in.q, 0, 0.9f, in.a, 4, 0f, null, 0, 0.6f, in.b, 9, n),
                    loop.sum(in.q, 0, 0.9f, in.a, 4, 0f, null, 0, 0.6f, in.b, 9, n), 0.0, "post, n = " + n);
        }
    }

    @Test
    void exponentsHalfwayBetweenTwoIntegersRoundAlikeInEveryLoop() {
        // The native loop rounds y to k with vroundps, the Java loops by adding and subtracting 1.5·2^23: both must send
        // a tie to the even integer. Rows of B whose every y = db·log2e·b is exactly an odd multiple of 1/2.
        float db = 0.75f, scaled = db * FloatExp.LOG2E;
        Random rng = new Random(34);
        int n = 1024;
        float[] b = new float[n], q = new float[n], a = new float[n];
        int ties = 0;
        for (int v = 0; v < n; v++) {
            float half = (rng.nextInt(81) - 40) + 0.5f;
            float x = half / scaled;
            for (int step = 0; step < 64 && x * scaled != half; step++) {
                x = x * scaled < half ? Math.nextUp(x) : Math.nextDown(x);
            }
            b[v] = x * scaled == half ? x : 0f;
            ties += x * scaled == half ? 1 : 0;
            q[v] = rng.nextFloat() / n;
            a[v] = (float) rng.nextGaussian();
        }
        assertTrue(ties > n / 2, "too few exact ties found: " + ties);
        for (NativeFloatExpSum loop : everyWidth()) {
            double expected = laneOrderModel(loop.lanes(), q, 0, 0f, a, 0, 0f, null, 0, db, b, 0, n);
            double actual = loop.sum(q, 0, 0f, a, 0, 0f, null, 0, db, b, 0, n);
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual),
                    loop.name() + ": " + expected + " against " + actual);
        }
        double vector = new VectorFloatExpSum().sum(q, 0, 0f, a, 0, 0f, null, 0, db, b, 0, n);
        assertEquals(Double.doubleToRawLongBits(laneOrderModel(VectorFloatExpSum.lanes(), q, 0, 0f, a, 0, 0f, null, 0, db, b, 0, n)),
                Double.doubleToRawLongBits(vector));
    }

    @Test
    void aNativeTileGivesTheJavaTileLoopsBits() {
        for (NativeFloatExpSum loop : everyWidth()) {
            assertTileGivesTheJavaTileLoopsBits(loop);
        }
    }

    private static void assertTileGivesTheJavaTileLoopsBits(NativeFloatExpSum loop) {
        FloatExpSum javaTiles = javaTiles(loop.lanes());
        Random rng = new Random(34);
        int vocab = 5003, rows = 11, neurons = 19;
        float[] q = new float[rows * vocab], a = new float[rows * vocab], a2 = new float[rows * vocab], b = new float[neurons * vocab];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) (Math.exp(2 * rng.nextGaussian()) / vocab);
            a[i] = (float) (3 * rng.nextGaussian());
            a2[i] = (float) rng.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) (0.5 * rng.nextGaussian());
        }
        int q0 = 2, positions = 7, n0 = 3, tileNeurons = 13, pairs = positions * tileNeurons;
        double[] dA = new double[pairs], dA2 = new double[pairs], dB = new double[pairs];
        boolean[] admitted = new boolean[pairs];
        for (int t = 0; t < pairs; t++) {
            dA[t] = 0.3 * rng.nextGaussian();
            dA2[t] = 0.2 * rng.nextGaussian();
            dB[t] = rng.nextGaussian();
            admitted[t] = rng.nextInt(5) != 0;
        }
        for (float[] second : new float[][] {null, a2}) {
            double[] expected = new double[pairs], actual = new double[pairs];
            java.util.Arrays.fill(expected, 0.25);   // the tile adds to what is there
            java.util.Arrays.fill(actual, 0.25);
            javaTiles.sweepTile(q, a, second, b, vocab, q0, positions, n0, tileNeurons, 2048, dA, dA2, dB, admitted, expected);
            loop.sweepTile(q, a, second, b, vocab, q0, positions, n0, tileNeurons, 2048, dA, dA2, dB, admitted, actual);
            assertArrayEquals(expected, actual, 0.0, loop.name() + ", " + (second == null ? "post" : "mid"));
            for (int t = 0; t < pairs; t++) {
                assertEquals(admitted[t], actual[t] != 0.25, "pair " + t + " is summed exactly when admitted");
            }
            // B read in place from a direct buffer, as from a mapped cache file
            double[] mapped = new double[pairs];
            java.util.Arrays.fill(mapped, 0.25);
            loop.sweepTile(q, a, second, direct(b, neurons, vocab), q0, positions, n0, tileNeurons, 2048, dA, dA2, dB, admitted, mapped);
            assertArrayEquals(expected, mapped, 0.0, loop.name() + ", " + (second == null ? "post" : "mid") + ", B mapped");
        }
    }

    /** B in a direct buffer, as the constant cache maps it. */
    private static BMatrix direct(float[] b, int rows, int cols) {
        java.nio.FloatBuffer values = java.nio.ByteBuffer.allocateDirect(4 * b.length).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
        values.put(b);
        return BMatrix.mapped(rows, cols, values, new double[rows]);
    }

    @Test
    void indicesOutsideTheArraysAreRefusedBeforeTheNativeCall() {
        FloatExpSum loop = nativeLoop();
        float[] q = new float[100], a = new float[100], b = new float[100];
        assertThrows(IndexOutOfBoundsException.class, () -> loop.sum(q, 50, 1f, a, 0, 0f, null, 0, 1f, b, 0, 51));
        assertThrows(IndexOutOfBoundsException.class, () -> loop.sum(q, 0, 1f, a, 0, 0f, new float[10], 0, 1f, b, 0, 20));
        double[] one = new double[1];
        assertThrows(IndexOutOfBoundsException.class,
                () -> loop.sweepTile(q, a, null, b, 50, 1, 2, 0, 1, 16, one, one, one, new boolean[1], new double[2]));
        assertThrows(IllegalArgumentException.class,
                () -> loop.sweepTile(q, a, null, b, 50, 0, 1, 0, 1, 0, one, one, one, new boolean[1], new double[1]));
        assertThrows(IndexOutOfBoundsException.class,
                () -> loop.sweepTile(q, a, null, direct(b, 2, 50), 0, 1, 1, 2, 16, one, one, one, new boolean[2], new double[2]),
                "rows of a mapped B beyond its end");
    }

    @Test
    void theLoopIsChosenBySystemPropertyAndABadChoiceIsNamed() throws Exception {
        assertEquals("scalar float exp", chosenIn("-Dsolulens.exp=scalar"));
        assertTrue(chosenIn("-Dsolulens.exp=vector").startsWith("vector float exp"));
        assertTrue(chosenIn("-Dsolulens.exp=bogus").contains("-Dsolulens.exp must be auto, native, vector or scalar, not bogus"));
        if (NativeFloatExpSum.load() instanceof NativeFloatExpSum loop) {
            assertEquals(loop.name(), chosenIn("-Dsolulens.exp=native"));
            assertEquals(cpuHas("avx512f") ? "native float exp (AVX-512, 16 lanes, deterministic)"
                    : "native float exp (AVX2, 8 lanes, deterministic)", loop.name());
            if (VectorFloatExpSum.lanes() == loop.lanes()) {
                assertEquals(loop.name(), chosenIn("-Dsolulens.exp=auto"), "auto takes the native loop at the Vector API's width");
            }
        }
    }

    @Test
    void aJvmLimitedToAvx2OnAnAvx512CpuRunsTheNativeLoopsAtEightAndFourLanes() throws Exception {
        Assumptions.assumeTrue(cpuHas("avx512f") && NativeFloatExpSum.load() instanceof NativeFloatExpSum, "needs an AVX-512 CPU");
        // the Vector API then prefers 256 bits: the native loops at its width give its bits and read B in place
        assertEquals("native float exp (AVX2, 8 lanes, deterministic)\nnative exp (AVX2, 4 double lanes, deterministic)",
                chosenIn("-XX:UseAVX=2", true, "both"));
    }

    @Test
    void aJvmWithoutTheVectorApiRunsTheNativeLoopsWhereTheyLoadElseTheScalarOnes() throws Exception {
        // the Vector API's classes must not be touched while choosing: without the module they cannot load
        String chosen = chosenIn("-Dsolulens.exp=auto", false);
        if (NativeFloatExpSum.load() instanceof NativeFloatExpSum loop) {
            assertEquals(loop.name() + "\n" + ((NativeExpSum) NativeExpSum.load()).name(), chosen);
        } else {
            assertEquals("scalar float exp\nscalar Math.exp", chosen);
        }
    }

    /** What FloatExpSum.best() is in a child JVM started with {@code property}, or the error it raised. */
    private static String chosenIn(String property) throws Exception {
        return chosenIn(property, true);
    }

    /** What FloatExpSum.best() and ExpSum.best() are in a child JVM, with or without the Vector API module. */
    private static String chosenIn(String property, boolean vectorModule) throws Exception {
        return chosenIn(property, vectorModule, vectorModule ? "float" : "both");
    }

    /** What FloatExpSum.best() ({@code which} "float") or it and ExpSum.best() ("both") are in a child JVM. */
    private static String chosenIn(String property, boolean vectorModule, String which) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(), property));
        if (vectorModule) {
            command.addAll(java.util.List.of("--add-modules", "jdk.incubator.vector"));
        }
        command.addAll(java.util.List.of("-cp", System.getProperty("java.class.path"), Chosen.class.getName(), which));
        // standard output only: the JVM writes its own notes (incubator modules, JAVA_TOOL_OPTIONS) to standard error
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(child.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the child JVM did not finish");
        return out.strip();
    }

    /** Prints the chosen loop's name ("both": and the double loop's), or the error of choosing it. */
    static final class Chosen {
        public static void main(String[] args) {
            try {
                System.out.println(FloatExpSum.best().name());
                if (args.length > 0 && args[0].equals("both")) {
                    System.out.println(ExpSum.best().name());
                }
            } catch (ExceptionInInitializerError e) {
                System.out.println(e.getCause());
            }
        }
    }

    /** The interface's own tile loop over the model (the Java reference the native tile must match, given the model's bits). */
    private static FloatExpSum javaTiles(int lanes) {
        return new FloatExpSum() {
            @Override
            public double sum(float[] q, int qo, float da, float[] a, int ao, float da2, float[] a2, int a2o, float db, float[] b, int bo, int n) {
                return laneOrderModel(lanes, q, qo, da, a, ao, da2, a2, a2o, db, b, bo, n);
            }

            @Override
            public String name() {
                return "lane-order model, " + lanes + " lanes";
            }
        };
    }

    private static void assertSameBitsAsModel(FloatExpSum loop, int lanes, Random rng) {
        FloatExpSumTest.Inputs in = new FloatExpSumTest.Inputs(rng.nextLong(), 20_000);
        for (int trial = 0; trial < 200; trial++) {
            int n = trial < 20 ? trial * 7 : rng.nextInt(19_000);
            int qo = rng.nextInt(100), ao = rng.nextInt(100), a2o = rng.nextInt(100), bo = rng.nextInt(100);
            float da = (float) rng.nextGaussian(), da2 = (float) (0.5 * rng.nextGaussian()), db = (float) (2 * rng.nextGaussian());
            float[] a2 = trial % 2 == 0 ? in.a2 : null;
            double expected = laneOrderModel(lanes, in.q, qo, da, in.a, ao, da2, a2, a2o, db, in.b, bo, n);
            double actual = loop.sum(in.q, qo, da, in.a, ao, da2, a2, a2o, db, in.b, bo, n);
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual),
                    loop.name() + ", n = " + n + ": " + expected + " against " + actual);
        }
    }

    /**
     * The vector loop's order written one lane at a time: blocks of 8 vectors of {@code lanes} floats summed per lane in
     * float, the lower and upper half of the lanes widened into two double accumulators, added in lane order; the tail
     * one element at a time. Every operation is FloatExp's, so the result is defined to the bit.
     */
    static double laneOrderModel(int lanes, float[] q, int qo, float da, float[] a, int ao, float da2, float[] a2, int a2o, float db,
                                 float[] b, int bo, int n) {
        da *= FloatExp.LOG2E;
        da2 *= FloatExp.LOG2E;
        db *= FloatExp.LOG2E;
        int half = lanes / 2, block = 8 * lanes, v = 0;
        double[] acc0 = new double[half], acc1 = new double[half];
        for (; v + block <= n; v += block) {
            float[] part = new float[lanes];
            for (int j = v; j < v + block; j += lanes) {
                for (int l = 0; l < lanes; l++) {
                    float d = FloatExpSum.logitChange(da, a[ao + j + l], da2, a2 == null ? 0 : a2[a2o + j + l], db, b[bo + j + l], a2 != null);
                    part[l] = Math.fma(q[qo + j + l], FloatExp.exp2(d), part[l]);
                }
            }
            for (int l = 0; l < half; l++) {
                acc0[l] += part[l];
                acc1[l] += part[half + l];
            }
        }
        double s = 0;
        for (double x : acc0) {
            s += x;
        }
        for (double x : acc1) {
            s += x;
        }
        for (; v < n; v++) {
            s += q[qo + v] * FloatExp.exp2(FloatExpSum.logitChange(da, a[ao + v], da2, a2 == null ? 0 : a2[a2o + v], db, b[bo + v], a2 != null));
        }
        return s;
    }
}
