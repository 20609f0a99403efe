package org.solulens.analysis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import org.solulens.backend.SweepResult;
import org.solulens.model.SoluModel;

/**
 * A sweep's figures (each pair's Δloss against the neuron's activation there; each neuron's mean |Δloss|) and a small
 * page per most-affecting neuron ({@code neurons/neuron-N.html}: its largest effects in context), which the report's
 * points link to. Large sweeps are thinned before drawing as {@link Thinning} says, but in one streaming pass (bounded
 * heaps for the extremes) rather than over arrays of every pair: a sweep may hold millions.
 */
public final class SweepFigures {
    /** Pairs drawn evenly at most (plus the extremes): enough for the cloud's shape, and XChart draws ~17 µs a point. */
    static final int SHOWN = 10_000;
    /** Neurons that get a page: those with the largest |Δloss| anywhere. */
    static final int PAGES = 200;
    /** Pairs listed on a neuron's page. */
    static final int PAIRS_PER_PAGE = 25;

    private SweepFigures() {}

    /** One ablated pair: where, and what. */
    private record Pair(int prompt, int position, int neuron, double activation, double delta) {}

    /**
     * Draws the sweep's figures into {@code dir} and writes the neuron pages under {@code dir/neurons}.
     *
     * @param dir the sweep's output folder
     * @param model decodes the tokens
     * @param run the sweep
     * @return the figures' file names (empty when no renderer is installed), in order
     * @throws IOException if a file cannot be written
     */
    public static List<String> write(Path dir, SoluModel model, AblationSweep.Run run) throws IOException {
        String hook = run.ablation().site().hook();
        int dMlp = model.config().dMlp();
        double[] sumAbs = new double[dMlp], maxAbs = new double[dMlp];
        int[] counts = new int[dMlp];
        List<Prompt> prompts = new ArrayList<>();
        long total = 0;
        for (AblationSweep.PromptResult r : run.results()) {
            prompts.add(r.prompt());
            total += (long) r.result().positions() * dMlp;
        }
        // one pass for the per-neuron statistics and the extremes, without copying the sweep (it may be large)
        int step = Thinning.step(total, SHOWN);
        Largest<Pair> byDelta = new Largest<>(Thinning.EXTREMES), byActivation = new Largest<>(Thinning.EXTREMES);
        List<Pair> kept = new ArrayList<>();
        forEachPair(run, hook, (q, index) -> {
            sumAbs[q.neuron()] += Math.abs(q.delta());
            maxAbs[q.neuron()] = Math.max(maxAbs[q.neuron()], Math.abs(q.delta()));
            counts[q.neuron()]++;
            if (index % step == 0) {
                kept.add(q);
            } else {
                byDelta.offer(Math.abs(q.delta()), q);
                byActivation.offer(Math.abs(q.activation()), q);
            }
        });
        if (kept.isEmpty()) {
            return List.of();
        }
        int pairs = IntStream.of(counts).sum();
        java.util.Set<Pair> extremes = new java.util.LinkedHashSet<>(byDelta.items());
        extremes.addAll(byActivation.items());
        kept.addAll(extremes);
        kept.sort(Comparator.comparingInt(Pair::prompt).thenComparingInt(Pair::position).thenComparingInt(Pair::neuron));

        List<Integer> paged = IntStream.range(0, dMlp).filter(n -> counts[n] > 0).boxed()
                .sorted(Comparator.comparingDouble((Integer n) -> -maxAbs[n])).limit(PAGES).toList();
        String[] link = new String[dMlp];
        for (int n : paged) {
            link[n] = "neurons/neuron-" + n + ".html";
        }
        writePages(dir.resolve("neurons"), model, run, prompts, paged, counts);

        List<String> figures = new ArrayList<>();
        String label = run.ablation().label();
        PointIdentities points = new PointIdentities(model, prompts, true);
        String[] pairLinks = new String[kept.size()];
        for (int j = 0; j < kept.size(); j++) {
            Pair q = kept.get(j);
            points.add(q.activation(), q.delta(), q.prompt(), q.position(), q.neuron());
            pairLinks[j] = link[q.neuron()];
        }
        Figure.Series cloud = points.addTo(new Figure.Series(), "pairs", 1).link("pairs", pairLinks);
        Figure scatter = new Figure(Figure.Kind.SCATTER, "Each (position, neuron): Δloss of the " + label + " ablation vs the activation",
                hook + " (clean run)", "Δloss (nats)", cloud, null).withSymlog(false, true);
        if (kept.size() < pairs) {
            scatter = scatter.withNote(String.format(Locale.ROOT, "%,d of %,d pairs drawn: one in %d, and the %d with the largest |Δloss| and |activation|; "
                    + "delta_loss.npy holds them all.", kept.size(), pairs, step, Thinning.EXTREMES));
        }
        if (Figures.draw(dir.resolve("sweep_delta_vs_activation.png"), scatter)) {
            figures.add("sweep_delta_vs_activation.png");
        }
        int[] present = IntStream.range(0, dMlp).filter(n -> counts[n] > 0).toArray();
        double[] x = new double[present.length], mean = new double[present.length], max = new double[present.length];
        String[] pages = new String[present.length], maxText = new String[present.length];
        for (int j = 0; j < present.length; j++) {
            int n = present[j];
            x[j] = n;
            mean[j] = sumAbs[n] / counts[n];
            max[j] = maxAbs[n];
            maxText[j] = String.format(Locale.ROOT, "%.4g", maxAbs[n]);
            pages[j] = link[n];
        }
        Figure.Series neurons = new Figure.Series().add("neurons", x, mean).describe("neurons", "neuron", present)
                .describe("neurons", "largest |Δloss|", maxText).link("neurons", pages);
        if (Figures.draw(dir.resolve("sweep_neurons.png"), new Figure(Figure.Kind.SCATTER, "Mean |Δloss| of each neuron's " + label + " ablation over positions",
                "neuron", "mean |Δloss| (nats)", neurons, null).withNote("Click a point to open its neuron's page (the " + paged.size()
                        + " neurons with the largest |Δloss| have one)."))) {
            figures.add("sweep_neurons.png");
        }
        return figures;
    }

