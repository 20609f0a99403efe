package org.solulens.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.backend.Backends;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.cpu.CpuBackend;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;

/**
 * CudaDevice's error paths, through the stand-in driver's fault injection and strictness. Runs only in the test run
 * that puts the stand-in first on the library path (tag "standin"; pom.xml, execution "standin-driver").
 */
@Tag("standin")
class StandInDriverTest {
    private StandInDriver driver;
    private final ModelConfig cfg = TestModels.config(16, 40, 2, 8, 12, 97, ActivationFunction.SOLU_LN);
    private final SoluModel model = TestModels.random(cfg, 23);
    private final int[] tokens = TestModels.randomTokens(new Random(23), 6, cfg.dVocab());
    private int contextsBefore;
    private long allocationsBefore;

    @BeforeEach
    void counters() {
        driver = StandInDriver.get();
        contextsBefore = driver.liveContexts();
        allocationsBefore = driver.liveAllocations();
    }

    @AfterEach
    void nothingLeaked() {
        if (driver == null) {
            return;   // skipped: no kernels in this build
        }
        driver.failNothing();
        assertEquals(contextsBefore, driver.liveContexts(), "contexts left alive");
        assertEquals(allocationsBefore, driver.liveAllocations(), "allocations left alive");
    }

    /** A forward pass with every hook and an exact sweep at site post: what the fault-injection test breaks. */
    private double[] forwardAndSweep(Backend gpu) {
        ForwardResult clean = gpu.run(tokens, Hooks.available(cfg));
        double[] delta = gpu.sweep(clean, new SweepRequest(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, null, false)).delta();
        double[] out = new double[delta.length + clean.loss().length];
        System.arraycopy(delta, 0, out, 0, delta.length);
        System.arraycopy(clean.loss(), 0, out, delta.length, clean.loss().length);
        return out;
    }

