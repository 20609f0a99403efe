package org.solulens.gpu;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;
import org.solulens.cpu.SweepChunk;
import org.solulens.cpu.SweepConstants;
import org.solulens.model.ModelConfig;

/**
 * The exact sweep on a device (cuda/sweep.cu). The host does the per-pair algebra of each chunk of positions in
 * double ({@link SweepChunk}: the scalars α, γ, δ per pair); the device does the matrix products that algebra needs
 * (Gram terms, accumulated in double), the unembeddings (products with W_U, accumulated in double) and the P·N·V
 * exponentials, in one launch of sweep_forward per chunk of positions (the positions of several prompts share a
 * chunk). The model constants B (d_mlp x d_vocab per direction kind) are computed on the device once and kept there,
 * their rows interleaved four by four, as the kernel loads them.
 */
final class GpuSweep implements AutoCloseable {
    /**
     * Positions per chunk at most: bounds the device's [positions, d_vocab] buffers and [positions, d_mlp, 3]
     * coefficients (12·d_vocab + 20·d_mlp bytes a position: 610 MB for 1024 positions of solu-1l) and the host's.
     */
    static final int CHUNK_POSITIONS = 1024;

    private final Device device;
    private final SweepConstants constants;
    private final ModelConfig cfg;
    private final DeviceBuffer wU, wOut, beta;
    /** Each direction kind's centred rows, transposed to [d_model, d_mlp], for the cross dot products. */
    private final Map<SweepConstants.Directions, Split> directionsT = new HashMap<>();
    private final SweepChunk.Products products = new DeviceProducts();
    private final Map<SweepConstants.Directions, DeviceBuffer> bMatrices = new HashMap<>();
    /** max_v |B[n, v]| per neuron, for each B: the kernel's bound on |d|. */
    private final Map<SweepConstants.Directions, DeviceBuffer> bAbsMax = new HashMap<>();
    private SweepKernel kernel = SweepKernel.EX2;
    private double kernelSeconds;

    GpuSweep(Device device, SweepConstants constants, ModelConfig cfg, DeviceBuffer wU, DeviceBuffer wOut) {
        this.device = device;
        this.constants = constants;
        this.cfg = cfg;
        this.wU = wU;
        this.wOut = wOut;
        this.beta = upload(constants.beta);
    }

    SweepResult run(ForwardResult clean, SweepRequest req) {
        return run(List.of(clean), List.of(req)).get(0);
    }

    /** One prompt's sweep whose Δloss [P, d_mlp] stays on the device for {@code consumer} (see GpuBackend#sweepOnDevice). */
    <T> T runOnDevice(ForwardResult clean, SweepRequest req, GpuBackend.DeviceDelta<T> consumer) {
        int P = Math.max(0, clean.tokens().length - 1);
        if (P == 0 || P > chunkPositions()) {
            throw new IllegalArgumentException("a device-side sweep takes 1 to " + chunkPositions() + " positions, not " + P);
        }
        List<Object> result = new ArrayList<>(1);
        runChunk(List.of(new Segment(0, 0, P)), List.of(clean), List.of(req), new double[][] {null}, (out, rows) -> {
            result.add(consumer.apply(device, out, rows, cfg.dMlp()));
        });
        @SuppressWarnings("unchecked")
        T t = (T) result.get(0);
        return t;
    }

    /** Positions [p0, p1) of prompt {@code prompt}: one piece of a chunk. */
    private record Segment(int prompt, int p0, int p1) {
        int rows() {
            return p1 - p0;
        }
    }

    /**
     * Several prompts' sweeps (all with the same ablation), their positions packed one after another into chunks:
     * one sweep_forward launch per chunk, so one in all while every position fits in a chunk.
     */
    List<SweepResult> run(List<ForwardResult> cleans, List<SweepRequest> requests) {
        int N = cfg.dMlp();
        double[][] deltas = new double[cleans.size()][];
        int limit = chunkPositions(), filled = 0;
        List<Segment> chunk = new ArrayList<>();
        for (int i = 0; i < cleans.size(); i++) {
            if (!requests.get(i).ablation().equals(requests.get(0).ablation())) {
                throw new IllegalArgumentException("one device sweep takes one ablation; request " + i + " has another");
            }
            int P = Math.max(0, cleans.get(i).tokens().length - 1);
            deltas[i] = new double[P * N];
            for (int p0 = 0; p0 < P; ) {
                int p1 = Math.min(P, p0 + limit - filled);
                chunk.add(new Segment(i, p0, p1));
                filled += p1 - p0;
                p0 = p1;
                if (filled == limit) {
                    runChunk(chunk, cleans, requests, deltas);
                    chunk.clear();
                    filled = 0;
                }
            }
        }
        if (!chunk.isEmpty()) {
            runChunk(chunk, cleans, requests, deltas);
        }
        List<SweepResult> out = new ArrayList<>();
        for (int i = 0; i < cleans.size(); i++) {
            out.add(new SweepResult(deltas[i].length / N, N, deltas[i], null));
        }
        return out;
    }

