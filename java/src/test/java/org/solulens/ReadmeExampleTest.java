package org.solulens;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.solulens.analysis.AblationSweep;
import org.solulens.analysis.NeuronSelection;
import org.solulens.analysis.Prompt;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.backend.Backends;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.model.DemoModel;
import org.solulens.model.SoluModel;

/** The Java example of README.md, kept compiling and running. */
class ReadmeExampleTest {
    @Test
    void readmeExampleRuns() {
        try (SoluModel model = DemoModel.load();                 // or ModelFolder.load(Path.of("solu-1l"))
             Backend backend = Backends.create(model, Backends.Choice.AUTO)) {
            int[] tokens = model.tokenize("The ice is cold", true);   // BOS prepended, as TransformerLens's to_tokens
            ForwardResult r = backend.run(tokens, List.of(Hooks.MLP_POST, Hooks.MLP_LN_SCALE));
            double[] post = r.get(Hooks.MLP_POST).data();           // [pos, d_mlp], row-major
            double scale = r.get(Hooks.MLP_LN_SCALE).at(2);         // the MLP LayerNorm's scale at position 2
            System.out.printf("mean loss %.4f, post[0,0] %.4f, scale %.3g%n", r.meanLoss(), post[0], scale);

            // every neuron ablated (zeroed before the MLP LayerNorm) at every position, exactly
            AblationSweep.Run sweep = AblationSweep.run(backend, List.of(new Prompt("The ice is cold", tokens)),
                    new AblationSweep.Settings(Ablation.Site.MID, Ablation.Kind.ZERO, null, null, SweepMethod.EXACT,
                            NeuronSelection.all(), false), true);
            double d = sweep.results().get(0).result().delta(1, 42);  // Δloss at position 1 when neuron 42 is zeroed there

            assertTrue(Double.isFinite(d) && d != 0);
            assertEquals(5 * model.config().dMlp(), post.length);
            assertTrue(scale > Math.sqrt(1e-5));
            assertEquals(4, r.loss().length);
        }
    }
}
