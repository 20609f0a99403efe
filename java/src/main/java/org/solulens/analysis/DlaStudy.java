package org.solulens.analysis;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.backend.DlaResult;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.io.Npy;
import org.solulens.model.SoluModel;

/**
 * Part 3 of the seed paper: direct logit attribution of the MLP and of each neuron toward the correct next token,
 * and the positions where the MLP's DLA is high but no single neuron's is.
 */
public final class DlaStudy {
    /**
     * @param mlpThreshold a position is "high" when its MLP DLA is at least this; NaN: mean + 1 standard deviation
     *     of the MLP DLA over all positions
     * @param neuronFraction "no single neuron is high" when every neuron's DLA is below this fraction of the MLP DLA
     */
    public record Options(double mlpThreshold, double neuronFraction, boolean tlVariant) {}

    /** The study's figure files (in the output folder; none without a {@link FigureRenderer}) and its Markdown summary. */
    public record Result(List<String> figures, String summary) {}

    private DlaStudy() {}

    /** Runs the study on {@code prompts}, writing its tables, figure and summary into {@code out}. */
    public static Result run(Backend backend, List<Prompt> prompts, Options o, Path out, boolean quiet) throws IOException {
        Files.createDirectories(out);
        SoluModel model = backend.model();
        int n = model.config().dMlp();
        List<String> hooks = new SweepRequest(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, null, false).requiredHooks(model.config());
        List<DlaResult> results = new ArrayList<>();
        try (Progress progress = Progress.start("dla", prompts.size(), quiet)) {
            for (int i = 0; i < prompts.size(); i++) {
                if (prompts.get(i).tokens().length < 2) {
                    throw new IllegalArgumentException("prompt " + i + " has one token: DLA toward the next token needs at least 2");
                }
                ForwardResult clean = backend.run(prompts.get(i).tokens(), hooks);
                DlaResult dla = backend.dla(clean, o.tlVariant());
                Path dir = prompts.size() > 1 ? out.resolve(Integer.toString(i)) : out;
                Files.createDirectories(dir);
                Npy.writeFloat32(dir.resolve("mlp_dla.npy"), new int[] {dla.positions()}, dla.mlp());
                Npy.writeFloat32(dir.resolve("neuron_dla.npy"), new int[] {dla.positions(), n}, dla.neuron());
                results.add(dla);
                progress.step();
            }
        }
        double[] all = results.stream().flatMapToDouble(r -> java.util.Arrays.stream(r.mlp())).toArray();
        double mean = Statistics.mean(all), sd = Math.sqrt(java.util.Arrays.stream(all).map(x -> (x - mean) * (x - mean)).sum() / all.length);
        double threshold = Double.isNaN(o.mlpThreshold()) ? mean + sd : o.mlpThreshold();
        List<String> flagged = new ArrayList<>();
        try (PrintWriter csv = new PrintWriter(Files.newBufferedWriter(out.resolve("dla.csv")))) {
            csv.println("prompt,position,token,target,mlp_dla,max_neuron_dla,top_neuron,flagged");
            for (int i = 0; i < results.size(); i++) {
                DlaResult r = results.get(i);
                int[] tokens = prompts.get(i).tokens();
                for (int p = 0; p < r.positions(); p++) {
                    int best = 0;
                    for (int j = 1; j < n; j++) {
                        if (r.neuron(p, j) > r.neuron(p, best)) {
                            best = j;
                        }
                    }
                    double mlp = r.mlp()[p], top = r.neuron(p, best);
                    boolean flag = mlp >= threshold && top < o.neuronFraction() * mlp;
                    String token = model.tokenText(tokens[p]).replace("\"", "\"\""), target = model.tokenText(tokens[p + 1]).replace("\"", "\"\"");
                    csv.printf(Locale.ROOT, "%d,%d,\"%s\",\"%s\",%.9g,%.9g,%d,%b%n", i, p, token, target, mlp, top, best, flag);
                    if (flag) {
                        flagged.add(String.format(Locale.ROOT, "| %d | %d | '%s' | '%s' | %.4g | %.4g (neuron %d) |", i, p, token, target, mlp, top, best));
                    }
                }
            }
        }
        Figures.histogram(out.resolve("mlp_dla_hist.png"), "MLP direct logit attribution toward the next token" + (o.tlVariant() ? " (TransformerLens variant)" : ""),
                "MLP DLA", all, 40);
        StringBuilder md = new StringBuilder("# Direct logit attribution (seed paper, Part 3)\n\n");
        md.append(String.format(Locale.ROOT, "%d positions of %d prompt(s). MLP DLA: mean %.4g, standard deviation %.4g. A position is flagged when "
                + "its MLP DLA ≥ %.4g%s and every neuron's DLA < %.2f × the MLP's.%n%n", all.length, prompts.size(), mean, sd, threshold,
                Double.isNaN(o.mlpThreshold()) ? " (mean + 1 sd)" : "", o.neuronFraction()));
        md.append(flagged.isEmpty() ? "No position is flagged.\n" : "| prompt | position | token | target | MLP DLA | largest neuron DLA |\n| --- | --- | --- | --- | --- | --- |\n"
                + String.join("\n", flagged) + "\n");
        String summary = md.toString();
        Files.writeString(out.resolve("dla.md"), summary);
        return new Result(Figures.available() ? List.of("mlp_dla_hist.png") : List.of(), summary);
    }
}