    private void runChunk(List<Segment> segments, List<ForwardResult> cleans, List<SweepRequest> requests, double[][] deltas) {
        runChunk(segments, cleans, requests, deltas, null);
    }

    /** onDevice null: the chunk's Δloss is downloaded into deltas; else it is handed over on the device instead. */
    private void runChunk(List<Segment> segments, List<ForwardResult> cleans, List<SweepRequest> requests, double[][] deltas,
                          java.util.function.BiConsumer<DeviceBuffer, Integer> onDevice) {
        int N = cfg.dMlp(), V = cfg.dVocab(), D = cfg.dModel();
        int rows = segments.stream().mapToInt(Segment::rows).sum();
        boolean anyMask = segments.stream().anyMatch(s -> requests.get(s.prompt()).selected() != null);
        float[] coef = new float[rows * N * 3];
        float[] alpha0 = new float[rows], gamma0 = new float[rows];
        int[] targets = new int[rows];
        int[] selected = anyMask ? new int[rows * N] : null;
        double[] rowsA = new double[rows * D], rowsA2 = null;
        SweepConstants.Directions dirs = null;
        int r0 = 0;
        for (Segment seg : segments) {
            ForwardResult clean = cleans.get(seg.prompt());
            SweepRequest req = requests.get(seg.prompt());
            SweepChunk piece = SweepChunk.of(constants, clean, req, seg.p0(), seg.p1(), products);
            dirs = piece.dirs;
            System.arraycopy(piece.rowsA, 0, rowsA, r0 * D, seg.rows() * D);
            if (piece.rowsA2 != null) {
                rowsA2 = rowsA2 == null ? new double[rows * D] : rowsA2;
                System.arraycopy(piece.rowsA2, 0, rowsA2, r0 * D, seg.rows() * D);
            }
            int first = r0;
            IntStream.range(0, seg.rows()).parallel().forEach(q -> {
                int row = first + q;
                double[] cleanCoef = new double[3], pair = new double[3];
                piece.coefficients(q, -1, cleanCoef);
                alpha0[row] = (float) cleanCoef[0];
                gamma0[row] = (float) cleanCoef[1];
                targets[row] = clean.tokens()[seg.p0() + q + 1];
                for (int n = 0; n < N; n++) {
                    int i = row * N + n;
                    piece.coefficients(q, n, pair);
                    coef[3 * i] = (float) (pair[0] - cleanCoef[0]);      // differences taken in double
                    coef[3 * i + 1] = (float) (pair[1] - cleanCoef[1]);
                    coef[3 * i + 2] = (float) pair[2];
                    if (selected != null) {
                        selected[i] = req.isSelected(seg.p0() + q, n, N) ? 1 : 0;
                    }
                }
            });
            r0 += seg.rows();
        }
        DeviceBuffer b = bMatrix(dirs), absB = bAbsMax.get(dirs);
        try (DeviceBuffer a = unembed(rowsA, rows);
             DeviceBuffer a2 = rowsA2 == null ? null : unembed(rowsA2, rows);
             DeviceBuffer absA = device.allocateFloats(rows);
             DeviceBuffer absA2 = a2 == null ? null : device.allocateFloats(rows);
             DeviceBuffer records = device.allocateFloats((long) rows * V * (a2 == null ? 2 : 4));
             DeviceBuffer gAlpha = upload(alpha0); DeviceBuffer gGamma = upload(gamma0);
             DeviceBuffer gCoef = upload(coef); DeviceBuffer gTargets = uploadInts(targets);
             DeviceBuffer gSelected = selected == null ? null : uploadInts(selected);
             DeviceBuffer out = device.allocateFloats((long) rows * N)) {
            Kernels.rowAbsMax(device, absA, a, rows, V);
            if (a2 != null) {
                Kernels.rowAbsMax(device, absA2, a2, rows, V);
            }
            Kernels.sweepCleanLog2Probs(device, records, a, a2, beta, gAlpha, gGamma, rows, V);
            device.synchronize();
            long start = System.nanoTime();
            Kernels.sweep(device, kernel, out, records, a, a2, b, gCoef, gTargets, gSelected, absA, absA2, absB, rows, N, V);
            device.synchronize();
            kernelSeconds += (System.nanoTime() - start) / 1e9;
            if (onDevice != null) {
                onDevice.accept(out, rows);
                return;
            }
            double[] host = device.download(out, 0, rows * N);
            r0 = 0;
            for (Segment seg : segments) {
                System.arraycopy(host, r0 * N, deltas[seg.prompt()], seg.p0() * N, seg.rows() * N);
                r0 += seg.rows();
            }
        }
    }

