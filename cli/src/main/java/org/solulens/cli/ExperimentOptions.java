package org.solulens.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.solulens.analysis.PromptFamilies;
import org.solulens.analysis.Prompt;
import org.solulens.model.SoluModel;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Options every experiment shares: its prompts in the same three forms as run and sweep ({@code --prompt},
 * {@code --tokens}, {@code --prompts}; default: the bundled sentences), --no-bos, --out, --quiet.
 */
final class ExperimentOptions {
    @ArgGroup(exclusive = true, multiplicity = "0..1")
    PromptOptions.Source source;

    @Option(names = "--no-bos", description = "Do not prepend the BOS token to text prompts.")
    boolean noBos;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (CSV, PNG figures, a Markdown summary).")
    Path out;

    @Mixin
    QuietOption quietOption = new QuietOption();

    @Option(names = "--overwrite", description = "Replace the results already in --out (by default a folder holding files is refused).")
    boolean overwrite;

    boolean bos(SoluModel model) {
        return !noBos && model.config().defaultPrependBos();
    }

    /** What the prompts are, for reports: "the bundled sentences", a file, one text or one token list. */
    String describePrompts() {
        if (source == null) {
            return "the bundled sentences";
        }
        return source.file != null ? source.file.toString() : source.text != null ? "\"" + source.text + "\"" : "token ids "
                + java.util.Arrays.toString(source.tokens);
    }

    List<Prompt> prompts(SoluModel model) throws IOException {
        if (source != null) {
            PromptOptions one = new PromptOptions();
            one.source = source;
            one.noBos = noBos;
            return one.resolve(model);
        }
        List<Prompt> out = new ArrayList<>();
        for (String s : PromptFamilies.defaultSentences()) {
            out.add(new Prompt(s, model.tokenize(s, bos(model))));
        }
        return out;
    }

    boolean quiet() {
        return quietOption.quiet;
    }
}
