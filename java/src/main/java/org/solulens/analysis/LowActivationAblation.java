package org.solulens.analysis;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.model.SoluModel;

/**
 * Part 2 of the seed paper: per position, the lowest {@code fraction} of neurons by {@code hook_mid} (before the
 * MLP LayerNorm), ablated after the LayerNorm; is there a cluster of low-activation neurons with a large effect?
 * Every neuron is swept (exactly), so the low set can be set against all neurons.
 */
public final class LowActivationAblation {
    /** The study's figure files (none without a {@link FigureRenderer}) and its Markdown summary. */
    public record Result(List<String> figures, String summary) {}

    private LowActivationAblation() {}

    /** Runs the study: {@code kind}-ablation after the MLP LayerNorm of every neuron at every position, the lowest {@code fraction} by {@code hook_mid} set apart; with {@code ratio}, Δloss is also reported relative to the position's loss. Writes into {@code out}. */
    public static Result run(Backend backend, List<Prompt> prompts, Ablation.Kind kind, double fraction, boolean ratio,
                             Path out, boolean quiet) throws IOException {
        Files.createDirectories(out);
        SoluModel model = backend.model();
        if (!model.config().actFn().hasMlpLayerNorm()) {
            throw new IllegalArgumentException("ablate-low needs a solu_ln model (hook_mid before the MLP LayerNorm); act_fn is "
                    + model.config().actFn().tlName());
        }
        int n = model.config().dMlp();
        NeuronSelection low = NeuronSelection.perPosition(Hooks.MLP_MID, true, ratio, 0, fraction);
        AblationSweep.Settings settings = AblationSweep.Settings.at(Ablation.Site.POST).withKind(kind).withCosine(true);
        AblationSweep.Run run;
        try (AblationSweep.ConsoleProgress progress = new AblationSweep.ConsoleProgress(settings, prompts, quiet)) {
            run = AblationSweep.run(backend, prompts, settings, progress);
        }
        PointIdentities lowIds = new PointIdentities(model, prompts, true), allIds = new PointIdentities(model, prompts, true);
        try (PrintWriter csv = new PrintWriter(Files.newBufferedWriter(out.resolve("ablate_low.csv")))) {
            csv.println("prompt,position,token,target,neuron,mid,post,delta_loss,logit_cosine,in_low_set");
            for (int i = 0; i < run.results().size(); i++) {
                AblationSweep.PromptResult r = run.results().get(i);
                boolean[] mask = low.mask(r.clean(), n);
                double[] mid = r.clean().get(Hooks.MLP_MID).data(), post = r.clean().get(Hooks.MLP_POST).data();
                int[] tokens = r.prompt().tokens();
                for (int p = 0; p < r.result().positions(); p++) {
                    for (int j = 0; j < n; j++) {
                        int k = p * n + j;
                        double d = r.result().delta()[k];
                        allIds.add(mid[k], d, i, p, j);
                        if (mask[k]) {
                            lowIds.add(mid[k], d, i, p, j);
                        }
                        csv.printf(Locale.ROOT, "%d,%d,\"%s\",\"%s\",%d,%.9g,%.9g,%.9g,%.9g,%b%n", i, p,
                                model.tokenText(tokens[p]).replace("\"", "\"\""), model.tokenText(tokens[p + 1]).replace("\"", "\"\""),
                                j, mid[k], post[k], d, r.result().cosine()[k], mask[k]);
                    }
                }
            }
        }
        String label = run.ablation().label();
        // large sweeps are thinned for drawing (one pair in k, and each set's extremes): the CSV holds every pair
        String lowName = "lowest " + Math.round(100 * fraction) + "%";
        int lowStep = Thinning.step(lowIds.size(), 20_000), allStep = Thinning.step(allIds.size() + lowIds.size(), 20_000);
        Figure lowest = new Figure(Figure.Kind.SCATTER, String.format(Locale.ROOT, "Lowest %.0f%% of hook_mid per position, %s ablation", 100 * fraction, label),
                "hook_mid activation (before the MLP LayerNorm)", "Δloss", lowIds.addTo(new Figure.Series(), lowName, lowStep), null).withSymlog(false, true);
        Figure every = new Figure(Figure.Kind.SCATTER, "All neurons, " + label + " ablation", "hook_mid activation (before the MLP LayerNorm)", "Δloss",
                lowIds.addTo(allIds.addTo(new Figure.Series(), "all neurons", allStep), lowName, allStep), null).withSymlog(false, true);
        Figures.draw(out.resolve("ablate_low_lowest.png"), lowStep == 1 ? lowest : lowest.withNote(thinned(lowStep, lowIds.size())));
        Figures.draw(out.resolve("ablate_low_all.png"), allStep == 1 ? every : every.withNote(thinned(allStep, allIds.size())));
        String summary = summary(lowIds.points(), allIds.points(), fraction, label, low.describe(), prompts.size());
        Files.writeString(out.resolve("ablate_low.md"), summary);
        return new Result(Figures.available() ? List.of("ablate_low_lowest.png", "ablate_low_all.png") : List.of(), summary);
    }

    private static String summary(List<double[]> low, List<double[]> all, double fraction, String label, String selection, int prompts) {
        double[] allAbs = all.stream().mapToDouble(p -> Math.abs(p[1])).sorted().toArray();
        double p99 = allAbs[(int) Math.min(allAbs.length - 1, Math.floor(0.99 * allAbs.length))];
        long lowAbove = low.stream().filter(p -> Math.abs(p[1]) > p99).count();
        double lowMax = low.stream().mapToDouble(p -> Math.abs(p[1])).max().orElse(Double.NaN);
        double lowMean = low.stream().mapToDouble(p -> Math.abs(p[1])).average().orElse(Double.NaN);
        double allMean = Arrays.stream(allAbs).average().orElse(Double.NaN);
        StringBuilder md = new StringBuilder("# Ablating low-activation neurons (seed paper, Part 2)\n\n");
        md.append(String.format(Locale.ROOT, "%s ablation of every neuron at every position of %d prompt(s) (%d pairs, exact sweep); "
                + "the low set is %s (%d pairs).%n%n", label, prompts, all.size(), selection, low.size()));
        md.append("| set | pairs | mean abs Δloss | max abs Δloss | pairs above the 99th percentile of all abs Δloss |\n| --- | --- | --- | --- | --- |\n");
        md.append(String.format(Locale.ROOT, "| lowest %.0f%% | %d | %.4g | %.4g | %d (%.2f%% of the set; 1%% expected if the set were typical) |%n",
                100 * fraction, low.size(), lowMean, lowMax, lowAbove, 100.0 * lowAbove / Math.max(1, low.size())));
        md.append(String.format(Locale.ROOT, "| all | %d | %.4g | %.4g | %d |%n%n", all.size(), allMean, allAbs[allAbs.length - 1],
                all.stream().filter(p -> Math.abs(p[1]) > p99).count()));
        md.append(String.format(Locale.ROOT, "99th percentile of abs Δloss over all pairs: %.4g.%n", p99));
        return md.toString();
    }

    private static String thinned(int step, int pairs) {
        return String.format(Locale.ROOT, "One pair in %d of the %,d is drawn, and in each set the %d with the largest |x| and |y|; "
                + "ablate_low.csv holds them all.", step, pairs, Thinning.EXTREMES);
    }
}
