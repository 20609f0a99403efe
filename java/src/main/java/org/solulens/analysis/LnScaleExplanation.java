package org.solulens.analysis;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.solulens.backend.Backend;
import org.solulens.backend.ForwardResult;
import org.solulens.model.SoluModel;

/**
 * The seed paper's first open question, answered per prompt family: which input of the residual stream moves the MLP
 * LayerNorm's factor along a prompt ({@link LnFactorAttribution}), through what ({@link LnFactorMediators}), and how
 * the factor follows log(position). Each family is a set of independent prompts (distinct sentences, repetitions of
 * different words, random word strings of different seeds), so that the bootstrap over prompts means something.
 * Writes {@code ln_scale_explain.csv} (a row per family, prompt and position), {@code ln_scale_explain.md} (the answer)
 * and, where a renderer is present, two figures per family.
 */
public final class LnScaleExplanation {
    /**
     * How the words of the answer follow from the numbers, fixed before any number was computed. A component
     * <em>carries</em> a family's trend when the lower end of the 95% bootstrap interval (over the family's prompts) of
     * its share of the change at the last position is at least 0.5; a part that is below 1e-9 in magnitude at every
     * position is <em>zero by construction</em> (the component is equal at every position, as the embedding of a
     * repeated token) and printed as such. The factor <em>grows</em> (<em>falls</em>) with log(position) when the fit of
     * the family's mean log-factor per position against log(position) has a positive (negative) slope with R² at least 0.5, else it has <em>no logarithmic trend</em>. A
     * mediator <em>moves with</em> the factor when |Pearson r| over the family's positions is at least 0.5.
     */
    public static final String CRITERION = "a component carries the trend when the lower end of the 95% bootstrap interval of its share of the"
            + " change at the last position is at least 0.5; |part| < 1e-9 at every position is zero by construction; the factor grows"
            + " (falls) with log(position) when the fit of the family's mean log-factor per position has a positive (negative) slope with"
            + " R² >= 0.5; a mediator moves with it"
            + " when |Pearson r| >= 0.5";
    private static final double CARRIES = 0.5, ZERO = 1e-9, TREND_R2 = 0.5, MOVES = 0.5;
    private static final String[] COMPONENTS = {"embed", "pos_embed", "attn_out"};
    private static final String[] MEDIATORS = {"norm of hook_pre", "softmax entropy", "softmax top-1 share", "neurons for 90% of mass",
        "attention entropy", "attention on BOS", "attention on earlier copies"};

    /** One family's answer: the share of each component (estimate and interval), the fit, the mediators' r, the sentence. */
    public record FamilyAnswer(String family, int prompts, Bootstrap.Interval[] shares, boolean[] zero, LnFactorMediators.Fit fit,
                               double[] mediatorR, String sentence) {}

    /** The answers, the figure files written and the Markdown summary (the file adds links to the figures). */
    public record Result(List<FamilyAnswer> answers, List<String> figures, String summary) {}

    private LnScaleExplanation() {}

