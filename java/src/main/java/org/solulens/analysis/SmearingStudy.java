package org.solulens.analysis;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.io.Npy;
import org.solulens.model.SoluModel;

/**
 * The smearing question asked directly. For a SoLU model: every neuron's effect at every position split into its
 * direct part and the parts mediated by the MLP LayerNorm and by ln_final ({@link EffectDecomposition}, ablation at
 * {@code hook_mid}); and at each position the lowest, a random and the highest {@code fraction} of neurons by
 * {@code hook_mid} ablated together, before and after the MLP LayerNorm, against the sum of their single effects
 * ({@link GroupAblation}). A GELU model without an MLP LayerNorm, given the same prompts, is the control: the same
 * measures at {@code hook_post}. A criterion fixed before the numbers ({@link #CRITERION}) decides the verdict;
 * intervals are 95% bootstrap intervals over prompts ({@link Bootstrap}).
 */
public final class SmearingStudy {
    /** What counts as evidence for smearing, stated before any number is computed; the verdict only checks it. */
    public static final String CRITERION = """
            Smearing predicts that the neurons SoLU leaves weakest carry features together, and that the MLP LayerNorm \
            is what lets them (by re-normalising the whole layer). Call the *synergy* of a set at a position its group \
            Δloss (all of it ablated at once) minus the sum of its members' single Δloss. The data count as evidence \
            for smearing on this model when all three hold, each judged by a 95% bootstrap interval over prompts (at \
            least 5 prompts) that lies wholly above zero:
            1. **Synergy**: the lowest set's mean synergy at `hook_mid` (before the MLP LayerNorm) is positive.
            2. **Specificity**: it is larger than a random set's of the same size at `hook_mid`, and larger than the \
            lowest set's at `hook_post` (after the MLP LayerNorm), i.e. it passes through the LayerNorm.
            3. **Control**: it exceeds what the GELU twin (no MLP LayerNorm) shows for its lowest set over its random \
            set at `hook_post`: SoLU's (lowest − random at mid) minus GELU's (lowest − random at post) is positive.
            The effect decomposition (direct vs mediated parts) is reported as description, not as part of the verdict.""";

    private static final List<String> PARTS = List.of("total", "direct", "via_mlp_ln", "via_ln_final");
    /** Fewer prompts than this give bootstrap intervals too narrow to mean anything: no verdict. */
    static final int MIN_PROMPTS = 5;

    private SmearingStudy() {}

    /**
     * The study's settings.
     *
     * @param fraction the group size as a fraction of d_mlp (0.1: the paper's lowest 10%)
     * @param resamples bootstrap resamples
     * @param seed the random sets' and the bootstrap's seed
     */
    public record Options(double fraction, int resamples, long seed) {
        /** Checks the settings. */
        public Options {
            if (!(fraction > 0 && fraction <= 1)) {
                throw new IllegalArgumentException("--fraction must be in (0, 1], got " + fraction);
            }
            if (resamples < 100) {
                throw new IllegalArgumentException("--bootstrap needs at least 100 resamples, got " + resamples);
            }
        }
    }

    /**
     * The verdict on the pre-registered {@link #CRITERION}.
     *
     * @param synergy criterion 1 holds
     * @param specificity criterion 2 holds
     * @param control criterion 3 holds (false when no control model ran)
     * @param text the paragraph that says so, with the numbers
     */
    public record Verdict(boolean synergy, boolean specificity, boolean control, String text) {
        /** {@return whether every criterion holds} */
        public boolean met() {
            return synergy && specificity && control;
        }
    }

    /**
     * The study's figure files (none without a {@link FigureRenderer}), its Markdown section and its verdict.
     *
     * @param figures PNG files in the output folder
     * @param summary the Markdown section
     * @param verdict the criterion's outcome
     */
    public record Result(List<String> figures, String summary, Verdict verdict) {}

    /** One model's measurements, per prompt. */
    private record Measured(String label, SoluModel model, List<Prompt> prompts, List<ForwardResult> cleans, List<EffectDecomposition.Parts> parts,
                            List<double[]> ranks, List<Ablation.Site> groupSites, double[][][][] group, double[][][][] singles) {
        int size() {
            return parts.get(0).dMlp();
        }
    }

