package org.solulens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.cpu.CpuBackend;
import org.solulens.model.ActivationFunction;
import org.solulens.model.DemoModel;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.model.Tensor;
import org.solulens.testing.NaiveForward;
import org.solulens.testing.TestModels;

/** The Shapley split of the MLP LayerNorm's log-factor: efficient, true to a hooked forward pass, and right where the answer is known. */
class LnFactorAttributionTest {
    private static List<String> hooks() {
        List<String> h = new java.util.ArrayList<>(LnFactorAttribution.HOOKS);
        h.add(Hooks.MLP_LN_SCALE);
        h.add(Hooks.MLP_PRE);
        return h;
    }

    @Test
    void thePartsSumToTheChangeOnRandomModelsOfEveryActivationAndOnTheDemo() {
        Random r = new Random(11);
        for (ActivationFunction act : ActivationFunction.values()) {
            ModelConfig cfg = TestModels.config(16, 32, 2, 8, 12, 53, act);
            SoluModel model = TestModels.random(cfg, 3 + act.ordinal());
            try (CpuBackend cpu = new CpuBackend(model)) {
                int[] tokens = TestModels.randomTokens(r, 12, cfg.dVocab());
                ForwardResult clean = cpu.run(tokens, act.hasMlpLayerNorm() ? hooks() : LnFactorAttribution.HOOKS);
                List<LnFactorAttribution.Parts> parts = LnFactorAttribution.attribute(model, clean, 1);
                for (LnFactorAttribution.Parts p : parts) {
                    assertTrue(Math.abs(p.residual()) <= 1e-10, act + ", position " + p.position() + ": parts miss the change by " + p.residual());
                    if (act.hasMlpLayerNorm()) {
                        // all three at p: the clean pass's own factor
                        assertEquals(-Math.log(clean.get(Hooks.MLP_LN_SCALE).data()[p.position()]), p.logFactor(), 1e-10, act + " " + p.position());
                    }
                }
                LnFactorAttribution.Parts reference = parts.get(1);
                assertEquals(0, reference.total(), 0);
                assertEquals(0, reference.embed() + reference.posEmbed() + reference.attnOut(), 0);
            }
        }
        try (SoluModel demo = DemoModel.load(); CpuBackend cpu = new CpuBackend(demo)) {
            ForwardResult clean = cpu.run(demo.tokenize("In the beginning was the Word, and the Word was with God", true), hooks());
            for (LnFactorAttribution.Parts p : LnFactorAttribution.attribute(demo, clean, 1)) {
                assertTrue(Math.abs(p.residual()) <= 1e-10, "demo, position " + p.position() + ": " + p.residual());
                assertEquals(-Math.log(clean.get(Hooks.MLP_LN_SCALE).data()[p.position()]), p.logFactor(), 1e-10);
            }
        }
    }

    @Test
    void everyCounterfactualIsAForwardPassWithTheResidualStreamReplacedByAHook() {
        ModelConfig cfg = TestModels.config(16, 32, 2, 8, 10, 53, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 8);
        int[] tokens = TestModels.randomTokens(new Random(2), 10, cfg.dVocab());
        try (CpuBackend cpu = new CpuBackend(model)) {
            ForwardResult clean = cpu.run(tokens, hooks());
            int D = cfg.dModel(), reference = 1;
            double[][] components = {clean.get(Hooks.EMBED).data(), clean.get(Hooks.POS_EMBED).data(), clean.get(Hooks.ATTN_OUT).data()};
            for (int p : new int[] {0, 4, 9}) {
                double[] v = new double[8];
                for (int mask = 0; mask < 8; mask++) {
                    double[] resid = new double[D];
                    for (int c = 0; c < 3; c++) {
                        int from = ((mask >> c & 1) == 1 ? p : reference) * D;
                        for (int d = 0; d < D; d++) {
                            resid[d] += components[c][from + d];
                        }
                    }
                    v[mask] = -Math.log(NaiveForward.mlpLnScaleWithResidMid(cfg, model.weights(), tokens, p, resid));
                    assertEquals(v[mask], LnFactorAttribution.logFactors(model, resid, 1)[0], 1e-9, "position " + p + ", counterfactual " + mask);
                }
                // the Shapley values from the slow truth's eight numbers
                LnFactorAttribution.Parts parts = LnFactorAttribution.attribute(model, clean, reference).get(p);
                double embed = (v[1] - v[0]) / 3 + (v[3] - v[2]) / 6 + (v[5] - v[4]) / 6 + (v[7] - v[6]) / 3;
                double pos = (v[2] - v[0]) / 3 + (v[3] - v[1]) / 6 + (v[6] - v[4]) / 6 + (v[7] - v[5]) / 3;
                double attn = (v[4] - v[0]) / 3 + (v[5] - v[1]) / 6 + (v[6] - v[2]) / 6 + (v[7] - v[3]) / 3;
                assertEquals(embed, parts.embed(), 1e-9, "embed at " + p);
                assertEquals(pos, parts.posEmbed(), 1e-9, "pos_embed at " + p);
                assertEquals(attn, parts.attnOut(), 1e-9, "attn_out at " + p);
            }
        }
    }

