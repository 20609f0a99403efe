package org.solulens.corpus;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import org.solulens.analysis.Figure;
import org.solulens.analysis.Figures;
import org.solulens.io.Npy;
import org.solulens.model.SoluModel;

/**
 * A corpus sweep's outputs: {@code neurons.csv} and {@code neurons/*.npy} (one row / element per neuron),
 * {@code examples.jsonl} (every neuron's top, bottom and most-active contexts), {@code summary.md} with figures, and a
 * static neuron browser ({@code index.html}, one page per neuron under {@code pages/}) that needs no server.
 */
public final class CorpusReport {
    private static final String[] COLUMNS = {"neuron", "positions", "mean_delta", "mean_abs_delta", "std_delta", "min_delta", "max_delta",
            "fraction_above_threshold", "activation_mean", "activation_max", "activation_delta_correlation"};

    private CorpusReport() {}

    /** The names of neurons.csv's columns, in order. */
    public static List<String> neuronColumns() {
        return List.of(COLUMNS);
    }

    /** Column {@code c} of neurons.csv: one value per neuron. */
    public static double[] neuronColumn(CorpusStats s, int c) {
        return column(s, c);
    }

    private static double[] column(CorpusStats s, int c) {
        return IntStream.range(0, s.neurons()).mapToDouble(n -> switch (c) {
            case 0 -> n;
            case 1 -> s.positions();
            case 2 -> s.mean(n);
            case 3 -> s.meanAbs(n);
            case 4 -> s.std(n);
            case 5 -> s.min(n);
            case 6 -> s.max(n);
            case 7 -> s.fractionAbove(n);
            case 8 -> s.activationMean(n);
            case 9 -> s.activationMax(n);
            default -> s.correlation(n);
        }).toArray();
    }

