package org.solulens.bench;

import java.util.List;
import java.util.Random;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.cpu.CausalAttention;
import org.solulens.cpu.CpuBackend;
import org.solulens.cpu.CrossEntropy;
import org.solulens.cpu.FloatExpSum;
import org.solulens.cpu.LayerNorm;
import org.solulens.cpu.MatMul;
import org.solulens.cpu.MlpActivation;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.RandomWeights;
import org.solulens.model.SoluModel;
import org.solulens.model.SoluWeights;

/** The CPU twins of the kernels (package cpu), in double, on seeded random inputs. */
final class CpuKernelCases {
    private CpuKernelCases() {}

    static KernelCase create(String kernel, Shape shape) {
        Random rng = new Random(17);
        ModelConfig cfg = shape.config();
        int P = shape.tokens, D = shape.dModel, N = shape.dMlp, V = shape.vocab, H = shape.heads, dh = shape.dHead;
        switch (kernel) {
            case "copy": {
                double[] src = gaussian(rng, P * V), dst = new double[src.length];
                return of(() -> {
                    System.arraycopy(src, 0, dst, 0, src.length);
                    return dst;
                });
            }
            case "exp": {
                // the sweep's inner loop (single precision: Σ_v q[v] exp(dα a[v] + δ b[v])) as its tiles run it: blocks of
                // 8 positions (their own q and A) against 16 rows of B, the vocabulary in 2048-word chunks, on every core
                float[] q = floats(rng, P * V, 1.0 / V), a = floats(rng, P * V, 1), b = floats(rng, 16 * V, 1);
                return of(() -> java.util.stream.IntStream.range(0, (P + 7) / 8).parallel().mapToDouble(block -> {
                    int positions = Math.min(8, P - block * 8), pairs = positions * 16;
                    double[] dA = new double[pairs], dA2 = new double[pairs], dB = new double[pairs], sums = new double[pairs];
                    boolean[] admitted = new boolean[pairs];
                    java.util.Arrays.fill(dA, 0.05);
                    java.util.Arrays.fill(dB, 0.3);
                    java.util.Arrays.fill(admitted, true);
                    FloatExpSum.best().sweepTile(q, a, null, b, V, block * 8, positions, 0, 16, 2048, dA, dA2, dB, admitted, sums);
                    return java.util.Arrays.stream(sums).sum();
                }).sum());
            }
            case "matmul": {
                SoluWeights w = RandomWeights.of(cfg, 1);
                double[] x = gaussian(rng, P * D);
                return of(() -> MatMul.multiply(x, P, D, w.wU, 0, V, null, 0));
            }
            case "solu": {
                double[] pre = gaussian(rng, P * N), out = new double[P * N];
                return of(() -> {
                    MlpActivation.solu(pre, P, N, out);
                    return out;
                });
            }
            case "gelu": {
                double[] pre = gaussian(rng, P * N), out = new double[P * N];
                return of(() -> {
                    MlpActivation.forward(ActivationFunction.GELU, pre, P, N, out);
                    return out;
                });
            }
            case "layernorm": {
                SoluWeights w = RandomWeights.of(cfg, 1);
                double[] x = gaussian(rng, P * N), normalized = new double[P * N], scale = new double[P], out = new double[P * N];
                return of(() -> {
                    LayerNorm.forward(x, P, N, w.mlpLnW, w.mlpLnB, cfg.eps(), normalized, scale, out);
                    return out;
                });
            }
            case "attention": {
                double[] q = gaussian(rng, P * H * dh), k = gaussian(rng, P * H * dh), v = gaussian(rng, P * H * dh);
                return of(() -> CausalAttention.attend(q, k, v, P, H, dh, Math.sqrt(dh)));
            }
            case "cross-entropy": {
                double[] logits = gaussian(rng, P * V);
                int[] tokens = rng.ints(P, 0, V).toArray();
                return of(() -> CrossEntropy.nextTokenLoss(logits, tokens, V));
            }
            case "forward": {
                CpuBackend backend = new CpuBackend(new SoluModel(cfg, RandomWeights.of(cfg, 1), null, "bench"));
                int[] tokens = rng.ints(P, 0, V).toArray();
                return of(() -> backend.run(tokens, List.of(Hooks.LOSS)));
            }
            case "sweep": {
                CpuBackend backend = new CpuBackend(new SoluModel(cfg, RandomWeights.of(cfg, 1), null, "bench"));
                int[] tokens = rng.ints(shape.sweepTokens, 0, V).toArray();
                ForwardResult clean = backend.run(tokens, Hooks.ALL);
                SweepRequest request = new SweepRequest(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, null, false);
                backend.sweep(clean, request);   // makes the model constant B once, outside the timing
                return of(() -> backend.sweep(clean, request));
            }
            case "sweep-mid", "decomposition": {
                // one exact sweep at hook_mid, against the three-sweep split into direct and mediated parts
                CpuBackend backend = new CpuBackend(new SoluModel(cfg, RandomWeights.of(cfg, 1), null, "bench"));
                ForwardResult clean = backend.run(rng.ints(shape.sweepTokens, 0, V).toArray(), Hooks.ALL);
                Ablation mid = Ablation.zero(Ablation.Site.MID);
                SweepRequest request = new SweepRequest(mid, SweepMethod.EXACT, null, false);
                backend.sweep(clean, request);   // makes the model constant B once, outside the timing
                return kernel.equals("sweep-mid") ? of(() -> backend.sweep(clean, request))
                        : of(() -> org.solulens.analysis.EffectDecomposition.run(backend, clean, mid));
            }
            default:
                throw new IllegalArgumentException("unknown kernel '" + kernel + "'");
        }
    }

    static float[] floats(Random rng, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (scale * Math.abs(rng.nextGaussian()));
        }
        return x;
    }

    static double[] gaussian(Random rng, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = rng.nextGaussian();
        }
        return x;
    }

    private static KernelCase of(java.util.function.Supplier<Object> body) {
        return new KernelCase() {
            @Override
            public Object run() {
                return body.get();
            }
        };
    }
}
