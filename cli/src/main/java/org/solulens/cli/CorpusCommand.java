package org.solulens.cli;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.solulens.analysis.Figures;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.backend.SweepMethod;
import org.solulens.corpus.CorpusReport;
import org.solulens.corpus.CorpusStats;
import org.solulens.corpus.CorpusSweep;
import org.solulens.model.SoluModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "corpus", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The causal neuroscope: every neuron ablated alone at every position of a whole corpus, reduced as it streams.",
                "Per neuron: mean Δloss and |Δloss|, spread, extremes, the fraction above --threshold, a histogram, the activation and its",
                "correlation with Δloss, and the top/bottom/most-active contexts; per position, the whole MLP's ablation. Memory does not grow",
                "with the corpus. Writes neurons.csv, neurons/*.npy, examples.jsonl, summary.md with figures, index.html (a neuron browser)",
                "and report.html (the figures, interactive: hover a neuron's point to name it, click it to open its page).",
                "Text is packed as TransformerLens's tokenize_and_concatenate does (documents joined by the end-of-text token, windows with BOS)."})
final class CorpusCommand implements Callable<Integer> {
    private static final String SAMPLE = "/org/solulens/corpus/kjv-john.txt";

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--data", paramLabel = "FILE",
            description = "The corpus: .txt (one document per line), .jsonl ({\"text\": ...} or {\"tokens\": [...]} per line) or a tokenized .npy"
                    + " ([documents, tokens], int32/int64). Default: a bundled sample, the Gospel of John (KJV, ~22,500 tokens of the demo model's text).")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
    Path out;

    @Option(names = "--overwrite", description = "Replace the results already in --out.")
    boolean overwrite;

    @Option(names = "--site", defaultValue = "post", paramLabel = "post|mid", description = "Where to ablate (as in sweep). Default: ${DEFAULT-VALUE}.")
    String site;

    @Option(names = "--ablation", defaultValue = "zero", paramLabel = "zero|paper",
            description = "zero, or paper (the seed's post-LN ablation). Default: ${DEFAULT-VALUE}.")
    String ablation;

    @Option(names = "--method", defaultValue = "exact", paramLabel = "exact|reforward|attribution", description = "As in sweep. Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--window", paramLabel = "L", description = "Tokens per window, BOS included (at most n_ctx). Default: the model's n_ctx.")
    Integer window;

    @Option(names = "--per-document", description = "Each document its own window (truncated to --window, counted) instead of packing.")
    boolean perDocument;

    @Option(names = "--max-tokens", defaultValue = "0", paramLabel = "N", description = "Stop after N corpus tokens (0: all). Default: ${DEFAULT-VALUE}.")
    long maxTokens;

    @Option(names = "--top", defaultValue = "20", paramLabel = "K", description = "Contexts kept per neuron and list (top, bottom, most active). Default: ${DEFAULT-VALUE}.")
    int top;

    @Option(names = "--threshold", defaultValue = "0.1", paramLabel = "NATS", description = "Δloss counted as large. Default: ${DEFAULT-VALUE}.")
    double threshold;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "W", description = "Windows between progress updates and snapshots of the state. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--skip-bad", description = "Skip malformed lines, empty documents and out-of-range token ids (counted in summary.md) instead of stopping.")
    boolean skipBad;

    @Option(names = "--resume", description = "Continue from the checkpoint an interrupted run left beside --out; the results equal an uninterrupted run's.")
    boolean resume;

    @Option(names = "--checkpoint-seconds", defaultValue = "60", paramLabel = "S", description = "How often the state is saved while running. Default: ${DEFAULT-VALUE}.")
    double checkpointSeconds;

    @Mixin
    QuietOption quietOption = new QuietOption();

    @Spec
    CommandSpec spec;

    /**
     * The workers --device names: one backend (cpu, cuda, emulator, auto), or several devices sharing the windows:
     * cuda:0,cuda:1 or cuda:all (one worker per GPU), emulator:N (N emulated devices, for testing).
     */
    private java.util.List<Backend> workers(SoluModel model) {
        String spec = modelOptions.device.trim().toLowerCase(Locale.ROOT);
        if (!spec.contains(":")) {
            return java.util.List.of(modelOptions.backend(model));
        }
        java.util.List<Backend> out = new java.util.ArrayList<>();
        try {
            if (spec.startsWith("emulator:")) {
                int n = Integer.parseInt(spec.substring("emulator:".length()));
                if (n < 1 || n > 64) {
                    throw new IllegalArgumentException("--device " + spec + ": between 1 and 64 emulated devices");
                }
                for (int i = 0; i < n; i++) {
                    out.add(new org.solulens.gpu.GpuBackend(model, new org.solulens.gpu.EmulatedDevice()));
                }
                return out;
            }
            String why = org.solulens.gpu.CudaDevice.unavailableReason();
            if (why != null) {
                throw new IllegalStateException("--device " + spec + " cannot run here: " + why);
            }
            java.util.List<Integer> ordinals = new java.util.ArrayList<>();
            if (spec.equals("cuda:all")) {
                for (int i = 0; i < org.solulens.gpu.CudaDevice.deviceCount(); i++) {
                    ordinals.add(i);
                }
            } else {
                for (String part : spec.split(",")) {
                    if (!part.trim().startsWith("cuda:")) {
                        throw new IllegalArgumentException("--device " + spec + ": expected cuda:N[,cuda:M...], cuda:all or emulator:N");
                    }
                    ordinals.add(Integer.parseInt(part.trim().substring("cuda:".length())));
                }
            }
            for (int ordinal : ordinals) {
                out.add(new org.solulens.gpu.GpuBackend(model, new org.solulens.gpu.CudaDevice(ordinal, Boolean.getBoolean("solulens.checkLaunches"))));
            }
            return out;
        } catch (NumberFormatException e) {
            out.forEach(Backend::close);
            throw new IllegalArgumentException("--device " + spec + ": expected cuda:N[,cuda:M...], cuda:all or emulator:N");
        } catch (RuntimeException e) {
            out.forEach(Backend::close);
            throw e;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (top < 0 || batch < 1 || maxTokens < 0 || !(checkpointSeconds > 0) || !Double.isFinite(threshold)) {
            throw new IllegalArgumentException("--top must be >= 0, --batch >= 1, --max-tokens >= 0, --checkpoint-seconds > 0, --threshold finite");
        }
        Ablation.Site s = Ablation.Site.parse(site);
        Ablation.Kind kind = Ablation.Kind.parse(ablation);
        if (kind != Ablation.Kind.ZERO && kind != Ablation.Kind.PAPER) {
            throw new IllegalArgumentException("--ablation " + ablation + ": corpus takes zero or paper (mean and value need per-neuron values"
                    + " from elsewhere; use sweep for them)");
        }
        if (data != null && !Files.isRegularFile(data)) {
            throw new IllegalArgumentException("--data " + data + (Files.isDirectory(data) ? " is a folder; expected a file (.txt, .jsonl or .npy)"
                    : " does not exist" + (data.isAbsolute() ? "" : " (relative to " + Path.of("").toAbsolutePath() + ")")));
        }
        Path checkpoint = out.toAbsolutePath().normalize().resolveSibling("." + out.getFileName() + ".corpus-checkpoint");
        if (resume && !Files.isRegularFile(checkpoint)) {
            throw new IllegalArgumentException("--resume: no checkpoint at " + checkpoint + " (it is written beside --out while a run goes)");
        }
        Path corpus = data;
        Path sample = null;
        if (corpus == null) {
            sample = Files.createTempDirectory("solulens-corpus").resolve("kjv-john.txt");
            try (InputStream in = CorpusCommand.class.getResourceAsStream(SAMPLE)) {
                Files.copy(in, sample, StandardCopyOption.REPLACE_EXISTING);
            }
            corpus = sample;
        }
        java.util.List<Backend> backends = new java.util.ArrayList<>();
        try (OutputFolder folder = OutputFolder.open(out, "--out", overwrite || resume);
             SoluModel model = modelOptions.loadModel()) {
            backends.addAll(workers(model));
            int length = window == null ? model.config().nCtx() : window;
            CorpusSweep.Settings settings = new CorpusSweep.Settings(new Ablation(s, kind, null), SweepMethod.parse(method), length, perDocument,
                    maxTokens, top, threshold, batch, skipBad);
            spec.commandLine().getErr().printf(Locale.ROOT, "corpus sweep: %s, windows of %d tokens; statistics held in memory: at most %.1f MB,"
                    + " whatever the corpus' length%n", corpus.getFileName(), length, CorpusStats.memoryBound(model.config().dMlp(), top) / 1e6);
            CorpusSweep.Result r = CorpusSweep.run(backends, corpus, settings, checkpoint, resume, checkpointSeconds, quietOption.quiet);
            String command = "solulens " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
            String summary;
            try (Figures.Recording figures = Figures.record()) {
                summary = CorpusReport.write(folder.staging(), model, r, command);
                InteractiveReport.write(folder.staging(), "SoluLens: corpus sweep", summary, figures);
            }
            folder.commit(spec.commandLine().getParseResult().originalArgs());
            Files.deleteIfExists(checkpoint);
            Files.deleteIfExists(checkpoint.resolveSibling(checkpoint.getFileName() + ".tmp"));   // a killed run's half-written one
            spec.commandLine().getOut().println(summary.lines().filter(l -> l.startsWith("- ")).reduce((a, b) -> a + "\n" + b).orElse(""));
            spec.commandLine().getOut().println("outputs written to " + out.toAbsolutePath() + " (open index.html to browse the neurons)");
            InteractiveReport.announce(spec.commandLine().getOut(), out);
        } finally {
            for (Backend b : backends) {
                b.close();
            }
            if (sample != null) {
                Files.deleteIfExists(sample);
                Files.deleteIfExists(sample.getParent());
            }
        }
        return 0;
    }
}