    /** Writes everything into {@code dir}; returns the summary's text. */
    public static String write(Path dir, SoluModel model, CorpusSweep.Result r, String command) throws IOException {
        CorpusStats s = r.stats();
        int N = s.neurons();
        double[][] cols = new double[COLUMNS.length][];
        for (int c = 0; c < COLUMNS.length; c++) {
            cols[c] = column(s, c);
        }
        try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("neurons.csv"), StandardCharsets.UTF_8)) {
            w.write(String.join(",", COLUMNS));
            w.newLine();
            for (int n = 0; n < N; n++) {
                StringBuilder line = new StringBuilder();
                for (int c = 0; c < COLUMNS.length; c++) {
                    line.append(c == 0 ? "" : ",").append(c <= 1 ? String.valueOf((long) cols[c][n]) : String.valueOf(cols[c][n]));
                }
                w.write(line.toString());
                w.newLine();
            }
        }
        Path arrays = Files.createDirectories(dir.resolve("neurons"));
        for (int c = 2; c < COLUMNS.length; c++) {
            Npy.writeFloat32(arrays.resolve(COLUMNS[c] + ".npy"), new int[] {N}, cols[c]);
        }
        double[] hist = new double[N * CorpusStats.BINS];
        for (int n = 0; n < N; n++) {
            long[] h = s.histogram(n);
            for (int b = 0; b < h.length; b++) {
                hist[n * CorpusStats.BINS + b] = h[b];
            }
        }
        Npy.writeFloat32(arrays.resolve("abs_delta_histogram.npy"), new int[] {N, CorpusStats.BINS}, hist);
        Npy.writeFloat32(arrays.resolve("abs_delta_histogram_edges.npy"), new int[] {CorpusStats.BINS},
                IntStream.range(0, CorpusStats.BINS).mapToDouble(CorpusStats::binLow).toArray());
        writeExamples(dir.resolve("examples.jsonl"), model, s);

        // figures
        Integer[] order = IntStream.range(0, N).boxed().sorted(Comparator.comparingDouble((Integer n) -> -s.meanAbs(n)).thenComparingInt(n -> n))
                .toArray(Integer[]::new);
        double[] rank = IntStream.range(0, N).mapToDouble(i -> i).toArray();
        double[] sortedMeanAbs = IntStream.range(0, N).mapToDouble(i -> s.meanAbs(order[i])).toArray();
        // each neuron's point names it and opens its page in the browser (pages/neuron-N.html)
        int[] byRank = java.util.Arrays.stream(order).mapToInt(Integer::intValue).toArray();
        String[] rankPages = java.util.Arrays.stream(byRank).mapToObj(n -> "pages/neuron-" + n + ".html").toArray(String[]::new);
        Figures.draw(dir.resolve("mean_abs_delta_sorted.png"), new Figure(Figure.Kind.LINES, "Mean |Δloss| per neuron, sorted", "neuron rank",
                "mean |Δloss| (nats)", new Figure.Series().add("neurons", rank, sortedMeanAbs).describe("neurons", "neuron", byRank)
                .link("neurons", rankPages), null).withSymlog(false, true));
        int[] neurons = IntStream.range(0, N).toArray();
        String[] pages = IntStream.range(0, N).mapToObj(n -> "pages/neuron-" + n + ".html").toArray(String[]::new);
        Figures.draw(dir.resolve("activation_vs_effect.png"), new Figure(Figure.Kind.SCATTER, "Activation vs effect per neuron", "mean activation",
                "mean |Δloss| (nats)", new Figure.Series().add("neurons", cols[8], cols[3]).describe("neurons", "neuron", neurons)
                .link("neurons", pages), null).withSymlog(false, true));
        long[] wholeHist = s.wholeHistogram();
        double[] edges = IntStream.range(1, CorpusStats.BINS).mapToDouble(b -> Math.log10(CorpusStats.binLow(b))).toArray();
        double[] counts = IntStream.range(1, CorpusStats.BINS).mapToDouble(b -> wholeHist[b]).toArray();
        Figures.lines(dir.resolve("whole_mlp_delta_histogram.png"), "Whole-MLP ablation: |Δloss| per position", "log10 |Δloss| (bin start)",
                "positions", new Figure.Series().add("positions", edges, counts));

        String summary = summary(model, r, order, command);
        Files.writeString(dir.resolve("summary.md"), summary, StandardCharsets.UTF_8);
        NeuronBrowser.write(dir, model, s, order);
        return summary;
    }

    private static void writeExamples(Path file, SoluModel model, CorpusStats s) throws IOException {
        ObjectMapper json = new ObjectMapper();
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (int n = 0; n < s.neurons(); n++) {
                String[] lists = {"top", "bottom", "most_active"};
                List<List<Example>> all = List.of(s.top(n), s.bottom(n), s.mostActive(n));
                for (int l = 0; l < lists.length; l++) {
                    int rank = 0;
                    for (Example e : all.get(l)) {
                        ObjectNode o = json.createObjectNode();
                        o.put("neuron", n).put("list", lists[l]).put("rank", rank++).put("window", e.window()).put("window_position", e.windowPosition())
                                .put("document", e.document()).put("position", e.position()).put("delta_loss", e.delta()).put("activation", e.activation());
                        ArrayNode tokens = o.putArray("context"), deltas = o.putArray("context_delta_loss");
                        for (int i = 0; i < e.context().length; i++) {
                            tokens.add(model.tokenText(e.context()[i]));
                            if (Double.isNaN(e.contextDeltas()[i])) {
                                deltas.addNull();
                            } else {
                                deltas.add(e.contextDeltas()[i]);
                            }
                        }
                        o.put("context_index", e.windowPosition() - e.contextStart());
                        w.write(json.writeValueAsString(o));
                        w.newLine();
                    }
                }
            }
        }
    }

    private static String summary(SoluModel model, CorpusSweep.Result r, Integer[] order, String command) {
        CorpusStats s = r.stats();
        StringBuilder b = new StringBuilder();
        b.append("# Corpus sweep\n\n");
        b.append("`").append(command).append("`\n\n");
        b.append(String.format(Locale.ROOT, "- model: %s; ablation: every neuron alone at every position; backend: %s%n", model.description(), r.backend()));
        b.append(String.format(Locale.ROOT, "- %,d windows, %,d positions (tokens predicted), %,d neurons: %,d (position, neuron) pairs%n",
                s.windows(), s.positions(), s.neurons(), s.positions() * s.neurons()));
        double perMillion = r.tokens() > 0 ? r.seconds() / r.tokens() * 1e6 : Double.NaN;
        b.append(String.format(Locale.ROOT, "- this run: %,d tokens in %.1f s, %.0f tokens/s, %.1f s per million tokens%s%n", r.tokens(), r.seconds(),
                r.tokens() / r.seconds(), perMillion, r.resumedWindows() > 0 ? " (resumed after " + r.resumedWindows() + " windows)" : ""));
        if (r.skipped() > 0) {
            b.append(String.format(Locale.ROOT, "- skipped as bad: %,d documents (first: %s)%n", r.skipped(), r.firstSkip()));
        }
        if (r.dropped() > 0 || r.truncated() > 0) {
            b.append(String.format(Locale.ROOT, "- left out: %,d tokens at the end that fill no whole window; %,d documents truncated to a window%n",
                    r.dropped(), r.truncated()));
        }
        b.append(String.format(Locale.ROOT, "- whole MLP ablated at a position: mean Δloss %.4f, mean |Δloss| %.4f, min %.4f, max %.4f%n%n",
                s.wholeMean(), s.wholeMeanAbs(), s.wholeMin(), s.wholeMax()));
        b.append("## Neurons that matter most (mean |Δloss| over every position)\n\n");
        b.append("| neuron | mean \\|Δloss\\| | mean Δloss | max Δloss | fraction > ").append(s.threshold())
                .append(" | mean activation | corr(activation, Δloss) | top context |\n|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < Math.min(20, order.length); i++) {
            int n = order[i];
            List<Example> top = s.top(n);
            String context = top.isEmpty() ? "" : contextText(model, top.get(0));
            b.append(String.format(Locale.ROOT, "| [%d](pages/neuron-%d.html) | %.4g | %.4g | %.4g | %.4g | %.4g | %.3f | %s |%n", n, n, s.meanAbs(n),
                    s.mean(n), s.max(n), s.fractionAbove(n), s.activationMean(n), s.correlation(n), context.replace("|", "\\|")));
        }
        if (Figures.available()) {
            b.append("\n![mean |Δloss| sorted](mean_abs_delta_sorted.png)\n\n![activation vs effect](activation_vs_effect.png)\n\n")
                .append("![whole-MLP ablation](whole_mlp_delta_histogram.png)\n\n");
        }
        b.append("Files: `neurons.csv` and `neurons/*.npy` (every statistic per neuron), `examples.jsonl` (top, bottom and most-active contexts),"
                + " `index.html` (a browser of neurons; open it from disk).\n");
        return b.toString();
    }

    /** The context as text with the predicted token marked: "... the water is »warm«". */
    static String contextText(SoluModel model, Example e) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < e.context().length; i++) {
            String t = model.tokenText(e.context()[i]);
            parts.add(e.contextStart() + i == e.windowPosition() + 1 ? "»" + t + "«" : t);
        }
        return String.join(" ", parts);
    }
}
