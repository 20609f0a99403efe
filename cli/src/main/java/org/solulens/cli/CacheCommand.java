package org.solulens.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.solulens.cpu.ConstantCache;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "cache", mixinStandardHelpOptions = true,
        description = {"List or clear the per-user cache of the CPU sweep's model constant B (d_mlp x d_vocab float32 per model and ablation kind:"
                + " 395 MB for solu-1l), which spares later sweeps of the same weights the ~2 s of building it.",
                "The folder: SOLULENS_CACHE_DIR, else XDG_CACHE_HOME/solulens/constants (~/.cache/solulens/constants; ~/Library/Caches on macOS,"
                        + " %%LOCALAPPDATA%% on Windows). Its bound: SOLULENS_CACHE_MAX_BYTES (default 8 GiB); the least recently used entries go first."
                        + " Commands that sweep take --no-cache to leave it alone."})
final class CacheCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", defaultValue = "list", paramLabel = "list|clear",
            description = "list (the default): each entry with its size and last use; clear: delete every entry.")
    String action;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ConstantCache cache = ConstantCache.userDefault();
        switch (action) {
            case "list": {
                List<ConstantCache.Item> items = cache.list();
                out.println("constant cache: " + cache.dir() + (items.isEmpty() ? " (empty)" : ""));
                long total = 0;
                for (ConstantCache.Item item : items) {
                    out.printf("  %-80s %,10d MB  last used %s%n", item.file().getFileName(), item.bytes() >> 20, item.lastUsed());
                    total += item.bytes();
                }
                if (!items.isEmpty()) {
                    out.printf("  %d entries, %,d MB%n", items.size(), total >> 20);
                }
                return 0;
            }
            case "clear": {
                long freed = cache.clear();
                out.printf("constant cache: %s cleared (%,d MB freed)%n", cache.dir(), freed >> 20);
                return 0;
            }
            default:
                throw new IllegalArgumentException("unknown cache action '" + action + "'; expected list or clear");
        }
    }
}
