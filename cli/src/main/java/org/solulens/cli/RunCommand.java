package org.solulens.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.solulens.analysis.Prompt;
import org.solulens.backend.Activation;
import org.solulens.backend.Backend;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.io.CacheWriter;
import org.solulens.model.SoluModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run the model on prompts and print a per-token loss table with the top-5 predictions.",
                "With --cache-out, also write every hook's activations as .npy files (TransformerLens hook names)."})
final class RunCommand implements Callable<Integer> {
    private static final int TOP_K = 5;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    PromptOptions promptOptions;

    @Option(names = "--cache-out", paramLabel = "DIR",
            description = "Write <hook name>.npy (float32, C order, no batch dimension) for every hook, logits.npy and loss.npy included, or for those --hooks names; and manifest.json. One sub-folder per prompt (0/, 1/, ...) when there are several.")
    Path cacheOut;

    @Option(names = "--hooks", paramLabel = "NAMES", split = ",",
            description = "Hooks to write with --cache-out (comma-separated TransformerLens names; logits and loss count as hooks and are written only when named). Default: all.")
    List<String> hooks;

    @Option(names = "--overwrite", description = "Replace the files already in --cache-out (by default a folder holding files is refused).")
    boolean overwrite;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "0",
            description = "Time the forward pass: run each prompt N more times after the first (which warms up the JIT) and print the best and median time of one pass. The table is printed once.")
    int repeat;

    @Option(names = "--allow-nonfinite", description = "Report NaN or infinite losses as one warning instead of failing.")
    boolean allowNonFinite;

    @Mixin
    QuietOption quietOption = new QuietOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (repeat < 0) {   // checked before the model loads
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--repeat must be 0 or more, got " + repeat);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (OutputFolder folder = cacheOut == null ? null : OutputFolder.open(cacheOut, "--cache-out", overwrite);
             SoluModel model = modelOptions.loadModel(); Backend backend = modelOptions.backend(model)) {
            List<Prompt> prompts = promptOptions.resolve(model);
            List<String> wanted = cacheOut == null ? List.of(Hooks.LOGITS, Hooks.LOSS)
                    : hooks == null ? Hooks.available(model.config()) : withLogits(hooks);
            Hooks.select(model.config(), wanted);
            out.println("model: " + model.description() + "   backend: " + backend.name());
            NonFiniteOutputs nonFinite = new NonFiniteOutputs(allowNonFinite);
            for (int i = 0; i < prompts.size(); i++) {
                Prompt prompt = prompts.get(i);
                ForwardResult result = backend.run(prompt.tokens(), wanted);
                nonFinite.checkLoss(i, result.loss());
                printTable(out, model, i, prompt, result);
                if (repeat > 0) {
                    printTiming(out, backend, prompt, wanted);
                }
                if (cacheOut != null) {
                    Path dir = prompts.size() == 1 ? folder.staging() : folder.staging().resolve(Integer.toString(i));
                    CacheWriter.write(dir, model, backend.name(), onlyRequested(result), prompt.text());
                }
            }
            if (folder != null) {
                folder.commit(spec.commandLine().getParseResult().originalArgs());
                out.println("cache written to " + cacheOut.toAbsolutePath());
            }
            nonFinite.report(spec.commandLine().getErr());
        }
        return 0;
    }

    private void printTiming(PrintWriter out, Backend backend, Prompt prompt, List<String> wanted) {
        double[] seconds = new double[repeat];
        for (int r = 0; r < repeat; r++) {
            long t0 = System.nanoTime();
            backend.run(prompt.tokens(), wanted);
            seconds[r] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(seconds);
        out.printf(java.util.Locale.ROOT, "forward pass: best %.4f s, median %.4f s over %d runs (%d tokens, backend %s)%n",
                seconds[0], seconds[repeat / 2], repeat, prompt.tokens().length, backend.name());
    }

    /** The table needs logits; keep them out of the written cache unless they were asked for. */
    private List<String> withLogits(List<String> requested) {
        List<String> all = new java.util.ArrayList<>(requested);
        if (!all.contains(Hooks.LOGITS)) {
            all.add(Hooks.LOGITS);
        }
        return all;
    }

    private ForwardResult onlyRequested(ForwardResult r) {
        if (hooks == null || hooks.contains(Hooks.LOGITS)) {
            return r;
        }
        java.util.Map<String, Activation> kept = new java.util.LinkedHashMap<>(r.cache());
        kept.remove(Hooks.LOGITS);
        return new ForwardResult(r.tokens(), r.loss(), kept);
    }

    private static void printTable(PrintWriter out, SoluModel model, int index, Prompt prompt, ForwardResult r) {
        int[] tokens = r.tokens();
        out.println();
        out.printf("prompt %d: %d tokens, mean loss %s%n", index, tokens.length,
                tokens.length < 2 ? "n/a (one token)" : String.format("%.4f", r.meanLoss()));
        out.printf("%4s  %-14s %-14s %8s   %s%n", "pos", "token", "next", "loss", "top-" + TOP_K + " predictions (probability)");
        Activation logits = r.get(Hooks.LOGITS);
        int vocab = logits.shape()[1];
        for (int p = 0; p < tokens.length; p++) {
            String next = p + 1 < tokens.length ? show(model, tokens[p + 1]) : "-";
            String loss = p + 1 < tokens.length ? String.format("%8.4f", r.loss()[p]) : String.format("%8s", "");
            out.printf("%4d  %-14s %-14s %s   %s%n", p, show(model, tokens[p]), next, loss, topK(model, logits.data(), p * vocab, vocab));
        }
    }

    private static String topK(SoluModel model, double[] logits, int offset, int vocab) {
        // the K largest in one pass (ties: the lower id first), instead of sorting the whole vocabulary per position
        int k = Math.min(TOP_K, vocab);
        int[] ids = new int[k];
        int filled = 0;
        for (int i = 0; i < vocab; i++) {
            double x = logits[offset + i];
            if (filled == k && x <= logits[offset + ids[k - 1]]) {
                continue;
            }
            int at = filled < k ? filled++ : k - 1;
            while (at > 0 && x > logits[offset + ids[at - 1]]) {
                ids[at] = ids[at - 1];
                at--;
            }
            ids[at] = i;
        }
        double logSum = org.solulens.cpu.CrossEntropy.logSumExp(logits, offset, vocab);
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < k; r++) {
            if (r > 0) {
                sb.append(", ");
            }
            sb.append(show(model, ids[r])).append(' ').append(String.format("%.3f", Math.exp(logits[offset + ids[r]] - logSum)));
        }
        return sb.toString();
    }

    /** A token as a short quoted string, so spaces and newlines are visible. */
    private static String show(SoluModel model, int id) {
        String s = model.tokenText(id).replace("\n", "\\n");
        if (s.length() > 12) {
            s = s.substring(0, 11) + "…";
        }
        return "'" + s + "'";
    }
}
