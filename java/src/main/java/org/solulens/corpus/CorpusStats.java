package org.solulens.corpus;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Every per-neuron statistic of a corpus sweep, folded in one window at a time, in float64: count, mean Δloss,
 * mean |Δloss|, standard deviation, min, max, the fraction above a threshold, a log-binned histogram of |Δloss|, the
 * activation's mean and max and its Pearson correlation with Δloss, and the top-k, bottom-k and most-active examples;
 * and, per position, the whole MLP's ablation Δloss. Memory: O(d_mlp · (k + bins)), whatever the corpus' length.
 *
 * <p>Windows are folded in corpus order, one after another, by one thread (the sweeps themselves run in parallel),
 * and the sums are compensated, so the result does not depend on how windows were batched or computed.
 */
public final class CorpusStats {
    /** |Δloss| histogram: [0, 1e-6), then 4 bins a decade up to 1e2, then [1e2, inf). */
    static final double HIST_LOW = 1e-6;
    static final int BINS_PER_DECADE = 4, DECADES = 8, BINS = BINS_PER_DECADE * DECADES + 2;
    /** Tokens of context kept before an example's position (and the one predicted after it). */
    static final int CONTEXT_BEFORE = 10;

    private final int neurons, k;
    private final double threshold;
    private long count, windows, tokens;
    private final CompensatedSums sums;   // per neuron: Σd, Σ|d|, Σd², Σa, Σa², Σad
    private final double[] min, max, activationMax;
    private final long[] above;
    private final long[][] histogram;
    private final TopK[] top, bottom, active;
    // the whole MLP ablated at a position: its Δloss
    private final CompensatedSums whole = new CompensatedSums(3);   // Σ, Σ|.|, Σ²
    private long wholeCount;
    private double wholeMin = Double.POSITIVE_INFINITY, wholeMax = Double.NEGATIVE_INFINITY;
    private final long[] wholeHistogram = new long[BINS];

    /** Empty statistics for {@code neurons} neurons, keeping the {@code k} top, bottom and most-active examples of each, counting |Δloss| above {@code threshold}. */
    public CorpusStats(int neurons, int k, double threshold) {
        this.neurons = neurons;
        this.k = k;
        this.threshold = threshold;
        sums = new CompensatedSums(6 * neurons);
        min = new double[neurons];
        max = new double[neurons];
        activationMax = new double[neurons];
        java.util.Arrays.fill(min, Double.POSITIVE_INFINITY);
        java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
        java.util.Arrays.fill(activationMax, Double.NEGATIVE_INFINITY);
        above = new long[neurons];
        histogram = new long[neurons][BINS];
        top = new TopK[neurons];
        bottom = new TopK[neurons];
        active = new TopK[neurons];
        for (int n = 0; n < neurons; n++) {
            top[n] = new TopK(k, Example::byDeltaDescending);
            bottom[n] = new TopK(k, Example::byDeltaAscending);
            active[n] = new TopK(k, Example::byActivationDescending);
        }
    }

    /** Bytes this holds at most, for the bound printed at the start: independent of the corpus. */
    public static long memoryBound(int neurons, int k) {
        long perExample = 96 + (CONTEXT_BEFORE + 2) * 12L;
        return neurons * (12L * 8 + 4L * 8 + BINS * 8L + 3L * k * perExample) + 4096;
    }

    static int bin(double absDelta) {
        if (!(absDelta >= HIST_LOW)) {
            return 0;
        }
        int b = 1 + (int) Math.floor(Math.log10(absDelta / HIST_LOW) * BINS_PER_DECADE);
        return Math.min(b, BINS - 1);
    }

    /** The lower edge of histogram bin b (bin 0 starts at 0). */
    public static double binLow(int b) {
        return b == 0 ? 0 : HIST_LOW * Math.pow(10, (b - 1) / (double) BINS_PER_DECADE);
    }

