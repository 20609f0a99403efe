package org.solulens.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Every kernel on every device at every shape, one JMH benchmark with three parameters. {@link Benchmarks} (the jar's
 * main) picks the combinations that can run here and prints rates and floors beside the times; JMH's own options
 * work through it too ({@code java -jar benchmarks.jar jmh KernelBenchmark -p kernel=sweep}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class KernelBenchmark {
    @Param({"copy", "exp", "matmul", "solu", "gelu", "layernorm", "attention", "cross-entropy", "forward", "sweep"})
    public String kernel;

    @Param({"cpu"})
    public String device;

    @Param({"small"})
    public String shape;

    private KernelCase kernelCase;

    @Setup
    public void setUp() {
        kernelCase = create(kernel, device, Shape.parse(shape));
    }

    @Benchmark
    public Object call() {
        return kernelCase.run();
    }

    @TearDown
    public void tearDown() {
        kernelCase.close();
    }

    static KernelCase create(String kernel, String device, Shape shape) {
        if (device.equals("cpu")) {
            return CpuKernelCases.create(kernel, shape);
        }
        String why = DeviceKernelCases.unavailableReason(device);
        if (why != null) {
            throw new IllegalStateException(device + " cannot run here: " + why);
        }
        return DeviceKernelCases.create(kernel, device, shape);
    }
}
