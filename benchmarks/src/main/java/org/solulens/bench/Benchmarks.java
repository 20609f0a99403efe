package org.solulens.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The benchmark jar's entry point: every kernel on every device that can run here, then one table of time, rate,
 * floor and time/floor. The floors come from the reference benchmarks of the same run on the same device and shape
 * (copy: bandwidth, matmul: FLOP rate, exp: exponentials per second).
 */
public final class Benchmarks {
    static final String USAGE = String.join("\n",
            "usage: java -jar benchmarks/target/benchmarks.jar [--quick] [--devices cpu,emulator,cuda] [--kernels K,...] [--shapes small,solu-1l]",
            "       java -jar benchmarks/target/benchmarks.jar jmh [JMH options]    (JMH's own command line)",
            "  --quick     every kernel once at the tiny shape, in this JVM (seconds; checks that the benchmarks run, numbers not meaningful)",
            "  --devices   default: cpu,emulator,cuda (a device that cannot run here is skipped with the reason)",
            "  --kernels   default: " + String.join(",", KernelCase.KERNELS),
            "  --shapes    default: small,solu-1l on cpu and cuda; the emulator runs the tiny shape only");

    /** One measured combination. */
    record Row(String kernel, String device, String shape, double seconds) {}

    private Benchmarks() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("jmh")) {
            org.openjdk.jmh.Main.main(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        try {
            List<Row> rows = run(args, true);
            printTable(rows);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
        }
    }

    /** Runs the benchmarks the arguments select; prints JMH's progress when {@code verbose}. */
    static List<Row> run(String[] args, boolean verbose) throws RunnerException {
        boolean quick = false;
        List<String> devices = List.of("cpu", "emulator", "cuda"), kernels = List.of(KernelCase.KERNELS), shapes = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--devices" -> devices = list(args, ++i);
                case "--kernels" -> kernels = list(args, ++i);
                case "--shapes" -> shapes = list(args, ++i);
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    return List.of();
                }
                default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
            }
        }
        for (String k : kernels) {
            if (!List.of(KernelCase.KERNELS).contains(k)) {
                throw new IllegalArgumentException("unknown kernel '" + k + "'");
            }
        }
        List<Row> rows = new ArrayList<>();
        for (String device : devices) {
            if (!device.equals("cpu")) {
                String why = DeviceKernelCases.unavailableReason(device);
                if (why != null) {
                    System.out.println(device + ": skipped (" + why + ")");
                    continue;
                }
            }
            List<String> deviceShapes = quick || device.equals("emulator") ? List.of("tiny")
                    : shapes != null ? shapes : List.of("small", "solu-1l");
            deviceShapes.forEach(Shape::parse);
            ChainedOptionsBuilder options = new OptionsBuilder()
                    .include(KernelBenchmark.class.getName())
                    .param("kernel", kernels.toArray(String[]::new))
                    .param("device", device)
                    .param("shape", deviceShapes.toArray(String[]::new))
                    .shouldFailOnError(true);
            if (quick) {
                options.forks(0).warmupIterations(0).measurementIterations(1).measurementTime(TimeValue.milliseconds(20));
            }
            if (!verbose) {
                options.verbosity(org.openjdk.jmh.runner.options.VerboseMode.SILENT);
            }
            for (RunResult r : new Runner(options.build()).run()) {
                var p = r.getParams();
                rows.add(new Row(p.getParam("kernel"), p.getParam("device"), p.getParam("shape"),
                        r.getPrimaryResult().getScore() / 1e3));
            }
        }
        return rows;
    }

    private static List<String> list(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a comma-separated list");
        }
        return List.of(args[i].split(","));
    }

    /**
     * Reference rates per device and shape ("device/shape"): the copy, matmul and exp benchmarks of that shape, so that
     * a kernel whose data fits in cache is held to the copy rate of data of its size.
     */
    static Map<String, double[]> referenceRates(List<Row> rows) {
        Map<String, double[]> rates = new LinkedHashMap<>();
        for (Row r : rows) {
            double[] rate = rates.computeIfAbsent(r.device() + "/" + r.shape(), d -> new double[3]);
            Work w = Work.of(r.kernel(), r.device().equals("cpu"), Shape.parse(r.shape()));
            switch (r.kernel()) {
                case "copy" -> rate[0] = Math.max(rate[0], w.bytes() / r.seconds());
                case "matmul" -> rate[1] = Math.max(rate[1], w.flops() / r.seconds());
                case "exp" -> rate[2] = Math.max(rate[2], w.exps() / r.seconds());
                default -> { }
            }
        }
        return rates;
    }

    static void printTable(List<Row> rows) {
        if (rows.isEmpty()) {
            return;
        }
        Map<String, double[]> rates = referenceRates(rows);
        System.out.println();
        System.out.println("| kernel | device | shape | time | rate | floor | time / floor |");
        System.out.println("| --- | --- | --- | --- | --- | --- | --- |");
        for (Row r : rows) {
            Work w = Work.of(r.kernel(), r.device().equals("cpu"), Shape.parse(r.shape()));
            double[] rate = rates.get(r.device() + "/" + r.shape());
            double floor = w.floorSeconds(rate[0], rate[1], rate[2]);
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %.2f |%n", r.kernel(), r.device(), r.shape(),
                    seconds(r.seconds()), w.rate(r.seconds()), seconds(floor), r.seconds() / floor);
        }
        System.out.println();
        System.out.println("floor: the work (bytes, FLOP, exponentials: Work.java) at the copy, matmul and exp rates measured on that device at that shape in this run");
    }

    private static String seconds(double s) {
        return s >= 1 ? String.format(Locale.ROOT, "%.2f s", s) : s >= 1e-3 ? String.format(Locale.ROOT, "%.3g ms", s * 1e3)
                : String.format(Locale.ROOT, "%.3g µs", s * 1e6);
    }
}
