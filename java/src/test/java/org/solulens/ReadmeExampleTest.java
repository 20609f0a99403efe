package org.solulens;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.solulens.analysis.AblationSweep;
import org.solulens.analysis.Prompt;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.backend.Backends;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
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
                    AblationSweep.Settings.at(Ablation.Site.MID));   // zero-ablation, exact, every neuron; .withMethod(...), ...
            double d = sweep.results().get(0).result().delta(1, 42);  // Δloss at position 1 when neuron 42 is zeroed there

            assertTrue(Double.isFinite(d) && d != 0);
            assertEquals(5 * model.config().dMlp(), post.length);
            assertTrue(scale > Math.sqrt(1e-5));
            assertEquals(4, r.loss().length);
        }
    }

    /** README's snippet and this test's code are the same lines: the README cannot drift from what is run here. */
    @Test
    void readmesSnippetIsTheCodeThisTestRuns() throws java.io.IOException {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("..", "README.md"));
        int start = readme.indexOf("```java", readme.indexOf("## The Java API")), end = readme.indexOf("```", start + 7);
        String test = java.nio.file.Files.readString(java.nio.file.Path.of("src/test/java/org/solulens/ReadmeExampleTest.java"));
        java.util.Set<String> testLines = new java.util.HashSet<>(test.lines().map(String::strip).toList());
        List<String> snippet = readme.substring(start + 7, end).lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        assertTrue(snippet.size() > 15, "README's Java snippet was not found");
        for (String line : snippet) {
            assertTrue(testLines.contains(line), "README's line is not in ReadmeExampleTest: " + line);
        }
    }
}
