package org.solulens.cli;

import java.io.IOException;
import org.solulens.backend.Backend;
import org.solulens.backend.Backends;
import org.solulens.cpu.ConstantCache;
import org.solulens.cpu.SweepPrecision;
import org.solulens.model.DemoModel;
import org.solulens.model.ModelConfig;
import org.solulens.model.ModelFolder;
import org.solulens.model.SoluModel;
import org.solulens.model.hub.ModelSource;
import picocli.CommandLine.Option;

/** {@code --model} and {@code --device}, shared by every command. */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "DIR|hf:ORG/NAME",
            description = "demo (the bundled SoLU model), demo-gelu (its GELU twin), a model folder (config.json, *.safetensors, optional tokenizer.json), a Hugging Face snapshot folder"
                    + " (config.json and model_final.pth, as the hub holds solu-1l), or hf:ORG/NAME[@REV] for one in the Hugging Face"
                    + " cache (offline; HF_HOME chooses the cache), e.g. hf:NeelNanda/SoLU_1L512W_C4_Code. Default: the bundled demo model.")
    String model;

    @Option(names = "--device", paramLabel = "cpu|cuda|emulator|auto", defaultValue = "auto",
            description = "Where to run: cpu (float64; OpenBLAS for the matrix products), cuda (the kernels on an NVIDIA GPU), emulator (the same kernels on the CPU; slow), or auto (cuda when it can run, else cpu). Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--precision", paramLabel = "single|double", defaultValue = "single",
            description = "The CPU's exact sweep: single (exponentials in float32 lanes, sums in double; ~1e-8 from double in practice, 5.5e-6 at worst; 2–3.5x faster) or double (float64 throughout: the reference). The forward pass is float64 either way; GPU sweeps are float32. Default: ${DEFAULT-VALUE}.")
    String precision;

    @Option(names = "--no-cache",
            description = "Do not read or write the per-user cache of the sweep's model constant B (395 MB for solu-1l; built in about 2 s on two cores, then read in place in 0.2 s). See `solulens cache`.")
    boolean noCache;

    @Option(names = "--ignore-extra-tensors",
            description = "Load a model folder even if its files hold tensors the model does not use (by default an error: config.json may not describe the checkpoint).")
    boolean ignoreExtraTensors;

    SoluModel loadModel() throws IOException {
        startNativeLoad();
        SoluModel ahead = takeLoadedEarly(model, ignoreExtraTensors);
        return ahead != null ? ahead : load(model, ignoreExtraTensors);
    }

    /** A model folder being loaded before picocli has read the command line ({@link #startModelLoadEarly}), until taken. */
    private static EarlyLoad early;

    private record EarlyLoad(String model, boolean ignoreExtraTensors, java.util.concurrent.FutureTask<SoluModel> load) {}

    /**
     * Starts loading the model that {@code args} name with {@code --model}, on a thread of its own, when the first
     * argument names a command that takes one and no help or version option ends the run at once: the load (mapping
     * the files and checking every weight, ~0.2 s of a fresh JVM for solu-1l) then overlaps picocli's reading of the
     * command line (another 0.2 s). A guess from the raw arguments: {@link #loadModel} takes the model only if its
     * options name the same one, else it closes it and loads its own; a load that failed is run again there to report
     * why. Not for the bundled models, which load in milliseconds.
     */
    static void startModelLoadEarly(String... args) {
        String named = modelArgument(args);
        if (named == null || DemoModel.byName(named) != null || !commandTakesModel(args) || endsAtOnce(args)) {
            return;
        }
        boolean ignoreExtra = java.util.Arrays.asList(args).contains("--ignore-extra-tensors");
        java.util.concurrent.FutureTask<SoluModel> load = new java.util.concurrent.FutureTask<>(() -> load(named, ignoreExtra));
        synchronized (ModelOptions.class) {
            if (early != null) {
                return;
            }
            early = new EarlyLoad(named, ignoreExtra, load);
        }
        Thread t = new Thread(load, "solulens-model-load");
        t.setDaemon(true);
        t.start();
    }

    /**
     * The model {@link #startModelLoadEarly} loaded, if it is the one these options name (waiting for its load to
     * end); else null, with any model it loaded closed. Taken once.
     */
    static SoluModel takeLoadedEarly(String model, boolean ignoreExtraTensors) {
        EarlyLoad e;
        synchronized (ModelOptions.class) {
            e = early;
            early = null;
        }
        if (e == null) {
            return null;
        }
        SoluModel loaded;
        boolean interrupted = false;
        while (true) {
            try {
                loaded = e.load().get();
                break;
            } catch (InterruptedException ex) {
                interrupted = true;   // the load ends by itself; the interrupt is handed back below
            } catch (java.util.concurrent.ExecutionException ex) {
                loaded = null;        // loaded again by the caller, which reports why it fails
                break;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (loaded != null && !(e.model().equals(model) && e.ignoreExtraTensors() == ignoreExtraTensors)) {
            loaded.close();
            loaded = null;
        }
        return loaded;
    }

    /** The value of the last {@code --model} in {@code args} (as {@code --model X} or {@code --model=X}), or null. */
    static String modelArgument(String... args) {
        String named = null;
        for (int i = 1; i < args.length; i++) {
            if (args[i].startsWith("--model=")) {
                named = args[i].substring("--model=".length());
            } else if (args[i].equals("--model") && i + 1 < args.length) {
                named = args[++i];
            }
        }
        return named;
    }

    /** A model by what --model takes: null or "demo", "demo-gelu", a folder, or hf:ORG/NAME. */
    static SoluModel load(String model, boolean ignoreExtraTensors) throws IOException {
        if (model == null) {
            return DemoModel.load();
        }
        SoluModel bundled = DemoModel.byName(model);
        return bundled != null ? bundled : ModelFolder.load(ModelSource.resolve(model), ignoreExtraTensors);
    }

    /**
     * Starts loading the CPU backend's native libraries before picocli reads {@code args}, when the first argument
     * names a command that takes {@code --model} and {@code --device} names no GPU: the load (OpenBLAS and its
     * helpers, ~0.2 s of a fresh JVM) then runs on another core while the command line is read (another 0.2 s), not
     * after it. A guess from the raw arguments; a wrong one costs only that core time, as the command itself starts the
     * same load once it knows its model (a no-op if started).
     */
    static void startNativeLoadEarly(String... args) {
        if (cpuLikely(args)) {
            org.solulens.cpu.MatMul.loadInBackground();
        }
    }

    /**
     * Whether {@code args} name a command that takes a model, without a {@code --device} that names a GPU, nor a help or
     * version option: a run that ends at once would stop the load, on a fresh machine in the middle of extracting
     * OpenBLAS into JavaCPP's cache (the next run extracts it again).
     */
    static boolean cpuLikely(String... args) {
        if (endsAtOnce(args)) {
            return false;
        }
        for (int i = 1; i < args.length; i++) {
            String device = args[i].startsWith("--device=") ? args[i].substring("--device=".length())
                    : args[i].equals("--device") && i + 1 < args.length ? args[i + 1] : null;
            if (device != null && runsKernels(device)) {
                return false;
            }
        }
        return commandTakesModel(args);
    }

    /** Whether {@code args} hold a help or version option (after the command's name). */
    private static boolean endsAtOnce(String... args) {
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--help") || args[i].equals("-h") || args[i].equals("--version") || args[i].equals("-V")) {
                return true;
            }
        }
        return false;
    }

    /** Whether the first of {@code args} names a command that takes these options. */
    private static boolean commandTakesModel(String... args) {
        // plain loops: a fresh JVM's first lambda costs more than this test (the annotations read here, picocli reads next)
        for (Class<?> command : Main.COMMANDS) {
            if (args.length > 0 && Main.name(command).equals(args[0])) {
                return takesModel(command);
            }
        }
        return false;
    }

    /** Whether a command class mixes in these options. */
    static boolean takesModel(Class<?> command) {
        for (java.lang.reflect.Field f : command.getDeclaredFields()) {
            if (f.getType() == ModelOptions.class) {
                return true;
            }
        }
        return false;
    }

    /** Loads the CPU backend's native libraries in the background while the command reads its model (a no-op once started). */
    private void startNativeLoad() {
        if (!runsKernels(device)) {
            org.solulens.cpu.MatMul.loadInBackground();
        }
    }

    /** Whether a --device value names a kernels' backend (cuda, emulator): those do not use the CPU backend's libraries. */
    private static boolean runsKernels(String device) {
        return device.equalsIgnoreCase("cuda") || device.equalsIgnoreCase("emulator");
    }

    /** The model's configuration alone, to check options against its sizes before the (longer) load. */
    ModelConfig config() throws IOException {
        startNativeLoad();
        return model == null || model.equals(DemoModel.NAME) ? DemoModel.config()
                : model.equals(DemoModel.GELU_NAME) ? DemoModel.geluConfig() : ModelFolder.readConfig(ModelSource.resolve(model));
    }

    Backend backend(SoluModel m) {
        return Backends.create(m, Backends.Choice.parse(device), SweepPrecision.parse(precision), noCache ? null : ConstantCache.userDefault());
    }
}
