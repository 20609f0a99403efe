package org.solulens.cli;

import java.util.concurrent.Callable;
import org.solulens.analysis.Figures;
import org.solulens.analysis.SmearTest;
import org.solulens.backend.Backend;
import org.solulens.model.SoluModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "smear", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Seed paper, Part 2b: are top-scored positions amplified more by the MLP LayerNorm than random ones?",
                "Per position: ablation loss (whole hook_mid zeroed) x inverse outlier score; the top positions' LayerNorm",
                "amplification against random ones with a permutation test. Writes smear.csv, two scatter plots, smear.md",
                "and report.html (the same figures, interactive: hover a point for its prompt, position and token)."})
final class SmearCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    ExperimentOptions experiment;

    @Option(names = "--top", defaultValue = "10", description = "How many top-scored (and random) positions to compare. Default: ${DEFAULT-VALUE}.")
    int top;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random positions and the permutation test. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (top < 1) {
            throw new IllegalArgumentException("--top must be at least 1, got " + top);
        }
        try (OutputFolder folder = OutputFolder.open(experiment.out, "--out", experiment.overwrite);
             SoluModel model = modelOptions.loadModel(); Backend backend = modelOptions.backend(model);
             Figures.Recording figures = Figures.record()) {
            SmearTest.Result r = SmearTest.run(backend, experiment.prompts(model), top, seed, folder.staging(), experiment.quiet());
            spec.commandLine().getOut().print(r.summary());
            InteractiveReport.write(folder.staging(), "SoluLens: smearing test", InteractiveReport.section(r.summary(), "", r.figures()), figures);
            folder.commit(spec.commandLine().getParseResult().originalArgs());
            spec.commandLine().getOut().println("outputs written to " + experiment.out.toAbsolutePath() + " (figures: " + String.join(", ", r.figures()) + ")");
            InteractiveReport.announce(spec.commandLine().getOut(), experiment.out);
        }
        return 0;
    }
}
