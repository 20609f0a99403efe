package org.solulens.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.solulens.analysis.LnScaleExplanation;
import org.solulens.analysis.Figures;
import org.solulens.analysis.LnScaleStudy;
import org.solulens.analysis.Prompt;
import org.solulens.analysis.PromptFamilies;
import org.solulens.backend.Backend;
import org.solulens.model.SoluModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "ln-scale", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"LayerNorm scale vs prompt length for prompt families (seed paper, Part 1), at ln1, ln2, mlp.ln and ln_final.",
                "Writes ln_scale_prompts.csv, ln_scale_positions.csv, ln_scale_<site>.png (one line per family), ln_scale.md",
                "and report.html (the same figures, interactive: hover for the prompt, switch to the factor 1/scale)."})
final class LnScaleCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    ExperimentOptions experiment;

    @Option(names = "--families", split = ",", defaultValue = "sentences,repeat,random-words", paramLabel = "LIST",
            description = "Prompt families: sentences (--prompts or the bundled ones), repeat (\"BOS w w w ...\"), random-words (prefixes of one random word string). Default: ${DEFAULT-VALUE}.")
    List<String> families;

    @Option(names = "--word", defaultValue = "ice", description = "The repeated word of the repeat family. Default: ${DEFAULT-VALUE}.")
    String word;

    @Option(names = "--max-tokens", defaultValue = "48", description = "Longest repeat / random-words prompt, in tokens (capped at n_ctx). Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random word string. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--explain", description = "Also explain the MLP LayerNorm factor's trend: its change along each prompt split exactly among embed,"
            + " pos_embed and attn_out (Shapley values), the mediators, a fit against log(position), and the answer in words"
            + " (ln_scale_explain.md, ln_scale_explain.csv, two figures per family).")
    boolean explain;

    @Option(names = "--explain-prompts", defaultValue = "8", paramLabel = "N",
            description = "With --explain: independent prompts per repeat and random-words family (different words, different seeds). Default: ${DEFAULT-VALUE}.")
    int explainPrompts;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        try (OutputFolder folder = OutputFolder.open(experiment.out, "--out", experiment.overwrite);
             SoluModel model = modelOptions.loadModel(); Backend backend = modelOptions.backend(model);
             Figures.Recording figures = Figures.record()) {
            if (explain && explainPrompts < 2) {
                throw new IllegalArgumentException("--explain-prompts must be at least 2 (a bootstrap over one prompt has no spread), got " + explainPrompts);
            }
            LnScaleStudy.Result r = LnScaleStudy.run(backend, families(model), folder.staging(), experiment.quiet());
            spec.commandLine().getOut().print(r.summary());
            LnScaleExplanation.Result explained = null;
            if (explain) {
                Map<String, List<Prompt>> independent = LnScaleExplanation.families(model, experiment.prompts(model), Math.min(maxTokens,
                        model.config().nCtx()), explainPrompts, seed, experiment.bos(model));
                explained = LnScaleExplanation.run(backend, independent, folder.staging(), experiment.quiet());
                spec.commandLine().getOut().println();
                explained.answers().forEach(a -> spec.commandLine().getOut().println(a.sentence()));
            }
            InteractiveReport.write(folder.staging(), "SoluLens: LayerNorm scale vs prompt length", InteractiveReport.section(r.summary(), "", r.figures())
                    + (explained == null ? "" : InteractiveReport.section(explained.summary(), "", explained.figures())), figures);
            folder.commit(spec.commandLine().getParseResult().originalArgs());
            spec.commandLine().getOut().println("outputs written to " + experiment.out.toAbsolutePath() + " (figures: " + String.join(", ", r.figures()) + ")");
            InteractiveReport.announce(spec.commandLine().getOut(), experiment.out);
        }
        return 0;
    }

    Map<String, List<Prompt>> families(SoluModel model) throws java.io.IOException {
        if (maxTokens < 2) {
            throw new IllegalArgumentException("--max-tokens must be at least 2, got " + maxTokens);
        }
        Map<String, List<Prompt>> out = new LinkedHashMap<>();
        boolean bos = experiment.bos(model);
        for (String f : families) {
            switch (f.trim()) {
                case "sentences" -> out.put("sentences", experiment.prompts(model));
                case "repeat" -> out.put("repeat", PromptFamilies.repeat(model, word, maxTokens - (bos ? 1 : 0), bos));
                case "random-words" -> out.put("random-words", PromptFamilies.randomWordPrefixes(model, maxTokens, seed, bos));
                default -> throw new IllegalArgumentException("unknown family '" + f + "'; expected sentences, repeat or random-words");
            }
        }
        return out;
    }
}
