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
import org.solulens.backend.Hooks;
import org.solulens.model.ModelConfig;

/**
 * Part 1 of the seed paper: the LayerNorm scale (and the factor 1/scale it applies) against prompt length, for
 * prompt families, at every LN site. Headline: the MLP's LayerNorm {@code blocks.0.mlp.ln}, whose scale is bounded
 * below by sqrt(eps), so the factor it applies is at most 1/sqrt(eps).
 */
public final class LnScaleStudy {
    /** The LN sites and their scale hooks, headline first. */
    static final Map<String, String> SITES = new LinkedHashMap<>();

    static {
        SITES.put("mlp.ln", Hooks.MLP_LN_SCALE);
        SITES.put("ln1", Hooks.LN1_SCALE);
        SITES.put("ln2", Hooks.LN2_SCALE);
        SITES.put("ln_final", Hooks.LN_FINAL_SCALE);
    }

    /** Mean and last-position scale of one prompt at one site. */
    public record Row(String family, int prompt, int tokens, String site, double meanScale, double lastScale,
                      double meanInverse, double lastInverse) {}

    /** The study's rows, its figure files (none without a {@link FigureRenderer}) and its Markdown summary. */
    public record Result(List<Row> rows, List<String> figures, String summary) {}

    private LnScaleStudy() {}

    /** Runs the study on prompt families (name to prompts), writing its table, figures and summary into {@code out}. */
    public static Result run(Backend backend, Map<String, List<Prompt>> families, Path out, boolean quiet) throws IOException {
        Files.createDirectories(out);
        ModelConfig cfg = backend.model().config();
        List<String> sites = new ArrayList<>();
        for (String site : SITES.keySet()) {
            if (!site.equals("mlp.ln") || cfg.actFn().hasMlpLayerNorm()) {
                sites.add(site);
            }
        }
        List<String> hooks = sites.stream().map(SITES::get).toList();
        List<Row> rows = new ArrayList<>();
        int total = families.values().stream().mapToInt(List::size).sum();
        try (Progress progress = Progress.start("ln-scale", total, quiet);
             PrintWriter positions = new PrintWriter(Files.newBufferedWriter(out.resolve("ln_scale_positions.csv")))) {
            positions.println("family,prompt,n_tokens,position,site,scale,inv_scale");
            for (Map.Entry<String, List<Prompt>> family : families.entrySet()) {
                List<Prompt> prompts = family.getValue();
                for (int i = 0; i < prompts.size(); i++) {
                    ForwardResult r = backend.run(prompts.get(i).tokens(), hooks);
                    int n = prompts.get(i).tokens().length;
                    for (String site : sites) {
                        double[] scale = r.get(SITES.get(site)).data();
                        double sum = 0, inv = 0;
                        for (int p = 0; p < n; p++) {
                            sum += scale[p];
                            inv += 1 / scale[p];
                            positions.printf(Locale.ROOT, "%s,%d,%d,%d,%s,%.9g,%.9g%n", family.getKey(), i, n, p, site, scale[p], 1 / scale[p]);
                        }
                        rows.add(new Row(family.getKey(), i, n, site, sum / n, scale[n - 1], inv / n, 1 / scale[n - 1]));
                    }
                    progress.step();
                }
            }
        }
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out.resolve("ln_scale_prompts.csv")))) {
            w.println("family,prompt,n_tokens,site,mean_scale,last_scale,mean_inv_scale,last_inv_scale");
            for (Row r : rows) {
                w.printf(Locale.ROOT, "%s,%d,%d,%s,%.9g,%.9g,%.9g,%.9g%n", r.family(), r.prompt(), r.tokens(), r.site(),
                        r.meanScale(), r.lastScale(), r.meanInverse(), r.lastInverse());
            }
        }
        List<String> figures = new ArrayList<>();
        for (String site : sites) {
            Figure.Series series = new Figure.Series();
            for (String family : families.keySet()) {
                List<Row> fr = rows.stream().filter(r -> r.family().equals(family) && r.site().equals(site))
                        .sorted(java.util.Comparator.comparingInt(Row::tokens)).toList();
                List<Prompt> fp = families.get(family);
                series.add(family, fr.stream().mapToDouble(Row::tokens).toArray(), fr.stream().mapToDouble(Row::meanScale).toArray())
                        .alternative(family, fr.stream().mapToDouble(Row::meanInverse).toArray())
                        .describe(family, "prompt", fr.stream().map(r -> PointIdentities.label(r.prompt(), fp.get(r.prompt()))).toArray(String[]::new));
                if (!prefixes(fp)) {
                    series.unconnected(family);   // unrelated prompts: a line between them would suggest a sequence
                }
            }
            String file = "ln_scale_" + site.replace('.', '_') + ".png";
            String title = "LayerNorm scale at " + site + " (mean over positions) vs prompt length";
            boolean mlp = site.equals("mlp.ln");
            Figure figure = new Figure(Figure.Kind.LINES, title, "number of tokens", "scale = sqrt(var + eps)", series,
                    mlp ? new Figure.Reference("sqrt(eps)", Math.sqrt(cfg.eps())) : null)
                    .withAlternativeY("factor 1/scale (mean over positions)", mlp ? 1 / Math.sqrt(cfg.eps()) : Double.NaN);
            Figures.draw(out.resolve(file), figure);
            if (Figures.available()) {
                figures.add(file);
            }
        }
        String summary = summary(rows, families.keySet(), sites, cfg.eps());
        Files.writeString(out.resolve("ln_scale.md"), summary);
        return new Result(rows, figures, summary);
    }

    private static String summary(List<Row> rows, java.util.Set<String> families, List<String> sites, double eps) {
        StringBuilder md = new StringBuilder("# LayerNorm scale vs prompt length\n\n");
        md.append(String.format(Locale.ROOT, "sqrt(eps) = %.4g: the MLP LayerNorm's scale cannot go below it, so the factor it applies is at most %.4g.%n%n",
                Math.sqrt(eps), 1 / Math.sqrt(eps)));
        md.append("| family | site | prompts | tokens | mean scale, shortest prompt | mean scale, longest prompt | Spearman(length, scale) |\n");
        md.append("| --- | --- | --- | --- | --- | --- | --- |\n");
        for (String family : families) {
            for (String site : sites) {
                List<Row> fr = rows.stream().filter(r -> r.family().equals(family) && r.site().equals(site))
                        .sorted(java.util.Comparator.comparingInt(Row::tokens)).toList();
                if (fr.isEmpty()) {
                    continue;
                }
                md.append(String.format(Locale.ROOT, "| %s | %s | %d | %d–%d | %.4g | %.4g | %.2f |%n", family, site, fr.size(),
                        fr.get(0).tokens(), fr.get(fr.size() - 1).tokens(), fr.get(0).meanScale(), fr.get(fr.size() - 1).meanScale(),
                        Statistics.spearman(fr.stream().mapToDouble(Row::tokens).toArray(), fr.stream().mapToDouble(Row::meanScale).toArray())));
            }
        }
        return md.toString();
    }

    /** Whether a family's prompts, shortest first, each begin with the one before: one growing sequence, drawn as a line. */
    static boolean prefixes(List<Prompt> prompts) {
        List<int[]> sorted = prompts.stream().map(Prompt::tokens).sorted(java.util.Comparator.comparingInt(t -> t.length)).toList();
        for (int i = 1; i < sorted.size(); i++) {
            int[] a = sorted.get(i - 1), b = sorted.get(i);
            if (a.length >= b.length || !java.util.Arrays.equals(a, 0, a.length, b, 0, a.length)) {
                return false;
            }
        }
        return true;
    }
}
