package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.cpu.CpuBackend;
import org.solulens.io.Npy;
import org.solulens.model.ModelFolder;
import org.solulens.model.SoluModel;
import org.solulens.testing.TlReference;

/** The command line, run in-process on the demo model and on the TransformerLens reference folder. */
class CliTest {
    @TempDir
    Path tmp;

    private static CliRunner.Outcome run(String... args) {
        return CliRunner.run(args);
    }

    @Test
    void runPrintsAPerTokenLossTableOnTheDemoModel() {
        CliRunner.Outcome o = run("run", "--prompt", "The ice is cold", "--device", "cpu");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("King James"), o.out());
        assertTrue(o.out().contains("prompt 0: 5 tokens, mean loss "), o.out());
        assertTrue(o.out().contains("'<|BOS|>'      'the'"), o.out());
        assertEquals(5, o.out().lines().filter(l -> l.matches("\\s+\\d+  '.*")).count(), o.out());
    }

    @Test
    void tokensAreUsedExactlyAsGivenAndLossesMatchTheLibrary() throws IOException {
        int[] tokens = TlReference.tokens(0);
        String ids = String.join(",", java.util.Arrays.stream(tokens).mapToObj(Integer::toString).toList());
        CliRunner.Outcome o = run("run", "--model", TlReference.modelDir().toString(), "--tokens", ids);
        assertEquals(0, o.code(), o.err());
        try (SoluModel m = ModelFolder.load(TlReference.modelDir())) {
            ForwardResult r = new CpuBackend(m).run(tokens, List.of(Hooks.LOSS));
            assertTrue(o.out().contains(String.format("mean loss %.4f", r.meanLoss())), o.out());
            assertTrue(o.out().contains(String.format("%8.4f", r.loss()[0])), o.out());
        }
        assertTrue(o.out().contains("'#" + tokens[0] + "'"), "without a tokenizer, tokens show as ids: " + o.out());
    }

    @Test
    void cacheOutWritesEveryHookAsNpyWithAManifest() throws IOException {
        Path dir = tmp.resolve("cache");
        int[] tokens = TlReference.tokens(0);
        CliRunner.Outcome o = run("run", "--model", TlReference.modelDir().toString(), "--tokens", "175,207,297,14,100,121",
                "--cache-out", dir.toString());
        assertEquals(0, o.code(), o.err());
        try (SoluModel m = ModelFolder.load(TlReference.modelDir())) {
            ForwardResult r = new CpuBackend(m).run(tokens, Hooks.ALL);
            for (String hook : Hooks.ALL) {
                Npy.Array a = Npy.read(dir.resolve(hook + ".npy"));
                assertArrayEquals(r.get(hook).shape(), a.shape(), hook);
                for (int i = 0; i < a.data().length; i++) {
                    assertEquals((float) r.get(hook).data()[i], a.data()[i], 0, hook + "[" + i + "]");
                }
            }
        }
        assertArrayEquals(new int[] {6, 192}, Npy.read(dir.resolve("blocks.0.mlp.hook_post.npy")).shape());
        assertArrayEquals(new int[] {6}, Npy.read(dir.resolve("ln_final.hook_scale.npy")).shape());
        assertArrayEquals(new int[] {5}, Npy.read(dir.resolve("loss.npy")).shape());
        JsonNode manifest = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile());
        assertEquals(175, manifest.get("tokens").get(0).asInt());
        assertEquals("blocks.0.mlp.hook_mid.npy", manifest.get("hooks").get("blocks.0.mlp.hook_mid").get("file").asText());
    }

    @Test
    void severalPromptsFromAFileGoToNumberedSubfoldersAndHooksPicksASubset() throws IOException {
        Path prompts = Files.writeString(tmp.resolve("prompts.txt"),
                "the ice is cold\n\n{\"text\": \"water is warm\"}\n{\"tokens\": [0, 5, 6, 7, 8, 9]}\n");
        Path dir = tmp.resolve("multi");
        CliRunner.Outcome o = run("run", "--prompts", prompts.toString(), "--cache-out", dir.toString(),
                "--hooks", "blocks.0.mlp.hook_post,ln_final.hook_scale");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("prompt 2: 6 tokens"), o.out());
        for (int i = 0; i < 3; i++) {
            try (var files = Files.list(dir.resolve(Integer.toString(i)))) {
                assertEquals(List.of("blocks.0.mlp.hook_post.npy", "ln_final.hook_scale.npy", "manifest.json"),
                        files.map(p -> p.getFileName().toString()).sorted().toList());
            }
        }
        assertArrayEquals(new int[] {4, 512}, Npy.read(dir.resolve("1/blocks.0.mlp.hook_post.npy")).shape(),
                "'water is warm' with BOS is 4 tokens");
    }

    @Test
    void noBosDropsTheBosToken() {
        CliRunner.Outcome o = run("run", "--prompt", "ice ice ice", "--no-bos");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("prompt 0: 3 tokens"), o.out());
        assertFalse(o.out().contains("<|BOS|>"), o.out());
    }

    @Test
    void badInputGivesAClearErrorAndExitCode2() throws IOException {
        CliRunner.Outcome o = run("run", "--tokens", "1,2,99999");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("token id 99999 at position 2 is out of range: ids must be in [0, 4096)"), o.err());

        o = run("run", "--prompt", "ice", "--model", tmp.resolve("missing").toString());
        assertEquals(2, o.code());
        assertTrue(o.err().contains("does not exist"), o.err());

        o = run("run", "--prompt", "ice", "--cache-out", tmp.toString(), "--hooks", "blocks.0.hook_nothing");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("unknown hook name 'blocks.0.hook_nothing'"), o.err());

        Path bad = Files.writeString(tmp.resolve("bad.jsonl"), "{\"tokens\": [1, 2]}\n{\"tokens\": [\"x\"]}\n");
        o = run("run", "--prompts", bad.toString());
        assertEquals(2, o.code());
        assertTrue(o.err().contains("bad.jsonl line 2: token \"x\" is not an integer id"), o.err());

        o = run("run", "--prompt", "ice", "--device", "tpu");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("unknown device 'tpu'"), o.err());

        o = run("run");
        assertEquals(2, o.code(), "picocli's usage error");
        assertTrue(o.err().contains("--prompt"), o.err());
    }

    @Test
    void selftestChecksEveryKernelAndTheForwardPassOnTheEmulator() {
        CliRunner.Outcome o = run("selftest", "--device", "emulator");
        assertEquals(0, o.code(), o.out() + o.err());
        assertTrue(o.out().contains("all 17 checks passed on emulator"), o.out());
        assertTrue(o.out().contains("layernorm_forward") && o.out().contains("forward, 64 tokens: loss"), o.out());
        if (org.solulens.gpu.CudaDevice.unavailableReason() != null) {
            CliRunner.Outcome cuda = run("selftest", "--device", "cuda");
            assertEquals(2, cuda.code(), "no GPU here: a clear error, not a crash");
            assertTrue(cuda.err().contains("--device cuda cannot run here"), cuda.err());
        }
    }

    @Test
    void infoDescribesTheModelAndTheBackends() {
        CliRunner.Outcome o = run("info");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("King James"));
        assertTrue(o.out().contains("d_mlp                      512"), o.out());
        assertTrue(o.out().contains("cpu: available"), o.out());
    }
}