    @Test
    void theRealCudaDeviceRunsOnTheStandIn() {
        try (GpuBackend gpu = new GpuBackend(model, new CudaDevice())) {
            StandInDriver.assertIsStandIn(gpu.device());
            double[] expected = forwardAndSweep(new CpuBackend(model)), actual = forwardAndSweep(gpu);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 2e-4 + 2e-3 * Math.abs(expected[i]), "value " + i);
            }
        }
    }

    /**
     * Every driver call of a backend's life (upload, forward, sweep, close) made to fail in turn, as a sticky
     * CUDA_ERROR_ILLEGAL_ADDRESS (asynchronous when the call is a launch) and as an out-of-memory: each failure
     * surfaces as a DeviceException, nothing leaks, and a new backend afterwards gives the right numbers.
     */
    @Test
    void everyCallOfASweepCanFailWithoutLeakOrSilentResult() {
        double[] expected;
        long start = driver.calls();
        try (GpuBackend gpu = new GpuBackend(model, new CudaDevice())) {
            expected = forwardAndSweep(gpu);
        }
        long total = driver.calls() - start;
        assertTrue(total > 50, "a backend's life makes " + total + " driver calls");

        for (int code : new int[] {StandInDriver.CUDA_ERROR_ILLEGAL_ADDRESS, StandInDriver.CUDA_ERROR_OUT_OF_MEMORY}) {
            for (long k = 1; k <= total; k++) {
                driver.failAfter(k, code);
                List<RuntimeException> failures = new ArrayList<>();
                GpuBackend gpu = null;
                try {
                    gpu = new GpuBackend(model, new CudaDevice());
                    forwardAndSweep(gpu);
                } catch (RuntimeException e) {
                    failures.add(e);
                }
                try {
                    if (gpu != null) {
                        gpu.close();
                    }
                } catch (RuntimeException e) {
                    failures.add(e);
                }
                String where = "failure " + code + " at call " + k + " of " + total;
                assertTrue(!failures.isEmpty(), where + " was swallowed: no exception");
                for (RuntimeException e : failures) {
                    assertInstanceOf(DeviceException.class, e, where + ": " + e);
                }
                assertEquals(contextsBefore, driver.liveContexts(), where + ": a context leaked");
                assertEquals(allocationsBefore, driver.liveAllocations(), where + ": allocations leaked");
                if (gpu != null) {
                    assertEquals(0, gpu.device().liveBuffers(), where + ": buffers still counted live");
                }
            }
        }
        driver.failNothing();
        try (GpuBackend gpu = new GpuBackend(model, new CudaDevice())) {
            assertArrayEquals(expected, forwardAndSweep(gpu), 0, "a new backend after the failures");
        }
    }

    @Test
    void aLaunchFailureSurfacesAtTheNextSynchronisationOrAtTheLaunchWhenChecked() {
        for (boolean checked : new boolean[] {false, true}) {
            try (CudaDevice d = new CudaDevice(checked); DeviceBuffer x = d.upload(new float[] {-1, 2, -3}); DeviceBuffer y = d.allocateFloats(3)) {
                driver.failAfter(1, StandInDriver.CUDA_ERROR_ILLEGAL_ADDRESS);
                if (checked) {
                    DeviceException e = assertThrows(DeviceException.class, () -> Kernels.elementwise(d, "relu_forward", y, x, 3));
                    assertTrue(e.getMessage().contains("relu_forward") && e.getMessage().contains("ILLEGAL_ADDRESS"), e.getMessage());
                } else {
                    Kernels.elementwise(d, "relu_forward", y, x, 3);   // queued: the failure comes later, as on a GPU
                    DeviceException e = assertThrows(DeviceException.class, () -> d.download(y, 0, 3));
                    assertTrue(e.getMessage().contains("cuMemcpyDtoH") && e.getMessage().contains("ILLEGAL_ADDRESS"), e.getMessage());
                }
                // sticky: the context refuses everything after it, and closing still releases it all
                assertThrows(DeviceException.class, () -> d.allocateFloats(1));
            } catch (DeviceException e) {
                // closing the buffers reports the sticky error; the device is destroyed regardless (checked after each test)
                assertTrue(e.getMessage().contains("ILLEGAL_ADDRESS"), e.getMessage());
            }
        }
    }

    @Test
    void kernelsTheDriverRefusesAreAClearErrorAndAutoFallsBackToTheCpu() {
        try {
            driver.failFunction("cuModuleLoadData", StandInDriver.CUDA_ERROR_NO_BINARY_FOR_GPU);
            String why = CudaDevice.probeModule();
            assertTrue(why.contains("NO_BINARY_FOR_GPU") && why.contains("this GPU cannot run SoluLens's kernels"), why);
            DeviceException e = assertThrows(DeviceException.class, CudaDevice::new);
            assertTrue(e.getMessage().contains("sm_80"), e.getMessage());
            assertEquals(contextsBefore, driver.liveContexts(), "the failed device's context was destroyed");
            try (Backend auto = Backends.create(model, Backends.Choice.AUTO)) {
                assertInstanceOf(CpuBackend.class, auto);
            }
            driver.failFunction("cuModuleLoadData", StandInDriver.CUDA_ERROR_UNSUPPORTED_PTX_VERSION);
            why = CudaDevice.probeModule();
            assertTrue(why.contains("driver is older than the CUDA toolkit"), why);
        } finally {
            driver.failFunction("cuModuleLoadData", 0);
        }
        assertEquals("", CudaDevice.probeModule());
    }

    @Test
    void aCorpusSweepOverTwoGpusGivesTheResultsOfOne() throws Exception {
        assertEquals(2, CudaDevice.deviceCount(), "the standin-driver test run asks for two devices");
        java.nio.file.Path data = java.nio.file.Files.createTempFile("corpus", ".jsonl");
        try {
            StringBuilder b = new StringBuilder();
            Random r = new Random(3);
            for (int d = 0; d < 10; d++) {
                b.append("{\"tokens\": ").append(java.util.Arrays.toString(TestModels.randomTokens(r, 2 + r.nextInt(10), cfg.dVocab()))).append("}\n");
            }
            java.nio.file.Files.writeString(data, b.toString());
            var settings = new org.solulens.corpus.CorpusSweep.Settings(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, 8, false, 0, 3, 0.05, 2,
                    false);
            try (GpuBackend one = new GpuBackend(model, new CudaDevice(0, false)); GpuBackend zero = new GpuBackend(model, new CudaDevice(0, false));
                 GpuBackend first = new GpuBackend(model, new CudaDevice(1, false))) {
                StandInDriver.assertIsStandIn(first.device());
                var single = org.solulens.corpus.CorpusSweep.run(one, data, settings, null, false, 60, true).stats();
                var two = org.solulens.corpus.CorpusSweep.run(List.of(zero, first), data, settings, null, false, 60, true).stats();
                assertEquals(single.positions(), two.positions());
                for (int n = 0; n < single.neurons(); n++) {
                    assertEquals(single.mean(n), two.mean(n), 0, "neuron " + n);
                    assertEquals(single.correlation(n), two.correlation(n), 0, "neuron " + n);
                }
            }
            DeviceException none = assertThrows(DeviceException.class, () -> new CudaDevice(2, false));
            assertTrue(none.getMessage().contains("cuda:0 to cuda:1"), none.getMessage());
        } finally {
            java.nio.file.Files.deleteIfExists(data);
        }
    }

    @Test
    void newAllocationsHoldNanSoUnwrittenOutputShows() {
        try (CudaDevice d = new CudaDevice(); DeviceBuffer b = d.allocateFloats(5)) {
            for (double v : d.download(b, 0, 5)) {
                assertTrue(Double.isNaN(v), "a fresh allocation reads " + v);
            }
        }
    }

    @Test
    void aDeviceClosedWithALiveBufferIsReportedAsALeak() {
        CudaDevice d = new CudaDevice();
        d.allocateFloats(7);
        DeviceException e = assertThrows(DeviceException.class, d::close);
        assertTrue(e.getMessage().contains("cuCtxDestroy") && e.getMessage().contains("NOT_PERMITTED"), e.getMessage());
    }

    /** The strictness CudaDevice's own checks hide: raw driver calls, as JCuda makes them. */
    @Test
    void theDriverRefusesUnknownKernelsForeignPointersAndCallsWithoutAContext() throws Exception {
        CUcontext context = new CUcontext();
        CUdevice device = new CUdevice();
        JCudaDriver.cuDeviceGet(device, 0);
        JCudaDriver.cuCtxCreate(context, 0, device);
        try {
            CUmodule module = new CUmodule();
            JCudaDriver.cuModuleLoadData(module, CudaDevice.class.getResourceAsStream(CudaDevice.FATBIN).readAllBytes());
            CUfunction f = new CUfunction();
            // in the emulator, but not in the fatbin: a GPU would not find it either
            CudaException missing = assertThrows(CudaException.class, () -> JCudaDriver.cuModuleGetFunction(f, module, "emutest_block_sum"));
            assertTrue(missing.getMessage().contains("NOT_FOUND"), missing.getMessage());
            JCudaDriver.cuModuleGetFunction(f, module, "relu_forward");
            CUdeviceptr out = new CUdeviceptr();
            JCudaDriver.cuMemAlloc(out, 16);
            Pointer hostMemory = Pointer.to(new float[4]);
            CudaException foreign = assertThrows(CudaException.class, () -> JCudaDriver.cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, null,
                    Pointer.to(Pointer.to(out), Pointer.to(hostMemory), Pointer.to(new int[] {4})), null));
            assertTrue(foreign.getMessage().contains("INVALID_VALUE"), foreign.getMessage());
            AtomicReference<Throwable> other = new AtomicReference<>();
            Thread t = new Thread(() -> other.set(assertThrows(CudaException.class, () -> JCudaDriver.cuMemAlloc(new CUdeviceptr(), 4))));
            t.start();
            t.join();
            assertNotNull(other.get());
            assertTrue(other.get().getMessage().contains("INVALID_CONTEXT"), other.get().getMessage());
            JCudaDriver.cuMemFree(out);
            JCudaDriver.cuModuleUnload(module);
        } finally {
            JCudaDriver.cuCtxDestroy(context);
        }
    }
}
