package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;

/** The model a command line names, loaded before picocli reads it, and taken only by the options that name it. */
class EarlyModelLoadTest {
    @TempDir
    Path tmp;

    private static final ModelConfig CFG = TestModels.config(16, 32, 2, 8, 12, 41, ActivationFunction.SOLU_LN);

    private static ModelOptions options(String model, boolean ignoreExtra) {
        ModelOptions o = new ModelOptions();
        o.model = model;
        o.device = "cpu";
        o.precision = "single";
        o.ignoreExtraTensors = ignoreExtra;
        return o;
    }

    @AfterEach
    void nothingLeftBehind() {
        SoluModel left = ModelOptions.takeLoadedEarly("", false);
        assertNull(left, "each test takes what it started");
    }

    /** Waits (up to 30 s) until no early load runs. */
    private static void awaitEarlyLoad() throws InterruptedException {
        long until = System.nanoTime() + 30_000_000_000L;
        while (Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("solulens-model-load") && t.isAlive())) {
            if (System.nanoTime() > until) {
                throw new AssertionError("the early load did not end");
            }
            Thread.sleep(5);
        }
    }

    private static void deleteFolder(Path dir) throws java.io.IOException {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }

    @Test
    void theOptionsNamingTheModelTakeTheOneLoadedAhead() throws Exception {
        SoluModel model = TestModels.random(CFG, 3);
        Path dir = TestModels.writeFolder(tmp.resolve("m"), CFG, model.weights());
        ModelOptions.startModelLoadEarly("sweep", "--model", dir.toString(), "--out", tmp.resolve("o").toString());
        ModelOptions.startModelLoadEarly("sweep", "--model", tmp.resolve("x").toString());   // one at a time: ignored
        awaitEarlyLoad();
        deleteFolder(dir);   // now only the model loaded ahead can be had
        try (SoluModel m = options(dir.toString(), false).loadModel()) {
            assertEquals(model.weights().wU.get(7), m.weights().wU.get(7));
        }
        assertThrows(Exception.class, () -> options(dir.toString(), false).loadModel(), "taken once: the next load is the command's own");

        Path again = TestModels.writeFolder(tmp.resolve("again"), CFG, model.weights());
        ModelOptions.startModelLoadEarly("run", "--model=" + again, "--ignore-extra-tensors");
        try (SoluModel m = ModelOptions.takeLoadedEarly(again.toString(), true)) {
            assertEquals(model.weights().wE.get(11), m.weights().wE.get(11), "--model=DIR, with --ignore-extra-tensors");
        }
    }

    @Test
    void otherOptionsLoadTheirOwnModelAndAFailedLoadReportsThroughTheCommand() throws Exception {
        SoluModel model = TestModels.random(CFG, 4), other = TestModels.random(CFG, 5);
        String dir = TestModels.writeFolder(tmp.resolve("m"), CFG, model.weights()).toString();
        String otherDir = TestModels.writeFolder(tmp.resolve("other"), CFG, other.weights()).toString();
        ModelOptions.startModelLoadEarly("sweep", "--model", dir);
        try (SoluModel m = options(otherDir, false).loadModel()) {
            assertEquals(other.weights().wU.get(7), m.weights().wU.get(7), "the model the options name, not the guessed one");
        }
        ModelOptions.startModelLoadEarly("sweep", "--model", dir);
        assertNull(ModelOptions.takeLoadedEarly(dir, true), "other options (--ignore-extra-tensors) load again");

        Path missing = tmp.resolve("missing");
        ModelOptions.startModelLoadEarly("sweep", "--model", missing.toString());
        Exception e = assertThrows(Exception.class, () -> options(missing.toString(), false).loadModel());
        assertEquals(assertThrows(Exception.class, () -> ModelOptions.load(missing.toString(), false)).getMessage(), e.getMessage(),
                "the command's own load reports the error");
    }

    @Test
    void nothingIsLoadedAheadForHelpOtherCommandsOrTheBundledModels() {
        ModelOptions.startModelLoadEarly("sweep", "--model", "demo");
        assertNull(ModelOptions.takeLoadedEarly("demo", false));
        ModelOptions.startModelLoadEarly("sweep", "--model", tmp.toString(), "--help");
        assertNull(ModelOptions.takeLoadedEarly(tmp.toString(), false));
        ModelOptions.startModelLoadEarly("cache", "--model", tmp.toString());
        assertNull(ModelOptions.takeLoadedEarly(tmp.toString(), false));
        ModelOptions.startModelLoadEarly("sweep", "--out", tmp.toString());
        assertNull(ModelOptions.takeLoadedEarly(null, false));
        assertEquals("b", ModelOptions.modelArgument("run", "--model", "a", "--model=b"));
        assertNull(ModelOptions.modelArgument("run", "--model"));
    }
}