    /** A double array on the device as two float32 parts, hi + lo (see cuda/matmul_split.cu). */
    private record Split(DeviceBuffer hi, DeviceBuffer lo) implements AutoCloseable {
        @Override
        public void close() {
            Closing.all(hi, lo);
        }
    }

    private Split uploadSplit(double[] values) {
        float[][] parts = Kernels.splitHiLo(values);
        DeviceBuffer hi = upload(parts[0]);
        try {
            return new Split(hi, upload(parts[1]));
        } catch (RuntimeException e) {
            throw Closing.after(e, hi);
        }
    }

    /** {@code x · y} ([m, k] times [k, n], y given split or as float32 y) accumulated in double on the device. */
    private double[] productInDouble(double[] x, int m, int k, Split ySplit, DeviceBuffer yFloat, int n) {
        try (Split in = uploadSplit(x); DeviceBuffer hi = device.allocateFloats((long) m * n); DeviceBuffer lo = device.allocateFloats((long) m * n)) {
            Kernels.matmulSplit(device, hi, lo, in.hi(), in.lo(), ySplit != null ? ySplit.hi() : yFloat, ySplit != null ? ySplit.lo() : null, m, n, k);
            double[] out = device.download(hi, 0, m * n), low = device.download(lo, 0, m * n);
            for (int i = 0; i < out.length; i++) {
                out[i] += low[i];
            }
            return out;
        }
    }

    /**
     * The chunk algebra's matrix products on the device, accumulated in double from inputs that keep their double
     * values (cuda/matmul_split.cu): the Gram terms they feed are differences that float32 would spoil.
     */
    private final class DeviceProducts implements SweepChunk.Products {
        @Override
        public double[] crossDots(double[] x, int rows, SweepConstants.Directions dirs) {
            int D = cfg.dModel(), N = cfg.dMlp();
            Split t = directionsT.computeIfAbsent(dirs, d -> {
                double[] transposed = new double[D * N];
                for (int n = 0; n < N; n++) {
                    for (int i = 0; i < D; i++) {
                        transposed[i * N + n] = d.centred[n * D + i];
                    }
                }
                return uploadSplit(transposed);
            });
            return productInDouble(x, rows, D, t, null, N);
        }

        @Override
        public double[] timesWout(double[] x, int rows) {
            return productInDouble(x, rows, cfg.dMlp(), null, wOut, cfg.dModel());
        }
    }

    /** Which variant of the sweep kernel runs (default EX2). */
    void use(SweepKernel k) {
        kernel = k;
    }

    /** Seconds spent in the sweep kernel itself since the last call (device synchronised around each launch). */
    double takeKernelSeconds() {
        double t = kernelSeconds;
        kernelSeconds = 0;
        return t;
    }

    /** As many positions as fit in half the free device memory, at most CHUNK_POSITIONS, at least one. */
    private int chunkPositions() {
        return (int) Math.max(1, Math.min(CHUNK_POSITIONS, device.freeBytes() / 2 / bytesPerPosition(cfg)));
    }

    /** Device bytes a position of a chunk takes: A, A2 and the staged records; coefficients, mask and result. */
    static long bytesPerPosition(ModelConfig cfg) {
        return 4L * cfg.dVocab() * 6 + 4L * cfg.dMlp() * 5;
    }

