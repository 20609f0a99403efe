package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Random;
import org.bytedeco.javacpp.DoublePointer;
import org.junit.jupiter.api.Test;

/** The float/double conversions give the Java loop's bits (and largest magnitude), natively where they run natively. */
class NativeConversionsTest {
    private static final int[] LENGTHS = {0, 1, 7, 8, 9, 15, 17, 1000, 48262};

    @Test
    void theConversionsAreNativeOnACpuWithAvx2() {
        if (NativeFloatExpSumTest.cpuHasAvx2AndFma()) {
            assertTrue(NativeConversions.isNative(), "this CPU has AVX2, but the native conversions did not load");
        }
    }

    /** Values across float's range: ordinary ones, ties to round, float subnormals, past float's largest, signed zeros. */
    private static double[] doubles(Random rng, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (rng.nextInt(8)) {
                case 0 -> rng.nextGaussian() * 1e-40;                          // float subnormal
                case 1 -> (rng.nextBoolean() ? 1 : -1) * 4e38 * rng.nextDouble();   // some past Float.MAX_VALUE: ±∞
                case 2 -> (float) rng.nextGaussian() + Math.ulp((float) 1) / 2;  // near a tie
                case 3 -> rng.nextBoolean() ? 0.0 : -0.0;
                default -> rng.nextGaussian() * Math.pow(10, rng.nextInt(9) - 4);
            };
        }
        return x;
    }

    private static DoubleBuffer direct(double[] values, int offset) {
        DoubleBuffer b = ByteBuffer.allocateDirect(8 * (values.length + offset)).order(ByteOrder.nativeOrder()).asDoubleBuffer();
        b.put(offset, values);
        return b;
    }

    private static FloatBuffer directFloats(int n) {
        return ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    @Test
    void narrowingRoundsAsJavaDoesAndFindsTheLargestMagnitude() {
        Random rng = new Random(11);
        for (int n : LENGTHS) {
            double[] x = doubles(rng, n);
            int srcOffset = rng.nextInt(5), dstOffset = rng.nextInt(5);
            FloatBuffer dst = directFloats(n + dstOffset + 3);
            float largest = NativeConversions.narrow(direct(x, srcOffset), srcOffset, dst, dstOffset, n);
            float expected = 0;
            for (int i = 0; i < n; i++) {
                float f = (float) x[i];
                assertEquals(Float.floatToRawIntBits(f), Float.floatToRawIntBits(dst.get(dstOffset + i)), "n " + n + ", value " + i);
                expected = Math.max(expected, Math.abs(f));
            }
            assertEquals(expected, largest, "n " + n);
            for (int i = 0; i < dstOffset; i++) {
                assertEquals(0f, dst.get(i), "written before its first index");
            }
            for (int i = dstOffset + n; i < dst.capacity(); i++) {
                assertEquals(0f, dst.get(i), "written past its last index");
            }
            FloatBuffer heap = FloatBuffer.allocate(n + dstOffset);
            assertEquals(expected, NativeConversions.narrowInJava(direct(x, srcOffset), srcOffset, heap, dstOffset, n));
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(dst.get(dstOffset + i)), Float.floatToRawIntBits(heap.get(dstOffset + i)));
            }
        }
    }

    @Test
    void narrowingBetweenBuffersOfTheOtherByteOrderGivesTheSameValues() {
        Random rng = new Random(14);
        double[] x = doubles(rng, 1000);
        DoubleBuffer bigSrc = ByteBuffer.allocateDirect(8 * x.length).order(ByteOrder.BIG_ENDIAN).asDoubleBuffer().put(0, x);
        FloatBuffer bigDst = ByteBuffer.allocateDirect(4 * x.length).order(ByteOrder.BIG_ENDIAN).asFloatBuffer();
        FloatBuffer expected = FloatBuffer.allocate(x.length);
        float largest = NativeConversions.narrowInJava(direct(x, 0), 0, expected, 0, x.length);
        assertEquals(largest, NativeConversions.narrow(bigSrc, 0, directFloats(x.length), 0, x.length));
        assertEquals(largest, NativeConversions.narrow(direct(x, 0), 0, bigDst, 0, x.length));
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected.get(i)), Float.floatToRawIntBits(bigDst.get(i)), "value " + i);
        }
    }

    @Test
    void aNaNAnywhereMakesTheLargestMagnitudeNaN() {
        Random rng = new Random(12);
        for (int n : new int[] {1, 8, 9, 100}) {
            for (int at : new int[] {0, n / 2, n - 1}) {
                double[] x = doubles(rng, n);
                x[at] = Double.NaN;
                assertTrue(Float.isNaN(NativeConversions.narrow(direct(x, 0), 0, directFloats(n), 0, n)), "n " + n + ", NaN at " + at);
                assertTrue(Float.isNaN(NativeConversions.narrowInJava(direct(x, 0), 0, FloatBuffer.allocate(n), 0, n)));
            }
        }
    }

    @Test
    void wideningIsExactFromADirectOrAHeapBufferInEitherByteOrder() {
        Random rng = new Random(13);
        for (int n : LENGTHS) {
            float[] x = new float[n + 3];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(9) - 4));
            }
            FloatBuffer directSrc = directFloats(x.length).put(0, x);
            FloatBuffer bigEndian = ByteBuffer.allocateDirect(4 * x.length).order(ByteOrder.BIG_ENDIAN).asFloatBuffer().put(0, x);
            for (FloatBuffer src : new FloatBuffer[] {directSrc.asReadOnlyBuffer(), FloatBuffer.wrap(x), bigEndian}) {
                try (DoublePointer out = new DoublePointer(n + 2)) {
                    out.put(n, -1.0).put(n + 1, -1.0);
                    NativeConversions.widen(src, 2, out.address(), n);
                    for (int i = 0; i < n; i++) {
                        assertEquals(x[2 + i], out.get(i), 0.0, "n " + n + ", value " + i);
                    }
                    assertEquals(-1.0, out.get(n), "written past its last index");
                }
            }
        }
    }

    @Test
    void indicesOutsideTheBuffersAreRefusedBeforeAnyNativeCall() {
        DoubleBuffer src = direct(new double[10], 0);
        assertThrows(IndexOutOfBoundsException.class, () -> NativeConversions.narrow(src, 5, directFloats(20), 0, 6));
        assertThrows(IndexOutOfBoundsException.class, () -> NativeConversions.narrow(src, 0, directFloats(20), 15, 6));
        assertThrows(IndexOutOfBoundsException.class, () -> NativeConversions.narrow(src, -1, directFloats(20), 0, 6));
        assertThrows(java.nio.ReadOnlyBufferException.class,
                () -> NativeConversions.narrow(src, 0, directFloats(20).asReadOnlyBuffer(), 0, 6));
        try (DoublePointer out = new DoublePointer(20)) {
            assertThrows(IndexOutOfBoundsException.class, () -> NativeConversions.widen(directFloats(10), 5, out.address(), 6));
        }
    }
}
