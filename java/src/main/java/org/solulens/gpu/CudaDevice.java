package org.solulens.gpu;

import static jcuda.driver.JCudaDriver.cuCtxCreate;
import static jcuda.driver.JCudaDriver.cuCtxDestroy;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.io.IOException;
import java.io.InputStream;
import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.solulens.natives.NativeLoader;

/**
 * A real NVIDIA GPU through the JCuda driver API ({@code libcuda.so.1} is all it needs), running the kernels of the
 * fatbin the jar carries. Every launch is checked (synchronously when {@code -Dsolulens.checkLaunches=true}).
 * Matrix products go to cuBLAS when JCublas's {@code libcublas.so.12} loads (TF32 off unless
 * {@code -Dsolulens.tf32=true}, so results match the CPU), else to SoluLens's tiled matmul kernel; the log says which.
 */
public final class CudaDevice implements Device {
    private static final Logger log = LoggerFactory.getLogger(CudaDevice.class);
    static final String FATBIN = "/cuda/solulens.fatbin";

    private final CUcontext context = new CUcontext();
    private final CUmodule module = new CUmodule();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final String name;
    private final boolean checkLaunches;
    private volatile boolean closed;
    private final AtomicLong live = new AtomicLong();
    private cublasHandle blas;

    private final class CudaBuffer implements DeviceBuffer {
        final CUdeviceptr pointer = new CUdeviceptr();
        final long bytes;
        boolean freed;

        CudaBuffer(long bytes) {
            this.bytes = bytes;
            check("cuMemAlloc(" + bytes + " bytes)", () -> cuMemAlloc(pointer, bytes));
            live.incrementAndGet();
        }

        @Override
        public long bytes() {
            return bytes;
        }

        /** Best effort: the buffer counts as freed even when the driver fails (destroying the context frees it then). */
        @Override
        public synchronized void close() {
            if (!freed) {
                freed = true;
                live.decrementAndGet();
                if (!closed) {
                    check("cuMemFree", () -> {
                        cuCtxSetCurrent(context);
                        cuMemFree(pointer);
                    });
                }
            }
        }
    }

    /** Launches checked synchronously when {@code -Dsolulens.checkLaunches=true} (off by default: it costs a sync each). */
    public CudaDevice() {
        this(Boolean.getBoolean("solulens.checkLaunches"));
    }

    /**
     * @param checkLaunches synchronise after every launch, so that a failing kernel is named by its own launch
     *     rather than reported by the next copy (selftest and benchmarks/gpu_checks.sh turn it on)
     */
    public CudaDevice(boolean checkLaunches) {
        this(0, checkLaunches);
    }

