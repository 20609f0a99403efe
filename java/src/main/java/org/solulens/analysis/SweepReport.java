package org.solulens.analysis;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepResult;
import org.solulens.io.Npy;
import org.solulens.model.SoluModel;

/** Writes a sweep's outputs (delta_loss.npy per prompt, an optional long CSV, summary.json) and prints the summary. */
public final class SweepReport {
    private static final int TOP_K = 20;

    private SweepReport() {}

    /** One (prompt, position, neuron) ablation, for the top-k list. */
    record Pair(int prompt, int position, int neuron, double delta) {}

    /** Writes {@code run}'s outputs into {@code dir} (per prompt {@code delta_loss.npy}; with {@code csv} a long CSV; {@code summary.json}) and returns the summary's fields. */
    public static Map<String, Object> write(Path dir, SoluModel model, AblationSweep.Run run, boolean csv) throws IOException {
        Files.createDirectories(dir);
        List<AblationSweep.PromptResult> results = run.results();
        boolean several = results.size() > 1;
        for (int i = 0; i < results.size(); i++) {
            AblationSweep.PromptResult r = results.get(i);
            Path target = several ? dir.resolve(Integer.toString(i)) : dir;
            Files.createDirectories(target);
            int[] shape = {r.result().positions(), r.result().dMlp()};
            Npy.writeFloat32(target.resolve("delta_loss.npy"), shape, r.result().delta());
            if (r.result().cosine() != null) {
                Npy.writeFloat32(target.resolve("logit_cosine.npy"), shape, r.result().cosine());
            }
            if (r.exact() != null) {
                Npy.writeFloat32(target.resolve("exact_delta_loss.npy"), shape, r.exact().delta());
            }
            org.solulens.io.Json.write(target.resolve("tokens.json"), r.prompt().tokens(), false);
        }
        if (csv) {
            writeCsv(dir.resolve("sweep.csv"), model, run);
        }
        Map<String, Object> summary = summarize(model, run);
        org.solulens.io.Json.write(dir.resolve("summary.json"), summary, true);
        return summary;
    }

