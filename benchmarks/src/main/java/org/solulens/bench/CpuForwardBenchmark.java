package org.solulens.bench;

import java.util.List;
import java.util.Random;
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
import org.openjdk.jmh.annotations.Warmup;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.cpu.CpuBackend;
import org.solulens.model.ActivationFunction;
import org.solulens.model.DemoModel;
import org.solulens.model.RandomWeights;
import org.solulens.model.ModelConfig;
import org.solulens.model.Normalization;
import org.solulens.model.SoluModel;

/**
 * The pure-Java forward pass (loss only) on the demo model and on a random model of solu-1l's shape.
 * Run: {@code java -jar benchmarks/target/benchmarks.jar CpuForward}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class CpuForwardBenchmark {
    @Param({"demo", "solu-1l"})
    public String shape;

    @Param({"64"})
    public int tokens;

    private CpuBackend backend;
    private int[] prompt;

    @Setup
    public void setUp() {
        SoluModel model;
        if (shape.equals("demo")) {
            model = DemoModel.load();
        } else {
            ModelConfig cfg = new ModelConfig("solu-1l-shaped", 512, 2048, 8, 64, 1024, 48262,
                    ActivationFunction.SOLU_LN, Normalization.LN, 1e-5, 8, true);
            model = new SoluModel(cfg, RandomWeights.of(cfg, 1), null, "random solu-1l-shaped");
        }
        backend = new CpuBackend(model);
        prompt = new Random(7).ints(Math.min(tokens, model.config().nCtx()), 0, model.config().dVocab()).toArray();
    }

    @Benchmark
    public ForwardResult forward() {
        return backend.run(prompt, List.of(Hooks.LOSS));
    }
}
