package org.solulens.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.solulens.analysis.Progress;
import org.solulens.gpu.CudaDevice;
import org.solulens.gpu.Device;
import org.solulens.gpu.EmulatedDevice;
import org.solulens.gpu.SelfTest;
import org.solulens.model.DemoModel;
import org.solulens.model.SoluModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "selftest", mixinStandardHelpOptions = true,
        description = {"Check that the CUDA kernels work here, on a GPU or on the emulator.",
                "Each kernel against its CPU twin on random inputs, then the forward pass and the exact sweep (every kernel variant) on the device "
                        + "against the CPU backend.",
                "Prints a pass/fail table with errors and times; exit code 1 if any check fails."})
final class SelftestCommand implements Callable<Integer> {
    @Option(names = "--device", defaultValue = "auto", paramLabel = "cuda|emulator|auto",
            description = "cuda, emulator, or auto (cuda when it can run, else the emulator). Default: ${DEFAULT-VALUE}. "
                    + "(No cpu: the CPU backend is what every check compares against.)")
    String device;

    @Option(names = "--model", paramLabel = "DIR|hf:ORG/NAME",
            description = "Also check the forward pass of this model (a folder or hf:ORG/NAME, as --model elsewhere; the demo model is always checked).")
    String model;

    @Mixin
    QuietOption quietOption = new QuietOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        String kind = device.toLowerCase(Locale.ROOT);
        if (kind.equals("auto")) {
            kind = CudaDevice.unavailableReason() == null ? "cuda" : "emulator";
        }
        List<SelfTest.Check> checks = new ArrayList<>();
        String name;
        // stages: the kernels, the demo model's forward pass, its sweep, and --model's forward pass
        try (Progress progress = Progress.start("selftest (stages)", model == null ? 3 : 4, quietOption.quiet)) {
            try (Device kernels = open(kind)) {
                name = kernels.name();
                out.println("device: " + name);
                out.flush();
                checks.addAll(new SelfTest(kernels).kernels());
            }
            progress.step();
            try (SoluModel demo = DemoModel.load()) {
                checks.addAll(new SelfTest(open(kind)).forward(demo, 1, 17, 64));
                progress.step();
                checks.addAll(new SelfTest(open(kind)).sweep(demo, 9));
                progress.step();
            }
            if (model != null) {
                try (SoluModel m = ModelOptions.load(model, false)) {
                    checks.addAll(new SelfTest(open(kind)).forward(m, 1, 64));
                }
                progress.step();
            }
        }
        out.println("error column: the largest |device - cpu| / max(1, |cpu|) over all elements (sweeps: / (2e-6 + 1e-4 |cpu|), the project's bound);"
                + " ms: time on the device");
        out.printf("%-40s %12s %10s %10s  %s%n", "check", "error", "tolerance", "ms", "result");
        int failed = 0;
        for (SelfTest.Check c : checks) {
            out.printf(Locale.ROOT, "%-40s %12.3e %10.1e %10.2f  %s%n", c.name(), c.maxError(), c.tolerance(), c.millis(), c.passed() ? "pass" : "FAIL");
            failed += c.passed() ? 0 : 1;
        }
        out.println(failed == 0 ? "all " + checks.size() + " checks passed on " + name : failed + " of " + checks.size() + " checks FAILED on " + name);
        return failed == 0 ? 0 : 1;
    }

    private static Device open(String kind) {
        return switch (kind) {
            case "cuda" -> {
                String why = CudaDevice.unavailableReason();
                if (why != null) {
                    throw new IllegalStateException("--device cuda cannot run here: " + why);
                }
                yield new CudaDevice(true);   // every launch synchronised, so a failing kernel is named by its own launch
            }
            case "emulator" -> {
                String why = EmulatedDevice.unavailableReason();
                if (why != null) {
                    throw new IllegalStateException("--device emulator cannot run here: " + why);
                }
                yield new EmulatedDevice();
            }
            default -> throw new IllegalArgumentException("unknown device '" + kind + "'; expected cuda, emulator or auto");
        };
    }
}