    private static void writeCsv(Path file, SoluModel model, AblationSweep.Run run) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            boolean cos = run.settings().cosine(), exact = run.settings().method() == SweepMethod.ATTRIBUTION;
            w.write("prompt,position,token,target,neuron,activation,delta_loss" + (cos ? ",logit_cosine" : "") + (exact ? ",exact_delta_loss" : ""));
            w.newLine();
            String hook = run.ablation().site().hook();
            for (int i = 0; i < run.results().size(); i++) {
                AblationSweep.PromptResult r = run.results().get(i);
                SweepResult s = r.result();
                double[] act = r.clean().get(hook).data();
                int[] tokens = r.prompt().tokens();
                for (int p = 0; p < s.positions(); p++) {
                    for (int n = 0; n < s.dMlp(); n++) {
                        double d = s.delta(p, n);
                        if (Double.isNaN(d)) {
                            continue;
                        }
                        StringBuilder line = new StringBuilder();
                        line.append(i).append(',').append(p).append(',').append(csvText(model.tokenText(tokens[p]))).append(',')
                                .append(csvText(model.tokenText(tokens[p + 1]))).append(',').append(n).append(',')
                                .append(num(act[p * s.dMlp() + n])).append(',').append(num(d));
                        if (cos) {
                            line.append(',').append(num(s.cosine()[p * s.dMlp() + n]));
                        }
                        if (exact) {
                            line.append(',').append(num(r.exact().delta(p, n)));
                        }
                        w.write(line.toString());
                        w.newLine();
                    }
                }
            }
        }
    }

    private static String num(double x) {
        return String.format(Locale.ROOT, "%.9g", x);
    }

    private static String csvText(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }

    static Map<String, Object> summarize(SoluModel model, AblationSweep.Run run) {
        int n = model.config().dMlp();
        double[] sum = new double[n], max = new double[n];
        long[] count = new long[n];
        java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
        Largest<Pair> largest = new Largest<>(TOP_K);
        long pairs = 0;
        List<Double> meanLoss = new ArrayList<>();
        for (int i = 0; i < run.results().size(); i++) {
            SweepResult s = run.results().get(i).result();
            meanLoss.add(run.results().get(i).clean().meanLoss());
            for (int p = 0; p < s.positions(); p++) {
                for (int j = 0; j < n; j++) {
                    double d = s.delta(p, j);
                    if (!Double.isNaN(d)) {
                        sum[j] += d;
                        count[j]++;
                        max[j] = Math.max(max[j], d);
                        if (largest.admits(Math.abs(d))) {
                            largest.offer(Math.abs(d), new Pair(i, p, j, d));
                        }
                        pairs++;
                    }
                }
            }
        }
        List<Map<String, Object>> top = new ArrayList<>();
        for (Pair p : largest.items()) {
            int[] tokens = run.results().get(p.prompt()).prompt().tokens();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("prompt", p.prompt());
            m.put("position", p.position());
            m.put("token", model.tokenText(tokens[p.position()]));
            m.put("target", model.tokenText(tokens[p.position() + 1]));
            m.put("neuron", p.neuron());
            m.put("delta_loss", p.delta());
            top.add(m);
        }
        Double[] neuronMean = new Double[n], neuronMax = new Double[n];
        for (int j = 0; j < n; j++) {
            neuronMean[j] = count[j] == 0 ? null : sum[j] / count[j];
            neuronMax[j] = count[j] == 0 ? null : max[j];
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", model.description());
        summary.put("ablation", run.ablation().label());
        summary.put("method", run.settings().method().label());
        summary.put("selection", run.settings().selection().describe());
        summary.put("prompts", run.results().size());
        summary.put("pairs", pairs);
        summary.put("clean_mean_loss", meanLoss);
        summary.put("top_pairs_by_abs_delta_loss", top);
        if (run.settings().method() == SweepMethod.ATTRIBUTION) {
            summary.put("attribution_vs_exact", attributionQuality(run));
        }
        summary.put("neuron_mean_delta_loss", neuronMean);
        summary.put("neuron_max_delta_loss", neuronMax);
        return summary;
    }

    /** How well the first-order estimate tracks the exact values: Pearson correlation and the worst error. */
    private static Map<String, Object> attributionQuality(AblationSweep.Run run) {
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, worst = 0;
        long count = 0;
        for (AblationSweep.PromptResult r : run.results()) {
            for (int i = 0; i < r.result().delta().length; i++) {
                double x = r.exact().delta()[i], y = r.result().delta()[i];
                if (Double.isNaN(x)) {
                    continue;
                }
                sx += x;
                sy += y;
                sxx += x * x;
                syy += y * y;
                sxy += x * y;
                worst = Math.max(worst, Math.abs(x - y));
                count++;
            }
        }
        double cov = sxy / count - sx / count * sy / count;
        double corr = cov / Math.sqrt((sxx / count - sx * sx / count / count) * (syy / count - sy * sy / count / count));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pearson_correlation", corr);
        m.put("max_abs_error", worst);
        return m;
    }

    /** The summary in a few lines. */
    @SuppressWarnings("unchecked")
    public static void print(PrintWriter out, Map<String, Object> summary) {
        out.printf("%s ablation, %s method, %s: %d pairs over %d prompt(s)%n", summary.get("ablation"), summary.get("method"),
                summary.get("selection"), (Long) summary.get("pairs"), (Integer) summary.get("prompts"));
        if (summary.containsKey("attribution_vs_exact")) {
            Map<String, Object> q = (Map<String, Object>) summary.get("attribution_vs_exact");
            out.printf(Locale.ROOT, "attribution vs exact: correlation %.4f, max |error| %.4g%n", q.get("pearson_correlation"), q.get("max_abs_error"));
        }
        out.println("largest |Δloss|:");
        out.printf("  %6s %8s  %-14s %-14s %7s %12s%n", "prompt", "position", "token", "target", "neuron", "Δloss");
        List<Map<String, Object>> top = (List<Map<String, Object>>) summary.get("top_pairs_by_abs_delta_loss");
        for (Map<String, Object> m : top.subList(0, Math.min(10, top.size()))) {
            out.printf(Locale.ROOT, "  %6d %8d  %-14s %-14s %7d %12.6f%n", m.get("prompt"), m.get("position"), "'" + m.get("token") + "'",
                    "'" + m.get("target") + "'", m.get("neuron"), (Double) m.get("delta_loss"));
        }
    }

    /**
     * The summary as Markdown, for the interactive report: what was swept, and the pairs with the largest |Δloss|.
     *
     * @param summary what {@link #write} returned
     * @param figures the sweep's figures' file names ({@link SweepFigures#write})
     * @return the Markdown
     */
    @SuppressWarnings("unchecked")
    public static String markdown(Map<String, Object> summary, List<String> figures) {
        StringBuilder md = new StringBuilder("# Ablation sweep\n\n");
        for (String key : List.of("model", "ablation", "method", "selection", "prompts", "pairs")) {
            md.append("- ").append(key).append(": ").append(summary.get(key)).append('\n');
        }
        md.append("\nClick a point to open its neuron's page (the neurons with the largest |Δloss| have one, under `neurons/`).\n\n");
        for (String f : figures) {
            md.append("![").append(f).append("](").append(f).append(")\n\n");
        }
        md.append("## The pairs with the largest |Δloss|\n\n| prompt | position | token | next token | neuron | Δloss |\n| --- | --- | --- | --- | --- | --- |\n");
        for (Map<String, Object> p : (List<Map<String, Object>>) summary.get("top_pairs_by_abs_delta_loss")) {
            md.append(String.format(Locale.ROOT, "| %s | %s | '%s' | '%s' | %s | %.5g |%n", p.get("prompt"), p.get("position"), cell(p.get("token")),
                    cell(p.get("target")), p.get("neuron"), (Double) p.get("delta_loss")));
        }
        return md.toString();
    }

    /** A token as a table cell's text: pipes escaped, line breaks shown as \\n. */
    private static String cell(Object token) {
        return token.toString().replace("|", "\\|").replace("\n", "\\n").replace("\r", "\\r");
    }
}
