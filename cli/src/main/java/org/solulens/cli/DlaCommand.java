package org.solulens.cli;

import java.util.concurrent.Callable;
import org.solulens.analysis.Figures;
import org.solulens.analysis.DlaStudy;
import org.solulens.backend.Backend;
import org.solulens.model.SoluModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "dla", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Direct logit attribution toward the correct next token, of the MLP and of every neuron (seed paper, Part 3).",
                "DLA of x at p = ((x - mean x) / ln_final.hook_scale[p]) ⊙ ln_final.w · W_U[:, t]. Writes mlp_dla.npy [P-1], neuron_dla.npy [P-1, d_mlp]",
                "(one sub-folder per prompt when there are several), dla.csv, mlp_dla_hist.png and dla.md listing positions where",
                "the MLP's DLA is high but no single neuron's is, and report.html (the same, with an interactive histogram)."})
final class DlaCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    ExperimentOptions experiment;

    @Option(names = "--mlp-threshold", paramLabel = "X", description = "MLP DLA that counts as high. Default: mean + 1 standard deviation over all positions.")
    Double mlpThreshold;

    @Option(names = "--neuron-fraction", defaultValue = "0.25", paramLabel = "F",
            description = "No single neuron is high when each neuron's DLA is below F × the MLP's. Default: ${DEFAULT-VALUE}.")
    double neuronFraction;

    @Option(names = "--tl-variant", description = "TransformerLens's logit_attrs convention: leave ln_final.w out (then DLAs do not sum to the logit).")
    boolean tlVariant;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        try (OutputFolder folder = OutputFolder.open(experiment.out, "--out", experiment.overwrite);
             SoluModel model = modelOptions.loadModel(); Backend backend = modelOptions.backend(model);
             Figures.Recording figures = Figures.record()) {
            DlaStudy.Result r = DlaStudy.run(backend, experiment.prompts(model),
                    new DlaStudy.Options(mlpThreshold == null ? Double.NaN : mlpThreshold, neuronFraction, tlVariant), folder.staging(), experiment.quiet());
            spec.commandLine().getOut().print(r.summary());
            InteractiveReport.write(folder.staging(), "SoluLens: direct logit attribution", InteractiveReport.section(r.summary(), "", r.figures()), figures);
            folder.commit(spec.commandLine().getParseResult().originalArgs());
            spec.commandLine().getOut().println("outputs written to " + experiment.out.toAbsolutePath() + " (figures: " + String.join(", ", r.figures()) + ")");
            InteractiveReport.announce(spec.commandLine().getOut(), experiment.out);
        }
        return 0;
    }
}