    /**
     * Direct logit attribution with the per-neuron part as one matrix product on the device:
     * {@code G = W̄_out · U} with {@code U[:, p] = ln_final.w ⊙ W_U[:, t_p]} (the target columns gathered on the host),
     * then {@code neuron[p, n] = post[p, n] G[n, p] / σ_p}; the MLP's DLA is a dot product per position.
     */
    org.solulens.backend.DlaResult dla(ForwardResult clean, org.solulens.model.SoluWeights w, boolean tlVariant) {
        int P = clean.tokens().length - 1, N = cfg.dMlp(), D = cfg.dModel(), V = cfg.dVocab();
        double[] scale = clean.get(org.solulens.backend.Hooks.LN_FINAL_SCALE).data();
        double[] post = clean.get(org.solulens.backend.Hooks.MLP_POST).data(), mlpOut = clean.get(org.solulens.backend.Hooks.MLP_OUT).data();
        double[] u = new double[D * Math.max(P, 1)];
        for (int p = 0; p < P; p++) {
            int t = clean.tokens()[p + 1];
            for (int d = 0; d < D; d++) {
                double gain = tlVariant || w.lnFinalW == null ? 1 : w.lnFinalW.get(d);
                u[d * P + p] = gain * w.wU.get(d * V + t);
            }
        }
        double[] mlp = new double[Math.max(P, 0)], neuron = new double[Math.max(P, 0) * N];
        if (P > 0) {
            SweepConstants.Directions rows = constants.outRows();
            try (DeviceBuffer gRows = upload(rows.centred); DeviceBuffer gU = upload(u); DeviceBuffer g = device.allocateFloats((long) N * P)) {
                Kernels.matmul(device, g, 0, gRows, 0, gU, 0, null, 0, N, P, D, D, P, P);
                double[] host = device.download(g, 0, N * P);
                for (int p = 0; p < P; p++) {
                    for (int n = 0; n < N; n++) {
                        neuron[p * N + n] = post[p * N + n] * host[n * P + p] / scale[p];
                    }
                }
            }
            for (int p = 0; p < P; p++) {
                double mean = 0, dot = 0;
                for (int d = 0; d < D; d++) {
                    mean += mlpOut[p * D + d] / D;
                }
                for (int d = 0; d < D; d++) {
                    dot += (mlpOut[p * D + d] - mean) * u[d * P + p];
                }
                mlp[p] = dot / scale[p];
            }
        }
        return new org.solulens.backend.DlaResult(Math.max(P, 0), N, mlp, neuron, tlVariant);
    }

    /**
     * B = (centred rows ⊙ ln_final.w) · W_U on the device, once per direction kind, kept with its rows interleaved
     * four by four (the sweep kernel's layout); its rows' max |B| beside it.
     */
    private DeviceBuffer bMatrix(SweepConstants.Directions dirs) {
        return bMatrices.computeIfAbsent(dirs, d -> {
            int N = cfg.dMlp(), V = cfg.dVocab();
            DeviceBuffer abs = null, b4 = null;
            try (DeviceBuffer b = unembed(d.centred, N)) {
                abs = device.allocateFloats(N);
                Kernels.rowAbsMax(device, abs, b, N, V);
                b4 = device.allocateFloats(Kernels.interleavedFloats(N, V));
                Kernels.interleaveRows4(device, b4, b, N, V);
            } catch (RuntimeException e) {
                throw Closing.after(Closing.after(e, abs), b4);
            }
            bAbsMax.put(d, abs);
            return b4;
        });
    }

    /** {@code (rows ⊙ ln_final.w) · W_U}, accumulated in double, into a new float32 [count, d_vocab] device buffer. */
    private DeviceBuffer unembed(double[] rows, int count) {
        int D = cfg.dModel(), V = cfg.dVocab();
        double[] scaled = new double[count * D];
        for (int r = 0; r < count; r++) {
            for (int i = 0; i < D; i++) {
                scaled[r * D + i] = rows[r * D + i] * constants.gFinal[i];
            }
        }
        DeviceBuffer out = device.allocateFloats((long) count * V);
        try (Split in = uploadSplit(scaled)) {
            Kernels.matmulSplit(device, out, null, in.hi(), in.lo(), wU, null, count, V, D);
        } catch (RuntimeException e) {
            throw Closing.after(e, out);
        }
        return out;
    }

    private DeviceBuffer upload(double[] values) {
        return device.upload(values);
    }

    private DeviceBuffer upload(float[] values) {
        return device.upload(values);
    }

    private DeviceBuffer uploadInts(int[] values) {
        return device.upload(values);
    }

    @Override
    public void close() {
        List<AutoCloseable> all = new ArrayList<>(bMatrices.values());
        all.addAll(bAbsMax.values());
        all.addAll(directionsT.values());
        all.add(beta);
        bMatrices.clear();
        bAbsMax.clear();
        directionsT.clear();
        Closing.all(all);
    }
}
