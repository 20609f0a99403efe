package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.testing.PthFixtures;

/** Errors about files say which file and what is wrong with it, and what a command writes is what its help says. */
class FileErrorsTest {
    @TempDir
    Path tmp;

    @Test
    void aMissingCorpusFileIsSaidToBeMissing() {
        Path missing = tmp.resolve("missing.txt");
        CliRunner.Outcome o = CliRunner.run("corpus", "--device", "cpu", "--quiet", "--data", missing.toString(), "--out", tmp.resolve("o").toString());
        assertEquals(2, o.code(), o.err());
        assertTrue(o.err().contains("--data " + missing + " does not exist"), o.err());
    }

    @Test
    void fileSystemErrorsNameTheFileAndTheReason() {
        assertEquals("/data/x.txt does not exist", Main.describe(new NoSuchFileException("/data/x.txt")));
        assertEquals("/data/x.txt: permission denied", Main.describe(new java.nio.file.AccessDeniedException("/data/x.txt")));
        assertEquals("/data/x.txt: File too large", Main.describe(new java.nio.file.FileSystemException("/data/x.txt", null, "File too large")));
        assertEquals("/data/x.txt does not exist", Main.describe(new java.io.UncheckedIOException(new NoSuchFileException("/data/x.txt"))));
    }

    @Test
    void convertUnderAFileSizeLimitNamesTheFileItCouldNotWrite() throws Exception {
        Path out = tmp.resolve("converted");
        // 8 KiB: config.json fits, model.safetensors (~30 KB) does not; the JVM ignores SIGXFSZ, so the write fails with EFBIG
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String command = "ulimit -f 8; exec '" + java + "' -XX:-UsePerfData --add-modules jdk.incubator.vector -cp '"
                + System.getProperty("java.class.path") + "' " + Main.class.getName() + " convert --quiet --model '"
                + PthFixtures.fixture("solu-small") + "' --out '" + out + "'";
        Process p = new ProcessBuilder("bash", "-c", command).redirectErrorStream(true).start();
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), said);
        assertTrue(said.contains("error: --out " + out + ": cannot write model.safetensors (File too large)"), said);
        assertTrue(!Files.exists(out), "no half-written folder");
    }

    @Test
    void runWritesTheHooksItsHelpSays() throws Exception {
        Path some = tmp.resolve("some"), all = tmp.resolve("all");
        CliRunner.Outcome named = CliRunner.run("run", "--device", "cpu", "--quiet", "--prompt", "The ice is cold", "--cache-out", some.toString(),
                "--hooks", "blocks.0.mlp.hook_post");
        assertEquals(0, named.code(), named.err());
        assertEquals(Set.of("blocks.0.mlp.hook_post.npy", "manifest.json", OutputFolder.MANIFEST), files(some));
        CliRunner.Outcome every = CliRunner.run("run", "--device", "cpu", "--quiet", "--prompt", "The ice is cold", "--cache-out", all.toString());
        assertEquals(0, every.code(), every.err());
        assertTrue(files(all).containsAll(List.of("logits.npy", "loss.npy", "blocks.0.mlp.hook_post.npy")), files(all).toString());
        String help = CliRunner.run("run", "--help").out().replaceAll("\\s+", " ");
        assertTrue(help.contains("logits.npy and loss.npy included, or for those --hooks names"), help);
        assertTrue(help.contains("logits and loss count as hooks and are written only when named"), help);
    }

    private static Set<String> files(Path dir) throws java.io.IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }
}
