package org.solulens.gpu;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.solulens.backend.Ablation;
import org.solulens.backend.Activation;
import org.solulens.backend.Backend;
import org.solulens.backend.DlaResult;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;
import org.solulens.cpu.CpuBackend;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.model.SoluWeights;
import org.solulens.model.Tensor;

/**
 * The forward pass as a sequence of kernel launches on a {@link Device}: several prompts of different lengths are
 * packed into one batch of rows (attention keeps them apart by their offsets). Weights are uploaded once, when the
 * backend is made; every activation of a run is freed when the run ends. Computes in float32, as the GPU does.
 * The exact sweep and DLA run on the device too; the re-forward and attribution sweeps and whole-position
 * ablations run on the CPU backend.
 */
public final class GpuBackend implements Backend {
    private final SoluModel model;
    private final Device device;
    private final Map<String, DeviceBuffer> weights = new HashMap<>();
    private final CpuBackend cpu;
    private GpuSweep sweep;
    private volatile boolean closed;

    public GpuBackend(SoluModel model, Device device) {
        this.model = model;
        this.device = device;
        this.cpu = new CpuBackend(model);
        try {
            for (Map.Entry<String, Tensor> e : model.weights().byName().entrySet()) {
                weights.put(e.getKey(), upload(e.getValue()));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private DeviceBuffer upload(Tensor t) {
        return device.upload(t.toArray());
    }

    private DeviceBuffer w(Tensor t) {
        return t == null ? null : weights.get(t.name());
    }

    @Override
    public SoluModel model() {
        return model;
    }

    @Override
    public String name() {
        return device.name();
    }

    public Device device() {
        return device;
    }

    @Override
    public ForwardResult run(int[] tokens, Collection<String> hooks) {
        // singletonList, not List.of: a null prompt reaches the checks below instead of a bare NullPointerException
        return run(java.util.Collections.singletonList(tokens), hooks).get(0);
    }

    /** Every call after {@link #close()} fails here, in Java, before a kernel could see a freed or null weight. */
    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("this " + device.name() + " backend is closed; create a new one with Backends.create");
        }
    }

    /** The buffers of one run, freed together. */
    private final class Scratch implements AutoCloseable {
        final List<DeviceBuffer> buffers = new ArrayList<>();

        DeviceBuffer floats(long count) {
            DeviceBuffer b = device.allocateFloats(count);
            buffers.add(b);
            return b;
        }

        DeviceBuffer floatsOf(double[] values) {
            return keep(device.upload(values));
        }

        DeviceBuffer ints(int[] values) {
            return keep(device.upload(values));
        }

        DeviceBuffer longs(long[] values) {
            return keep(device.upload(values));
        }

        private DeviceBuffer keep(DeviceBuffer b) {
            buffers.add(b);
            return b;
        }

        @Override
        public void close() {
            Closing.all(buffers);
        }
    }

    @Override
    public synchronized List<ForwardResult> run(List<int[]> prompts, Collection<String> hooks) {
        ensureOpen();
        ModelConfig cfg = model.config();
        Set<String> wanted = Hooks.select(cfg, hooks);
        if (prompts == null || prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompts: at least one is needed");
        }
        for (int i = 0; i < prompts.size(); i++) {
            try {
                model.checkTokens(prompts.get(i));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(prompts.size() == 1 ? e.getMessage() : "prompt " + i + ": " + e.getMessage());
            }
        }
        int rows = prompts.stream().mapToInt(t -> t.length).sum();
        int D = cfg.dModel(), N = cfg.dMlp(), H = cfg.nHeads(), dh = cfg.dHead(), V = cfg.dVocab();
        int[] tokens = new int[rows], positions = new int[rows], targets = new int[rows], start = new int[rows], length = new int[rows];
        long[] scoreBase = new long[rows];
        int[] firstRow = new int[prompts.size()];
        long[] firstScore = new long[prompts.size()];
        long scoreTotal = 0;
        for (int s = 0, r = 0; s < prompts.size(); s++) {
            int[] t = prompts.get(s);
            firstRow[s] = r;
            firstScore[s] = scoreTotal;
            for (int p = 0; p < t.length; p++, r++) {
                tokens[r] = t[p];
                positions[r] = p;
                targets[r] = p + 1 < t.length ? t[p + 1] : -1;
                start[r] = firstRow[s];
                length[r] = t.length;
                scoreBase[r] = scoreTotal;
            }
            scoreTotal += (long) H * t.length * t.length;
        }
        SoluWeights wt = model.weights();
        float eps = (float) cfg.eps();
        try (Scratch s = new Scratch()) {
            Map<String, DeviceBuffer> out = new LinkedHashMap<>();
            DeviceBuffer embed = s.floats((long) rows * D), pos = s.floats((long) rows * D), residPre = s.floats((long) rows * D);
            Kernels.embed(device, embed, pos, residPre, w(wt.wE), w(wt.wPos), s.ints(tokens), s.ints(positions), rows, D);
            out.put(Hooks.EMBED, embed);
            out.put(Hooks.POS_EMBED, pos);
            out.put(Hooks.RESID_PRE, residPre);

            DeviceBuffer ln1 = layerNorm(s, out, residPre, rows, D, wt.ln1W, wt.ln1B, eps, Hooks.LN1_SCALE, Hooks.LN1_NORMALIZED);
            DeviceBuffer q = s.floats((long) rows * H * dh), k = s.floats((long) rows * H * dh), v = s.floats((long) rows * H * dh);
            for (int h = 0; h < H; h++) {
                long wOff = (long) h * D * dh, outOff = (long) h * dh;
                Kernels.matmul(device, q, outOff, ln1, 0, w(wt.wQ), wOff, w(wt.bQ), outOff, rows, dh, D, D, dh, H * dh);
                Kernels.matmul(device, k, outOff, ln1, 0, w(wt.wK), wOff, w(wt.bK), outOff, rows, dh, D, D, dh, H * dh);
                Kernels.matmul(device, v, outOff, ln1, 0, w(wt.wV), wOff, w(wt.bV), outOff, rows, dh, D, D, dh, H * dh);
            }
            DeviceBuffer z = s.floats((long) rows * H * dh), scores = s.floats(scoreTotal), pattern = s.floats(scoreTotal);
            Kernels.attention(device, z, scores, pattern, q, k, v, s.ints(start), s.ints(length), s.longs(scoreBase), rows, H, dh,
                    (float) cfg.attnScale());
            DeviceBuffer attnOut = s.floats((long) rows * D), residMid = s.floats((long) rows * D);
            Kernels.matmul(device, attnOut, 0, z, 0, w(wt.wO), 0, w(wt.bO), 0, rows, D, H * dh, H * dh, D, D);
            Kernels.add(device, residMid, residPre, attnOut, (long) rows * D);
            out.put(Hooks.Q, q);
            out.put(Hooks.K, k);
            out.put(Hooks.V, v);
            out.put(Hooks.ATTN_SCORES, scores);
            out.put(Hooks.PATTERN, pattern);
            out.put(Hooks.Z, z);
            out.put(Hooks.ATTN_OUT, attnOut);
            out.put(Hooks.RESID_MID, residMid);

            DeviceBuffer ln2 = layerNorm(s, out, residMid, rows, D, wt.ln2W, wt.ln2B, eps, Hooks.LN2_SCALE, Hooks.LN2_NORMALIZED);
            DeviceBuffer pre = s.floats((long) rows * N), act = s.floats((long) rows * N);
            Kernels.matmul(device, pre, 0, ln2, 0, w(wt.wIn), 0, w(wt.bIn), 0, rows, N, D, D, N, N);
            out.put(Hooks.MLP_PRE, pre);
            DeviceBuffer post = act;
            switch (cfg.actFn()) {
                case SOLU, SOLU_LN -> Kernels.solu(device, act, pre, rows, N);
                case GELU -> Kernels.elementwise(device, "gelu_forward", act, pre, rows * N);
                case GELU_NEW -> Kernels.elementwise(device, "gelu_new_forward", act, pre, rows * N);
                case RELU -> Kernels.elementwise(device, "relu_forward", act, pre, rows * N);
            }
            if (cfg.actFn().hasMlpLayerNorm()) {
                out.put(Hooks.MLP_MID, act);
                post = layerNorm(s, out, act, rows, N, wt.mlpLnW, wt.mlpLnB, eps, Hooks.MLP_LN_SCALE, Hooks.MLP_LN_NORMALIZED);
            }
            out.put(Hooks.MLP_POST, post);
            DeviceBuffer mlpOut = s.floats((long) rows * D), residPost = s.floats((long) rows * D);
            Kernels.matmul(device, mlpOut, 0, post, 0, w(wt.wOut), 0, w(wt.bOut), 0, rows, D, N, N, D, D);
            Kernels.add(device, residPost, residMid, mlpOut, (long) rows * D);
            out.put(Hooks.MLP_OUT, mlpOut);
            out.put(Hooks.RESID_POST, residPost);

            DeviceBuffer lnFinal = layerNorm(s, out, residPost, rows, D, wt.lnFinalW, wt.lnFinalB, eps, Hooks.LN_FINAL_SCALE,
                    Hooks.LN_FINAL_NORMALIZED);
            DeviceBuffer logits = s.floats((long) rows * V), loss = s.floats(rows);
            Kernels.matmul(device, logits, 0, lnFinal, 0, w(wt.wU), 0, w(wt.bU), 0, rows, V, D, D, V, V);
            Kernels.crossEntropy(device, loss, logits, s.ints(targets), rows, V);
            out.put(Hooks.LOGITS, logits);
            device.synchronize();

            List<ForwardResult> results = new ArrayList<>();
            for (int p = 0; p < prompts.size(); p++) {
                int len = prompts.get(p).length, r0 = firstRow[p];
                Map<String, Activation> cache = new LinkedHashMap<>();
                for (String hook : wanted) {
                    if (hook.equals(Hooks.LOSS)) {
                        continue;
                    }
                    int[] shape = shapeOf(hook, len, cfg);
                    long offset = hook.equals(Hooks.ATTN_SCORES) || hook.equals(Hooks.PATTERN) ? firstScore[p]
                            : (long) r0 * (org.solulens.model.Tensor.numel(shape) / len);
                    cache.put(hook, new Activation(hook, shape, download(out.get(hook), offset, org.solulens.model.Tensor.numel(shape))));
                }
                double[] lossRows = download(loss, r0, len - 1);
                if (wanted.contains(Hooks.LOSS)) {
                    cache.put(Hooks.LOSS, new Activation(Hooks.LOSS, new int[] {len - 1}, lossRows));
                }
                results.add(new ForwardResult(prompts.get(p).clone(), lossRows, cache));
            }
            return results;
        }
    }

    private DeviceBuffer layerNorm(Scratch s, Map<String, DeviceBuffer> out, DeviceBuffer x, int rows, int width, Tensor gain, Tensor bias,
                                   float eps, String scaleHook, String normalizedHook) {
        DeviceBuffer y = s.floats((long) rows * width), normalized = s.floats((long) rows * width), scale = s.floats(rows);
        Kernels.layerNorm(device, y, normalized, scale, x, w(gain), w(bias), rows, width, eps);
        out.put(scaleHook, scale);
        out.put(normalizedHook, normalized);
        return y;
    }

    private static int[] shapeOf(String hook, int len, ModelConfig cfg) {
        return switch (hook) {
            case Hooks.LN1_SCALE, Hooks.LN2_SCALE, Hooks.MLP_LN_SCALE, Hooks.LN_FINAL_SCALE -> new int[] {len};
            case Hooks.Q, Hooks.K, Hooks.V, Hooks.Z -> new int[] {len, cfg.nHeads(), cfg.dHead()};
            case Hooks.ATTN_SCORES, Hooks.PATTERN -> new int[] {cfg.nHeads(), len, len};
            case Hooks.MLP_PRE, Hooks.MLP_MID, Hooks.MLP_LN_NORMALIZED, Hooks.MLP_POST -> new int[] {len, cfg.dMlp()};
            case Hooks.LOGITS -> new int[] {len, cfg.dVocab()};
            default -> new int[] {len, cfg.dModel()};
        };
    }

    private double[] download(DeviceBuffer buffer, long offsetFloats, long count) {
        return device.download(buffer, offsetFloats, Math.toIntExact(count));
    }

    /**
     * The exact sweep runs on the device (cuda/sweep.cu) from this clean pass; the re-forward and attribution methods,
     * and cosines, run on the CPU backend from a float64 clean pass.
     */
    @Override
    public synchronized SweepResult sweep(ForwardResult clean, SweepRequest request) {
        ensureOpen();
        for (String hook : request.requiredHooks(model.config())) {
            clean.get(hook);
        }
        if (request.method() == org.solulens.backend.SweepMethod.EXACT && !request.withCosine()) {
            return gpuSweep().run(clean, request);
        }
        boolean plainPost = request.ablation().site() == org.solulens.backend.Ablation.Site.POST
                && request.ablation().kind() != org.solulens.backend.Ablation.Kind.PAPER;
        if (request.method() == org.solulens.backend.SweepMethod.REFORWARD && plainPost && !request.withCosine()
                && request.frozen() == org.solulens.backend.FrozenScales.NONE) {
            return reforwardOnDevice(clean, request);
        }
        return cpu.sweep(cpu.run(clean.tokens(), request.requiredHooks(model.config())), request);
    }

    /** Batches of about 1024 positions, each swept in one kernel launch (the batching AblationSweep has always used). */
    @Override
    public int sweepBatchPositions() {
        return 1024;
    }

    /** Exact sweeps of one ablation (without cosines) share device launches; anything else goes prompt by prompt. */
    @Override
    public synchronized List<SweepResult> sweep(List<ForwardResult> cleans, List<SweepRequest> requests) {
        ensureOpen();
        boolean batchable = cleans.size() == requests.size() && requests.stream().allMatch(r -> r.method() == org.solulens.backend.SweepMethod.EXACT
                && !r.withCosine() && r.ablation().equals(requests.get(0).ablation()));
        if (!batchable) {
            return Backend.super.sweep(cleans, requests);
        }
        for (int i = 0; i < cleans.size(); i++) {
            for (String hook : requests.get(i).requiredHooks(model.config())) {
                cleans.get(i).get(hook);
            }
        }
        return gpuSweep().run(cleans, requests);
    }

    /**
     * The batched re-forward on the device (site post, zero/mean/value): per position, every ablation's resid_post
     * row, the final LayerNorm, the unembedding as one [d_mlp, d_model] x [d_model, d_vocab] product, the loss.
     * It is the baseline the exact sweep kernel is timed against; float32 throughout.
     */
    private SweepResult reforwardOnDevice(ForwardResult clean, SweepRequest request) {
        ModelConfig cfg = model.config();
        int P = clean.tokens().length - 1, N = cfg.dMlp(), D = cfg.dModel(), V = cfg.dVocab();
        double[] residPost = clean.get(Hooks.RESID_POST).data(), post = clean.get(Hooks.MLP_POST).data();
        double[] delta = new double[Math.max(P, 0) * N];
        SoluWeights wt = model.weights();
        try (Scratch s = new Scratch()) {
            DeviceBuffer rows = s.floats((long) N * D), x = s.floats((long) N * D), norm = s.floats((long) N * D), scale = s.floats(N);
            DeviceBuffer logits = s.floats((long) N * V), loss = s.floats(N);
            for (int p = 0; p < P; p++) {
                double[] c = new double[N];
                for (int n = 0; n < N; n++) {
                    c[n] = post[p * N + n] - request.ablation().replacement(n);
                }
                int[] targets = new int[N];
                java.util.Arrays.fill(targets, clean.tokens()[p + 1]);
                Kernels.ablateRows(device, rows, s.floatsOf(java.util.Arrays.copyOfRange(residPost, p * D, (p + 1) * D)), w(wt.wOut),
                        s.floatsOf(c), N, D);
                Kernels.layerNorm(device, x, norm, scale, rows, w(wt.lnFinalW), w(wt.lnFinalB), N, D, (float) cfg.eps());
                Kernels.matmul(device, logits, 0, x, 0, w(wt.wU), 0, w(wt.bU), 0, N, V, D, D, V, V);
                Kernels.crossEntropy(device, loss, logits, s.ints(targets), N, V);
                double[] l = download(loss, 0, N);
                for (int n = 0; n < N; n++) {
                    delta[p * N + n] = request.isSelected(p, n, N) ? l[n] - clean.loss()[p] : Double.NaN;
                }
            }
        }
        return new SweepResult(Math.max(P, 0), N, delta, null);
    }

    /** What to do with a sweep's Δloss while it is still on the device: [rows, neurons] float32, row-major. */
    @FunctionalInterface
    public interface DeviceDelta<T> {
        T apply(Device device, DeviceBuffer delta, int rows, int neurons);
    }

    /**
     * The exact sweep of one prompt (site and ablation as {@code request}; no cosines, no mask), its Δloss left on the
     * device and handed to {@code consumer} there — for reductions that bring back far less than [P, d_mlp] (the corpus
     * sweep's fold). The buffer is freed when the consumer returns.
     */
    public synchronized <T> T sweepOnDevice(ForwardResult clean, SweepRequest request, DeviceDelta<T> consumer) {
        ensureOpen();
        if (request.method() != org.solulens.backend.SweepMethod.EXACT || request.withCosine() || request.selected() != null) {
            throw new IllegalArgumentException("sweepOnDevice runs the exact sweep of every pair, without cosines");
        }
        for (String hook : request.requiredHooks(model.config())) {
            clean.get(hook);
        }
        return gpuSweep().runOnDevice(clean, request, consumer);
    }

    /** Which variant of the sweep kernel the exact sweep uses from now on (default {@link SweepKernel#EX2}). */
    public synchronized void useSweepKernel(SweepKernel kernel) {
        gpuSweep().use(kernel);
    }

    /** Seconds the sweep kernel itself ran since the last call: what bench-sweep reports beside the whole sweep. */
    public synchronized double takeSweepKernelSeconds() {
        return gpuSweep().takeKernelSeconds();
    }

    private synchronized GpuSweep gpuSweep() {
        if (sweep == null) {
            sweep = new GpuSweep(device, new org.solulens.cpu.SweepConstants(model.config(), model.weights()), model.config(),
                    weights.get(model.weights().wU.name()), weights.get(model.weights().wOut.name()));
        }
        return sweep;
    }

    @Override
    public synchronized DlaResult dla(ForwardResult clean, boolean tlVariant) {
        ensureOpen();
        return gpuSweep().dla(clean, model.weights(), tlVariant);
    }

    @Override
    public synchronized double[] ablatePositions(ForwardResult clean, Ablation ablation) {
        ensureOpen();
        return cpu.ablatePositions(cpu.run(clean.tokens(), Hooks.available(model.config())), ablation);
    }

    /** Releases the device buffers and the device; a second call does nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<AutoCloseable> all = new ArrayList<>();
        all.add(sweep);
        all.addAll(weights.values());
        all.add(device);   // last, and even when freeing a buffer failed: it destroys the context, which frees the rest
        sweep = null;
        weights.clear();
        Closing.all(all);
    }
}