    @Test
    void whereOnlyThePositionalEmbeddingVariesItCarriesTheWholeChange() {
        // one token repeated (embed constant) through an attention that writes nothing (W_V, b_V and b_O zero)
        ModelConfig cfg = TestModels.config(16, 32, 2, 8, 12, 53, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 21);
        model = TestModels.withTensor(model, Tensor.of("blocks.0.attn.W_V", new int[] {2, 16, 8}, new float[2 * 16 * 8]));
        model = TestModels.withTensor(model, Tensor.of("blocks.0.attn.b_V", new int[] {2, 8}, new float[2 * 8]));
        model = TestModels.withTensor(model, Tensor.of("blocks.0.attn.b_O", new int[] {16}, new float[16]));
        int[] tokens = new int[12];
        java.util.Arrays.fill(tokens, 7);
        try (CpuBackend cpu = new CpuBackend(model)) {
            ForwardResult clean = cpu.run(tokens, LnFactorAttribution.HOOKS);
            for (LnFactorAttribution.Parts p : LnFactorAttribution.attribute(model, clean, 1)) {
                if (Math.abs(p.total()) < 1e-12) {
                    continue;
                }
                assertTrue(p.posEmbed() / p.total() >= 0.999, "position " + p.position() + ": " + p);
                // zero up to the matrix product's rounding, which may differ between rows of equal values
                assertEquals(0, p.embed(), 1e-12);
                assertEquals(0, p.attnOut(), 1e-12);
            }
        }
    }

    @Test
    void theEmulatedGpuBackendsPassGivesTheCpusSplitWithinFloat32() {
        ModelConfig cfg = TestModels.config(16, 32, 2, 8, 12, 53, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 9);
        int[] tokens = TestModels.randomTokens(new Random(4), 12, cfg.dVocab());
        List<String> hooks = new java.util.ArrayList<>(LnFactorAttribution.HOOKS);
        hooks.addAll(LnFactorMediators.hooks(cfg));
        try (CpuBackend cpu = new CpuBackend(model);
             org.solulens.gpu.GpuBackend gpu = new org.solulens.gpu.GpuBackend(model, new org.solulens.gpu.EmulatedDevice())) {
            ForwardResult a = cpu.run(tokens, hooks), b = gpu.run(tokens, hooks);
            List<LnFactorAttribution.Parts> x = LnFactorAttribution.attribute(model, a, 1), y = LnFactorAttribution.attribute(model, b, 1);
            List<LnFactorMediators.Row> mx = LnFactorMediators.of(model, a), my = LnFactorMediators.of(model, b);
            for (int p = 0; p < tokens.length; p++) {
                // float32 activations in, float64 head: the parts agree to float32's relative precision of the inputs
                assertEquals(x.get(p).embed(), y.get(p).embed(), 1e-5, "embed at " + p);
                assertEquals(x.get(p).posEmbed(), y.get(p).posEmbed(), 1e-5, "pos_embed at " + p);
                assertEquals(x.get(p).attnOut(), y.get(p).attnOut(), 1e-5, "attn_out at " + p);
                assertTrue(Math.abs(y.get(p).residual()) <= 1e-10, "efficiency on the device's numbers at " + p);
                assertEquals(mx.get(p).attentionOnBos(), my.get(p).attentionOnBos(), 1e-5, "attention on BOS at " + p);
                assertEquals(mx.get(p).softmaxTop1(), my.get(p).softmaxTop1(), 1e-5, "softmax top share at " + p);
            }
        }
    }
}