    /**
     * Runs the study and writes it into {@code out}.
     *
     * @param solu the SoLU model's backend (its model needs the MLP LayerNorm)
     * @param prompts the prompts, tokenized for it
     * @param control the GELU control's backend, or null for none
     * @param controlPrompts the same prompts tokenized for the control (same order), or null
     * @param o the settings
     * @param out the output folder
     * @param quiet no progress bar
     * @return the figures, the summary and the verdict
     * @throws IOException if the outputs cannot be written
     */
    public static Result run(Backend solu, List<Prompt> prompts, Backend control, List<Prompt> controlPrompts, Options o, Path out,
                             boolean quiet) throws IOException {
        if (!solu.model().config().actFn().hasMlpLayerNorm()) {
            throw new IllegalArgumentException("the smearing study needs a SoLU model with its MLP LayerNorm (act_fn solu_ln); this model's is "
                    + solu.model().config().actFn().tlName() + " (use it as the control)");
        }
        if (control != null && (controlPrompts == null || controlPrompts.size() != prompts.size())) {
            throw new IllegalArgumentException("the control model needs the same prompts, one per SoLU prompt");
        }
        for (Prompt p : prompts) {
            if (p.tokens().length < 2) {
                throw new IllegalArgumentException("every prompt needs at least 2 tokens (position p predicts token p+1): \"" + p.text() + "\"");
            }
        }
        Files.createDirectories(out);
        // steps: per prompt, the decomposition and each group site's sweep (SoLU: mid and post; the control: post)
        long work = 3L * prompts.size() + (control == null ? 0 : 2L * prompts.size());
        Measured main, twin = null;
        try (Progress progress = Progress.start("smearing (sweeps)", work, quiet)) {
            main = measure("solu", solu, prompts, Ablation.Site.MID, List.of(Ablation.Site.MID, Ablation.Site.POST), o, progress);
            if (control != null) {
                twin = measure("gelu", control, controlPrompts, Ablation.Site.POST, List.of(Ablation.Site.POST), o, progress);
            }
        }
        List<String> figures = new ArrayList<>();
        StringBuilder md = new StringBuilder("# Smearing: direct and mediated effects, group ablations")
                .append(control != null ? ", GELU control" : "").append("\n\n");
        md.append("SoLU model: ").append(solu.model().description()).append(control != null ? "; control: " + control.model().description() : "")
                .append(". ").append(prompts.size()).append(" prompts, ").append(positions(main)).append(" positions; groups of ")
                .append(setSize(main, o)).append(" neurons (").append(percent(o.fraction())).append(" of d_mlp), ranked by ")
                .append(GroupAblation.rankingHook(main.model())).append(" at each position; zero-ablation; intervals: 95% bootstrap over prompts (")
                .append(o.resamples()).append(" resamples). Ranks are by the signed activation, as the seed paper's \"lowest 10%\": SoLU's ")
                .append("hook_mid is negative where its input is, so the lowest set holds the most negative activations, not the smallest in size. ")
                .append("Backend: ").append(solu.name()).append("; group ablations are re-run in double on the CPU whatever the backend")
                .append(solu.name().equals("cpu") ? ".\n\n" : "; the single-neuron Δloss come from the float32 sweep (error up to 2e-6 + 1e-4 |Δloss| a pair),"
                        + " which bounds how small a synergy this run can resolve: use --device cpu for the smallest.\n\n");
        md.append("## The criterion (fixed before the numbers)\n\n").append(CRITERION).append("\n\n");
        writeDecomposition(main, out);
        if (twin != null) {
            writeDecomposition(twin, out);
        }
        md.append(decompositionSection(main, twin, out, figures, o));
        GroupStats stats = writeGroups(main, twin, out, o);
        md.append(stats.markdown);
        figures.addAll(groupFigure(stats, out));
        Verdict verdict = verdict(stats, twin != null);
        md.append("## Verdict\n\n").append(verdict.text()).append("\n\n");
        md.append("Files: `positions.csv`; per model `<model>_<part>.npy` ([positions, d_mlp]: total, direct, via_mlp_ln, via_ln_final) and "
                + "`<model>_rank.npy` (each neuron's rank by the ranking hook at its position, 0 = lowest), `<model>_neurons.csv`, "
                + "`<model>_by_rank.csv`; `groups.csv` (every position, site and set; also `<model>_groups.npy`: [positions, sites, "
                + "sets, (group Δloss, sum of singles)]) and `groups_summary.csv`.\n");
        Files.writeString(out.resolve("smearing.md"), md.toString());
        return new Result(figures, md.toString(), verdict);
    }

