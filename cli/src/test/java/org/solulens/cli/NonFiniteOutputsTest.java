package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.backend.SweepResult;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.model.Tensor;
import org.solulens.testing.TestModels;

/** A NaN or infinite loss or Δloss is an error naming where it is, or with --allow-nonfinite one counted warning. */
class NonFiniteOutputsTest {
    @TempDir
    Path tmp;

    @Test
    void nonFiniteLossIsAnErrorNamingPromptAndPosition() {
        NonFiniteOutputs strict = new NonFiniteOutputs(false);
        assertDoesNotThrow(() -> strict.checkLoss(0, new double[] {1.5, 2.0}));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> strict.checkLoss(1, new double[] {0.3, 1.0, 2.0, Double.NaN}));
        assertTrue(e.getMessage().startsWith("prompt 1, position 3: the loss is NaN"), e.getMessage());
    }

    @Test
    void unselectedPairsMayBeNaNButSelectedOnesMayNot() {
        double[] delta = {0.1, Double.NaN, Double.NaN, Double.POSITIVE_INFINITY};   // 2 positions x 2 neurons
        SweepResult r = new SweepResult(2, 2, delta, null);
        NonFiniteOutputs strict = new NonFiniteOutputs(false);
        assertDoesNotThrow(() -> strict.checkDelta(0, r, new boolean[] {true, false, false, false}));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> strict.checkDelta(0, r, new boolean[] {true, false, false, true}));
        assertTrue(e.getMessage().startsWith("prompt 0, position 1, neuron 1: the Δloss is Infinity"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> strict.checkDelta(0, r, null), "null selection: every pair counts");
    }

    @Test
    void allowedNonFiniteValuesAreCountedInOneWarning() {
        NonFiniteOutputs lenient = new NonFiniteOutputs(true);
        lenient.checkLoss(2, new double[] {Double.NaN, Double.POSITIVE_INFINITY, 1.0});
        StringWriter err = new StringWriter();
        lenient.report(new PrintWriter(err, true));
        assertEquals("warning: 2 non-finite value(s) kept (--allow-nonfinite); the first: prompt 2, position 0: the loss is NaN"
                + " (the logits overflow: are the weights or the ablation values far too large?)", err.toString().trim());
    }

    @Test
    void runOnTheEmulatorWithOverflowingLogitsFailsInsteadOfPrintingNa() throws Exception {
        // float32 on the device: an unembedding of 3e38 overflows the logits, and the loss becomes NaN
        ModelConfig cfg = TestModels.config(16, 32, 2, 8, 12, 41, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 9);
        float[] huge = new float[16 * 41];
        for (int i = 0; i < huge.length; i++) {
            huge[i] = (i % 3 == 0 ? -3e38f : 3e38f);
        }
        SoluModel overflowing = TestModels.withTensor(model, Tensor.of("unembed.W_U", new int[] {16, 41}, huge));
        Path dir = TestModels.writeFolder(tmp.resolve("huge"), cfg, overflowing.weights());
        CliRunner.Outcome o = CliRunner.run("run", "--model", dir.toString(), "--device", "emulator", "--tokens", "1,2,3,4");
        assertEquals(2, o.code(), o.out() + o.err());
        assertTrue(o.err().contains("prompt 0, position 0: the loss is"), o.err());
        CliRunner.Outcome allowed = CliRunner.run("run", "--model", dir.toString(), "--device", "emulator", "--tokens", "1,2,3,4",
                "--allow-nonfinite");
        assertEquals(0, allowed.code(), allowed.err());
        assertTrue(allowed.err().contains("non-finite value(s) kept (--allow-nonfinite)"), allowed.err());
    }
}