    /** Runs the explanation on {@code families} (name to independent prompts), writing into {@code out}. */
    public static Result run(Backend backend, Map<String, List<Prompt>> families, Path out, boolean quiet) throws IOException {
        Files.createDirectories(out);
        SoluModel model = backend.model();
        List<String> hooks = new ArrayList<>(LnFactorAttribution.HOOKS);
        hooks.addAll(LnFactorMediators.hooks(model.config()));
        List<FamilyAnswer> answers = new ArrayList<>();
        List<String> figures = new ArrayList<>();
        int total = families.values().stream().mapToInt(List::size).sum();
        try (Progress progress = Progress.start("ln-scale --explain", total, quiet);
             PrintWriter csv = new PrintWriter(Files.newBufferedWriter(out.resolve("ln_scale_explain.csv")))) {
            csv.println("family,prompt,position,token,log_factor,change,embed,pos_embed,attn_out,pre_norm,softmax_entropy,softmax_top1,"
                    + "neurons_90,attention_entropy,attention_bos,attention_same_token");
            for (Map.Entry<String, List<Prompt>> family : families.entrySet()) {
                List<List<LnFactorAttribution.Parts>> parts = new ArrayList<>();
                List<List<LnFactorMediators.Row>> mediators = new ArrayList<>();
                for (int i = 0; i < family.getValue().size(); i++) {
                    int[] tokens = family.getValue().get(i).tokens();
                    ForwardResult clean = backend.run(tokens, hooks);
                    int reference = tokens.length > 1 && model.tokenizer() != null && tokens[0] == model.tokenizer().bosId() ? 1 : 0;
                    List<LnFactorAttribution.Parts> p = LnFactorAttribution.attribute(model, clean, reference);
                    List<LnFactorMediators.Row> m = LnFactorMediators.of(model, clean);
                    for (int q = 0; q < tokens.length; q++) {
                        LnFactorAttribution.Parts a = p.get(q);
                        LnFactorMediators.Row r = m.get(q);
                        csv.printf(Locale.ROOT, "%s,%d,%d,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%d,%.9g,%.9g,%.9g%n", family.getKey(), i, q, tokens[q],
                                a.logFactor(), a.total(), a.embed(), a.posEmbed(), a.attnOut(), r.preNorm(), r.softmaxEntropy(), r.softmaxTop1(),
                                r.neuronsFor90Percent(), r.attentionEntropy(), r.attentionOnBos(), r.attentionOnSameToken());
                    }
                    parts.add(p);
                    mediators.add(m);
                    progress.step();
                }
                FamilyAnswer answer = answer(family.getKey(), parts, mediators);
                answers.add(answer);
                figures.addAll(figures(out, family.getKey(), parts, mediators));
            }
        }
        String summary = markdown(model, answers);
        StringBuilder file = new StringBuilder(summary);
        for (String f : figures) {
            file.append("\n![").append(f).append("](").append(f).append(")\n");
        }
        Files.writeString(out.resolve("ln_scale_explain.md"), file.toString());
        return new Result(answers, figures, summary);
    }