    private static int setSize(Measured m, Options o) {
        return Math.max(1, (int) Math.round(o.fraction() * m.size()));
    }

    private static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.3g%%", 100 * fraction);
    }

    private static long positions(Measured m) {
        return m.parts().stream().mapToLong(EffectDecomposition.Parts::positions).sum();
    }

    /** Clean passes, the decomposition, the ranks, and per site and set the group and sum-of-singles Δloss. */
    private static Measured measure(String label, Backend backend, List<Prompt> prompts, Ablation.Site decompositionSite,
                                    List<Ablation.Site> groupSites, Options o, Progress progress) {
        SoluModel model = backend.model();
        int n = model.config().dMlp(), size = Math.max(1, (int) Math.round(o.fraction() * n));
        String rankHook = GroupAblation.rankingHook(model);
        Set<String> hooks = new LinkedHashSet<>(new SweepRequest(Ablation.zero(decompositionSite), SweepMethod.EXACT, null, false)
                .requiredHooks(model.config()));
        hooks.add(rankHook);
        hooks.add(Hooks.RESID_MID);
        for (Ablation.Site s : groupSites) {
            hooks.add(s.hook());
        }
        List<ForwardResult> cleans = new ArrayList<>();
        List<EffectDecomposition.Parts> parts = new ArrayList<>();
        List<double[]> ranks = new ArrayList<>();
        double[][][][] group = new double[prompts.size()][][][], singles = new double[prompts.size()][][][];
        Random rng = new Random(o.seed());
        for (int i = 0; i < prompts.size(); i++) {
            ForwardResult clean = backend.run(prompts.get(i).tokens(), hooks);
            cleans.add(clean);
            EffectDecomposition.Parts split = EffectDecomposition.run(backend, clean, Ablation.zero(decompositionSite));
            parts.add(split);
            progress.step();
            int positions = split.positions();
            double[] act = clean.get(rankHook).data(), rank = new double[positions * n];
            GroupAblation.Sets[] sets = new GroupAblation.Sets[positions];
            for (int p = 0; p < positions; p++) {
                int[] order = GroupAblation.order(act, n, p);
                sets[p] = GroupAblation.sets(order, size, rng);
                for (int r = 0; r < n; r++) {
                    rank[p * n + order[r]] = r;
                }
            }
            ranks.add(rank);
            group[i] = new double[groupSites.size()][3][positions];
            singles[i] = new double[groupSites.size()][3][positions];
            for (int s = 0; s < groupSites.size(); s++) {
                Ablation ablation = Ablation.zero(groupSites.get(s));
                double[] single = groupSites.get(s) == decompositionSite ? split.total()
                        : backend.sweep(clean, new SweepRequest(ablation, SweepMethod.EXACT, null, false)).delta();
                for (int p = 0; p < positions; p++) {
                    double[] d = GroupAblation.deltaLoss(model, clean, ablation, p, sets[p].all());
                    for (int k = 0; k < 3; k++) {
                        group[i][s][k][p] = d[k];
                        singles[i][s][k][p] = GroupAblation.sumOfSingles(single, n, p, sets[p].all().get(k));
                    }
                }
                progress.step();
            }
        }
        return new Measured(label, model, prompts, cleans, parts, ranks, groupSites, group, singles);
    }

    private static void writeDecomposition(Measured m, Path out) throws IOException {
        int n = m.size(), rows = (int) positions(m);
        boolean header = !Files.exists(out.resolve("positions.csv"));
        try (PrintWriter csv = new PrintWriter(Files.newBufferedWriter(out.resolve("positions.csv"),
                header ? new java.nio.file.OpenOption[0] : new java.nio.file.OpenOption[] {java.nio.file.StandardOpenOption.APPEND}))) {
            if (header) {
                csv.println("model,row,prompt,position,token,target");
            }
            int row = 0;
            for (int i = 0; i < m.prompts().size(); i++) {
                int[] t = m.prompts().get(i).tokens();
                for (int p = 0; p < m.parts().get(i).positions(); p++) {
                    csv.printf(Locale.ROOT, "%s,%d,%d,%d,\"%s\",\"%s\"%n", m.label(), row++, i, p, quote(m.model().tokenText(t[p])),
                            quote(m.model().tokenText(t[p + 1])));
                }
            }
        }
        for (String part : PARTS) {
            double[] all = new double[rows * n];
            int at = 0;
            for (EffectDecomposition.Parts s : m.parts()) {
                double[] src = switch (part) {
                    case "total" -> s.total();
                    case "direct" -> s.direct();
                    case "via_mlp_ln" -> s.viaMlpLn();
                    default -> s.viaLnFinal();
                };
                System.arraycopy(src, 0, all, at, src.length);
                at += src.length;
            }
            Npy.writeFloat32(out.resolve(m.label() + "_" + part + ".npy"), new int[] {rows, n}, all);
        }
        double[] rank = new double[rows * n];
        int at = 0;
        for (double[] r : m.ranks()) {
            System.arraycopy(r, 0, rank, at, r.length);
            at += r.length;
        }
        Npy.writeFloat32(out.resolve(m.label() + "_rank.npy"), new int[] {rows, n}, rank);
    }

    private static String quote(String s) {
        return s.replace("\"", "\"\"");
    }

    /**
     * Per prompt, sums of |part| (and of the MLP LayerNorm part signed against the direct one) over its pairs, by rank
     * decile: [prompt][decile][|total|, |direct|, |via mlp ln|, |via ln_final|, -via_mlp_ln·sign(direct), count].
     */
    private static double[][][] byDecile(Measured m) {
        int n = m.size();
        double[][][] sums = new double[m.parts().size()][10][6];
        for (int i = 0; i < m.parts().size(); i++) {
            EffectDecomposition.Parts s = m.parts().get(i);
            double[] rank = m.ranks().get(i);
            for (int k = 0; k < s.total().length; k++) {
                int decile = Math.min(9, (int) (rank[k] * 10 / n));
                double[] row = sums[i][decile];
                row[0] += Math.abs(s.total()[k]);
                row[1] += Math.abs(s.direct()[k]);
                row[2] += Math.abs(s.viaMlpLn()[k]);
                row[3] += Math.abs(s.viaLnFinal()[k]);
                row[4] -= s.viaMlpLn()[k] * Math.signum(s.direct()[k]);
                row[5]++;
            }
        }
        return sums;
    }

    /** The sums of {@link #byDecile} over prompts: [decile][quantity]. */
    private static double[][] overPrompts(double[][][] perPrompt) {
        double[][] total = new double[10][6];
        for (double[][] prompt : perPrompt) {
            for (int k = 0; k < 10; k++) {
                for (int j = 0; j < 6; j++) {
                    total[k][j] += prompt[k][j];
                }
            }
        }
        return total;
    }

    /** Quantity {@code j}'s mean per pair in every decile with its 95% bootstrap interval over prompts, as {estimate, low, high}. */
    private static double[][] decileIntervals(double[][][] perPrompt, int j, Options o) {
        double[][] out = new double[3][10];
        for (int k = 0; k < 10; k++) {
            double[] sums = new double[perPrompt.length], counts = new double[perPrompt.length];
            for (int i = 0; i < perPrompt.length; i++) {
                sums[i] = perPrompt[i][k][j];
                counts[i] = perPrompt[i][k][5];
            }
            Bootstrap.Interval interval = Bootstrap.meanDifference(sums, counts, null, null, o.resamples(), o.seed());
            out[0][k] = interval.estimate();
            out[1][k] = interval.low();
            out[2][k] = interval.high();
        }
        return out;
    }

    private static String decompositionSection(Measured main, Measured twin, Path out, List<String> figures, Options o) throws IOException {
        StringBuilder md = new StringBuilder("## Direct and mediated effects\n\n");
        md.append("Zero-ablation of each neuron at each position, its Δloss split into the direct part (both LayerNorm scales frozen), the part "
                + "mediated by the MLP LayerNorm and the part mediated by ln_final; for the GELU control, at `hook_post` (direct and ln_final only). "
                + "Mean |part| over every (position, neuron) pair, by the neuron's activation decile at its position (1 = lowest 10%). "
                + "*Opposes direct*: the fraction of the direct effect the MLP LayerNorm cancels (−Σ via_mlp_ln · sign(direct) / Σ |direct|).\n\n");
        md.append("| model | decile | mean abs total | mean abs direct | mean abs via MLP LN | mean abs via ln_final | MLP LN share | opposes direct |\n");
        md.append("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        Figure.Series byRank = new Figure.Series();
        for (Measured m : twin == null ? List.of(main) : List.of(main, twin)) {
            double[][][] perPrompt = byDecile(m);
            double[][] d = overPrompts(perPrompt);
            double[] x = new double[10], direct = new double[10], viaMlp = new double[10], viaFinal = new double[10];
            try (PrintWriter csv = new PrintWriter(Files.newBufferedWriter(out.resolve(m.label() + "_by_rank.csv")))) {
                csv.println("decile,pairs,mean_abs_total,mean_abs_direct,mean_abs_via_mlp_ln,mean_abs_via_ln_final,mlp_ln_share,opposes_direct");
                for (int k = 0; k < 10; k++) {
                    double c = d[k][5], parts = d[k][1] + d[k][2] + d[k][3];
                    double share = parts > 0 ? d[k][2] / parts : Double.NaN, opposes = d[k][1] > 0 ? d[k][4] / d[k][1] : Double.NaN;
                    csv.printf(Locale.ROOT, "%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g%n", k + 1, (long) c, d[k][0] / c, d[k][1] / c, d[k][2] / c,
                            d[k][3] / c, share, opposes);
                    md.append(String.format(Locale.ROOT, "| %s | %d | %.3g | %.3g | %.3g | %.3g | %.3f | %.3f |%n", m.label(), k + 1, d[k][0] / c,
                            d[k][1] / c, d[k][2] / c, d[k][3] / c, share, opposes));
                    x[k] = k + 1;
                    direct[k] = d[k][1] / c;
                    viaMlp[k] = d[k][2] / c;
                    viaFinal[k] = d[k][3] / c;
                }
            }
            // the same means with 95% bootstrap intervals over prompts, as the groups' are
            double[][] ciDirect = decileIntervals(perPrompt, 1, o), ciMlp = decileIntervals(perPrompt, 2, o), ciFinal = decileIntervals(perPrompt, 3, o);
            byRank.add(m.label() + ": direct", x, direct).interval(m.label() + ": direct", ciDirect[1], ciDirect[2]);
            if (m == main) {
                byRank.add(m.label() + ": via MLP LN", x, viaMlp).interval(m.label() + ": via MLP LN", ciMlp[1], ciMlp[2]);
            }
            byRank.add(m.label() + ": via ln_final", x, viaFinal).interval(m.label() + ": via ln_final", ciFinal[1], ciFinal[2]);
            writeNeurons(m, out);
        }
        if (Figures.draw(out.resolve("smearing_by_rank.png"), new Figure(Figure.Kind.LINES, "Mean |Δloss part| by activation decile at the position",
                "activation decile (1 = lowest 10%)", "mean |Δloss part| (nats)", byRank, null).withNote("Bars: 95% bootstrap intervals over prompts."))) {
            figures.add("smearing_by_rank.png");
        }
        // direct vs MLP-LN-mediated, every pair (thinned to about 20,000 points, evenly, keeping the extremes), the lowest decile drawn last
        PointIdentities all = new PointIdentities(main.model(), main.prompts(), true), low = new PointIdentities(main.model(), main.prompts(), true);
        int n = main.size();
        for (int i = 0; i < main.parts().size(); i++) {
            EffectDecomposition.Parts s = main.parts().get(i);
            for (int k = 0; k < s.total().length; k++) {
                (main.ranks().get(i)[k] * 10 < n ? low : all).add(s.direct()[k], s.viaMlpLn()[k], i, k / s.dMlp(), k % s.dMlp());
            }
        }
        int step = Thinning.step(all.size() + low.size(), 20_000);
        Figure.Series scatter = new Figure.Series();
        all.addTo(scatter, "other pairs", step);
        low.addTo(scatter, "lowest decile by hook_mid", step);
        Figure figure = new Figure(Figure.Kind.SCATTER, "Each (position, neuron): direct effect vs the part via the MLP LayerNorm",
                "direct Δloss (both scales frozen)", "Δloss via the MLP LayerNorm", scatter, null).withSymlog(true, true);
        if (step > 1) {
            figure = figure.withNote(String.format(Locale.ROOT, "One pair in %d of the %,d is drawn, and in each set the %d with the largest |x| and |y|; "
                    + "the .npy files hold them all.", step, all.size() + low.size(), Thinning.EXTREMES));
        }
        if (Figures.draw(out.resolve("smearing_direct_vs_mlp_ln.png"), figure)) {
            figures.add("smearing_direct_vs_mlp_ln.png");
        }
        return md.append('\n').toString();
    }

    private static void writeNeurons(Measured m, Path out) throws IOException {
        int n = m.size();
        double[][] sums = new double[n][9];   // total, direct, via mlp, via final, |.| of each, count
        for (EffectDecomposition.Parts s : m.parts()) {
            for (int k = 0; k < s.total().length; k++) {
                double[] row = sums[k % n];
                double[] v = {s.total()[k], s.direct()[k], s.viaMlpLn()[k], s.viaLnFinal()[k]};
                for (int j = 0; j < 4; j++) {
                    row[j] += v[j];
                    row[4 + j] += Math.abs(v[j]);
                }
                row[8]++;
            }
        }
        try (PrintWriter csv = new PrintWriter(Files.newBufferedWriter(out.resolve(m.label() + "_neurons.csv")))) {
            csv.println("neuron,mean_total,mean_direct,mean_via_mlp_ln,mean_via_ln_final,mean_abs_total,mean_abs_direct,mean_abs_via_mlp_ln,"
                    + "mean_abs_via_ln_final,mlp_ln_share");
            for (int j = 0; j < n; j++) {
                double[] r = sums[j];
                double c = r[8], parts = r[5] + r[6] + r[7];
                csv.printf(Locale.ROOT, "%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g%n", j, r[0] / c, r[1] / c, r[2] / c, r[3] / c, r[4] / c,
                        r[5] / c, r[6] / c, r[7] / c, parts > 0 ? r[6] / parts : Double.NaN);
            }
        }
    }

    /** Per-prompt sums of synergy (group − sum of singles) for each model, site and set, and their summary. */
    private record GroupStats(String markdown, double[][][][] synergySums, double[][] counts, Measured main, Measured twin,
                              List<double[][]> figureRows, Options options) {}

    private static GroupStats writeGroups(Measured main, Measured twin, Path out, Options o) throws IOException {
        List<Measured> models = twin == null ? List.of(main) : List.of(main, twin);
        int prompts = main.prompts().size();
        double[][][][] synergy = new double[models.size()][][][];   // [model][site][set][prompt]: Σ over positions
        double[][][][] groupSum = new double[models.size()][][][], singleSum = new double[models.size()][][][];
        double[][] counts = new double[models.size()][prompts];
        try (PrintWriter csv = new PrintWriter(Files.newBufferedWriter(out.resolve("groups.csv")))) {
            csv.println("model,prompt,position,site,set,size,group_delta_loss,sum_of_singles,synergy");
            for (int mi = 0; mi < models.size(); mi++) {
                Measured m = models.get(mi);
                int sites = m.groupSites().size();
                synergy[mi] = new double[sites][3][prompts];
                groupSum[mi] = new double[sites][3][prompts];
                singleSum[mi] = new double[sites][3][prompts];
                int size = setSize(m, o);
                // the same numbers as an array: [positions, sites, sets (lowest, random, highest), (group Δloss, sum of singles)]
                double[] array = new double[(int) positions(m) * sites * 3 * 2];
                int row = 0;
                for (int i = 0; i < prompts; i++) {
                    counts[mi][i] = m.parts().get(i).positions();
                    for (int s = 0; s < sites; s++) {
                        for (int k = 0; k < 3; k++) {
                            double[] g = m.group()[i][s][k], sum = m.singles()[i][s][k];
                            for (int p = 0; p < g.length; p++) {
                                synergy[mi][s][k][i] += g[p] - sum[p];
                                groupSum[mi][s][k][i] += g[p];
                                singleSum[mi][s][k][i] += sum[p];
                                csv.printf(Locale.ROOT, "%s,%d,%d,%s,%s,%d,%.9g,%.9g,%.9g%n", m.label(), i, p, site(m, s), GroupAblation.SET_NAMES.get(k),
                                        size, g[p], sum[p], g[p] - sum[p]);
                                int at = (((row + p) * sites + s) * 3 + k) * 2;
                                array[at] = g[p];
                                array[at + 1] = sum[p];
                            }
                        }
                    }
                    row += m.parts().get(i).positions();
                }
                Npy.writeFloat32(out.resolve(m.label() + "_groups.npy"), new int[] {(int) positions(m), sites, 3, 2}, array);
            }
        }
        StringBuilder md = new StringBuilder("## Group ablation: together vs alone\n\n");
        md.append("At each position, each set ablated at once (group Δloss) against the sum of its members' single Δloss; *synergy* = group − sum. "
                + "Means over positions, with 95% bootstrap intervals over prompts.\n\n");
        md.append("| model | site | set | mean group Δloss | mean sum of singles | mean synergy [95% interval] |\n| --- | --- | --- | --- | --- | --- |\n");
        List<double[][]> figureRows = new ArrayList<>();
        try (PrintWriter csv = new PrintWriter(Files.newBufferedWriter(out.resolve("groups_summary.csv")))) {
            csv.println("model,site,set,positions,mean_group_delta_loss,mean_sum_of_singles,mean_synergy,synergy_low,synergy_high");
            for (int mi = 0; mi < models.size(); mi++) {
                Measured m = models.get(mi);
                for (int s = 0; s < m.groupSites().size(); s++) {
                    double[][] row = new double[3][3];   // estimate, low, high per set
                    for (int k = 0; k < 3; k++) {
                        Bootstrap.Interval syn = Bootstrap.meanDifference(synergy[mi][s][k], counts[mi], null, null, o.resamples(), o.seed());
                        double total = java.util.Arrays.stream(counts[mi]).sum();
                        double g = java.util.Arrays.stream(groupSum[mi][s][k]).sum() / total, sum = java.util.Arrays.stream(singleSum[mi][s][k]).sum() / total;
                        csv.printf(Locale.ROOT, "%s,%s,%s,%d,%.6g,%.6g,%.6g,%.6g,%.6g%n", m.label(), site(m, s), GroupAblation.SET_NAMES.get(k), (long) total,
                                g, sum, syn.estimate(), syn.low(), syn.high());
                        md.append(String.format(Locale.ROOT, "| %s | %s | %s | %.4g | %.4g | %s |%n", m.label(), site(m, s), GroupAblation.SET_NAMES.get(k),
                                g, sum, syn.format()));
                        row[0][k] = syn.estimate();
                        row[1][k] = syn.low();
                        row[2][k] = syn.high();
                    }
                    figureRows.add(row);
                }
            }
        }
        md.append('\n');
        return new GroupStats(md.toString(), synergy, counts, main, twin, figureRows, o);
    }

    private static String site(Measured m, int s) {
        return m.groupSites().get(s) == Ablation.Site.MID ? "mid" : "post";
    }

    private static List<String> groupFigure(GroupStats stats, Path out) throws IOException {
        Figure.Series series = new Figure.Series();
        double[] x = {0, 1, 2};
        int row = 0;
        for (Measured m : stats.twin() == null ? List.of(stats.main()) : List.of(stats.main(), stats.twin())) {
            for (int s = 0; s < m.groupSites().size(); s++) {
                double[][] r = stats.figureRows().get(row++);
                String name = m.label() + " at " + site(m, s);
                series.add(name, x, r[0]).interval(name, r[1], r[2]);
            }
        }
        Figure figure = new Figure(Figure.Kind.LINES, "Mean synergy (group Δloss − sum of singles) by set", "set (by activation at the position)",
                "mean synergy (nats)", series, null).withCategories(List.of("lowest", "random", "highest"))
                .withNote("Bars: 95% bootstrap intervals over prompts, as in the table.");
        boolean drawn = Figures.draw(out.resolve("smearing_groups.png"), figure);
        return drawn ? List.of("smearing_groups.png") : List.of();
    }

    /** Checks the pre-registered criterion on the group statistics and says so in words, with the numbers. */
    private static Verdict verdict(GroupStats g, boolean hasControl) {
        Options o = g.options();
        double[][][][] syn = g.synergySums();
        double[] counts = g.counts()[0];
        // main: site 0 = mid, site 1 = post; set 0 = lowest, 1 = random
        Bootstrap.Interval c1 = Bootstrap.meanDifference(syn[0][0][0], counts, null, null, o.resamples(), o.seed());
        Bootstrap.Interval c2a = Bootstrap.meanDifference(syn[0][0][0], counts, syn[0][0][1], counts, o.resamples(), o.seed());
        Bootstrap.Interval c2b = Bootstrap.meanDifference(syn[0][0][0], counts, syn[0][1][0], counts, o.resamples(), o.seed());
        boolean synergy = c1.above0(), specificity = c2a.above0() && c2b.above0(), control = false;
        StringBuilder text = new StringBuilder();
        text.append(String.format(Locale.ROOT, "1. Synergy of the lowest set at mid: %s nats per position: %s.%n", c1.format(),
                synergy ? "holds" : "does not hold"));
        text.append(String.format(Locale.ROOT, "2. Lowest minus random at mid: %s; lowest at mid minus lowest at post: %s: %s.%n", c2a.format(), c2b.format(),
                specificity ? "holds" : "does not hold"));
        if (hasControl) {
            // SoLU's (lowest − random at mid) minus GELU's (lowest − random at post), paired by prompt
            double[] soluDiff = new double[counts.length], geluDiff = new double[counts.length];
            double[] geluCounts = g.counts()[1];
            for (int i = 0; i < counts.length; i++) {
                soluDiff[i] = syn[0][0][0][i] - syn[0][0][1][i];
                geluDiff[i] = syn[1][0][0][i] - syn[1][0][1][i];
            }
            Bootstrap.Interval gelu = Bootstrap.meanDifference(geluDiff, geluCounts, null, null, o.resamples(), o.seed());
            Bootstrap.Interval c3 = Bootstrap.meanDifference(soluDiff, counts, geluDiff, geluCounts, o.resamples(), o.seed());
            control = c3.above0();
            text.append(String.format(Locale.ROOT, "3. GELU's lowest minus random at post: %s; SoLU's minus GELU's: %s: %s.%n", gelu.format(), c3.format(),
                    control ? "holds" : "does not hold"));
        } else {
            text.append("3. No GELU control ran (`--control`): the criterion cannot be met without it.\n");
        }
        if (counts.length < MIN_PROMPTS) {
            text.append('\n').append(String.format(Locale.ROOT, "**No verdict**: %d prompt(s) are too few for intervals over prompts (a resample "
                    + "of one prompt is that prompt); the criterion needs at least %d. The numbers above are descriptive.", counts.length, MIN_PROMPTS));
            return new Verdict(false, false, false, text.toString());
        }
        boolean met = synergy && specificity && control;
        text.append('\n').append(met
                ? "**The data meet the pre-registered criterion: on this model, the weakest neurons matter together through the MLP LayerNorm, "
                        + "beyond a random set and beyond the GELU control.** That is evidence for smearing here, within the intervals stated."
                : "**The data do not meet the pre-registered criterion** (" + failed(synergy, specificity, control) + "): on this model, group "
                        + "ablation gives no evidence that the weakest neurons carry features together through the MLP LayerNorm. This does not "
                        + "exclude smearing at other scales or in other measures; it says these measures, at this precision, do not show it.");
        return new Verdict(synergy, specificity, control, text.toString());
    }

    private static String failed(boolean synergy, boolean specificity, boolean control) {
        List<String> out = new ArrayList<>();
        if (!synergy) {
            out.add("1 fails");
        }
        if (!specificity) {
            out.add("2 fails");
        }
        if (!control) {
            out.add("3 fails");
        }
        return String.join(", ", out);
    }
}
