package org.solulens.cli;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import org.solulens.backend.Backends;
import org.solulens.model.SoluModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the model's configuration, its parameter count and which backends can run here.")
final class InfoCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    QuietOption quietOption = new QuietOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (SoluModel model = modelOptions.loadModel()) {
            out.println("model: " + model.description());
            for (Map.Entry<String, Object> e : model.config().toTlMap().entrySet()) {
                out.printf("  %-26s %s%n", e.getKey(), e.getValue());
            }
            out.printf("  %-26s %,d%n", "parameters", model.config().parameterCount());
            out.printf("  %-26s %s%n", "tokenizer", model.tokenizerIfAny()
                    .map(t -> "yes (BOS id " + (t.bosId() < 0 ? "none" : t.bosId()) + ")").orElse("none: give prompts as token ids"));
            if (!model.notes().isEmpty()) {
                out.println("how it was read:");
                for (String note : model.notes()) {
                    out.println("  " + note);
                }
            }
            out.println("backends:");
            for (String line : Backends.availability()) {
                out.println("  " + line);
            }
        }
        return 0;
    }
}
