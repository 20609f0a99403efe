package org.solulens.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.solulens.model.SafetensorsWriter;
import org.solulens.model.DemoModel;
import org.solulens.model.SoluModel;
import org.solulens.model.hub.ModelSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "convert", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write a model in SoluLens's own folder format: config.json (TransformerLens's fields), model.safetensors",
                "(float32, TransformerLens's names) and, if the model has one, tokenizer.json with tokenizer_config.json.",
                "Made for Hugging Face snapshots (model_final.pth): later loads then map the weights instead of reading a pickle.",
                "Every value is kept bit for bit (float16 and bfloat16 weights are widened exactly)."})
final class ConvertCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR|hf:ORG/NAME",
            description = "What to convert: a model folder, a Hugging Face snapshot folder, or hf:ORG/NAME[@REV] from the Hugging Face cache.")
    String model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The folder to write (refused if it holds files, unless --overwrite).")
    Path out;

    @Option(names = "--overwrite", description = "Replace the files of an existing --out folder.")
    boolean overwrite;

    @Option(names = "--ignore-extra-tensors", description = "Convert even if the checkpoint holds tensors the model does not use (they are left out).")
    boolean ignoreExtraTensors;

    @Mixin
    QuietOption quietOption = new QuietOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (model != null && DemoModel.byName(model) == null) {
            refuseOverlap(out, ModelSource.resolve(model));
        }
        try (OutputFolder folder = OutputFolder.open(out, "--out", overwrite);
             SoluModel m = ModelOptions.load(model, ignoreExtraTensors)) {
            Path dir = folder.staging();
            ObjectMapper json = new ObjectMapper();
            writing("config.json", () -> json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), m.config().toTlMap()));
            writing("model.safetensors", () -> SafetensorsWriter.write(dir.resolve("model.safetensors"), m.weights().byName().values()));
            if (m.tokenizer() != null) {
                writing("tokenizer.json", () -> Files.write(dir.resolve("tokenizer.json"), m.tokenizer().json()));
                if (m.tokenizer().bosToken() != null) {
                    writing("tokenizer_config.json", () -> json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer_config.json").toFile(),
                            Map.of("bos_token", m.tokenizer().bosToken())));
                }
            }
            folder.commit(spec.commandLine().getParseResult().originalArgs());
            spec.commandLine().getOut().println("converted " + m.description() + ": " + m.weights().byName().size() + " tensors, "
                    + String.format("%,d", m.config().parameterCount()) + " parameters, tokenizer " + (m.tokenizer() == null ? "none" : "included")
                    + "; written to " + out.toAbsolutePath());
        }
        return 0;
    }

    /**
     * Refuses an output folder that is, contains or lies inside the input: replacing it (--overwrite) would delete the
     * model being read. The input is the model's folder and, for a Hugging Face snapshot, the folders its links lead to
     * (the repository's blobs). Links are followed on both sides.
     */
    static void refuseOverlap(Path out, Path input) throws java.io.IOException {
        Path target = realAsFarAsItExists(out);
        java.util.Set<Path> inputs = new java.util.LinkedHashSet<>();
        inputs.add(input.toRealPath());
        try (java.util.stream.Stream<Path> files = Files.list(input)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.exists(f)) {
                    inputs.add(f.toRealPath().getParent());
                }
            }
        }
        for (Path in : inputs) {
            String how = target.equals(in) ? "is" : in.startsWith(target) ? "contains" : target.startsWith(in) ? "lies inside" : null;
            if (how != null) {
                throw new IllegalArgumentException("--out " + out + " " + how + " the model being converted (" + in + "); replacing it would"
                        + " delete the model: choose a folder outside it");
            }
        }
    }

    /** The real path of the longest existing prefix of {@code p}, with the rest appended. */
    private static Path realAsFarAsItExists(Path p) throws java.io.IOException {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        return existing == null ? abs : existing.toRealPath().resolve(existing.relativize(abs));
    }

    @FunctionalInterface
    private interface Write {
        void run() throws java.io.IOException;
    }

    /** Runs a write, naming the file when the error does not ("File too large" under a file-size limit, "No space left"). */
    private void writing(String file, Write write) throws java.io.IOException {
        try {
            write.run();
        } catch (java.nio.file.FileSystemException e) {
            throw e;
        } catch (java.io.IOException e) {
            throw new java.io.IOException("--out " + out + ": cannot write " + file + " (" + e.getMessage() + ")", e);
        }
    }
}
