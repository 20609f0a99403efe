package org.solulens.gpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.cpu.CpuBackend;
import org.solulens.cpu.CrossEntropy;
import org.solulens.cpu.LayerNorm;
import org.solulens.cpu.MatMul;
import org.solulens.cpu.MlpActivation;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.model.Tensor;

/**
 * "Does my setup work?": every kernel against its CPU twin on seeded random inputs (outputs poisoned with NaN, so
 * an unwritten element fails), then the whole forward pass on the device against the CPU backend. Runs on a GPU
 * or on the emulator; the {@code selftest} command prints the table.
 */
public final class SelfTest {
    /** One check: its largest error against the tolerance, and how long the device took. */
    public record Check(String name, double maxError, double tolerance, double millis) {
        public boolean passed() {
            return maxError <= tolerance;   // NaN fails
        }
    }

    private final Device device;
    private final Random rng = new Random(20261124);
    private final List<DeviceBuffer> buffers = new ArrayList<>();

    public SelfTest(Device device) {
        this.device = device;
    }

    public List<Check> kernels() {
        try {
            return List.of(layerNorm(), solu(), gelu(), matmul(), matmulSplit(), crossEntropy(), exp2(false), exp2(true));
        } finally {
            buffers.forEach(DeviceBuffer::close);
            buffers.clear();
        }
    }

    /** The model's forward pass on the device against the CPU backend, on a seeded random prompt per length. */
    public List<Check> forward(SoluModel model, int... lengths) {
        List<Check> out = new ArrayList<>();
        try (GpuBackend gpu = new GpuBackend(model, device)) {
            CpuBackend cpu = new CpuBackend(model);
            for (int length : lengths) {
                int n = Math.min(length, model.config().nCtx());
                int[] tokens = rng.ints(n, 0, model.config().dVocab()).toArray();
                long t0 = System.nanoTime();
                ForwardResult g = gpu.run(tokens, List.of(Hooks.LOGITS, Hooks.LOSS));
                double ms = (System.nanoTime() - t0) / 1e6;
                ForwardResult c = cpu.run(tokens, List.of(Hooks.LOGITS, Hooks.LOSS));
                out.add(new Check("forward, " + n + " tokens: logits", maxDiff(c.get(Hooks.LOGITS).data(), g.get(Hooks.LOGITS).data()), 1e-4, ms));
                out.add(new Check("forward, " + n + " tokens: loss", maxDiff(c.loss(), g.loss()), 1e-5, ms));
            }
        }
        return out;
    }

    /**
     * The model's exact sweep on the device, with every variant of the sweep kernel, against the float64 CPU sweep at
     * both sites (mid only for models with the MLP LayerNorm); error: the largest |device - cpu| / (2e-6 + 1e-4 |cpu|).
     */
    public List<Check> sweep(SoluModel model, int length) {
        List<Check> out = new ArrayList<>();
        ModelConfig cfg = model.config();
        int[] tokens = rng.ints(Math.min(length, cfg.nCtx()), 0, cfg.dVocab()).toArray();
        List<Ablation.Site> sites = cfg.actFn().hasMlpLayerNorm() ? List.of(Ablation.Site.POST, Ablation.Site.MID) : List.of(Ablation.Site.POST);
        try (GpuBackend gpu = new GpuBackend(model, device)) {
            CpuBackend cpu = new CpuBackend(model);
            for (SweepKernel kernel : SweepKernel.values()) {
                gpu.useSweepKernel(kernel);
                double worst = 0, ms = 0;
                for (Ablation.Site site : sites) {
                    SweepRequest request = new SweepRequest(Ablation.zero(site), SweepMethod.EXACT, null, false);
                    double[] expected = cpu.sweep(cpu.run(tokens, request.requiredHooks(cfg)), request).delta();
                    ForwardResult clean = gpu.run(tokens, request.requiredHooks(cfg));
                    long t0 = System.nanoTime();
                    double[] actual = gpu.sweep(clean, request).delta();
                    ms += (System.nanoTime() - t0) / 1e6;
                    for (int i = 0; i < expected.length; i++) {
                        double e = Math.abs(expected[i] - actual[i]) / (2e-6 + 1e-4 * Math.abs(expected[i]));
                        worst = Double.isNaN(e) ? Double.NaN : Math.max(worst, e);
                    }
                }
                out.add(new Check("sweep " + kernel.name().toLowerCase(java.util.Locale.ROOT) + ", " + tokens.length + " tokens (/ bound)", worst, 1, ms));
            }
        }
        return out;
    }

    private Check layerNorm() {
        int rows = 7, width = 333;
        double[] x = gaussian(rows * width, 1), w = gaussian(width, 0.2), b = gaussian(width, 0.1);
        double[] out = new double[x.length], norm = new double[x.length], scale = new double[rows];
        LayerNorm.forward(x, rows, width, tensor(w), tensor(b), 1e-5, norm, scale, out);
        DeviceBuffer gOut = poisoned(x.length), gNorm = poisoned(x.length), gScale = poisoned(rows);
        double ms = timed(() -> Kernels.layerNorm(device, gOut, gNorm, gScale, upload(x), upload(w), upload(b), rows, width, 1e-5f));
        return new Check("layernorm_forward", Math.max(maxDiff(out, download(gOut, x.length)), maxDiff(scale, download(gScale, rows))), 1e-5, ms);
    }