    /** A pair and its index in the sweep's order (prompt, position, neuron). */
    private interface PairVisitor {
        void visit(Pair pair, long index);
    }

    private static void forEachPair(AblationSweep.Run run, String hook, PairVisitor visitor) {
        long index = 0;
        for (int i = 0; i < run.results().size(); i++) {
            AblationSweep.PromptResult r = run.results().get(i);
            SweepResult s = r.result();
            double[] act = r.clean().get(hook).data();
            for (int p = 0; p < s.positions(); p++) {
                for (int n = 0; n < s.dMlp(); n++, index++) {
                    double d = s.delta(p, n);
                    if (Double.isFinite(d)) {
                        visitor.visit(new Pair(i, p, n, act[p * s.dMlp() + n], d), index);
                    }
                }
            }
        }
    }

    /** A page per neuron: its largest |Δloss| pairs, each in its context; no script at all. */
    private static void writePages(Path pagesDir, SoluModel model, AblationSweep.Run run, List<Prompt> prompts, List<Integer> neurons, int[] counts)
            throws IOException {
        Files.createDirectories(pagesDir);
        @SuppressWarnings("unchecked")
        Largest<Pair>[] top = new Largest[model.config().dMlp()];
        for (int n : neurons) {
            top[n] = new Largest<>(PAIRS_PER_PAGE);
        }
        forEachPair(run, run.ablation().site().hook(), (q, index) -> {
            if (top[q.neuron()] != null) {
                top[q.neuron()].offer(Math.abs(q.delta()), q);
            }
        });
        for (int n : neurons) {
            Files.writeString(pagesDir.resolve("neuron-" + n + ".html"), page(n, model, run, prompts, top[n], counts[n]), StandardCharsets.UTF_8);
        }
    }

    private static String page(int n, SoluModel model, AblationSweep.Run run, List<Prompt> prompts, Largest<Pair> top, int count) {
        String hook = run.ablation().site().hook();
        List<Pair> largest = top.items();   // largest |Δloss| first
        StringBuilder h = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n")
                .append("<title>Neuron ").append(n).append("</title>\n<style>body{font-family:system-ui,sans-serif;margin:1.5rem;}")
                .append("table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}")
                .append("th{background:#f6f6f6}mark{background:#ffe08a}</style></head><body>\n")
                .append("<p><a href=\"../report.html\">back to the report</a></p>\n<h1>Neuron ").append(n).append("</h1>\n<p>")
                .append(escape(run.ablation().label())).append(" ablation at ").append(escape(hook)).append("; the ").append(largest.size())
                .append(" positions where it changes the loss most, of ").append(count).append(".</p>\n")
                .append("<table><tr><th>Δloss</th><th>activation</th><th>prompt</th><th>position</th><th>context (the token marked, the next underlined)</th></tr>\n");
        for (Pair q : largest) {
            int[] t = prompts.get(q.prompt()).tokens();
            StringBuilder context = new StringBuilder();
            for (int k = Math.max(0, q.position() - 6); k <= Math.min(t.length - 1, q.position() + 1); k++) {
                String text = escape(model.tokenText(t[k]));
                context.append(k == q.position() ? "<mark>" + text + "</mark>" : k == q.position() + 1 ? "<u>" + text + "</u>" : text).append(' ');
            }
            h.append(String.format(Locale.ROOT, "<tr><td>%.5g</td><td>%.5g</td><td>%d</td><td>%d</td><td>%s</td></tr>%n",
                    q.delta(), q.activation(), q.prompt(), q.position(), context.toString().strip()));
        }
        h.append("</table>\n</body></html>\n");
        return h.toString();
    }

    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
    }
}
