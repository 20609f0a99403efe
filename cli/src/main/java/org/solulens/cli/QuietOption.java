package org.solulens.cli;

import picocli.CommandLine.Option;

/** {@code --quiet}, the same on every command: no progress bar and no informational log lines (results and errors still print). */
final class QuietOption {
    static final String NAME = "--quiet";

    @Option(names = NAME, description = "No progress bar and no informational log lines; results, warnings and errors still print.")
    boolean quiet;
}
