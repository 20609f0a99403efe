package org.solulens.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.gpu.CudaDevice;
import org.solulens.gpu.Device;
import org.solulens.gpu.DeviceBuffer;
import org.solulens.gpu.EmulatedDevice;
import org.solulens.gpu.GpuBackend;
import org.solulens.gpu.Kernels;
import org.solulens.model.ModelConfig;
import org.solulens.model.RandomWeights;
import org.solulens.model.SoluModel;

/**
 * The CUDA kernels on a device (a GPU, or the emulator), float32 buffers made once; every call ends with
 * {@link Device#synchronize()} so that an asynchronous launch is not taken for speed.
 */
final class DeviceKernelCases {
    private DeviceKernelCases() {}

    /** Why the device cannot run here, or null. */
    static String unavailableReason(String device) {
        return switch (device) {
            case "emulator" -> EmulatedDevice.unavailableReason();
            case "cuda" -> CudaDevice.unavailableReason();
            default -> "unknown device '" + device + "'";
        };
    }

    static KernelCase create(String kernel, String deviceName, Shape shape) {
        Device d = deviceName.equals("cuda") ? new CudaDevice() : new EmulatedDevice();
        List<AutoCloseable> owned = new ArrayList<>();
        try {
            return build(kernel, d, shape, owned);
        } catch (RuntimeException e) {
            closeAll(owned, d);
            throw e;
        }
    }

    private static KernelCase build(String kernel, Device d, Shape shape, List<AutoCloseable> owned) {
        Random rng = new Random(17);
        ModelConfig cfg = shape.config();
        int P = shape.tokens, D = shape.dModel, N = shape.dMlp, V = shape.vocab, H = shape.heads, dh = shape.dHead;
        java.util.function.Function<Integer, DeviceBuffer> random = n -> keep(owned, d.upload(CpuKernelCases.gaussian(rng, n)));
        java.util.function.Function<Long, DeviceBuffer> empty = n -> keep(owned, d.allocateFloats(n));
        switch (kernel) {
            case "copy": {
                // out = a + b: reads two arrays, writes one; the device's stand-in for a copy
                long n = (long) P * V;
                DeviceBuffer a = random.apply((int) n), b = random.apply((int) n), out = empty.apply(n);
                return of(d, owned, () -> Kernels.add(d, out, a, b, n));
            }
            case "exp": {
                int n = P * V;
                DeviceBuffer x = random.apply(n), out = empty.apply((long) n);
                return of(d, owned, () -> Kernels.exp2(d, out, x, n, false));
            }
            case "matmul": {
                DeviceBuffer x = random.apply(P * D), w = random.apply(D * V), out = empty.apply((long) P * V);
                return of(d, owned, () -> Kernels.matmul(d, out, 0, x, 0, w, 0, null, 0, P, V, D, D, V, V));
            }
            case "solu": {
                DeviceBuffer pre = random.apply(P * N), mid = empty.apply((long) P * N);
                return of(d, owned, () -> Kernels.solu(d, mid, pre, P, N));
            }
            case "gelu": {
                DeviceBuffer pre = random.apply(P * N), out = empty.apply((long) P * N);
                return of(d, owned, () -> Kernels.elementwise(d, "gelu_forward", out, pre, P * N));
            }
            case "layernorm": {
                DeviceBuffer x = random.apply(P * N), w = random.apply(N), b = random.apply(N);
                DeviceBuffer out = empty.apply((long) P * N), normalized = empty.apply((long) P * N), scale = empty.apply((long) P);
                return of(d, owned, () -> Kernels.layerNorm(d, out, normalized, scale, x, w, b, P, N, 1e-5f));
            }
            case "attention": {
                int[] start = new int[P], length = new int[P];
                long[] base = new long[P];
                java.util.Arrays.fill(length, P);
                long scores = (long) H * P * P;
                DeviceBuffer q = random.apply(P * H * dh), k = random.apply(P * H * dh), v = random.apply(P * H * dh);
                DeviceBuffer z = empty.apply((long) P * H * dh), s = empty.apply(scores), pattern = empty.apply(scores);
                DeviceBuffer gStart = keep(owned, d.upload(start)), gLength = keep(owned, d.upload(length)), gBase = keep(owned, d.upload(base));
                return of(d, owned, () -> Kernels.attention(d, z, s, pattern, q, k, v, gStart, gLength, gBase, P, H, dh, (float) Math.sqrt(dh)));
            }
            case "cross-entropy": {
                DeviceBuffer logits = random.apply(P * V), loss = empty.apply((long) P);
                DeviceBuffer targets = keep(owned, d.upload(rng.ints(P, 0, V).toArray()));
                return of(d, owned, () -> Kernels.crossEntropy(d, loss, logits, targets, P, V));
            }
            case "forward": {
                GpuBackend backend = keep(owned, new GpuBackend(new SoluModel(cfg, RandomWeights.of(cfg, 1), null, "bench"), d));
                int[] tokens = rng.ints(P, 0, V).toArray();
                return of(d, owned, () -> backend.run(tokens, List.of(Hooks.LOSS)));
            }
            case "sweep": {
                GpuBackend backend = keep(owned, new GpuBackend(new SoluModel(cfg, RandomWeights.of(cfg, 1), null, "bench"), d));
                ForwardResult clean = backend.run(rng.ints(shape.sweepTokens, 0, V).toArray(), Hooks.ALL);
                SweepRequest request = new SweepRequest(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, null, false);
                backend.sweep(clean, request);   // makes the model constant B once, outside the timing
                return of(d, owned, () -> backend.sweep(clean, request));
            }
            case "sweep-mid", "decomposition": {
                GpuBackend backend = keep(owned, new GpuBackend(new SoluModel(cfg, RandomWeights.of(cfg, 1), null, "bench"), d));
                ForwardResult clean = backend.run(rng.ints(shape.sweepTokens, 0, V).toArray(), Hooks.ALL);
                Ablation mid = Ablation.zero(Ablation.Site.MID);
                SweepRequest request = new SweepRequest(mid, SweepMethod.EXACT, null, false);
                backend.sweep(clean, request);
                return kernel.equals("sweep-mid") ? of(d, owned, () -> backend.sweep(clean, request))
                        : of(d, owned, () -> org.solulens.analysis.EffectDecomposition.run(backend, clean, mid));
            }
            default:
                throw new IllegalArgumentException("unknown kernel '" + kernel + "'");
        }
    }

    private static <T extends AutoCloseable> T keep(List<AutoCloseable> owned, T resource) {
        owned.add(resource);
        return resource;
    }

    private static void closeAll(List<AutoCloseable> owned, Device d) {
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception ignored) {
                // best effort: release the rest
            }
        }
        if (owned.stream().noneMatch(r -> r instanceof GpuBackend)) {
            d.close();   // a backend closes its device itself
        }
    }

    private static KernelCase of(Device d, List<AutoCloseable> owned, Runnable launch) {
        return new KernelCase() {
            @Override
            public Object run() {
                launch.run();
                d.synchronize();
                return d;
            }

            @Override
            public void close() {
                closeAll(owned, d);
            }
        };
    }
}
