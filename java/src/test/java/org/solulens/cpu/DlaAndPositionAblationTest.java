package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.solulens.backend.Ablation;
import org.solulens.backend.DlaResult;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.io.Npy;
import org.solulens.model.ModelFolder;
import org.solulens.model.SoluModel;
import org.solulens.testing.TlReference;

/** DLA and whole-position ablation against TransformerLens's outputs. */
class DlaAndPositionAblationTest {
    private static final double TL_TOLERANCE = 1e-5;

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void dlaMatchesTransformerLensAndNeuronsSumToTheMlp(int prompt) throws IOException {
        try (SoluModel model = ModelFolder.load(TlReference.modelDir())) {
            CpuBackend backend = new CpuBackend(model);
            ForwardResult clean = backend.run(TlReference.tokens(prompt), Hooks.ALL);
            DlaResult dla = backend.dla(clean, false);
            float[] mlp = Npy.read(TlReference.promptDir(prompt).resolve("mlp_dla.npy")).data();
            float[] neuron = Npy.read(TlReference.promptDir(prompt).resolve("neuron_dla.npy")).data();
            assertEquals(mlp.length, dla.mlp().length);
            for (int p = 0; p < mlp.length; p++) {
                assertEquals(mlp[p], dla.mlp()[p], TL_TOLERANCE, "mlp_dla " + p);
            }
            for (int i = 0; i < neuron.length; i++) {
                assertEquals(neuron[i], dla.neuron()[i], TL_TOLERANCE, "neuron_dla " + i);
            }
            // the neurons' attributions plus b_out's add up to the MLP's
            int n = dla.dMlp(), d = model.config().dModel();
            for (int p = 0; p < dla.positions(); p++) {
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    sum += dla.neuron(p, j);
                }
                double bias = 0, mean = 0;
                for (int i = 0; i < d; i++) {
                    mean += model.weights().bOut.get(i) / (double) d;
                }
                int t = clean.tokens()[p + 1];
                for (int i = 0; i < d; i++) {
                    bias += (model.weights().bOut.get(i) - mean) * model.weights().lnFinalW.get(i)
                            * model.weights().wU.get(i * model.config().dVocab() + t) / clean.get(Hooks.LN_FINAL_SCALE).at(p);
                }
                assertEquals(dla.mlp()[p], sum + bias, 1e-10, "sum at " + p);
            }
            DlaResult tl = backend.dla(clean, true);
            assertTrue(Math.abs(tl.mlp()[0] - dla.mlp()[0]) > 1e-6, "the TransformerLens variant leaves out ln_final.w");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void wholePositionMidAblationMatchesTheSeedsMeanLossChange(int prompt) throws IOException {
        try (SoluModel model = ModelFolder.load(TlReference.modelDir())) {
            CpuBackend backend = new CpuBackend(model);
            ForwardResult clean = backend.run(TlReference.tokens(prompt), Hooks.ALL);
            double[] delta = backend.ablatePositions(clean, Ablation.zero(Ablation.Site.MID));
            float[] expected = Npy.read(TlReference.promptDir(prompt).resolve("pos_ablate_mid_meanloss.npy")).data();
            assertEquals(delta.length + 1, expected.length);
            for (int p = 0; p < delta.length; p++) {
                assertEquals(expected[p], delta[p] / delta.length, TL_TOLERANCE, "position " + p);
            }
            assertEquals(0, expected[delta.length], 0, "the last position predicts nothing");
        }
    }
}