    /**
     * Folds in one window: {@code delta} [P, d_mlp] (row p: Δloss of predicting token p+1 with the neuron ablated),
     * {@code activation} [P + 1, d_mlp] at the ablated site, {@code wholeMlp} [P] (the whole MLP ablated at p).
     */
    public void add(Window w, double[] delta, double[] activation, double[] wholeMlp) {
        int P = w.tokens().length - 1;
        windows++;
        tokens += P;
        count += P;
        // Neurons are independent: blocks of them fold in parallel, each neuron's positions in order, so the result is the
        // same as one thread's (on a GPU the fold would otherwise cap the sweep at ~30 ns a pair on one core).
        int blocks = Math.max(1, Math.min(neurons / 64, Runtime.getRuntime().availableProcessors() * 4));
        java.util.stream.IntStream.range(0, blocks).parallel().forEach(block -> {
            for (int n = block * neurons / blocks, end = (block + 1) * neurons / blocks; n < end; n++) {
                for (int p = 0; p < P; p++) {
                    fold(w, p, n, delta, activation);
                }
            }
        });
        addWhole(w, wholeMlp);
    }

    private void addWhole(Window w, double[] wholeMlp) {
        for (int p = 0; p < wholeMlp.length; p++) {
            double m = wholeMlp[p];
            if (!Double.isFinite(m)) {
                throw new IllegalStateException("window " + w.index() + ", position " + p + ": a non-finite whole-MLP Δloss");
            }
            whole.add(0, m);
            whole.add(1, Math.abs(m));
            whole.add(2, m * m);
            wholeCount++;
            wholeMin = Math.min(wholeMin, m);
            wholeMax = Math.max(wholeMax, m);
            wholeHistogram[bin(Math.abs(m))]++;
        }
    }

    /**
     * Folds in one window whose per-neuron part was reduced on the device ({@link DeviceFold}): the sums merged as
     * (sum, error) pairs, extremes, counts and histogram added, and the window's candidates offered to the lists —
     * each list from its own candidates: the same lists {@link #add} would keep, since the best k of a union are among
     * the best k of each part.
     */
    void addPartial(Window w, DeviceFold.Partial part, double[] activation, double[] wholeMlp) {
        int P = w.tokens().length - 1, kk = Math.max(1, k), context = CONTEXT_BEFORE + 1;
        if (part.rows() != P) {
            throw new IllegalStateException("window " + w.index() + ": the device folded " + part.rows() + " positions, not " + P);
        }
        for (int n = 0; n < neurons; n++) {
            if (part.counts()[2 * n + 1] > 0) {
                throw new IllegalStateException("window " + w.index() + ", neuron " + n + ": " + part.counts()[2 * n + 1]
                        + " non-finite Δloss or activation values; nothing is reported from them");
            }
        }
        windows++;
        tokens += P;
        count += P;
        java.util.stream.IntStream.range(0, neurons).parallel().forEach(n -> {
            for (int q = 0; q < 12; q++) {
                sums.add(6 * n + q / 2, part.sums()[12 * n + q]);
            }
            min[n] = Math.min(min[n], part.extremes()[3 * n]);
            max[n] = Math.max(max[n], part.extremes()[3 * n + 1]);
            activationMax[n] = Math.max(activationMax[n], part.extremes()[3 * n + 2]);
            above[n] += part.counts()[2 * n];
            for (int b = 0; b < BINS; b++) {
                histogram[n][b] += part.histogram()[n * BINS + b];
            }
            for (int list = 0; list < 3 && k > 0; list++) {
                for (int i = 0; i < k; i++) {
                    int c = (n * 3 + list) * kk + i, p = part.candidates()[(n * 3 + list) * k + i];
                    if (p < 0) {
                        continue;
                    }
                    double[] deltas = new double[context];
                    for (int j = 0; j < context; j++) {
                        deltas[j] = part.contexts()[c * context + j];
                    }
                    Example e = exampleFromContext(w, p, n, deltas[context - 1], activation[p * neurons + n], deltas);
                    (list == 0 ? top[n] : list == 1 ? bottom[n] : active[n]).offer(e);   // each list from its own candidates
                }
            }
        });
        addWhole(w, wholeMlp);
    }

