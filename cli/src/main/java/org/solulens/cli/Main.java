package org.solulens.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code solulens} command line. */
@Command(name = "solulens", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Interpretability experiments on one-layer SoLU transformers (TransformerLens's solu-1l).")
public final class Main {
    /** The commands, in the order the usage lists them (then {@code help}). */
    static final java.util.List<Class<?>> COMMANDS = java.util.List.of(InfoCommand.class, RunCommand.class, SweepCommand.class,
            LnScaleCommand.class, AblateLowCommand.class, SmearCommand.class, SmearingCommand.class, DlaCommand.class, PaperCommand.class,
            BenchSweepCommand.class, SelftestCommand.class, ConvertCommand.class, CorpusCommand.class, CacheCommand.class);

    static {
        // slf4j-simple: one short line per message on stderr, so stdout stays the command's output.
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
        System.setProperty("org.slf4j.simpleLogger.showLogName", "false");
        System.setProperty("org.slf4j.simpleLogger.levelInBrackets", "true");
        // DJL's tokenizer logs its native-library search at INFO and probes for CUDA; only its errors matter here.
        System.setProperty("org.slf4j.simpleLogger.log.ai.djl", "error");
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        // LWJGL hashes its native library on every load (SHA-1, interpreted in a fresh JVM: ~0.05 s of the native
        // loader's thread, on the start's critical path) to report a library of another LWJGL version; the one it
        // loads here is the copy it extracts from this jar. -Dorg.lwjgl.util.NoHashChecks=false turns the check on.
        if (System.getProperty("org.lwjgl.util.NoHashChecks") == null) {
            System.setProperty("org.lwjgl.util.NoHashChecks", "true");
        }
    }

    public static void main(String[] args) {
        ModelOptions.startNativeLoadEarly(args);
        if (java.util.Arrays.asList(args).contains(QuietOption.NAME)) {
            // before any logger exists: slf4j-simple reads its level once
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        ModelOptions.startModelLoadEarly(args);
        System.exit(execute(args));
    }

    /** Runs a command line and returns its exit code (tests call this instead of {@link #main}). */
    public static int execute(String... args) {
        return execute(new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(System.err, true), args);
    }

    /** Runs a command line writing to the given streams (tests capture them). */
    public static int execute(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cli = commandLine(args);
        cli.setOut(out);
        cli.setErr(err);
        // -V / --version on every command, not only the top one
        for (CommandLine sub : cli.getSubcommands().values()) {
            sub.getCommandSpec().versionProvider(new Version());
        }
        cli.setParameterExceptionHandler(Main::usageError);
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            boolean userError = ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                    || ex instanceof java.io.IOException || ex instanceof java.io.UncheckedIOException;
            String message = describe(ex);
            commandLine.getErr().println("solulens " + commandLine.getCommandName() + ": error: " + message);
            if (!userError || System.getenv("SOLULENS_DEBUG") != null) {
                ex.printStackTrace(commandLine.getErr());
            }
            return userError ? 2 : 1;
        });
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError | InternalError e) {
            err.println("solulens: error: " + describeFatal(e));
            return 1;
        }
    }

    /**
     * The command line for {@code args}: when the first argument names a command, with that command alone, else (no
     * arguments, an option of solulens itself, {@code help}, a misspelt name) with every command. Picocli reads every
     * option of every command it is given, and for all fifteen that took ~0.1 s more of each run's start than for one.
     */
    static CommandLine commandLine(String... args) {
        CommandLine cli = new CommandLine(new Main());
        String first = args.length > 0 ? args[0] : "";
        boolean named = COMMANDS.stream().anyMatch(c -> name(c).equals(first));
        for (Class<?> c : COMMANDS) {
            if (!named || name(c).equals(first)) {
                cli.addSubcommand(name(c), c);
            }
        }
        if (!named) {
            cli.addSubcommand("help", CommandLine.HelpCommand.class);
        }
        return cli;
    }

    static String name(Class<?> command) {
        return command.getAnnotation(Command.class).name();
    }

    /**
     * A usage error: the error, then one line pointing to --help (not the whole usage). An unknown option is reported
     * first, with the nearest known one: a typo in a required option would otherwise surface as "missing --out".
     */
    private static int usageError(CommandLine.ParameterException ex, String[] args) {
        CommandLine c = ex.getCommandLine();
        String name = c.getCommandSpec().qualifiedName();
        java.util.List<String> unknown = c.getUnmatchedArguments().stream().filter(a -> a.startsWith("-")).toList();
        if (ex instanceof CommandLine.UnmatchedArgumentException u && unknown.isEmpty()) {
            unknown = u.getUnmatched().stream().filter(a -> a.startsWith("-")).toList();
        }
        if (!unknown.isEmpty()) {
            for (String option : unknown) {
                String bare = option.contains("=") ? option.substring(0, option.indexOf('=')) : option;
                String nearest = nearestOption(c, bare);
                c.getErr().println(name + ": error: unknown option '" + bare + "'" + (nearest == null ? "" : "; did you mean " + nearest + "?"));
            }
        } else {
            String message = String.valueOf(ex.getMessage());
            // a misspelt command: picocli knows the nearest names
            java.util.List<String> near = ex instanceof CommandLine.UnmatchedArgumentException u ? u.getSuggestions() : java.util.List.of();
            c.getErr().println(name + ": error: " + (message.startsWith("Error: ") ? message.substring(7) : message)
                    + (near.isEmpty() ? "" : "; did you mean " + String.join(" or ", near) + "?"));
        }
        c.getErr().println("Try '" + name + " --help' for the options.");
        return 2;
    }

    /** The command's option name closest to {@code typo} (at most 2 edits away), or null. */
    private static String nearestOption(CommandLine c, String typo) {
        String best = null;
        int bestDistance = 3;
        for (CommandLine.Model.OptionSpec o : c.getCommandSpec().options()) {
            for (String n : o.names()) {
                int d = editDistance(typo, n);
                if (d < bestDistance) {
                    bestDistance = d;
                    best = n;
                }
            }
        }
        return best;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /**
     * An error's message for the user. File-system errors carry the file apart from the reason, and their message
     * alone can be just a path ("error: /data/x.txt"): they are spelled out.
     */
    static String describe(Exception ex) {
        Throwable e = ex instanceof java.io.UncheckedIOException u && u.getCause() != null ? u.getCause() : ex;
        if (e instanceof java.nio.file.NoSuchFileException f) {
            return f.getFile() + " does not exist" + (f.getReason() == null ? "" : " (" + f.getReason() + ")");
        }
        if (e instanceof java.nio.file.AccessDeniedException f) {
            return f.getFile() + ": permission denied" + (f.getReason() == null ? "" : " (" + f.getReason() + ")");
        }
        if (e instanceof java.nio.file.NotDirectoryException f) {
            return f.getFile() + " is not a folder";
        }
        if (e instanceof java.nio.file.FileAlreadyExistsException f) {
            return f.getFile() + " already exists";
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getFile() != null && f.getReason() != null) {
            return f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile()) + ": " + f.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /**
     * What to tell a user about an error the JVM raised (picocli passes Errors through): the heap is too small, or a
     * memory-mapped model file changed on disk under a running command.
     */
    static String describeFatal(Error e) {
        if (e instanceof OutOfMemoryError) {
            return "out of memory (" + e.getMessage() + "); give Java a larger heap, e.g. SOLULENS_JAVA_OPTS=-Xmx16g ./solulens ...,"
                    + " or use fewer or shorter prompts. Whatever this run wrote is incomplete.";
        }
        return "the JVM could not read memory-mapped data (" + e.getMessage() + "): was the model file changed or truncated"
                + " on disk while this command ran? Run it again on an unchanged file.";
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"solulens " + (v == null ? "(development build)" : v)};
        }
    }
}
