package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.model.ModelFolder;
import org.solulens.model.SoluModel;
import org.solulens.testing.PthFixtures;

/** The real-model workflow a Java user follows: a hub snapshot in the Hugging Face cache, used as hf:..., converted. */
class HubModelCliTest {
    @TempDir
    Path tmp;

    @Test
    void convertWritesAFolderThatLoadsBitForBitTheSameAndMapsInsteadOfUnpickling() throws IOException {
        Path out = tmp.resolve("converted");
        CliRunner.Outcome o = CliRunner.run("convert", "--model", PthFixtures.fixture("solu-small").toString(), "--out", out.toString());
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("24 tensors") && o.out().contains("5,993 parameters"), o.out());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")) && Files.isRegularFile(out.resolve("config.json")));
        try (SoluModel source = ModelFolder.load(PthFixtures.fixture("solu-small")); SoluModel converted = ModelFolder.load(out)) {
            java.util.Map<String, Object> a = source.config().toTlMap(), b = converted.config().toTlMap();
            a.remove("model_name");
            b.remove("model_name");
            assertEquals(a, b);
            for (String name : source.weights().byName().keySet()) {
                float[] x = source.weights().byName().get(name).toArray(), y = converted.weights().byName().get(name).toArray();
                assertEquals(x.length, y.length, name);
                for (int i = 0; i < x.length; i++) {
                    assertEquals(Float.floatToRawIntBits(x[i]), Float.floatToRawIntBits(y[i]), name + "[" + i + "]");
                }
            }
            assertTrue(converted.notes().isEmpty(), "a converted folder is SoluLens's own format: " + converted.notes());
        }
    }

    /** Runs the CLI in a new JVM with HF_HOME pointing at {@code home}. */
    private CliRunner.Outcome runWithHfHome(Path home, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules",
                "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("HF_HOME", home.toString());
        pb.environment().remove("HF_HUB_CACHE");
        Path stdout = tmp.resolve("out.txt"), stderr = tmp.resolve("err.txt");
        Process p = pb.redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the CLI did not finish");
        return new CliRunner.Outcome(p.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8), Files.readString(stderr, StandardCharsets.UTF_8));
    }

    @Test
    void hfNamesASnapshotInTheCacheAndItsTokenizerRepositoryOffline() throws Exception {
        Path hub = tmp.resolve("hf-home/hub");
        Path snapshot = Files.createDirectories(hub.resolve("models--NeelNanda--SoLU_1L512W_C4_Code/snapshots/0123abcd"));
        for (String f : new String[] {"config.json", "model_final.pth"}) {
            Files.copy(PthFixtures.fixture("solu-small/" + f), snapshot.resolve(f));
        }
        Files.createDirectories(hub.resolve("models--NeelNanda--SoLU_1L512W_C4_Code/refs"));
        Files.writeString(hub.resolve("models--NeelNanda--SoLU_1L512W_C4_Code/refs/main"), "0123abcd");

        CliRunner.Outcome noTokenizer = runWithHfHome(tmp.resolve("hf-home"), "run", "--model", "hf:NeelNanda/SoLU_1L512W_C4_Code",
                "--prompt", "The ice is cold");
        assertEquals(2, noTokenizer.code(), noTokenizer.out() + noTokenizer.err());
        assertTrue(noTokenizer.err().contains("huggingface-cli download NeelNanda/gpt-neox-tokenizer-digits tokenizer.json"), noTokenizer.err());

        // a tokenizer repository in the cache (the demo model's tokenizer.json stands in for gpt-neox-tokenizer-digits)
        Path tok = Files.createDirectories(hub.resolve("models--NeelNanda--gpt-neox-tokenizer-digits/snapshots/feed"));
        try (var in = Main.class.getResourceAsStream("/org/solulens/demo/tokenizer.json")) {
            Files.copy(in, tok.resolve("tokenizer.json"));
        }
        CliRunner.Outcome info = runWithHfHome(tmp.resolve("hf-home"), "info", "--model", "hf:NeelNanda/SoLU_1L512W_C4_Code@main");
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("d_mlp                      40"), info.out());
        assertTrue(info.out().contains("tokenizer: NeelNanda/gpt-neox-tokenizer-digits from the Hugging Face cache"), info.out());
        assertTrue(info.out().contains("defaulted as TransformerLens does: eps = 1.0E-5"), info.out());

        CliRunner.Outcome run = runWithHfHome(tmp.resolve("hf-home"), "run", "--model", "hf:NeelNanda/SoLU_1L512W_C4_Code", "--tokens", "1,5,7,9");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("top-5"), run.out());

        CliRunner.Outcome missing = runWithHfHome(tmp.resolve("hf-home"), "info", "--model", "hf:NeelNanda/GELU_1L512W_C4_Code");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("huggingface-cli download NeelNanda/GELU_1L512W_C4_Code config.json model_final.pth"), missing.err());
    }

    @Test
    void convertRefusesAnOutputFolderThatIsContainsOrLiesInsideItsInput() throws Exception {
        Path model = Files.createDirectories(tmp.resolve("models/solu"));
        for (String f : new String[] {"config.json", "model_final.pth"}) {
            Files.copy(PthFixtures.fixture("solu-small/" + f), model.resolve(f));
        }
        byte[] weights = Files.readAllBytes(model.resolve("model_final.pth"));
        for (Path out : new Path[] {model, tmp.resolve("models"), model.resolve("converted"), tmp.resolve("models/./solu/../solu")}) {
            CliRunner.Outcome o = CliRunner.run("convert", "--model", model.toString(), "--out", out.toString(), "--overwrite");
            assertEquals(2, o.code(), out + ": " + o.err());
            assertTrue(o.err().contains("the model being converted") && o.err().contains("choose a folder outside it"), o.err());
        }
        assertArrayEquals(weights, Files.readAllBytes(model.resolve("model_final.pth")), "the source is untouched");
        assertTrue(Files.isRegularFile(model.resolve("config.json")));

        // a hub snapshot: its files are links into the repository's blobs, which are part of the input too
        Path repo = tmp.resolve("hf-home/hub/models--NeelNanda--SoLU_1L512W_C4_Code");
        Path blobs = Files.createDirectories(repo.resolve("blobs")), snapshot = Files.createDirectories(repo.resolve("snapshots/0123abcd"));
        for (String f : new String[] {"config.json", "model_final.pth"}) {
            Path blob = Files.copy(PthFixtures.fixture("solu-small/" + f), blobs.resolve(f + ".blob"));
            Files.createSymbolicLink(snapshot.resolve(f), snapshot.relativize(blob));
        }
        CliRunner.Outcome blobsOut = CliRunner.run("convert", "--model", snapshot.toString(), "--out", blobs.toString(), "--overwrite");
        assertEquals(2, blobsOut.code(), blobsOut.err());
        assertTrue(blobsOut.err().contains("is the model being converted (" + blobs.toRealPath() + ")"), blobsOut.err());
        CliRunner.Outcome beside = CliRunner.run("convert", "--model", snapshot.toString(), "--out", tmp.resolve("converted").toString());
        assertEquals(0, beside.code(), beside.err());
    }
}
