package org.solulens.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.cpu.CpuBackend;
import org.solulens.io.Npy;

/**
 * The shipped demo model and its GELU twin against the outputs their training script computed (in float64, from the
 * shipped float32 weights) for a few prompts: same tokenization, same logits, same losses.
 */
class DemoModelParityTest {
    /** The project's parity bounds with the training script; both sides compute in double from the same float32 weights, so the gap is ~1e-12. */
    private static final double LOGIT_TOLERANCE = 1e-4, LOSS_TOLERANCE = 1e-5;

    private static Path reference(String name) throws URISyntaxException {
        return Path.of(DemoModelParityTest.class.getResource("/" + name + "/prompts.json").toURI()).getParent();
    }

    @Test
    void logitsAndLossesMatchTheTrainingScript() throws IOException, URISyntaxException {
        check(DemoModel.load(), reference("demo-reference"));
    }

    @Test
    void theGeluTwinMatchesItsTrainingScriptAndHasNoMlpLayerNorm() throws IOException, URISyntaxException {
        try (SoluModel gelu = DemoModel.loadGelu()) {
            assertEquals(ActivationFunction.GELU, gelu.config().actFn());
            assertEquals(DemoModel.config().dMlp(), gelu.config().dMlp(), "the same size as the SoLU model");
            assertTrue(gelu.weights().mlpLnW == null);
        }
        check(DemoModel.loadGelu(), reference("demo-gelu-reference"));
    }

    private static void check(SoluModel model, Path reference) throws IOException {
        JsonNode prompts = new ObjectMapper().readTree(reference.resolve("prompts.json").toFile());
        assertTrue(prompts.size() >= 3);
        try (SoluModel demo = model) {
            CpuBackend backend = new CpuBackend(demo);
            for (int i = 0; i < prompts.size(); i++) {
                int[] expectedTokens = new ObjectMapper().convertValue(prompts.get(i).get("tokens"), int[].class);
                int[] tokens = demo.tokenize(prompts.get(i).get("text").asText(), true);
                assertArrayEquals(expectedTokens, tokens, "tokenization of prompt " + i);
                ForwardResult r = backend.run(tokens, List.of(Hooks.LOGITS, Hooks.LOSS));
                Npy.Array logits = Npy.read(reference.resolve(i + "/logits.npy"));
                Npy.Array loss = Npy.read(reference.resolve(i + "/loss.npy"));
                assertArrayEquals(r.get(Hooks.LOGITS).shape(), logits.shape());
                for (int k = 0; k < logits.data().length; k++) {
                    assertEquals(logits.data()[k], r.get(Hooks.LOGITS).data()[k], LOGIT_TOLERANCE, "prompt " + i + " logit " + k);
                }
                for (int p = 0; p < loss.data().length; p++) {
                    assertEquals(loss.data()[p], r.loss()[p], LOSS_TOLERANCE, "prompt " + i + " loss " + p);
                }
            }
        }
    }
}