    /** The GPU numbered {@code ordinal} (0 to {@link #deviceCount()} - 1), as the driver numbers them. */
    public CudaDevice(int ordinal, boolean checkLaunches) {
        this.checkLaunches = checkLaunches;
        String why = unavailableReason();
        if (why != null) {
            throw new DeviceException("CUDA is not available: " + why);
        }
        int count = deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new DeviceException("no CUDA device " + ordinal + ": the driver sees " + count + " (cuda:0 to cuda:" + (count - 1) + ")");
        }
        CUdevice device = new CUdevice();
        check("cuDeviceGet", () -> cuDeviceGet(device, ordinal));
        check("cuCtxCreate", () -> cuCtxCreate(context, 0, device));
        try {
            loadModule(module);
            byte[] buf = new byte[256];
            int[] version = new int[1];
            check("cuDeviceGetName", () -> cuDeviceGetName(buf, buf.length, device));
            check("cuDriverGetVersion", () -> cuDriverGetVersion(version));
            name = "cuda (" + new String(buf, java.nio.charset.StandardCharsets.US_ASCII).replace("\0", "").trim() + ", driver API "
                    + version[0] / 1000 + "." + version[0] % 1000 / 10 + ")";
            blas = openBlas();
        } catch (RuntimeException e) {
            // the module may be loaded; destroying the context releases it and everything else the context holds
            throw Closing.after(e, () -> check("cuCtxDestroy", () -> cuCtxDestroy(context)));
        }
    }

    /** Loads the jar's fatbin into the current context; a GPU or driver that cannot run it gets a reason that says so. */
    private static void loadModule(CUmodule module) {
        try {
            cuModuleLoadData(module, fatbin());
        } catch (CudaException e) {
            String code = String.valueOf(e.getMessage());
            String why = code.contains("NO_BINARY_FOR_GPU")
                    ? "this GPU cannot run SoluLens's kernels (the fatbin holds code for sm_80, sm_86, sm_89, sm_90 and PTX for compute_80)"
                    : code.contains("PTX") ? "the driver is older than the CUDA toolkit that built the kernels (PTX from nvcc 13 needs"
                            + " a CUDA 13 driver, r580 or newer); update the driver or rebuild with an older nvcc (see README)"
                    : "the driver refused the kernels";
            throw new DeviceException("cuModuleLoadData(" + FATBIN + ") failed with " + code + ": " + why, e);
        }
    }

    /** Whether the choice of matrix products has been logged (once per JVM, not per device). */
    private static volatile boolean blasLogged;

    /** A cuBLAS handle, or null (said once in the log) when JCublas's libcublas.so.12 is not on this machine. */
    private static cublasHandle openBlas() {
        try {
            NativeLoader.initialize(JCublas2.class.getName());   // its library is extracted on first use
            JCublas2.setExceptionsEnabled(true);
            cublasHandle handle = new cublasHandle();
            JCublas2.cublasCreate(handle);
            boolean tf32 = Boolean.getBoolean("solulens.tf32");
            JCublas2.cublasSetMathMode(handle, tf32 ? cublasMath.CUBLAS_TF32_TENSOR_OP_MATH : cublasMath.CUBLAS_DEFAULT_MATH);
            if (!blasLogged) {
                blasLogged = true;
                log.info("matrix products: cuBLAS ({})", tf32 ? "TF32 allowed" : "float32, TF32 off");
            }
            return handle;
        } catch (LinkageError | CudaException e) {
            String message = String.valueOf(e.getMessage());
            if (!blasLogged) {
                blasLogged = true;
                log.info("matrix products: SoluLens's tiled kernel (cuBLAS not available: {})",
                        message.contains("libcublas") ? "libcublas.so.12 cannot be loaded" : message.lines().findFirst().orElse(message));
            }
            return null;
        }
    }

    /**
     * Null when a CUDA device can run SoluLens's kernels here, else why not: no driver ({@code libcuda.so.1}),
     * no device, or no kernels in this build.
     */
    public static synchronized String unavailableReason() {
        if (probed == null) {
            // JCuda's and LWJGL's libraries are extracted on first use: on a thread no interrupt reaches (NativeLoader)
            probed = NativeLoader.load("JCuda", () -> {
                NativeLoader.initialize("org.lwjgl.system.MemoryUtil");
                return probe();
            });
        }
        return probed.isEmpty() ? null : probed;
    }

    /** How many CUDA devices the driver sees (0 where CUDA is unavailable). */
    public static int deviceCount() {
        if (unavailableReason() != null) {
            return 0;
        }
        int[] count = new int[1];
        check("cuDeviceGetCount", () -> cuDeviceGetCount(count));
        return count[0];
    }

    private static final String NO_DRIVER = "no NVIDIA driver (libcuda.so.1 cannot be loaded)";

    /** Whether this machine has no NVIDIA driver at all (as opposed to a driver without a usable device). */
    public static boolean driverMissing() {
        return NO_DRIVER.equals(unavailableReason());
    }

    /** The outcome of the one probe per JVM ("" = available): JCuda cannot be initialised twice after a failure. */
    private static String probed;

    private static String probe() {
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = new int[1];
            cuDeviceGetCount(count);
            if (count[0] == 0) {
                return "no CUDA device";
            }
        } catch (LinkageError e) {
            // JCuda's message holds every attempt's stack trace; the line that matters names the missing library.
            String message = String.valueOf(e.getMessage());
            return message.contains("libcuda.so") ? NO_DRIVER
                    : "JCuda's native library cannot be loaded: " + message.lines().findFirst().orElse(message);
        } catch (CudaException e) {
            return "the CUDA driver reports " + e.getMessage();
        }
        if (CudaDevice.class.getResource(FATBIN) == null) {
            return "this build has no CUDA kernels (nvcc was not found when it was built; see native/build.sh)";
        }
        return probeModule();
    }

    /** "" when the kernels load on device 0, else why not (a GPU older than sm_80, a driver older than the toolkit). */
    static String probeModule() {
        CUcontext context = new CUcontext();
        try {
            CUdevice device = new CUdevice();
            cuDeviceGet(device, 0);
            cuCtxCreate(context, 0, device);
        } catch (CudaException e) {
            return "a CUDA context cannot be created: " + e.getMessage();
        }
        try {
            CUmodule module = new CUmodule();
            loadModule(module);
            cuModuleUnload(module);
            return "";
        } catch (DeviceException | CudaException e) {
            return e.getMessage();
        } finally {
            try {
                cuCtxDestroy(context);
            } catch (CudaException e) {
                // the probe's answer stands; a context that cannot be destroyed is the driver's to reclaim
            }
        }
    }

    private static byte[] fatbin() {
        try (InputStream in = CudaDevice.class.getResourceAsStream(FATBIN)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new DeviceException("could not read " + FATBIN + " from the jar", e);
        }
    }

    private static void check(String what, Runnable call) {
        try {
            call.run();
        } catch (CudaException e) {
            throw new DeviceException(what + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return name;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the CUDA device is closed");
        }
    }

    /** Makes this device's context current on the calling thread (contexts are per thread in the driver API). */
    private void makeCurrent() {
        ensureOpen();
        check("cuCtxSetCurrent", () -> cuCtxSetCurrent(context));
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        if (bytes <= 0) {
            throw new DeviceException("allocation of " + bytes + " bytes: the size must be positive");
        }
        makeCurrent();
        return new CudaBuffer(bytes);
    }

    private CudaBuffer cuda(DeviceBuffer b) {
        if (!(b instanceof CudaBuffer c) || c.freed) {
            throw new DeviceException("buffer " + b + " is not a live buffer of this device");
        }
        return c;
    }

    private void copyIn(DeviceBuffer dst, Buffer src, long bytes) {
        CudaBuffer c = cuda(dst);
        if (bytes > c.bytes) {
            throw new DeviceException("copy of " + bytes + " bytes into a buffer of " + c.bytes);
        }
        makeCurrent();
        // Pointer.to(buffer) ignores the buffer's position: pass a slice that starts there.
        check("cuMemcpyHtoD", () -> cuMemcpyHtoD(c.pointer, Pointer.to(src.slice()), bytes));
    }

    @Override
    public void copyToDevice(DeviceBuffer dst, Buffer src) {
        copyIn(dst, src, Device.bytesOf(src));
    }

    @Override
    public void copyToHost(FloatBuffer dst, DeviceBuffer src, long offsetFloats) {
        CudaBuffer c = cuda(src);
        long bytes = 4L * dst.remaining();
        if (4 * offsetFloats + bytes > c.bytes) {
            throw new DeviceException("copy of " + bytes + " bytes at offset " + 4 * offsetFloats + " from a buffer of " + c.bytes);
        }
        makeCurrent();
        check("cuMemcpyDtoH", () -> cuMemcpyDtoH(Pointer.to(dst.slice()), c.pointer.withByteOffset(4 * offsetFloats), bytes));
    }

    @Override
    public void launch(String kernel, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        KernelSignatures.check(kernel, args);
        makeCurrent();
        CUfunction f = functions.computeIfAbsent(kernel, k -> {
            CUfunction fn = new CUfunction();
            check("kernel " + k + " (cuModuleGetFunction)", () -> cuModuleGetFunction(fn, module, k));
            return fn;
        });
        Pointer[] params = new Pointer[args.list().size()];
        int i = 0;
        for (KernelArgs.Arg a : args.list()) {
            params[i++] = parameter(a);
        }
        check(kernel + " grid " + grid + " block " + block, () -> {
            cuLaunchKernel(f, grid.x(), grid.y(), grid.z(), block.x(), block.y(), block.z(), sharedBytes, null, Pointer.to(params), null);
            if (checkLaunches) {
                cuCtxSynchronize();
            }
        });
    }

    private Pointer parameter(KernelArgs.Arg a) {
        if (a instanceof KernelArgs.Ptr p) {
            return p.buffer() == null ? Pointer.to(new long[] {0}) : Pointer.to(cuda(p.buffer()).pointer.withByteOffset(p.offset()));
        } else if (a instanceof KernelArgs.I32 v) {
            return Pointer.to(new int[] {v.value()});
        } else if (a instanceof KernelArgs.I64 v) {
            return Pointer.to(new long[] {v.value()});
        } else {
            return Pointer.to(new float[] {((KernelArgs.F32) a).value()});
        }
    }

    /** Row-major C = A B as cuBLAS's column-major C^T = B^T A^T. */
    @Override
    public boolean blasGemm(DeviceBuffer c, long cOffset, DeviceBuffer a, long aOffset, DeviceBuffer b, long bOffset,
                            int m, int n, int k, int lda, int ldb, int ldc) {
        if (blas == null) {
            return false;
        }
        makeCurrent();
        Pointer one = Pointer.to(new float[] {1f}), zero = Pointer.to(new float[] {0f});
        check("cublasSgemm " + m + "x" + n + "x" + k, () -> JCublas2.cublasSgemm(blas, cublasOperation.CUBLAS_OP_N, cublasOperation.CUBLAS_OP_N,
                n, m, k, one, cuda(b).pointer.withByteOffset(4 * bOffset), ldb, cuda(a).pointer.withByteOffset(4 * aOffset), lda,
                zero, cuda(c).pointer.withByteOffset(4 * cOffset), ldc));
        return true;
    }

    @Override
    public void synchronize() {
        makeCurrent();
        check("cuCtxSynchronize", JCudaDriver::cuCtxSynchronize);
    }

    /** Free and total device memory in bytes ({@code cuMemGetInfo}). */
    public long[] memoryInfo() {
        makeCurrent();
        long[] free = new long[1], total = new long[1];
        check("cuMemGetInfo", () -> JCudaDriver.cuMemGetInfo(free, total));
        return new long[] {free[0], total[0]};
    }

    @Override
    public long freeBytes() {
        return memoryInfo()[0];
    }

    @Override
    public long liveBuffers() {
        return live.get();
    }

    /**
     * Destroys the context (which frees whatever is still allocated in it). Best effort: after a sticky error every
     * step is still tried, and the first failure is thrown afterwards. A second call does nothing.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        cublasHandle handle = blas;
        blas = null;
        Closing.all(
                () -> check("cuCtxSetCurrent", () -> cuCtxSetCurrent(context)),
                () -> {
                    if (handle != null) {
                        JCublas2.cublasDestroy(handle);
                    }
                },
                () -> check("cuModuleUnload", () -> cuModuleUnload(module)),
                () -> check("cuCtxDestroy", () -> cuCtxDestroy(context)));
    }
}
