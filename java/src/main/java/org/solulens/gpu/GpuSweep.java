package org.solulens.gpu;

import java.util.HashMap;
import java.util.Map;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;
import org.solulens.cpu.SweepChunk;
import org.solulens.cpu.SweepConstants;
import org.solulens.model.ModelConfig;

/**
 * The exact sweep on a device (cuda/sweep.cu). The host does the cheap algebra of each chunk of positions in
 * double ({@link SweepChunk}: Gram terms, the scalars α, γ, δ per pair); the device does the unembeddings (matrix
 * products with W_U) and the P·N·V exponentials, in one launch of sweep_forward per chunk. The model constants B
 * (d_mlp x d_vocab per direction kind) are computed on the device once and kept there.
 */
final class GpuSweep implements AutoCloseable {
    /** Positions per chunk at most: bounds the [positions, d_vocab] buffers and the [positions, d_mlp, 3] coefficients. */
    static final int CHUNK_POSITIONS = 256;

    private final Device device;
    private final SweepConstants constants;
    private final ModelConfig cfg;
    private final DeviceBuffer wU, beta;
    private final Map<SweepConstants.Directions, DeviceBuffer> bMatrices = new HashMap<>();

    GpuSweep(Device device, SweepConstants constants, ModelConfig cfg, DeviceBuffer wU) {
        this.device = device;
        this.constants = constants;
        this.cfg = cfg;
        this.wU = wU;
        this.beta = upload(constants.beta);
    }

    SweepResult run(ForwardResult clean, SweepRequest req) {
        int P = clean.tokens().length - 1, N = cfg.dMlp(), V = cfg.dVocab();
        double[] delta = new double[Math.max(P, 0) * N];
        int chunkPositions = chunkPositions();
        for (int p0 = 0; p0 < P; p0 += chunkPositions) {
            int p1 = Math.min(P, p0 + chunkPositions), rows = p1 - p0;
            SweepChunk chunk = SweepChunk.of(constants, clean, req, p0, p1);
            DeviceBuffer b = bMatrix(chunk.dirs);
            float[] coef = new float[rows * N * 3];
            float[] alpha0 = new float[rows], gamma0 = new float[rows];
            int[] targets = new int[rows];
            int[] selected = req.selected() == null ? null : new int[rows * N];
            double[] cleanCoef = new double[3], pair = new double[3];
            for (int q = 0; q < rows; q++) {
                chunk.coefficients(q, -1, cleanCoef);
                alpha0[q] = (float) cleanCoef[0];
                gamma0[q] = (float) cleanCoef[1];
                targets[q] = clean.tokens()[p0 + q + 1];
                for (int n = 0; n < N; n++) {
                    int i = q * N + n;
                    chunk.coefficients(q, n, pair);
                    coef[3 * i] = (float) (pair[0] - cleanCoef[0]);      // differences taken in double
                    coef[3 * i + 1] = (float) (pair[1] - cleanCoef[1]);
                    coef[3 * i + 2] = (float) pair[2];
                    if (selected != null) {
                        selected[i] = req.isSelected(p0 + q, n, N) ? 1 : 0;
                    }
                }
            }
            try (DeviceBuffer a = unembed(chunk.rowsA, rows);
                 DeviceBuffer a2 = chunk.rowsA2 == null ? null : unembed(chunk.rowsA2, rows);
                 DeviceBuffer probs = device.allocateFloats((long) rows * V);
                 DeviceBuffer gAlpha = upload(alpha0); DeviceBuffer gGamma = upload(gamma0);
                 DeviceBuffer gCoef = upload(coef); DeviceBuffer gTargets = uploadInts(targets);
                 DeviceBuffer gSelected = selected == null ? null : uploadInts(selected);
                 DeviceBuffer out = device.allocateFloats((long) rows * N)) {
                Kernels.sweepCleanProbs(device, probs, a, a2, beta, gAlpha, gGamma, rows, V);
                Kernels.sweep(device, out, probs, a, a2, b, gCoef, gTargets, gSelected, rows, N, V);
                System.arraycopy(device.download(out, 0, rows * N), 0, delta, p0 * N, rows * N);
            }
        }
        return new SweepResult(Math.max(P, 0), N, delta, null);
    }

    /** As many positions as fit in half the free device memory, at most CHUNK_POSITIONS, at least one. */
    private int chunkPositions() {
        long perPosition = 4L * cfg.dVocab() * 3 + 4L * cfg.dMlp() * 5;   // A, A2, q; coefficients, mask, result
        return (int) Math.max(1, Math.min(CHUNK_POSITIONS, device.freeBytes() / 2 / perPosition));
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

    /** B = (centred rows ⊙ ln_final.w) · W_U on the device, once per direction kind. */
    private DeviceBuffer bMatrix(SweepConstants.Directions dirs) {
        return bMatrices.computeIfAbsent(dirs, d -> unembed(d.centred, cfg.dMlp()));
    }

    /** {@code (rows ⊙ ln_final.w) · W_U}, a new [count, d_vocab] device buffer. */
    private DeviceBuffer unembed(double[] rows, int count) {
        int D = cfg.dModel(), V = cfg.dVocab();
        double[] scaled = new double[count * D];
        for (int r = 0; r < count; r++) {
            for (int i = 0; i < D; i++) {
                scaled[r * D + i] = rows[r * D + i] * constants.gFinal[i];
            }
        }
        DeviceBuffer out = device.allocateFloats((long) count * V);
        try (DeviceBuffer in = upload(scaled)) {
            Kernels.matmul(device, out, 0, in, 0, wU, 0, null, 0, count, V, D, D, V, V);
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
        bMatrices.values().forEach(DeviceBuffer::close);
        bMatrices.clear();
        beta.close();
    }
}