    private Check solu() {
        int rows = 5, width = 517;
        double[] pre = gaussian(rows * width, 2), mid = new double[pre.length];
        MlpActivation.solu(pre, rows, width, mid);
        DeviceBuffer out = poisoned(pre.length);
        double ms = timed(() -> Kernels.solu(device, out, upload(pre), rows, width));
        return new Check("solu_forward", maxDiff(mid, download(out, pre.length)), 1e-6, ms);
    }

    private Check gelu() {
        double[] x = gaussian(1001, 2), y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = MlpActivation.gelu(x[i]);
        }
        DeviceBuffer out = poisoned(x.length);
        double ms = timed(() -> Kernels.elementwise(device, "gelu_forward", out, upload(x), x.length));
        return new Check("gelu_forward", maxDiff(y, download(out, x.length)), 1e-6, ms);
    }

    private Check matmul() {
        int m = 67, n = 129, k = 93;
        double[] a = gaussian(m * k, 1), b = gaussian(k * n, 1), bias = gaussian(n, 1);
        double[] c = MatMul.multiply(a, m, k, tensor(b), 0, n, tensor(bias), 0);
        DeviceBuffer out = poisoned(m * n);
        double ms = timed(() -> Kernels.matmul(device, out, 0, upload(a), 0, upload(b), 0, upload(bias), 0, m, n, k, k, n, n));
        return new Check("matmul_forward (or cuBLAS)", maxDiff(c, download(out, m * n)), 1e-4, ms);
    }

    private Check matmulSplit() {
        int m = 9, n = 70, k = 131;
        double[] a = new double[m * k], b = gaussian(k * n, 1);
        for (int i = 0; i < a.length; i++) {
            a[i] = rng.nextGaussian();   // a double operand, uploaded as two float parts
        }
        double[] c = MatMul.multiply(a, m, k, tensor(b), 0, n, null, 0);
        float[][] parts = Kernels.splitHiLo(a);
        DeviceBuffer aHi = device.upload(parts[0]), aLo = device.upload(parts[1]);
        buffers.add(aHi);
        buffers.add(aLo);
        DeviceBuffer hi = poisoned(m * n), lo = poisoned(m * n);
        double ms = timed(() -> Kernels.matmulSplit(device, hi, lo, aHi, aLo, upload(b), null, m, n, k));
        double[] h = download(hi, m * n), l = download(lo, m * n);
        for (int i = 0; i < h.length; i++) {
            h[i] += l[i];
        }
        return new Check("matmul_split_forward", maxDiff(c, h), 1e-12, ms);
    }

    /** 2^x over the exponents the sweep kernel uses, |x| ≤ 64; relative error. */
    private Check exp2(boolean poly) {
        int n = 4099;
        double[] x = new double[n], expected = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (128 * rng.nextDouble() - 64);
            expected[i] = Math.pow(2, x[i]);
        }
        DeviceBuffer out = poisoned(n);
        double ms = timed(() -> Kernels.exp2(device, out, upload(x), n, poly));
        double[] actual = download(out, n);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.abs(actual[i] / expected[i] - 1);
            worst = Double.isNaN(e) ? Double.NaN : Math.max(worst, e);
        }
        return new Check(poly ? "exp2_forward, polynomial (relative)" : "exp2_forward, ex2.approx (relative)", worst, poly ? 2.5e-7 : 4.8e-7, ms);
    }

    private Check crossEntropy() {
        int vocab = 4099, rows = 6;
        double[] logits = gaussian(rows * vocab, 3);
        int[] tokens = rng.ints(rows + 1, 0, vocab).toArray();
        double[] expected = CrossEntropy.nextTokenLoss(Arrays.copyOf(logits, (rows + 1) * vocab), tokens, vocab);
        int[] targets = Arrays.copyOfRange(tokens, 1, rows + 1);
        DeviceBuffer out = poisoned(rows);
        double ms = timed(() -> Kernels.crossEntropy(device, out, upload(logits), uploadInts(targets), rows, vocab));
        return new Check("cross_entropy_forward", maxDiff(Arrays.copyOf(expected, rows), download(out, rows)), 1e-5, ms);
    }

    private double timed(Runnable launch) {
        long t0 = System.nanoTime();
        launch.run();
        device.synchronize();
        return (System.nanoTime() - t0) / 1e6;
    }

    private double[] gaussian(int n, double scale) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (scale * rng.nextGaussian());
        }
        return x;
    }

    private static Tensor tensor(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) v[i];
        }
        return Tensor.of("t", new int[] {v.length}, f);
    }

    private DeviceBuffer upload(double[] v) {
        DeviceBuffer b = device.upload(v);
        buffers.add(b);
        return b;
    }

    private DeviceBuffer uploadInts(int[] v) {
        DeviceBuffer b = device.upload(v);
        buffers.add(b);
        return b;
    }

    private DeviceBuffer poisoned(int n) {
        double[] nan = new double[n];
        Arrays.fill(nan, Double.NaN);
        return upload(nan);
    }

    private double[] download(DeviceBuffer b, int n) {
        return device.download(b, 0, n);
    }

    private static double maxDiff(double[] expected, double[] actual) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - actual[i]) / Math.max(1, Math.abs(expected[i]));
            if (Double.isNaN(d)) {
                return Double.NaN;
            }
            worst = Math.max(worst, d);
        }
        return worst;
    }
}
