package org.solulens.cli;

import org.solulens.backend.Backends;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;
import org.solulens.gpu.GpuBackend;
import org.solulens.gpu.SweepKernel;
import org.solulens.model.ActivationFunction;
import org.solulens.model.RandomWeights;
import org.solulens.model.ModelConfig;
import org.solulens.model.Normalization;
import org.solulens.model.SoluModel;
import org.solulens.analysis.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bench-sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time the exact sweep against the batched re-forward on the same random model, and check that they agree.",
                "Prints both times and the speed-up (on a device, per sweep kernel variant, with the kernel's own time). Shapes: small (d_model 64, d_mlp 256, d_vocab 559) and solu-1l (d_model 512, d_mlp 2048, d_vocab 48262)."})
final class BenchSweepCommand implements Callable<Integer> {
    @Option(names = "--shape", defaultValue = "small,solu-1l", split = ",", description = "small, solu-1l or both. Default: ${DEFAULT-VALUE}.")
    List<String> shapes;

    @Option(names = "--model", paramLabel = "DIR|hf:ORG/NAME",
            description = "Time this model (a folder or hf:ORG/NAME, as --model elsewhere) on its own weights instead of the random --shape models.")
    String model;

    @Option(names = "--length", defaultValue = "4", paramLabel = "N",
            description = "Prompt length in tokens, of random ids (the re-forward takes a few seconds per position at solu-1l shape on 2 cores). Default: ${DEFAULT-VALUE}.")
    int tokens;

    /** The old name of --length: elsewhere --tokens means token ids, so here it is refused with the new name. */
    @Option(names = "--tokens", hidden = true, paramLabel = "N")
    Integer renamedTokens;

