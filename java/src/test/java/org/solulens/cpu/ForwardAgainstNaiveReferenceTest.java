package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.model.SoluWeights;
import org.solulens.model.Tensor;
import org.solulens.testing.NaiveForward;
import org.solulens.testing.TestModels;

/** The production forward pass against {@link NaiveForward}, an independent two-dimensional-array version. */
class ForwardAgainstNaiveReferenceTest {
    /** Both sides work in double from the same float32 weights; only summation order differs. */
    private static final double TOLERANCE = 1e-10;

    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(8, 16, 2, 4, 12, 23, ActivationFunction.SOLU_LN, 1L),
                Arguments.of(12, 40, 3, 4, 9, 17, ActivationFunction.SOLU_LN, 2L),
                Arguments.of(16, 8, 4, 2, 20, 50, ActivationFunction.SOLU_LN, 3L),
                // long enough (4 heads x 160² x 16 multiply-adds) that attention and the loss run their rows in parallel
                Arguments.of(16, 64, 4, 16, 160, 600, ActivationFunction.SOLU_LN, 8L),
                Arguments.of(10, 24, 1, 10, 7, 31, ActivationFunction.SOLU, 4L),
                Arguments.of(8, 16, 2, 4, 10, 19, ActivationFunction.GELU, 5L),
                Arguments.of(8, 16, 2, 4, 10, 19, ActivationFunction.GELU_NEW, 6L),
                Arguments.of(8, 16, 2, 4, 10, 19, ActivationFunction.RELU, 7L));
    }

    @ParameterizedTest(name = "d_model {0}, d_mlp {1}, {2} heads of {3}, n_ctx {4}, vocab {5}, {6}")
    @MethodSource("shapes")
    void logitsAndLossMatchTheNaiveReference(int dModel, int dMlp, int nHeads, int dHead, int nCtx, int vocab,
                                             ActivationFunction act, long seed) {
        ModelConfig cfg = TestModels.config(dModel, dMlp, nHeads, dHead, nCtx, vocab, act);
        SoluModel model = TestModels.random(cfg, seed);
        Random rng = new Random(seed * 31);
        for (int length : new int[] {1, 2, nCtx}) {
            int[] tokens = TestModels.randomTokens(rng, length, vocab);
            ForwardResult r = new CpuBackend(model).run(tokens, List.of(Hooks.LOGITS));
            assertMatches(NaiveForward.logits(cfg, model.weights(), tokens), r, vocab, tokens);
        }
    }

    /**
     * A hand-checkable model (d_model 4, d_mlp 4, 2 heads of 2, vocab 6): every weight is a one-decimal number
     * from a written-out formula (never 0 or 1), so each step can be recomputed on paper.
     */
    @Test
    void tinyHandCheckableModelMatchesTheNaiveReference() {
        ModelConfig cfg = TestModels.config(4, 4, 2, 2, 4, 6, ActivationFunction.SOLU_LN);
        Map<String, Tensor> t = new HashMap<>();
        int[] salt = {0};
        java.util.function.BiConsumer<String, int[]> fill = (name, shape) -> {
            float[] v = new float[(int) Tensor.numel(shape)];
            for (int i = 0; i < v.length; i++) {
                int k = (i * 7 + salt[0] * 5) % 17 - 8;                // -8 .. 8
                v[i] = (k == 0 ? 3 : k) / 10f;                          // -0.8 .. 0.8, never 0
                if (name.endsWith(".w")) {
                    v[i] = 1.2f + v[i] / 4;                             // gains 1.0 .. 1.4, never exactly 1
                }
            }
            salt[0]++;
            t.put(name, Tensor.of(name, shape, v));
        };
        fill.accept("embed.W_E", new int[] {6, 4});
        fill.accept("pos_embed.W_pos", new int[] {4, 4});
        for (String ln : List.of("blocks.0.ln1", "blocks.0.ln2", "ln_final")) {
            fill.accept(ln + ".w", new int[] {4});
            fill.accept(ln + ".b", new int[] {4});
        }
        for (String m : List.of("Q", "K", "V")) {
            fill.accept("blocks.0.attn.W_" + m, new int[] {2, 4, 2});
            fill.accept("blocks.0.attn.b_" + m, new int[] {2, 2});
        }
        fill.accept("blocks.0.attn.W_O", new int[] {2, 2, 4});
        fill.accept("blocks.0.attn.b_O", new int[] {4});
        fill.accept("blocks.0.mlp.W_in", new int[] {4, 4});
        fill.accept("blocks.0.mlp.b_in", new int[] {4});
        fill.accept("blocks.0.mlp.ln.w", new int[] {4});
        fill.accept("blocks.0.mlp.ln.b", new int[] {4});
        fill.accept("blocks.0.mlp.W_out", new int[] {4, 4});
        fill.accept("blocks.0.mlp.b_out", new int[] {4});
        fill.accept("unembed.W_U", new int[] {4, 6});
        fill.accept("unembed.b_U", new int[] {6});
        SoluWeights w = SoluWeights.from(cfg, t::get);
        SoluModel model = new SoluModel(cfg, w, null, "tiny");
        int[] tokens = {3, 0, 5, 2};
        ForwardResult r = new CpuBackend(model).run(tokens, Hooks.ALL);

        // Position 0 attends only to itself, so its pattern is exactly 1 and hook_embed is row 3 of W_E.
        assertEquals(1.0, r.get(Hooks.PATTERN).at(1, 0, 0), 0);
        for (int d = 0; d < 4; d++) {
            assertEquals(w.wE.get(3 * 4 + d), r.get(Hooks.EMBED).at(0, d), 0);
        }
        assertMatches(NaiveForward.logits(cfg, w, tokens), r, 6, tokens);
    }

    private static void assertMatches(double[][] expected, ForwardResult r, int vocab, int[] tokens) {
        double[] logits = r.get(Hooks.LOGITS).data();
        for (int p = 0; p < expected.length; p++) {
            for (int v = 0; v < vocab; v++) {
                assertEquals(expected[p][v], logits[p * vocab + v], TOLERANCE, "logit [" + p + ", " + v + "]");
            }
        }
        for (int p = 0; p + 1 < tokens.length; p++) {
            double lse = 0;
            for (int v = 0; v < vocab; v++) {
                lse += Math.exp(expected[p][v]);
            }
            assertEquals(Math.log(lse) - expected[p][tokens[p + 1]], r.loss()[p], TOLERANCE, "loss at " + p);
        }
    }
}
