package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The loop choice's shortcut: without AVX-512 the native loops are taken to have the Vector API's width, unasked. */
class CpuNativeLibraryTest {
    @Test
    void withoutAvx512TheVectorApiHasTheNativeLoopsWidth() {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/cpuinfo")), "no /proc/cpuinfo here");
        boolean avx512 = NativeFloatExpSumTest.cpuHas("avx512f");
        assertEquals(!avx512, CpuNativeLibrary.cpuKnownWithoutAvx512());
        Assumptions.assumeFalse(avx512, "this CPU has AVX-512: the Vector API is asked, as before");
        // what the shortcut assumes, on this CPU: the answers the Vector API would have given
        assertEquals(8, VectorFloatExpSum.lanes());
        assertEquals(8, ((NativeFloatExpSum) NativeFloatExpSum.load()).lanes());
        assertEquals(4, VectorExpSum.lanes());
        assertEquals(4, ((NativeExpSum) NativeExpSum.load()).lanes());
    }
}
