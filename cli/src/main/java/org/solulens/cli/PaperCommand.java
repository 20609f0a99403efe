package org.solulens.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.solulens.analysis.DlaStudy;
import org.solulens.analysis.Figures;
import org.solulens.analysis.LnScaleExplanation;
import org.solulens.analysis.LnScaleStudy;
import org.solulens.analysis.LowActivationAblation;
import org.solulens.analysis.Prompt;
import org.solulens.analysis.PromptFamilies;
import org.solulens.analysis.SmearTest;
import org.solulens.analysis.SmearingStudy;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.model.DemoModel;
import org.solulens.model.SoluModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "paper", mixinStandardHelpOptions = true,
        description = {"Run the seed paper's four experiments and the direct smearing study with default settings, and write one report.md linking every figure",
                "and one report.html with every figure interactive (hover a point for its prompt, position, token and neuron; works offline).",
                "ln-scale, ablate-low, smear, dla and smearing each write into a sub-folder of --out."})
final class PaperCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    ExperimentOptions experiment;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        try (OutputFolder folder = OutputFolder.open(experiment.out, "--out", experiment.overwrite);
             SoluModel model = modelOptions.loadModel(); Backend backend = modelOptions.backend(model);
             Figures.Recording figures = Figures.record()) {
            Path out = folder.staging();
            List<Prompt> prompts = experiment.prompts(model);
            boolean bos = experiment.bos(model);
            Map<String, List<Prompt>> families = new LinkedHashMap<>();
            families.put("sentences", prompts);
            families.put("repeat", PromptFamilies.repeat(model, "ice", 47, bos));
            families.put("random-words", PromptFamilies.randomWordPrefixes(model, 48, 1, bos));
            StringBuilder md = new StringBuilder("# SoluLens: the smearing paper's experiments\n\n");
            md.append("Model: ").append(model.description()).append(". Backend: ").append(backend.name())
                    .append(". Prompts: ").append(experiment.describePrompts())
                    .append(" (").append(prompts.size()).append("). Date: ").append(LocalDate.now()).append(".\n\n");
            LnScaleStudy.Result ln = LnScaleStudy.run(backend, families, out.resolve("ln-scale"), experiment.quiet());
            section(md, "ln-scale", ln.summary(), ln.figures());
            LnScaleExplanation.Result why = LnScaleExplanation.run(backend, LnScaleExplanation.families(model, prompts,
                    Math.min(48, model.config().nCtx()), 8, 1, bos), out.resolve("ln-scale"), experiment.quiet());
            section(md, "ln-scale", why.summary(), why.figures());
            LowActivationAblation.Result low = LowActivationAblation.run(backend, prompts, Ablation.Kind.PAPER, 0.1, false,
                    out.resolve("ablate-low"), experiment.quiet());
            section(md, "ablate-low", low.summary(), low.figures());
            SmearTest.Result smear = SmearTest.run(backend, prompts, 10, 1, out.resolve("smear"), experiment.quiet());
            section(md, "smear", smear.summary(), smear.figures());
            DlaStudy.Result dla = DlaStudy.run(backend, prompts, new DlaStudy.Options(Double.NaN, 0.25, false), out.resolve("dla"), experiment.quiet());
            section(md, "dla", dla.summary(), dla.figures());
            // the smearing question asked directly; the GELU twin is the control where the model is the bundled one
            boolean demo = modelOptions.model == null || modelOptions.model.equals(DemoModel.NAME);
            try (SoluModel gelu = demo ? DemoModel.loadGelu() : null; Backend geluBackend = demo ? modelOptions.backend(gelu) : null) {
                SmearingStudy.Result smearing = SmearingStudy.run(backend, prompts, geluBackend, demo ? experiment.prompts(gelu) : null,
                        new SmearingStudy.Options(0.1, 2000, 1), out.resolve("smearing"), experiment.quiet());
                section(md, "smearing", smearing.summary(), smearing.figures());
            }
            Files.writeString(out.resolve("report.md"), md.toString());
            InteractiveReport.write(out, "SoluLens: the smearing paper's experiments", md.toString(), figures);
            folder.commit(spec.commandLine().getParseResult().originalArgs());
            spec.commandLine().getOut().println("report written to " + experiment.out.resolve("report.md").toAbsolutePath());
            InteractiveReport.announce(spec.commandLine().getOut(), experiment.out);
        }
        return 0;
    }

    /** One experiment's summary with its headings pushed down a level and its figures linked. */
    private static void section(StringBuilder md, String dir, String summary, List<String> figures) {
        md.append(InteractiveReport.section(summary.replaceAll("(?m)^# ", "## "), dir, figures));
    }
}
