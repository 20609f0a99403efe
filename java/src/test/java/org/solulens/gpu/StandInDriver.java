package org.solulens.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.lwjgl.system.JNI;
import org.lwjgl.system.MemoryUtil;
import org.lwjgl.system.linux.DynamicLinkLoader;

/**
 * The control functions of the stand-in driver (native/standin/driver.cpp), called through dlsym on the
 * {@code libcuda.so.1} that JCuda loaded: fault injection by call number or by function, and its counters.
 * Only meaningful in the test run that puts the stand-in first on the library path (pom.xml, "standin-driver").
 */
final class StandInDriver {
    static final int CUDA_ERROR_OUT_OF_MEMORY = 2;
    static final int CUDA_ERROR_NO_BINARY_FOR_GPU = 209;
    static final int CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222;
    static final int CUDA_ERROR_ILLEGAL_ADDRESS = 700;

    private final long calls, failAt, failFunction, liveAllocations, liveContexts;

    private StandInDriver(long library) {
        calls = symbol(library, "solulens_standin_calls");
        failAt = symbol(library, "solulens_standin_fail_at");
        failFunction = symbol(library, "solulens_standin_fail_function");
        liveAllocations = symbol(library, "solulens_standin_live_allocations");
        liveContexts = symbol(library, "solulens_standin_live_contexts");
    }

    private static long symbol(long library, String name) {
        long address = DynamicLinkLoader.dlsym(library, name);
        assertNotEquals(0L, address, "the libcuda.so.1 JCuda loaded has no " + name + ": it is not SoluLens's stand-in driver");
        return address;
    }

    /** The stand-in, which must be the driver this JVM runs on (a failure, not a skip, if it is not). */
    static StandInDriver get() {
        org.solulens.testing.KernelBuild.assumeKernelsUnlessCi();
        assertNull(CudaDevice.unavailableReason(), "the stand-in driver should make CUDA available");
        long library = DynamicLinkLoader.dlopen("libcuda.so.1", DynamicLinkLoader.RTLD_LAZY | DynamicLinkLoader.RTLD_NOLOAD);
        assertNotEquals(0L, library, "libcuda.so.1 is not loaded");
        return new StandInDriver(library);
    }

    /** Driver calls so far that can fail (contexts, modules, memory, copies, launches, synchronisations). */
    long calls() {
        return JNI.invokeJ(calls);
    }

    /** The call {@code k} calls from now fails with {@code code} (700: sticky, and asynchronous for a launch). */
    void failAfter(long k, int code) {
        JNI.invokeV(Math.toIntExact(calls() + k), code, failAt);
    }

    void failNothing() {
        JNI.invokeV(-1, 0, failAt);
    }

    /** Every call of {@code function} fails with {@code code}; code 0 ends it. */
    void failFunction(String function, int code) {
        ByteBuffer name = MemoryUtil.memUTF8(function);
        try {
            assertEquals(0, JNI.invokePI(MemoryUtil.memAddress(name), code, failFunction));
        } finally {
            MemoryUtil.memFree(name);
        }
    }

    long liveAllocations() {
        return JNI.invokeJ(liveAllocations);
    }

    int liveContexts() {
        return JNI.invokeI(liveContexts);
    }

    static void assertIsStandIn(Device d) {
        assertTrue(d.name().contains("stand-in"), d.name());
    }
}
