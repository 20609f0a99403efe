package org.solulens.gpu;

import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.lwjgl.system.MemoryUtil;

/**
 * Runs the very same CUDA kernels on the CPU (native/emulator): each CUDA thread a fiber, barriers real, shared
 * memory per block. Device memory is host memory (LWJGL allocations), so copies are memcpy. Slow — it exists so
 * that the GPU orchestration and every kernel are tested where there is no GPU.
 */
public final class EmulatedDevice implements Device {
    /** Kernel name to signature, from the emulator's registry (the fatbin's kernels and the emulator's test kernels). */
    private final Map<String, String> kernels = new HashMap<>();
    private final int workers;
    private final AtomicLong live = new AtomicLong();

    /** A buffer of host memory standing in for device memory. */
    private final class HostBuffer implements DeviceBuffer {
        final long address, bytes;
        boolean freed;

        HostBuffer(long bytes) {
            this.address = MemoryUtil.nmemAllocChecked(bytes);
            this.bytes = bytes;
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
                MemoryUtil.nmemFree(address);
                live.decrementAndGet();
            }
        }
    }

    public EmulatedDevice() {
        if (EmulatorNative.loadError() != null) {
            throw new DeviceException("the CPU emulator is not available: " + EmulatorNative.loadError());
        }
        for (String entry : EmulatorNative.kernels()) {
            int space = entry.indexOf(' ');
            kernels.put(entry.substring(0, space), entry.substring(space + 1));
        }
        workers = Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** Null when the emulator can run here, else why not. */
    public static String unavailableReason() {
        return EmulatorNative.loadError();
    }

    private volatile boolean closed;

    @Override
    public String name() {
        return "emulator";
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the emulator device is closed");
        }
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        ensureOpen();
        if (bytes <= 0) {
            throw new DeviceException("allocation of " + bytes + " bytes: the size must be positive");
        }
        return new HostBuffer(bytes);
    }

    private HostBuffer host(DeviceBuffer b) {
        if (!(b instanceof HostBuffer h) || h.freed) {
            throw new DeviceException("buffer " + b + " is not a live buffer of this emulator");
        }
        return h;
    }

    private void copyIn(DeviceBuffer dst, long srcAddress, long bytes) {
        ensureOpen();
        HostBuffer h = host(dst);
        if (bytes > h.bytes) {
            throw new DeviceException("copy of " + bytes + " bytes into a buffer of " + h.bytes);
        }
        MemoryUtil.memCopy(srcAddress, h.address, bytes);
    }

    @Override
    public void copyToDevice(DeviceBuffer dst, Buffer src) {
        copyIn(dst, MemoryUtil.memAddress(src), Device.bytesOf(src));
    }

    @Override
    public void copyToHost(FloatBuffer dst, DeviceBuffer src, long offsetFloats) {
        ensureOpen();
        HostBuffer h = host(src);
        long bytes = 4L * dst.remaining();
        if (4 * offsetFloats + bytes > h.bytes) {
            throw new DeviceException("copy of " + bytes + " bytes at offset " + 4 * offsetFloats + " from a buffer of " + h.bytes);
        }
        MemoryUtil.memCopy(h.address + 4 * offsetFloats, MemoryUtil.memAddress(dst), bytes);
    }

    @Override
    public void launch(String kernel, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        ensureOpen();
        String signature = kernels.get(kernel);
        if (signature == null) {
            throw new DeviceException("no kernel named '" + kernel + "' in the emulator; it has " + new java.util.TreeSet<>(kernels.keySet()));
        }
        KernelSignatures.check(kernel, signature, args);
        long[] slots = new long[args.list().size()];
        int i = 0;
        for (KernelArgs.Arg a : args.list()) {
            slots[i++] = slot(a);
        }
        String error = EmulatorNative.launch(kernel, grid.x(), grid.y(), grid.z(), block.x(), block.y(), block.z(), sharedBytes, slots, workers);
        if (error != null) {
            throw new DeviceException(kernel + " grid " + grid + " block " + block + ": " + error);
        }
    }

    /** One argument as the 8 bytes cuLaunchKernel would read (little-endian: ints and floats in the low half). */
    private long slot(KernelArgs.Arg a) {
        if (a instanceof KernelArgs.Ptr p) {
            return p.buffer() == null ? 0 : host(p.buffer()).address + p.offset();
        } else if (a instanceof KernelArgs.I32 v) {
            return v.value() & 0xffffffffL;
        } else if (a instanceof KernelArgs.I64 v) {
            return v.value();
        } else {
            return Float.floatToRawIntBits(((KernelArgs.F32) a).value()) & 0xffffffffL;
        }
    }

    @Override
    public void synchronize() {
        // launches are synchronous in the emulator
    }

    @Override
    public long liveBuffers() {
        return live.get();
    }

    /** Buffers are freed one by one (they are closeable); after this, the device refuses every call. */
    @Override
    public void close() {
        closed = true;
    }
}
