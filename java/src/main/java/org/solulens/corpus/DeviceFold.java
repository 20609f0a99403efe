package org.solulens.corpus;

import java.nio.FloatBuffer;
import org.lwjgl.system.MemoryUtil;
import org.solulens.gpu.Device;
import org.solulens.gpu.DeviceBuffer;
import org.solulens.gpu.GpuBackend;
import org.solulens.gpu.Kernels;

/**
 * The corpus fold of one window on the device (cuda/corpus.cu), run while the sweep's Δloss is still there: what comes
 * back is per neuron a dozen sums, three extremes, two counts, the histogram, and 3·k candidate positions with their
 * context — not the window's rows × d_mlp Δloss. {@link CorpusStats#addPartial} folds it in as {@link CorpusStats#add}
 * would have folded the rows.
 */
final class DeviceFold implements GpuBackend.DeviceDelta<DeviceFold.Partial> {
    /**
     * One window's partial statistics: {@code sums} [neurons][12] (sum, error) pairs of d, |d|, d², a, a², a·d;
     * {@code extremes} [neurons][3] min d, max d, max a; {@code counts} [neurons][2] d above threshold, non-finite;
     * {@code histogram} [neurons][bins]; {@code candidates} [neurons][3][k] rows (top d, bottom d, top a; -1: none);
     * {@code contexts} [neurons][3][k][CONTEXT_BEFORE + 1] d at the rows ending at each candidate.
     */
    record Partial(int rows, double[] sums, double[] extremes, int[] counts, int[] histogram, int[] candidates, float[] contexts) {}

    private final double[] activation;   // [rows + 1, neurons] from the clean pass, on the host
    private final double threshold;
    private final int k;

    DeviceFold(double[] activation, double threshold, int k) {
        this.activation = activation;
        this.threshold = threshold;
        this.k = k;
    }

    @Override
    public Partial apply(Device d, DeviceBuffer delta, int rows, int neurons) {
        int bins = CorpusStats.BINS, context = CorpusStats.CONTEXT_BEFORE + 1, kk = Math.max(1, k);
        long[] settings = new long[1 + bins];
        settings[0] = Double.doubleToRawLongBits(threshold);
        for (int b = 0; b < bins; b++) {
            settings[1 + b] = Double.doubleToRawLongBits(CorpusStats.binLow(b));
        }
        float[] act = new float[rows * neurons];
        for (int i = 0; i < act.length; i++) {
            act[i] = (float) activation[i];   // the device's own float32 values, widened on the way out: exact
        }
        try (DeviceBuffer gSettings = d.upload(settings); DeviceBuffer gAct = d.upload(act);
             DeviceBuffer sums = d.allocate(8L * neurons * 12); DeviceBuffer extremes = d.allocate(8L * neurons * 3);
             DeviceBuffer counts = d.allocate(4L * neurons * 2); DeviceBuffer histogram = d.allocate(4L * neurons * bins);
             DeviceBuffer candidates = d.allocate(4L * neurons * 3 * kk); DeviceBuffer values = d.allocate(8L * neurons * 3 * kk);
             DeviceBuffer contexts = d.allocate(4L * neurons * 3 * kk * context)) {
            Kernels.corpusFold(d, sums, extremes, counts, histogram, candidates, values, delta, gAct, gSettings, rows, neurons, bins, kk);
            Kernels.corpusContexts(d, contexts, candidates, delta, rows, neurons, kk, context);
            return new Partial(rows, doubles(d, sums, neurons * 12), doubles(d, extremes, neurons * 3), ints(d, counts, neurons * 2),
                    ints(d, histogram, neurons * bins), k == 0 ? new int[0] : ints(d, candidates, neurons * 3 * k), raw(d, contexts, neurons * 3 * kk * context));
        }
    }

    /** {@code count} 4-byte words as they lie on the device (no conversion). */
    private static float[] raw(Device d, DeviceBuffer b, int count) {
        FloatBuffer host = MemoryUtil.memAllocFloat(Math.max(1, count));
        try {
            host.limit(count);
            d.copyToHost(host, b, 0);
            float[] out = new float[count];
            host.get(out);
            return out;
        } finally {
            MemoryUtil.memFree(host);
        }
    }

    private static int[] ints(Device d, DeviceBuffer b, int count) {
        float[] words = raw(d, b, count);
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = Float.floatToRawIntBits(words[i]);
        }
        return out;
    }

    private static double[] doubles(Device d, DeviceBuffer b, int count) {
        float[] words = raw(d, b, 2 * count);
        double[] out = new double[count];
        for (int i = 0; i < count; i++) {
            long lo = Float.floatToRawIntBits(words[2 * i]) & 0xffffffffL, hi = Float.floatToRawIntBits(words[2 * i + 1]) & 0xffffffffL;
            out[i] = Double.longBitsToDouble(hi << 32 | lo);
        }
        return out;
    }
}
