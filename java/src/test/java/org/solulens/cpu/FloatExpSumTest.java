package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The single-precision inner loop: its exponential against Math.exp, its vector lanes against the scalar form bit for
 * bit, its sums against double, and the same bits from an interpreted JVM as from compiled code.
 */
class FloatExpSumTest {
    @Test
    void floatExp2sPolynomialIsWithin8e8OfMathPowOnItsWholeInterval() {
        // r = i · 2^-22 for |r| ≤ 1/2: 4.2M points, one float in eight in [1/4, 1/2); over every float r there the
        // worst is 7.98e-8 (FloatExp)
        double worst = 0;
        for (int i = -(1 << 21); i <= 1 << 21; i++) {
            float r = Math.scalb((float) i, -22);
            worst = Math.max(worst, Math.abs(FloatExp.exp2(r) / Math.pow(2, r) - 1));
        }
        assertTrue(worst < 8.0e-8, "max relative error " + worst);
        assertTrue(worst > 5e-8, "the float32 roundings should show: " + worst);
    }

    @Test
    void floatExp2IsWithinATenthOfAMillionthOfMathPowOverItsDomain() {
        Random rng = new Random(11);
        double worst = 0;
        for (int i = 0; i < 2_000_000; i++) {
            float y = (float) ((rng.nextDouble() * 2 - 1) * FloatExp.DOMAIN);
            worst = Math.max(worst, Math.abs(FloatExp.exp2(y) / Math.pow(2, y) - 1));
        }
        for (float y : new float[] {0f, -0f, 1e-30f, -1e-30f, FloatExp.DOMAIN, -FloatExp.DOMAIN, 0.5f, -0.5f, 0.49999997f, 1.5f, -2.5f}) {
            worst = Math.max(worst, Math.abs(FloatExp.exp2(y) / Math.pow(2, y) - 1));
        }
        assertTrue(worst < 1e-7, "max relative error " + worst);
        assertEquals(1f, FloatExp.exp2(0f));
        assertEquals(8f, FloatExp.exp2(3f));
    }

    @Test
    void vectorLanesGiveTheScalarFormsBits() {
        Random rng = new Random(12);
        float[] y = new float[FloatVector.SPECIES_PREFERRED.length()];
        for (int t = 0; t < 20_000; t++) {
            for (int l = 0; l < y.length; l++) {
                y[l] = (float) ((rng.nextDouble() * 2 - 1) * (t % 2 == 0 ? FloatExp.DOMAIN : 2));
            }
            float[] e = VectorFloatExpSum.exp2(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, y, 0)).toArray();
            for (int l = 0; l < y.length; l++) {
                assertEquals(Float.floatToRawIntBits(FloatExp.exp2(y[l])), Float.floatToRawIntBits(e[l]), "exp2(" + y[l] + ")");
            }
        }
    }

    @Test
    void sumsAgreeWithDoubleAndTheScalarLoopForAnyLengthAndBothSites() {
        assertTrue(FloatExpSum.best() != FloatExpSum.SCALAR, "tests run with --add-modules jdk.incubator.vector: " + FloatExpSum.best().name());
        FloatExpSum vectorLoop = new VectorFloatExpSum();
        Inputs in = new Inputs(13, 9000);
        for (int n : new int[] {1, 15, 16, 17, 63, 64, 65, 1000, 4099, 8191}) {
            for (boolean mid : new boolean[] {false, true}) {
                float[] a2 = mid ? in.a2 : null;
                double reference = 0;
                for (int v = 0; v < n; v++) {
                    double d = 0.7 * in.a[3 + v] + (mid ? -0.45 * in.a2[5 + v] : 0) + 1.9 * in.b[7 + v];
                    reference += in.q[1 + v] * Math.exp(d);
                }
                double best = FloatExpSum.best().sum(in.q, 1, 0.7f, in.a, 3, -0.45f, a2, 5, 1.9f, in.b, 7, n);
                double vector = vectorLoop.sum(in.q, 1, 0.7f, in.a, 3, -0.45f, a2, 5, 1.9f, in.b, 7, n);
                double scalar = FloatExpSum.SCALAR.sum(in.q, 1, 0.7f, in.a, 3, -0.45f, a2, 5, 1.9f, in.b, 7, n);
                // float32 exponents and d: ~1e-7 relative per term; the sums are in double
                assertEquals(reference, vector, 1e-6 * reference, "n = " + n + (mid ? ", mid" : ", post"));
                assertEquals(reference, best, 1e-6 * reference, FloatExpSum.best().name() + ", n = " + n + (mid ? ", mid" : ", post"));
                assertEquals(reference, scalar, 1e-6 * reference, "scalar, n = " + n + (mid ? ", mid" : ", post"));
            }
        }
    }

    @Test
    void anInterpretedJvmGivesTheSameBitsAsCompiledCode() throws IOException, InterruptedException {
        // compiled: warm the Vector API loop until C2 has compiled it, then take the sums
        FloatExpSum sum = new VectorFloatExpSum();
        Inputs in = new Inputs(14, 5000);
        for (int i = 0; i < 3000; i++) {
            Probe.sums(sum, in);
        }
        List<String> compiled = Probe.sums(sum, in);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xint", "-Dsolulens.exp=vector", "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        Process child = new ProcessBuilder(command).redirectErrorStream(false).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the interpreted probe did not finish");
        assertEquals(0, child.exitValue(), "probe failed: " + err);
        assertEquals(String.join("\n", compiled), out.strip(), "interpreted (-Xint) and compiled sums differ");
    }

    /** Seeded random rows: q a probability-like row, a and a2 logit-sized, b a row of B. */
    static final class Inputs {
        final float[] q, a, a2, b;

        Inputs(long seed, int n) {
            Random rng = new Random(seed);
            q = new float[n];
            a = new float[n];
            a2 = new float[n];
            b = new float[n];
            for (int i = 0; i < n; i++) {
                q[i] = (float) (Math.exp(2 * rng.nextGaussian()) / n);
                a[i] = (float) (3 * rng.nextGaussian());
                a2[i] = (float) rng.nextGaussian();
                b[i] = (float) (0.5 * rng.nextGaussian());
            }
        }
    }

    /** Prints the sums' bits: run in a child JVM with -Xint. */
    static final class Probe {
        static List<String> sums(FloatExpSum sum, Inputs in) {
            List<String> out = new ArrayList<>();
            for (int n : new int[] {17, 64, 1000, 4093}) {
                out.add(Long.toHexString(Double.doubleToRawLongBits(sum.sum(in.q, 2, 0.31f, in.a, 1, 0f, null, 0, -1.7f, in.b, 3, n))));
                out.add(Long.toHexString(Double.doubleToRawLongBits(sum.sum(in.q, 0, -0.2f, in.a, 5, 0.8f, in.a2, 4, 0.9f, in.b, 0, n))));
            }
            return out;
        }

        public static void main(String[] args) {
            System.out.println(String.join("\n", sums(FloatExpSum.best(), new Inputs(14, 5000))));
        }
    }
}
