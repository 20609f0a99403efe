package org.solulens.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.solulens.analysis.Prompt;
import org.solulens.analysis.Figures;
import org.solulens.analysis.SmearingStudy;
import org.solulens.backend.Backend;
import org.solulens.model.DemoModel;
import org.solulens.model.SoluModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "smearing", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Ask the smearing question directly, with a criterion fixed before the numbers.",
                "Each neuron's effect at each position split into direct, MLP-LayerNorm-mediated and ln_final-mediated parts (exact);",
                "the lowest, a random and the highest --fraction of neurons ablated together at each position, before and after the",
                "MLP LayerNorm, against the sum of their single effects; the same on a GELU control without an MLP LayerNorm.",
                "Writes CSV and npy files, three figures, smearing.md with the verdict and report.html (interactive: hover a point for its",
                "prompt, position, token and neuron; bootstrap intervals as error bars)."})
final class SmearingCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    ExperimentOptions experiment;

    @Option(names = "--control", paramLabel = "MODEL|none",
            description = "The GELU control (a model as --model takes: demo-gelu, a folder, hf:ORG/NAME), or none. "
                    + "Default: demo-gelu with the demo model, none otherwise (for solu-1l, gelu-1l is the twin: hf:NeelNanda/GELU_1L512W_C4_Code).")
    String control;

    @Option(names = "--fraction", defaultValue = "0.1", description = "Group size as a fraction of d_mlp. Default: ${DEFAULT-VALUE} (the paper's lowest 10%%).")
    double fraction;

    @Option(names = "--bootstrap", defaultValue = "2000", paramLabel = "N", description = "Bootstrap resamples over prompts. Default: ${DEFAULT-VALUE}.")
    int resamples;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random sets and the bootstrap. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        SmearingStudy.Options options = new SmearingStudy.Options(fraction, resamples, seed);   // checked before any model loads
        String controlName = control != null ? control
                : modelOptions.model == null || modelOptions.model.equals(DemoModel.NAME) ? DemoModel.GELU_NAME : "none";
        try (OutputFolder folder = OutputFolder.open(experiment.out, "--out", experiment.overwrite);
             SoluModel model = modelOptions.loadModel(); Backend backend = modelOptions.backend(model);
             SoluModel controlModel = controlName.equals("none") ? null : ModelOptions.load(controlName, false);
             Backend controlBackend = controlModel == null ? null : modelOptions.backend(controlModel);
             Figures.Recording figures = Figures.record()) {
            List<Prompt> prompts = experiment.prompts(model);
            List<Prompt> controlPrompts = controlModel == null ? null : experiment.prompts(controlModel);
            SmearingStudy.Result r = SmearingStudy.run(backend, prompts, controlBackend, controlPrompts, options, folder.staging(), experiment.quiet());
            spec.commandLine().getOut().print(r.verdict().text());
            InteractiveReport.write(folder.staging(), "SoluLens: does the MLP LayerNorm recover what SoLU suppresses?", InteractiveReport.section(r.summary(), "", r.figures()), figures);
            folder.commit(spec.commandLine().getParseResult().originalArgs());
            spec.commandLine().getOut().println("\nreport written to " + experiment.out.resolve("smearing.md").toAbsolutePath()
                    + (r.figures().isEmpty() ? "" : " (figures: " + String.join(", ", r.figures()) + ")"));
            InteractiveReport.announce(spec.commandLine().getOut(), experiment.out);
        }
        return 0;
    }
}