    private void fold(Window w, int p, int n, double[] delta, double[] activation) {
        double d = delta[p * neurons + n], a = activation[p * neurons + n];
        if (!Double.isFinite(d) || !Double.isFinite(a)) {
            throw new IllegalStateException("window " + w.index() + ", position " + p + ", neuron " + n + ": a non-finite "
                    + (Double.isFinite(d) ? "activation" : "Δloss") + "; nothing is reported from it");
        }
        int base = 6 * n;
        sums.add(base, d);
        sums.add(base + 1, Math.abs(d));
        sums.add(base + 2, d * d);
        sums.add(base + 3, a);
        sums.add(base + 4, a * a);
        sums.add(base + 5, a * d);
        min[n] = Math.min(min[n], d);
        max[n] = Math.max(max[n], d);
        activationMax[n] = Math.max(activationMax[n], a);
        above[n] += d > threshold ? 1 : 0;
        histogram[n][bin(Math.abs(d))]++;
        Example probe = new Example(n, w.index(), p, 0, 0, d, a, 0, null, null);
        boolean t = top[n].wouldKeep(probe), b = bottom[n].wouldKeep(probe), act = active[n].wouldKeep(probe);
        if (t || b || act) {
            Example e = example(w, p, n, d, a, delta);
            top[n].offer(e);
            bottom[n].offer(e);
            active[n].offer(e);
        }
    }

    private Example example(Window w, int p, int n, double d, double a, double[] delta) {
        int start = Math.max(0, p - CONTEXT_BEFORE);
        double[] before = new double[CONTEXT_BEFORE + 1];   // d at rows p - CONTEXT_BEFORE .. p (NaN before row 0)
        for (int j = 0; j < before.length; j++) {
            int q = p - CONTEXT_BEFORE + j;
            before[j] = q >= 0 ? delta[q * neurons + n] : Double.NaN;
        }
        return exampleFromContext(w, p, n, d, a, before);
    }

    /** An example from the Δloss at the rows ending at p ({@code before}, NaN where there is no row). */
    private Example exampleFromContext(Window w, int p, int n, double d, double a, double[] before) {
        int P = w.tokens().length - 1;
        int start = Math.max(0, p - CONTEXT_BEFORE), end = Math.min(P, p + 1);   // tokens start..end inclusive
        int[] context = java.util.Arrays.copyOfRange(w.tokens(), start, end + 1);
        double[] deltas = new double[context.length];
        for (int i = 0; i < deltas.length; i++) {
            int q = start + i;
            deltas[i] = q <= p ? before[q - (p - CONTEXT_BEFORE)] : Double.NaN;
        }
        return new Example(n, w.index(), p, w.document()[p], w.position()[p], d, a, start, context, deltas);
    }

    /**
     * Merges the statistics of other windows into these, as if they had been folded here: what a sweep split into parts
     * (partitions of a cluster job, say) folds part by part. Counts and histograms add, extremes combine, sums merge
     * with their compensation, and each list offers the other's examples: the best k of a union are among the best k of
     * each part, and ties break by place, so the lists are exactly those of one fold, in any order of merging; the sums
     * agree with one fold to a few units in the last place.
     *
     * @throws IllegalArgumentException when the two were made for different neurons, k or threshold
     */
    public void merge(CorpusStats other) {
        if (other.neurons != neurons || other.k != k || Double.compare(other.threshold, threshold) != 0) {
            throw new IllegalArgumentException("cannot merge statistics of " + other.neurons + " neurons, k " + other.k + ", threshold "
                    + other.threshold + " into " + neurons + " neurons, k " + k + ", threshold " + threshold);
        }
        count += other.count;
        windows += other.windows;
        tokens += other.tokens;
        sums.merge(other.sums);
        for (int n = 0; n < neurons; n++) {
            min[n] = Math.min(min[n], other.min[n]);
            max[n] = Math.max(max[n], other.max[n]);
            activationMax[n] = Math.max(activationMax[n], other.activationMax[n]);
            above[n] += other.above[n];
            for (int b = 0; b < BINS; b++) {
                histogram[n][b] += other.histogram[n][b];
            }
            for (Example e : other.top[n].sorted()) {
                top[n].offer(e);
            }
            for (Example e : other.bottom[n].sorted()) {
                bottom[n].offer(e);
            }
            for (Example e : other.active[n].sorted()) {
                active[n].offer(e);
            }
        }
        whole.merge(other.whole);
        wholeCount += other.wholeCount;
        wholeMin = Math.min(wholeMin, other.wholeMin);
        wholeMax = Math.max(wholeMax, other.wholeMax);
        for (int b = 0; b < BINS; b++) {
            wholeHistogram[b] += other.wholeHistogram[b];
        }
    }

