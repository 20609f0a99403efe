package org.solulens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.cpu.CpuBackend;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;

/** The mediators against their definitions, computed here directly from the activation cache; the fit on known lines. */
class LnFactorMediatorsTest {
    @Test
    void mediatorsAreTheirDefinitionsOnTheCache() {
        ModelConfig cfg = TestModels.config(16, 32, 2, 8, 12, 53, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 4);
        int[] tokens = {0, 5, 9, 5, 5, 17, 9, 5, 3, 5, 5, 1};
        try (CpuBackend cpu = new CpuBackend(model)) {
            ForwardResult clean = cpu.run(tokens, LnFactorMediators.hooks(cfg));
            List<LnFactorMediators.Row> rows = LnFactorMediators.of(model, clean);
            int N = cfg.dMlp(), H = cfg.nHeads(), P = tokens.length;
            for (int p = 0; p < P; p++) {
                LnFactorMediators.Row row = rows.get(p);
                double[] pre = new double[N], mid = new double[N];
                for (int n = 0; n < N; n++) {
                    pre[n] = clean.get(Hooks.MLP_PRE).at(p, n);
                    mid[n] = clean.get(Hooks.MLP_MID).at(p, n);
                }
                double norm = Math.sqrt(java.util.Arrays.stream(pre).map(x -> x * x).sum());
                double z = java.util.Arrays.stream(pre).map(Math::exp).sum();
                double entropy = -java.util.Arrays.stream(pre).map(x -> Math.exp(x) / z * Math.log(Math.exp(x) / z)).sum();
                double top = java.util.Arrays.stream(pre).map(x -> Math.exp(x) / z).max().orElseThrow();
                assertEquals(norm, row.preNorm(), 1e-12);
                assertEquals(entropy, row.softmaxEntropy(), 1e-9);
                assertEquals(top, row.softmaxTop1(), 1e-12);
                // SoLU's output is pre times the softmax, so hook_mid / pre is the softmax itself
                assertEquals(top, java.util.stream.IntStream.range(0, N).mapToDouble(n -> mid[n] / pre[n]).max().orElseThrow(), 1e-9);
                double[] sorted = java.util.Arrays.stream(mid).map(Math::abs).sorted().toArray();
                double total = java.util.Arrays.stream(sorted).sum(), kept = 0;
                int count = 0;
                for (int i = N - 1; i >= 0 && kept < 0.9 * total; i--, count++) {
                    kept += sorted[i];
                }
                assertEquals(count, row.neuronsFor90Percent(), "position " + p);
                double bos = 0, same = 0, h0 = 0;
                for (int h = 0; h < H; h++) {
                    bos += clean.get(Hooks.PATTERN).at(h, p, 0) / H;
                    for (int j = 0; j < p; j++) {
                        same += tokens[j] == tokens[p] ? clean.get(Hooks.PATTERN).at(h, p, j) / H : 0;
                        h0 -= clean.get(Hooks.PATTERN).at(h, p, j) * Math.log(clean.get(Hooks.PATTERN).at(h, p, j)) / H;
                    }
                    h0 -= clean.get(Hooks.PATTERN).at(h, p, p) * Math.log(clean.get(Hooks.PATTERN).at(h, p, p)) / H;
                }
                assertEquals(bos, row.attentionOnBos(), 1e-12);
                assertEquals(same, row.attentionOnSameToken(), 1e-12);
                assertEquals(h0, row.attentionEntropy(), 1e-12);
            }
        }
    }

    @Test
    void theFitRecoversALogarithmicTrend() {
        double[] y = new double[40];
        Random r = new Random(1);
        for (int p = 1; p < y.length; p++) {
            y[p] = 0.7 - 0.25 * Math.log(p);
        }
        y[0] = r.nextDouble();   // BOS: left out of the fit
        LnFactorMediators.Fit fit = LnFactorMediators.fitAgainstLogPosition(y, 1);
        assertEquals(-0.25, fit.slope(), 1e-12);
        assertEquals(0.7, fit.intercept(), 1e-12);
        assertEquals(1, fit.r2(), 1e-12);
        assertEquals(39, fit.points());
        for (int p = 1; p < y.length; p++) {
            y[p] += (p % 2 == 0 ? 0.1 : -0.1);
        }
        LnFactorMediators.Fit noisy = LnFactorMediators.fitAgainstLogPosition(y, 1);
        assertEquals(true, noisy.r2() < 1 && noisy.r2() > 0.5, "R² " + noisy.r2());
    }
}