    @Option(names = "--site", defaultValue = "post", description = "post or mid. Default: ${DEFAULT-VALUE}.")
    String site;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed runs of the exact sweep (the best is reported). Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--precision", paramLabel = "single|double", defaultValue = "single",
            description = "The CPU's exact sweep: single (float32 exponentials, double sums) or double (float64, the reference). Default: ${DEFAULT-VALUE}.")
    String precision;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "cpu|cuda|emulator|auto",
            description = "Where both methods run: cpu (Java), cuda (the sweep kernel vs the batched re-forward on the GPU), "
                    + "emulator (the same kernels on the CPU: for checking, not timing), auto (cuda where it can run, else cpu)."
                    + " Default: ${DEFAULT-VALUE} (unlike other commands: a benchmark should say what it measures).")
    String device;

    @Option(names = "--kernel", defaultValue = "ex2,poly,online", split = ",", paramLabel = "ex2|poly|online",
            description = "On a device, the sweep kernel variants to time, each against the same re-forward: ex2 (the default kernel), "
                    + "poly (one exponential in 16 as a polynomial on the FMA units), online (a running maximum for every pair). "
                    + "Default: ${DEFAULT-VALUE}.")
    List<String> kernels;

    @Mixin
    QuietOption quietOption = new QuietOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws java.io.IOException {
        if (renamedTokens != null) {
            throw new IllegalArgumentException("bench-sweep --tokens is now --length (--tokens means token ids in every other command): --length "
                    + renamedTokens);
        }
        PrintWriter out = spec.commandLine().getOut();
        Backends.Choice choice = Backends.Choice.parse(device);
        if (choice == Backends.Choice.AUTO) {
            device = org.solulens.gpu.CudaDevice.unavailableReason() == null ? "cuda" : "cpu";
        }
        boolean onDevice = !device.equals("cpu");
        // on the CPU there is one exact sweep; on a device, one row per sweep-kernel variant (null: the CPU's)
        List<SweepKernel> variants = onDevice ? kernels.stream().map(SweepKernel::parse).toList() : java.util.Collections.singletonList(null);
        out.println("device: " + device + (onDevice ? " (on a device: site post only for the re-forward baseline)" : ""));
        out.println("exact, s: the whole sweep (host algebra, uploads, kernels, download); kernel, s: the sweep kernel alone (device synchronised around it)");
        out.printf(Locale.ROOT, "%-8s %-7s %6s %6s %6s %7s %12s %10s %10s %12s %9s %12s%n", "shape", "kernel", "d_model", "d_mlp", "vocab", "tokens",
                "B (once), s", "exact, s", "kernel, s", "reforward, s", "speed-up", "max |diff|");
        List<String> rows = model != null ? List.of("model") : shapes.stream().map(String::trim).toList();
        for (String shape : rows) {
            if (!List.of("model", "small", "solu-1l").contains(shape)) {
                throw new IllegalArgumentException("unknown shape '" + shape + "'; expected small or solu-1l");
            }
        }
        // steps: per row, the re-forward, then per kernel variant one untimed and `repeats` timed exact sweeps
        try (Progress progress = Progress.start("bench-sweep", (long) rows.size() * (1 + variants.size() * (1L + repeats)), quietOption.quiet)) {
            for (String shape : rows) {
                try (SoluModel m = shape.equals("model") ? ModelOptions.load(model, false) : randomModel(shape)) {
                    bench(out, shape, m, variants, progress);
                }
            }
        }
        return 0;
    }

    private static SoluModel randomModel(String shape) {
        ModelConfig cfg = shape.equals("small")
                ? new ModelConfig("small", 64, 256, 4, 16, 128, 559, ActivationFunction.SOLU_LN, Normalization.LN, 1e-5, 4, true)
                : new ModelConfig("solu-1l-shaped", 512, 2048, 8, 64, 1024, 48262, ActivationFunction.SOLU_LN, Normalization.LN, 1e-5, 8, true);
        return new SoluModel(cfg, RandomWeights.of(cfg, 3), null, "random " + shape);
    }

    private void bench(PrintWriter out, String shape, SoluModel model, List<SweepKernel> variants, Progress progress) {
        ModelConfig cfg = model.config();
        int[] prompt = new Random(5).ints(Math.min(tokens, cfg.nCtx()), 0, cfg.dVocab()).toArray();
        try (Backend backend = Backends.create(model, Backends.Choice.parse(device), org.solulens.cpu.SweepPrecision.parse(precision), null)) {
            Ablation ablation = Ablation.zero(Ablation.Site.parse(site));
            SweepRequest exactRequest = new SweepRequest(ablation, SweepMethod.EXACT, null, false);
            ForwardResult clean = backend.run(prompt, exactRequest.requiredHooks(cfg));
            long t0 = System.nanoTime();
            SweepResult slow = backend.sweep(clean, new SweepRequest(ablation, SweepMethod.REFORWARD, null, false));
            double reforward = (System.nanoTime() - t0) / 1e9;
            progress.step();
            GpuBackend gpu = backend instanceof GpuBackend g ? g : null;
            boolean first = true;
            for (SweepKernel variant : variants) {
                if (gpu != null) {
                    gpu.useSweepKernel(variant);
                }
                t0 = System.nanoTime();
                SweepResult exact = backend.sweep(clean, exactRequest);
                double firstRun = (System.nanoTime() - t0) / 1e9;   // the first includes the model constants B, made once
                progress.step();
                double best = Double.POSITIVE_INFINITY, bestKernel = Double.POSITIVE_INFINITY;
                for (int r = 0; r < repeats; r++) {
                    if (gpu != null) {
                        gpu.takeSweepKernelSeconds();
                    }
                    t0 = System.nanoTime();
                    exact = backend.sweep(clean, exactRequest);
                    best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                    progress.step();
                    if (gpu != null) {
                        bestKernel = Math.min(bestKernel, gpu.takeSweepKernelSeconds());
                    }
                }
                double worst = 0;
                for (int i = 0; i < exact.delta().length; i++) {
                    worst = Math.max(worst, Math.abs(exact.delta()[i] - slow.delta()[i]));
                }
                out.printf(Locale.ROOT, "%-8s %-7s %6d %6d %6d %7d %12s %10.4f %10s %12.3f %8.0fx %12.2e%n", shape,
                        variant == null ? "-" : variant.name().toLowerCase(Locale.ROOT), cfg.dModel(), cfg.dMlp(),
                        cfg.dVocab(), prompt.length, first ? String.format(Locale.ROOT, "%.3f", firstRun - best) : "-", best,
                        gpu != null ? String.format(Locale.ROOT, "%.4f", bestKernel) : "-", reforward, reforward / best, worst);
                out.flush();
                first = false;
            }
        }
    }
}
