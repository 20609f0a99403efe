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
    private final boolean checkLaunches = Boolean.getBoolean("solulens.checkLaunches");
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

        @Override
        public synchronized void close() {
            if (!freed) {
                freed = true;
                cuCtxSetCurrent(context);
                cuMemFree(pointer);
                live.decrementAndGet();
            }
        }
    }

    public CudaDevice() {
        String why = unavailableReason();
        if (why != null) {
            throw new DeviceException("CUDA is not available: " + why);
        }
        try {
            CUdevice device = new CUdevice();
            cuDeviceGet(device, 0);
            cuCtxCreate(context, 0, device);
            check("cuModuleLoadData(" + FATBIN + ")", () -> cuModuleLoadData(module, fatbin()));
            byte[] buf = new byte[256];
            cuDeviceGetName(buf, buf.length, device);
            int[] version = new int[1];
            cuDriverGetVersion(version);
            name = "cuda (" + new String(buf, java.nio.charset.StandardCharsets.US_ASCII).trim().replace("\0", "") + ", driver API "
                    + version[0] / 1000 + "." + version[0] % 1000 / 10 + ")";
            blas = openBlas();
        } catch (CudaException e) {
            throw new DeviceException("CUDA device set-up failed: " + e.getMessage(), e);
        }
    }

    /** A cuBLAS handle, or null (with one log line) when JCublas's libcublas.so.12 is not on this machine. */
    private static cublasHandle openBlas() {
        try {
            JCublas2.setExceptionsEnabled(true);
            cublasHandle handle = new cublasHandle();
            JCublas2.cublasCreate(handle);
            boolean tf32 = Boolean.getBoolean("solulens.tf32");
            JCublas2.cublasSetMathMode(handle, tf32 ? cublasMath.CUBLAS_TF32_TENSOR_OP_MATH : cublasMath.CUBLAS_DEFAULT_MATH);
            log.info("matrix products: cuBLAS ({})", tf32 ? "TF32 allowed" : "float32, TF32 off");
            return handle;
        } catch (LinkageError | CudaException e) {
            String message = String.valueOf(e.getMessage());
            log.info("matrix products: SoluLens's tiled kernel (cuBLAS not available: {})",
                    message.contains("libcublas") ? "libcublas.so.12 cannot be loaded" : message.lines().findFirst().orElse(message));
            return null;
        }
    }

    /**
     * Null when a CUDA device can run SoluLens's kernels here, else why not: no driver ({@code libcuda.so.1}),
     * no device, or no kernels in this build.
     */
    public static synchronized String unavailableReason() {
        if (probed == null) {
            probed = probe();
        }
        return probed.isEmpty() ? null : probed;
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
            return message.contains("libcuda.so") ? "no NVIDIA driver (libcuda.so.1 cannot be loaded)"
                    : "JCuda's native library cannot be loaded: " + message.lines().findFirst().orElse(message);
        } catch (CudaException e) {
            return "the CUDA driver reports " + e.getMessage();
        }
        if (CudaDevice.class.getResource(FATBIN) == null) {
            return "this build has no CUDA kernels (nvcc was not found when it was built; see native/build.sh)";
        }
        return "";
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

    @Override
    public DeviceBuffer allocate(long bytes) {
        if (bytes <= 0) {
            throw new DeviceException("allocation of " + bytes + " bytes: the size must be positive");
        }
        cuCtxSetCurrent(context);
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
        cuCtxSetCurrent(context);
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
        cuCtxSetCurrent(context);
        check("cuMemcpyDtoH", () -> cuMemcpyDtoH(Pointer.to(dst.slice()), c.pointer.withByteOffset(4 * offsetFloats), bytes));
    }

    @Override
    public void launch(String kernel, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        cuCtxSetCurrent(context);
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
        cuCtxSetCurrent(context);
        Pointer one = Pointer.to(new float[] {1f}), zero = Pointer.to(new float[] {0f});
        check("cublasSgemm " + m + "x" + n + "x" + k, () -> JCublas2.cublasSgemm(blas, cublasOperation.CUBLAS_OP_N, cublasOperation.CUBLAS_OP_N,
                n, m, k, one, cuda(b).pointer.withByteOffset(4 * bOffset), ldb, cuda(a).pointer.withByteOffset(4 * aOffset), lda,
                zero, cuda(c).pointer.withByteOffset(4 * cOffset), ldc));
        return true;
    }

    @Override
    public void synchronize() {
        cuCtxSetCurrent(context);
        check("cuCtxSynchronize", JCudaDriver::cuCtxSynchronize);
    }

    /** Free and total device memory in bytes ({@code cuMemGetInfo}). */
    public long[] memoryInfo() {
        cuCtxSetCurrent(context);
        long[] free = new long[1], total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
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

    @Override
    public void close() {
        cuCtxSetCurrent(context);
        if (blas != null) {
            JCublas2.cublasDestroy(blas);
        }
        cuModuleUnload(module);
        cuCtxDestroy(context);
    }
}
