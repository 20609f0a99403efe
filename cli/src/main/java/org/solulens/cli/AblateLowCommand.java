package org.solulens.cli;

import java.util.concurrent.Callable;
import org.solulens.analysis.Figures;
import org.solulens.analysis.LowActivationAblation;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.model.SoluModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "ablate-low", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Per position, the lowest 10%% of neurons by hook_mid, ablated after the MLP LayerNorm (seed paper, Part 2).",
                "Every neuron is swept exactly; writes ablate_low.csv, ablate_low_lowest.png, ablate_low_all.png (activation vs Δloss), ablate_low.md",
                "and report.html (the same figures, interactive: hover a point for its prompt, position, token and neuron)."})
final class AblateLowCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    ExperimentOptions experiment;

    @Option(names = "--fraction", defaultValue = "0.1", description = "Share of d_mlp in the low set per position. Default: ${DEFAULT-VALUE}.")
    double fraction;

    @Option(names = "--ablation", defaultValue = "paper", paramLabel = "paper|zero|mean",
            description = "paper: zero the normalized value in TransformerLens's processed model, as the seed did; zero: hook_post := 0; "
                    + "mean: the neuron's mean over the prompts. Default: ${DEFAULT-VALUE}.")
    String ablation;

    @Option(names = "--ratio", description = "Choose the low set as the seed's code did: lowest |normalized/max| / |mid/max|.")
    boolean ratio;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("--fraction must be in (0, 1], got " + fraction);
        }
        Ablation.Kind kind = Ablation.Kind.parse(ablation);
        if (kind == Ablation.Kind.VALUE) {
            throw new IllegalArgumentException("ablate-low takes --ablation paper, zero or mean");
        }
        try (OutputFolder folder = OutputFolder.open(experiment.out, "--out", experiment.overwrite);
             SoluModel model = modelOptions.loadModel(); Backend backend = modelOptions.backend(model);
             Figures.Recording figures = Figures.record()) {
            LowActivationAblation.Result r = LowActivationAblation.run(backend, experiment.prompts(model), kind, fraction, ratio,
                    folder.staging(), experiment.quiet());
            spec.commandLine().getOut().print(r.summary());
            InteractiveReport.write(folder.staging(), "SoluLens: ablating low-activation neurons", InteractiveReport.section(r.summary(), "", r.figures()), figures);
            folder.commit(spec.commandLine().getParseResult().originalArgs());
            spec.commandLine().getOut().println("outputs written to " + experiment.out.toAbsolutePath() + " (figures: " + String.join(", ", r.figures()) + ")");
            InteractiveReport.announce(spec.commandLine().getOut(), experiment.out);
        }
        return 0;
    }
}
