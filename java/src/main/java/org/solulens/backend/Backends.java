package org.solulens.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.solulens.cpu.ConstantCache;
import org.solulens.cpu.CpuBackend;
import org.solulens.cpu.SweepPrecision;
import org.solulens.gpu.CudaDevice;
import org.solulens.gpu.DeviceException;
import org.solulens.gpu.EmulatedDevice;
import org.solulens.gpu.GpuBackend;
import org.solulens.model.SoluModel;

/** The one place that decides which backend runs a model, and says why. */
public final class Backends {
    private static final Logger log = LoggerFactory.getLogger(Backends.class);

    /** What a user may ask for with {@code --device}. */
    public enum Choice {
        /** The CPU backend (float64, matrix products through OpenBLAS; the reference). */
        CPU,
        /** The CUDA kernels on a real GPU. */
        CUDA,
        /** The CUDA kernels on the CPU emulator: slow, for debugging kernels and for tests. */
        EMULATOR,
        /** CUDA when a GPU, its driver and the kernels are all there, else the CPU. */
        AUTO;

        /** Parses {@code auto}, {@code cpu}, {@code cuda} or {@code emulator} (any case); throws naming the expected values otherwise. */
        public static Choice parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown device '" + s + "'; expected cpu, cuda, emulator or auto");
            }
        }
    }

    private Backends() {}

    /** Opens a backend for {@code model}. {@code CUDA} and {@code EMULATOR} throw {@link IllegalStateException} with the reason when they cannot run here; {@code AUTO} falls back to the CPU (and logs why). The caller closes the backend. */
    public static Backend create(SoluModel model, Choice choice) {
        return create(model, choice, SweepPrecision.SINGLE, null);
    }

    /**
     * As {@link #create(SoluModel, Choice)}, with the CPU sweep's precision and constant cache (null: none).
     * {@link SweepPrecision#DOUBLE} is a CPU path: with {@code AUTO} it chooses the CPU, with {@code CUDA} or
     * {@code EMULATOR} it is refused (their sweep kernel computes in float32).
     */
    public static Backend create(SoluModel model, Choice choice, SweepPrecision precision, ConstantCache cache) {
        if (precision == SweepPrecision.DOUBLE && (choice == Choice.CUDA || choice == Choice.EMULATOR)) {
            throw new IllegalArgumentException("--precision double is the CPU's float64 sweep; the " + choice.name().toLowerCase(Locale.ROOT)
                    + " sweep kernel computes in float32 (use --device cpu, or leave --precision at single)");
        }
        if (precision == SweepPrecision.DOUBLE && choice == Choice.AUTO) {
            log.info("backend: cpu (--precision double)");
            return new CpuBackend(model, precision, cache);
        }
        switch (choice) {
            case CPU:
                return new CpuBackend(model, precision, cache);
            case EMULATOR: {
                String why = EmulatedDevice.unavailableReason();
                if (why != null) {
                    throw new IllegalStateException("--device emulator cannot run here: " + why);
                }
                return new GpuBackend(model, new EmulatedDevice());
            }
            case CUDA: {
                String why = CudaDevice.unavailableReason();
                if (why != null) {
                    throw new IllegalStateException("--device cuda cannot run here: " + why);
                }
                return new GpuBackend(model, new CudaDevice());
            }
            default: {
                String why = CudaDevice.unavailableReason();
                if (why == null) {
                    try {
                        GpuBackend gpu = new GpuBackend(model, new CudaDevice());
                        log.info("backend: {}", gpu.name());
                        return gpu;
                    } catch (DeviceException e) {
                        // the GPU is there but cannot take this model (kernels refused, memory): the CPU can
                        why = e.getMessage();
                    }
                }
                log.info("backend: cpu (no GPU: {})", why);
                return new CpuBackend(model, precision, cache);
            }
        }
    }

    /** One line per backend saying whether it can run here, for {@code info}. */
    public static List<String> availability() {
        List<String> lines = new ArrayList<>();
        lines.add("cpu: available (float64 forward pass, the reference; exact sweep in float32 exponentials summed in double, or float64 with --precision double; matrix products: " + org.solulens.cpu.MatMul.current().name() + ")");
        String cuda = CudaDevice.unavailableReason();
        lines.add(cuda == null ? "cuda: available" : "cuda: not available: " + cuda);
        String emulator = EmulatedDevice.unavailableReason();
        lines.add(emulator == null ? "emulator: available (the CUDA kernels run on the CPU; slow)" : "emulator: not available: " + emulator);
        return lines;
    }
}