    static FamilyAnswer answer(String family, List<List<LnFactorAttribution.Parts>> parts, List<List<LnFactorMediators.Row>> mediators) {
        int n = parts.size();
        Bootstrap.Interval[] shares = new Bootstrap.Interval[3];
        boolean[] zero = new boolean[3];
        for (int c = 0; c < 3; c++) {
            final int component = c;
            // from position 1: position 0 (BOS, when there is one) is a different token by design
            zero[c] = parts.stream().flatMap(l -> l.stream().skip(1)).allMatch(p -> Math.abs(part(p, component)) < ZERO);
            double[] share = parts.stream().map(l -> l.get(l.size() - 1)).filter(p -> Math.abs(p.total()) > ZERO)
                    .mapToDouble(p -> part(p, component) / p.total()).toArray();
            double[] ones = new double[share.length];
            java.util.Arrays.fill(ones, 1);
            shares[c] = share.length == 0 ? new Bootstrap.Interval(Double.NaN, Double.NaN, Double.NaN)
                    : Bootstrap.meanDifference(share, ones, null, null, 2000, 20261206L + c);
        }
        List<Double> ys = new ArrayList<>();
        List<double[]> med = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (int q = 1; q < parts.get(i).size(); q++) {
                ys.add(parts.get(i).get(q).logFactor());
                LnFactorMediators.Row r = mediators.get(i).get(q);
                med.add(new double[] {r.preNorm(), r.softmaxEntropy(), r.softmaxTop1(), r.neuronsFor90Percent(), r.attentionEntropy(),
                    r.attentionOnBos(), r.attentionOnSameToken()});
            }
        }
        double[] y = ys.stream().mapToDouble(Double::doubleValue).toArray();
        // the trend: the family's mean log-factor at each position (prompts differ in level by their content)
        int longest = parts.stream().mapToInt(List::size).max().orElse(0);
        double[] meanCurve = new double[longest];
        for (int q = 0; q < longest; q++) {
            final int at = q;
            meanCurve[q] = parts.stream().filter(l -> l.size() > at).mapToDouble(l -> l.get(at).logFactor()).average().orElse(Double.NaN);
        }
        LnFactorMediators.Fit fit = LnFactorMediators.fitAgainstLogPosition(meanCurve, 1);
        double[] r = new double[MEDIATORS.length];
        for (int k = 0; k < MEDIATORS.length; k++) {
            final int m = k;
            r[k] = Statistics.pearson(med.stream().mapToDouble(v -> v[m]).toArray(), y);
        }
        return new FamilyAnswer(family, n, shares, zero, fit, r, sentence(family, shares, zero, fit, r));
    }

    private static double part(LnFactorAttribution.Parts p, int c) {
        return c == 0 ? p.embed() : c == 1 ? p.posEmbed() : p.attnOut();
    }

    /** The family's sentence, from the numbers by {@link #CRITERION}. */
    static String sentence(String family, Bootstrap.Interval[] shares, boolean[] zero, LnFactorMediators.Fit fit, double[] r) {
        String trend = !(fit.r2() >= TREND_R2) ? "shows no logarithmic trend" : fit.slope() > 0 ? "grows with log(position)" : "falls with log(position)";
        List<String> carriers = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            if (!zero[c] && shares[c].low() >= CARRIES) {
                carriers.add(COMPONENTS[c]);
            }
        }
        List<String> zeros = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            if (zero[c]) {
                zeros.add(COMPONENTS[c]);
            }
        }
        List<String> moving = new ArrayList<>();
        for (int k = 0; k < r.length; k++) {
            if (Math.abs(r[k]) >= MOVES) {
                moving.add(MEDIATORS[k] + String.format(Locale.ROOT, " (r = %+.2f)", r[k]));
            }
        }
        return String.format(Locale.ROOT, "In %s the factor %s (slope %+.3f per unit of log(position), R² %.2f); %s%s; %s.", family, trend,
                fit.slope(), fit.r2(), carriers.isEmpty() ? "no single component carries the change" : String.join(" and ", carriers)
                        + (carriers.size() == 1 ? " carries" : " carry") + " the change",
                zeros.isEmpty() ? "" : " (" + String.join(" and ", zeros) + " cannot change: zero by construction)",
                moving.isEmpty() ? "no mediator moves with it" : "moving with it: " + String.join(", ", moving));
    }

    private static List<String> figures(Path out, String family, List<List<LnFactorAttribution.Parts>> parts,
                                        List<List<LnFactorMediators.Row>> mediators) throws IOException {
        int longest = parts.stream().mapToInt(List::size).max().orElse(0);
        double[] x = new double[longest];
        double[][] mean = new double[4][longest];
        double[][] med = new double[MEDIATORS.length][longest];
        for (int q = 0; q < longest; q++) {
            x[q] = q;
            int count = 0;
            for (int i = 0; i < parts.size(); i++) {
                if (q < parts.get(i).size()) {
                    LnFactorAttribution.Parts p = parts.get(i).get(q);
                    LnFactorMediators.Row r = mediators.get(i).get(q);
                    double[] v = {p.embed(), p.posEmbed(), p.attnOut(), p.total()};
                    double[] m = {r.preNorm(), r.softmaxEntropy(), r.softmaxTop1(), r.neuronsFor90Percent(), r.attentionEntropy(),
                        r.attentionOnBos(), r.attentionOnSameToken()};
                    for (int c = 0; c < 4; c++) {
                        mean[c][q] += v[c];
                    }
                    for (int k = 0; k < m.length; k++) {
                        med[k][q] += m[k];
                    }
                    count++;
                }
            }
            for (double[] row : mean) {
                row[q] /= count;
            }
            for (double[] row : med) {
                row[q] /= count;
            }
        }
        String slug = family.replaceAll("[^A-Za-z0-9]+", "_");
        // from position 1: position 0 (BOS) is another token and would set the scale
        double[] xs = java.util.Arrays.copyOfRange(x, Math.min(1, longest), longest);
        Figure.Series stacked = new Figure.Series();
        stacked.add("total change", xs, tail(mean[3]));   // drawn first: the last stack lies on it
        double[] cumulative = new double[longest];
        for (int c = 0; c < 3; c++) {
            for (int q = 0; q < longest; q++) {
                cumulative[q] += mean[c][q];
            }
            stacked.add(c == 0 ? "embed" : c == 1 ? "embed + pos_embed" : "embed + pos_embed + attn_out", xs, tail(cumulative));
        }
        Figure.Series mediatorSeries = new Figure.Series();
        for (int k = 0; k < MEDIATORS.length; k++) {
            mediatorSeries.add(MEDIATORS[k], xs, standardised(tail(med[k])));
        }
        List<String> written = new ArrayList<>();
        String a = "ln_explain_" + slug + "_parts.png", b = "ln_explain_" + slug + "_mediators.png";
        if (Figures.lines(out.resolve(a), family + ": change of log(MLP LN factor), stacked by component (mean over prompts)", "position",
                "change from the reference position", stacked)) {
            written.add(a);
        }
        if (Figures.lines(out.resolve(b), family + ": mediators (standardised, mean over prompts)", "position", "z-score", mediatorSeries)) {
            written.add(b);
        }
        return written;
    }

    private static double[] tail(double[] v) {
        return java.util.Arrays.copyOfRange(v, Math.min(1, v.length), v.length);
    }

    private static double[] standardised(double[] v) {
        double m = Statistics.mean(v), s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        s = Math.sqrt(s / Math.max(1, v.length - 1));
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = s == 0 ? 0 : (v[i] - m) / s;
        }
        return out;
    }

    private static String markdown(SoluModel model, List<FamilyAnswer> answers) {
        StringBuilder md = new StringBuilder("# Why the MLP LayerNorm's factor moves with prompt length\n\n");
        md.append("Model: ").append(model.description()).append(model.config().actFn().hasMlpLayerNorm() ? ""
                : " (no MLP LayerNorm: the split is of log(1/sqrt(var + eps)) of hook_pre, the control)").append(".\n\n");
        md.append("Criterion, fixed in the code before any number: ").append(CRITERION).append(".\n\n");
        for (FamilyAnswer a : answers) {
            md.append("- ").append(a.sentence()).append("\n");
        }
        md.append("\n| family | prompts | share of embed | share of pos_embed | share of attn_out | slope vs log(position) | R² |\n");
        md.append("| --- | --- | --- | --- | --- | --- | --- |\n");
        for (FamilyAnswer a : answers) {
            md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %+.3f | %.2f |%n", a.family(), a.prompts(), share(a, 0), share(a, 1),
                    share(a, 2), a.fit().slope(), a.fit().r2()));
        }
        md.append("\nShares: of the change of log(factor) from the first non-BOS position to the last, mean over prompts with a 95%")
                .append(" bootstrap interval over prompts; the three add up to 1 (Shapley values).\n\n| family |");
        for (String m : MEDIATORS) {
            md.append(' ').append(m).append(" |");
        }
        md.append("\n| --- |").append(" --- |".repeat(MEDIATORS.length)).append('\n');
        for (FamilyAnswer a : answers) {
            md.append("| ").append(a.family()).append(" |");
            for (double r : a.mediatorR()) {
                md.append(String.format(Locale.ROOT, " %+.2f |", r));
            }
            md.append('\n');
        }
        md.append("\nPearson r of each mediator with log(factor) over the family's positions (BOS left out).\n");
        return md.toString();
    }

    private static String share(FamilyAnswer a, int c) {
        return a.zero()[c] ? "0 (by construction)" : a.shares()[c].format();
    }

    /** Independent prompts for each family, for {@link #run}: the sentences given, repetitions of words, random word strings. */
    public static Map<String, List<Prompt>> families(SoluModel model, List<Prompt> sentences, int maxTokens, int perFamily, long seed, boolean bos) {
        Map<String, List<Prompt>> out = new LinkedHashMap<>();
        out.put("sentences", sentences);
        List<Prompt> repeats = new ArrayList<>(), random = new ArrayList<>();
        String[] all = org.solulens.model.DemoModel.words();
        java.util.Random rng = new java.util.Random(seed);
        for (int i = 0; i < perFamily; i++) {
            List<Prompt> r = PromptFamilies.repeat(model, all[rng.nextInt(all.length)], maxTokens - (bos ? 1 : 0), bos);
            repeats.add(r.get(r.size() - 1));
            List<Prompt> w = PromptFamilies.randomWordPrefixes(model, maxTokens, seed + i, bos);
            random.add(w.get(w.size() - 1));
        }
        out.put("repeat", repeats);
        out.put("random-words", random);
        return out;
    }
}
