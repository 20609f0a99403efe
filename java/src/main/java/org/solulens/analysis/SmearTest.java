package org.solulens.analysis;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.model.SoluModel;

/**
 * Part 2b of the seed paper. Per position: the ablation loss (zero the whole {@code hook_mid} vector there), the
 * inverse outlier score {@code 1 / (max - mean)} of {@code hook_mid}, and their product. Are the top-scored
 * positions amplified more by the MLP LayerNorm than random ones? The amplification is measured as the seed did:
 * the outlier score of {@code mlp.ln.hook_normalized} over that of {@code hook_mid} (which equals 1/scale).
 * The seed divided a position's loss change by the number of predicted positions (the prompt's mean loss), which
 * favours short prompts and is 0 at the last position; both that and the per-position change are reported.
 */
public final class SmearTest {
    /** One position: the loss change when its whole {@code hook_mid} is zeroed ({@code deltaLoss}; {@code seedDelta} divided as the seed did), the inverse outlier score of {@code hook_mid}, the seed's and the per-position score (their products), and the MLP LayerNorm's amplification {@code ratio}. */
    public record Position(int prompt, int position, String token, double deltaLoss, double seedDelta, double inverseOutlier,
                           double seedScore, double score, double ratio) {}

    /** Every position, the figure files (none without a {@link FigureRenderer}) and the Markdown summary. */
    public record Result(List<Position> positions, List<String> figures, String summary) {}

    private SmearTest() {}

    /** Runs the test: the {@code top} positions by score against random positions (permutation test seeded by {@code seed}); writes into {@code out}. Throws for a model without SoLU's LayerNorm. */
    public static Result run(Backend backend, List<Prompt> prompts, int top, long seed, Path out, boolean quiet) throws IOException {
        Files.createDirectories(out);
        SoluModel model = backend.model();
        if (!model.config().actFn().hasMlpLayerNorm()) {
            throw new IllegalArgumentException("smear needs a solu_ln model; act_fn is " + model.config().actFn().tlName());
        }
        int n = model.config().dMlp();
        List<String> hooks = new SweepRequest(Ablation.zero(Ablation.Site.MID), SweepMethod.EXACT, null, false).requiredHooks(model.config());
        List<Position> rows = new ArrayList<>();
        try (Progress progress = Progress.start("smear", prompts.size(), quiet)) {
            for (int i = 0; i < prompts.size(); i++) {
                int[] tokens = prompts.get(i).tokens();
                ForwardResult clean = backend.run(tokens, hooks);
                double[] delta = backend.ablatePositions(clean, Ablation.zero(Ablation.Site.MID));
                double[] mid = clean.get(Hooks.MLP_MID).data(), norm = clean.get(Hooks.MLP_LN_NORMALIZED).data();
                for (int p = 0; p < tokens.length; p++) {
                    double midOutlier = outlier(mid, p * n, n), normOutlier = outlier(norm, p * n, n);
                    double d = p < delta.length ? delta[p] : 0;
                    double seedDelta = p < delta.length ? delta[p] / delta.length : 0;
                    rows.add(new Position(i, p, model.tokenText(tokens[p]), d, seedDelta, 1 / midOutlier, seedDelta / midOutlier,
                            d / midOutlier, normOutlier / midOutlier));
                }
                progress.step();
            }
        }
        try (PrintWriter csv = new PrintWriter(Files.newBufferedWriter(out.resolve("smear.csv")))) {
            csv.println("prompt,position,token,ablation_delta_loss,seed_mean_loss_delta,inverse_outlier,seed_score,score,ln_ratio");
            for (Position r : rows) {
                csv.printf(Locale.ROOT, "%d,%d,\"%s\",%.9g,%.9g,%.9g,%.9g,%.9g,%.9g%n", r.prompt(), r.position(), r.token().replace("\"", "\"\""),
                        r.deltaLoss(), r.seedDelta(), r.inverseOutlier(), r.seedScore(), r.score(), r.ratio());
            }
        }
        StringBuilder md = new StringBuilder("# Smearing test (seed paper, Part 2b)\n\n");
        md.append(String.format(Locale.ROOT, "%d positions of %d prompt(s). ln_ratio = outlier score of mlp.ln.hook_normalized / that of hook_mid "
                + "(= 1 / mlp.ln scale). Top %d positions by score vs %d random other positions (seed %d); two-sided permutation test, 10000 relabellings.%n%n",
                rows.size(), prompts.size(), top, top, seed));
        md.append("| score | mean ln_ratio, top | mean ln_ratio, random | difference | p-value |\n| --- | --- | --- | --- | --- |\n");
        List<String> figures = new ArrayList<>();
        for (boolean seedVariant : new boolean[] {true, false}) {
            Comparator<Position> byScore = Comparator.comparingDouble(seedVariant ? Position::seedScore : Position::score);
            List<Position> sorted = new ArrayList<>(rows);
            sorted.sort(byScore.reversed());
            int k = Math.min(top, sorted.size() / 2);
            List<Position> best = sorted.subList(0, k);
            List<Position> rest = new ArrayList<>(sorted.subList(k, sorted.size()));
            Collections.shuffle(rest, new Random(seed));
            List<Position> random = rest.subList(0, k);
            double[] a = best.stream().mapToDouble(Position::ratio).toArray(), b = random.stream().mapToDouble(Position::ratio).toArray();
            md.append(String.format(Locale.ROOT, "| %s | %.5g | %.5g | %.4g | %.4f |%n",
                    seedVariant ? "seed's (mean-loss change × inverse outlier)" : "per-position loss change × inverse outlier",
                    Statistics.mean(a), Statistics.mean(b), Statistics.mean(a) - Statistics.mean(b), Statistics.permutationPValue(a, b, 10000, seed)));
            String file = seedVariant ? "smear_seed_score_vs_ratio.png" : "smear_score_vs_ratio.png";
            java.util.function.ToDoubleFunction<Position> score = seedVariant ? Position::seedScore : Position::score;
            PointIdentities all = new PointIdentities(model, prompts, false), shownTop = new PointIdentities(model, prompts, false);
            rows.forEach(r -> all.add(score.applyAsDouble(r), r.ratio(), r.prompt(), r.position(), -1));
            best.forEach(r -> shownTop.add(score.applyAsDouble(r), r.ratio(), r.prompt(), r.position(), -1));
            Figures.draw(out.resolve(file), new Figure(Figure.Kind.SCATTER, (seedVariant ? "Seed's score" : "Per-position score") + " vs MLP LayerNorm amplification",
                    "ablation loss × inverse outlier score", "ln_ratio (normalized / mid outlier score)",
                    shownTop.addTo(all.addTo(new Figure.Series(), "all positions", 1), "top " + k, 1), null).withSymlog(true, false));
            if (Figures.available()) {
                figures.add(file);
            }
        }
        String summary = md.toString();
        Files.writeString(out.resolve("smear.md"), summary);
        return new Result(rows, figures, summary);
    }

    /** max - mean of n values from offset. */
    private static double outlier(double[] x, int o, int n) {
        double max = Double.NEGATIVE_INFINITY, mean = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[o + i]);
            mean += x[o + i] / n;
        }
        return max - mean;
    }
}
