package org.solulens.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.solulens.analysis.PromptFamilies;
import org.solulens.analysis.Prompt;
import org.solulens.model.SoluModel;
import picocli.CommandLine.Option;

/** Options every experiment shares: its prompts (default: the bundled sentences), --no-bos, --out, --quiet. */
final class ExperimentOptions {
    @Option(names = "--prompts", paramLabel = "FILE",
            description = "Prompts: one text per line, or JSON lines {\"text\": ...} / {\"tokens\": [...]}. Default: the bundled sentences.")
    Path prompts;

    @Option(names = "--no-bos", description = "Do not prepend the BOS token to text prompts.")
    boolean noBos;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (CSV, PNG figures, a Markdown summary).")
    Path out;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

    @Option(names = "--overwrite", description = "Replace the results already in --out (by default a folder holding files is refused).")
    boolean overwrite;

    boolean bos(SoluModel model) {
        return !noBos && model.config().defaultPrependBos();
    }

    List<Prompt> prompts(SoluModel model) throws IOException {
        if (prompts != null) {
            return PromptOptions.readFile(prompts, model, bos(model));
        }
        List<Prompt> out = new ArrayList<>();
        for (String s : PromptFamilies.defaultSentences()) {
            out.add(new Prompt(s, model.tokenize(s, bos(model))));
        }
        return out;
    }
}