    /** The statistics as bytes (the checkpoint's format): for moving a part's state between processes. */
    public byte[] toBytes() {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            write(out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);   // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    /** Statistics from {@link #toBytes}. */
    public static CorpusStats fromBytes(byte[] bytes) {
        try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
            return read(in);
        } catch (IOException e) {
            throw new IllegalArgumentException("not corpus statistics: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- results

    /** {@return how many neurons are tracked (the model's d_mlp)} */
    public int neurons() {
        return neurons;
    }

    /** {@return windows folded in} */
    public long windows() {
        return windows;
    }

    /** Positions folded in (each gave one Δloss per neuron). */
    public long positions() {
        return count;
    }

    /** {@return the |Δloss| threshold of {@link #fractionAbove}} */
    public double threshold() {
        return threshold;
    }

    /** {@return how many examples are kept per neuron and list} */
    public int k() {
        return k;
    }

    /** {@return neuron {@code n}'s mean Δloss over every position} */
    public double mean(int n) {
        return sums.get(6 * n) / count;
    }

    /** {@return neuron {@code n}'s mean |Δloss| over every position} */
    public double meanAbs(int n) {
        return sums.get(6 * n + 1) / count;
    }

    /** Population standard deviation. */
    public double std(int n) {
        double m = mean(n);
        return Math.sqrt(Math.max(0, sums.get(6 * n + 2) / count - m * m));
    }

    /** {@return neuron {@code n}'s smallest Δloss} */
    public double min(int n) {
        return min[n];
    }

    /** {@return neuron {@code n}'s largest Δloss} */
    public double max(int n) {
        return max[n];
    }

    /** {@return the fraction of positions where neuron {@code n}'s |Δloss| exceeds {@link #threshold}} */
    public double fractionAbove(int n) {
        return (double) above[n] / count;
    }

    /** {@return neuron {@code n}'s |Δloss| histogram (bin b starts at {@link #binLow}(b)), a copy} */
    public long[] histogram(int n) {
        return histogram[n].clone();
    }

    /** {@return neuron {@code n}'s mean activation at the ablated site} */
    public double activationMean(int n) {
        return sums.get(6 * n + 3) / count;
    }

    /** {@return neuron {@code n}'s largest activation at the ablated site} */
    public double activationMax(int n) {
        return activationMax[n];
    }

    /** Pearson's r of the activation with Δloss over every position (NaN when either is constant). */
    public double correlation(int n) {
        double c = count, sa = sums.get(6 * n + 3), sd = sums.get(6 * n), saa = sums.get(6 * n + 4), sdd = sums.get(6 * n + 2);
        double cov = c * sums.get(6 * n + 5) - sa * sd, va = c * saa - sa * sa, vd = c * sdd - sd * sd;
        return va > 0 && vd > 0 ? cov / Math.sqrt(va * vd) : Double.NaN;
    }

    /** {@return the positions where ablating neuron {@code n} raised the loss most, largest first} */
    public List<Example> top(int n) {
        return top[n].sorted();
    }

    /** {@return the positions where ablating neuron {@code n} lowered the loss most, most negative first} */
    public List<Example> bottom(int n) {
        return bottom[n].sorted();
    }

    /** {@return the positions where neuron {@code n} was most active, largest first} */
    public List<Example> mostActive(int n) {
        return active[n].sorted();
    }

    /** {@return the mean Δloss of ablating the whole MLP at a position} */
    public double wholeMean() {
        return whole.get(0) / wholeCount;
    }

    /** {@return the mean |Δloss| of ablating the whole MLP at a position} */
    public double wholeMeanAbs() {
        return whole.get(1) / wholeCount;
    }

    /** {@return the smallest Δloss of ablating the whole MLP at a position} */
    public double wholeMin() {
        return wholeMin;
    }

    /** {@return the largest Δloss of ablating the whole MLP at a position} */
    public double wholeMax() {
        return wholeMax;
    }

    /** {@return the |Δloss| histogram of ablating the whole MLP at a position, a copy} */
    public long[] wholeHistogram() {
        return wholeHistogram.clone();
    }

    // ---------------------------------------------------------------- checkpoints

    void write(DataOutput out) throws IOException {
        out.writeInt(neurons);
        out.writeInt(k);
        out.writeDouble(threshold);
        out.writeLong(count);
        out.writeLong(windows);
        out.writeLong(tokens);
        sums.write(out);
        for (int n = 0; n < neurons; n++) {
            out.writeDouble(min[n]);
            out.writeDouble(max[n]);
            out.writeDouble(activationMax[n]);
            out.writeLong(above[n]);
            for (long h : histogram[n]) {
                out.writeLong(h);
            }
            for (TopK list : new TopK[] {top[n], bottom[n], active[n]}) {
                List<Example> examples = list.sorted();
                out.writeInt(examples.size());
                for (Example e : examples) {
                    writeExample(out, e);
                }
            }
        }
        whole.write(out);
        out.writeLong(wholeCount);
        out.writeDouble(wholeMin);
        out.writeDouble(wholeMax);
        for (long h : wholeHistogram) {
            out.writeLong(h);
        }
    }

    static CorpusStats read(DataInput in) throws IOException {
        CorpusStats s = new CorpusStats(in.readInt(), in.readInt(), in.readDouble());
        s.count = in.readLong();
        s.windows = in.readLong();
        s.tokens = in.readLong();
        s.sums.read(in);
        for (int n = 0; n < s.neurons; n++) {
            s.min[n] = in.readDouble();
            s.max[n] = in.readDouble();
            s.activationMax[n] = in.readDouble();
            s.above[n] = in.readLong();
            for (int b = 0; b < BINS; b++) {
                s.histogram[n][b] = in.readLong();
            }
            for (TopK list : new TopK[] {s.top[n], s.bottom[n], s.active[n]}) {
                int size = in.readInt();
                for (int i = 0; i < size; i++) {
                    list.offer(readExample(in));
                }
            }
        }
        s.whole.read(in);
        s.wholeCount = in.readLong();
        s.wholeMin = in.readDouble();
        s.wholeMax = in.readDouble();
        for (int b = 0; b < BINS; b++) {
            s.wholeHistogram[b] = in.readLong();
        }
        return s;
    }

    private static void writeExample(DataOutput out, Example e) throws IOException {
        out.writeInt(e.neuron());
        out.writeLong(e.window());
        out.writeInt(e.windowPosition());
        out.writeInt(e.document());
        out.writeInt(e.position());
        out.writeDouble(e.delta());
        out.writeDouble(e.activation());
        out.writeInt(e.contextStart());
        out.writeInt(e.context().length);
        for (int i = 0; i < e.context().length; i++) {
            out.writeInt(e.context()[i]);
            out.writeDouble(e.contextDeltas()[i]);
        }
    }

    private static Example readExample(DataInput in) throws IOException {
        int neuron = in.readInt();
        long window = in.readLong();
        int wp = in.readInt(), doc = in.readInt(), pos = in.readInt();
        double delta = in.readDouble(), activation = in.readDouble();
        int start = in.readInt(), length = in.readInt();
        if (length < 0 || length > 1000) {
            throw new IOException("a corrupt checkpoint (an example's context of " + length + " tokens)");
        }
        int[] context = new int[length];
        double[] deltas = new double[length];
        for (int i = 0; i < length; i++) {
            context[i] = in.readInt();
            deltas[i] = in.readDouble();
        }
        return new Example(neuron, window, wp, doc, pos, delta, activation, start, context, deltas);
    }

    /** Every example of every neuron's lists, for examples.jsonl. */
    public List<Example> allExamples() {
        List<Example> out = new ArrayList<>();
        for (int n = 0; n < neurons; n++) {
            out.addAll(top(n));
            out.addAll(bottom(n));
            out.addAll(mostActive(n));
        }
        return out;
    }
}
