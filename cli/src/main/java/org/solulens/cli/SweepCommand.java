package org.solulens.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.solulens.analysis.AblationSweep;
import org.solulens.analysis.NeuronSelection;
import org.solulens.analysis.Prompt;
import org.solulens.analysis.Figures;
import org.solulens.analysis.SweepFigures;
import org.solulens.analysis.SweepReport;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.io.Npy;
import org.solulens.model.SoluModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Ablate every selected neuron at every position, one at a time, and report the change of that position's next-token loss.",
                "Writes DIR/delta_loss.npy, float32 [P-1, d_mlp] (row p: change of the loss of predicting token p+1 at position p; "
                        + "unselected pairs NaN), one sub-folder per prompt when there are several, summary.json and, with --csv, sweep.csv;",
                "report.html (interactive: hover a point for its prompt, position, token and neuron; click it for the neuron's page under neurons/) with its two PNGs."})
final class SweepCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    PromptOptions promptOptions;

    @Option(names = "--site", defaultValue = "post", paramLabel = "post|mid",
            description = "post: blocks.0.mlp.hook_post (after the MLP LayerNorm); mid: blocks.0.mlp.hook_mid (before it). Default: ${DEFAULT-VALUE}.")
    String site;

    @Option(names = "--ablation", defaultValue = "zero", paramLabel = "zero|mean|value|paper",
            description = {"zero; mean (the neuron's mean at the site over every position of every prompt of the run, or of --mean-prompts); "
                    + "value (from --values); paper (the seed paper's post-LN ablation: zero the normalized value in TransformerLens's processed model). "
                    + "Default: ${DEFAULT-VALUE}."})
    String ablation;

    @Option(names = "--method", defaultValue = "exact", paramLabel = "exact|reforward|attribution",
            description = "exact: the low-rank algebra (fast); reforward: recompute the forward pass for every ablation (slow truth); "
                    + "attribution: first-order estimate, reported beside the exact values. Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--neurons", defaultValue = "all", paramLabel = "all|IDS", description = "Neurons to ablate at every position: all, or ids like 3,17,42.")
    String neurons;

    @Option(names = "--select", paramLabel = "MODE:K",
            description = "Per position, the K (count, or percentage like 10%%) lowest / highest neurons by --by: lowest:10%%, highest:20; "
                    + "ratio:10%% ranks by the seed's |normalized/max| / |mid/max|.")
    String select;

    @Option(names = "--by", paramLabel = "HOOK", description = "Activation that --select ranks by. Default: blocks.0.mlp.hook_mid (hook_post for models without it).")
    String by;

    @Option(names = "--values", paramLabel = "FILE", description = "Per-neuron replacement values for --ablation value: a .npy of d_mlp floats, or text with one number per line.")
    Path valuesFile;

    @Option(names = "--mean-prompts", paramLabel = "FILE", description = "Prompts (same format as --prompts) whose activations define the mean for --ablation mean.")
    Path meanPrompts;

    @Option(names = "--cosine", description = "Also write logit_cosine.npy: cosine similarity of the ablated position's logits with the clean ones.")
    boolean cosine;

    @Option(names = "--csv", description = "Also write sweep.csv: prompt, position, token, target, neuron, activation, delta_loss (selected pairs).")
    boolean csv;

    @Option(names = "--no-report", description = "Write no report.html, figures or neuron pages (timing the sweep alone; the .npy files and summary.json are written as always).")
    boolean noReport;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
    Path out;

    @Mixin
    QuietOption quietOption = new QuietOption();

    @Option(names = "--overwrite", description = "Replace the results already in --out (by default a folder holding files is refused).")
    boolean overwrite;

    @Option(names = "--allow-nonfinite", description = "Write results even where a loss or a Δloss is NaN or infinite, with one warning, instead of failing.")
    boolean allowNonFinite;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        // the options that need no model are checked before it loads (a typo should not cost a model load)
        Ablation.Site.parse(site);
        Ablation.Kind.parse(ablation);
        SweepMethod.parse(method);
        if (select != null && !neurons.equalsIgnoreCase("all")) {
            throw new IllegalArgumentException("give either --neurons or --select, not both");
        }
        if (select == null) {
            NeuronSelection.parseNeurons(neurons, modelOptions.config().dMlp());
        }
        try (OutputFolder folder = OutputFolder.open(out, "--out", overwrite);
             SoluModel model = modelOptions.loadModel(); Backend backend = modelOptions.backend(model)) {
            List<Prompt> prompts = promptOptions.resolve(model);
            AblationSweep.Settings settings = settings(model);
            AblationSweep.Run run;
            try (AblationSweep.ConsoleProgress progress = new AblationSweep.ConsoleProgress(settings, prompts, quietOption.quiet)) {
                run = AblationSweep.run(backend, prompts, settings, progress);
            }
            NonFiniteOutputs nonFinite = new NonFiniteOutputs(allowNonFinite);
            for (int i = 0; i < run.results().size(); i++) {
                nonFinite.checkLoss(i, run.results().get(i).clean().loss());
                AblationSweep.PromptResult r = run.results().get(i);
                nonFinite.checkDelta(i, r.result(), settings.selection().mask(r.clean(), model.config().dMlp()));
            }
            Map<String, Object> summary = SweepReport.write(folder.staging(), model, run, csv);
            if (!noReport) {
                try (Figures.Recording figures = Figures.record()) {
                    List<String> drawn = SweepFigures.write(folder.staging(), model, run);
                    InteractiveReport.write(folder.staging(), "SoluLens: ablation sweep", SweepReport.markdown(summary, drawn), figures);
                }
            }
            folder.commit(spec.commandLine().getParseResult().originalArgs());
            SweepReport.print(stdout, summary);
            stdout.println("outputs written to " + out.toAbsolutePath());
            if (!noReport) {
                InteractiveReport.announce(stdout, out);
            }
            nonFinite.report(spec.commandLine().getErr());
        }
        return 0;
    }

    private AblationSweep.Settings settings(SoluModel model) throws IOException {
        Ablation.Site s = Ablation.Site.parse(site);
        Ablation.Kind kind = Ablation.Kind.parse(ablation);
        if (kind == Ablation.Kind.VALUE && valuesFile == null) {
            throw new IllegalArgumentException("--ablation value needs --values FILE");
        }
        double[] values = kind == Ablation.Kind.VALUE ? readValues(valuesFile) : null;
        List<int[]> means = meanPrompts == null ? null
                : PromptOptions.readFile(meanPrompts, model, promptOptions.prependBos(model)).stream().map(Prompt::tokens).toList();
        String hook = by != null ? by : model.config().actFn().hasMlpLayerNorm() ? Hooks.MLP_MID : Hooks.MLP_POST;
        Hooks.select(model.config(), List.of(hook));
        if (!List.of(Hooks.MLP_PRE, Hooks.MLP_MID, Hooks.MLP_LN_NORMALIZED, Hooks.MLP_POST).contains(hook)) {
            throw new IllegalArgumentException("--by " + hook + ": selections rank neurons, so the hook must be one of [pos, d_mlp]: "
                    + String.join(", ", Hooks.MLP_PRE, Hooks.MLP_MID, Hooks.MLP_LN_NORMALIZED, Hooks.MLP_POST));
        }
        if (select != null && !neurons.equalsIgnoreCase("all")) {
            throw new IllegalArgumentException("give either --neurons or --select, not both");
        }
        NeuronSelection selection = select != null ? NeuronSelection.parseSelect(select, hook) : NeuronSelection.parseNeurons(neurons);
        return new AblationSweep.Settings(s, kind, values, means, SweepMethod.parse(method), selection, cosine);
    }

    static double[] readValues(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("values file " + file + " does not exist");
        }
        if (file.toString().endsWith(".npy")) {
            float[] f = Npy.read(file).data();
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        }
        try {
            return Files.readAllLines(file).stream().map(String::trim).filter(l -> !l.isEmpty()).mapToDouble(Double::parseDouble).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("values file " + file + ": " + e.getMessage() + " is not a number");
        }
    }
}
