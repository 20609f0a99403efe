package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Strange prompt files and ablation values get an error naming the file, the line and what was expected. */
class PromptFileErrorsTest {
    @TempDir
    Path tmp;

    private static void assertError(String expected, String... args) {
        CliRunner.Outcome o = CliRunner.run(args);
        assertEquals(2, o.code(), "bad input exits 2: " + o.err());
        assertTrue(o.err().contains(expected), "stderr was: " + o.err());
    }

    @Test
    void nonUtf8LineIsNamedWithItsNumber() throws IOException {
        Path f = tmp.resolve("latin1.txt");
        byte[] first = "The ice is cold\n".getBytes(StandardCharsets.UTF_8);
        byte[] second = "caf\u00e9 au lait\n".getBytes(StandardCharsets.ISO_8859_1);
        byte[] both = new byte[first.length + second.length];
        System.arraycopy(first, 0, both, 0, first.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        Files.write(f, both);
        assertError(f + " line 2 is not valid UTF-8", "run", "--device", "cpu", "--prompts", f.toString());
    }

    @Test
    void directoryAndEndlessLineAreRefusedBeforeAnythingIsRead() throws IOException {
        assertError(tmp + " is a directory", "run", "--device", "cpu", "--prompts", tmp.toString());
        Path endless = tmp.resolve("one-line.txt");
        Files.writeString(endless, "a".repeat(PromptOptions.MAX_LINE_CHARS + 1));
        assertError("line 1 is longer than " + PromptOptions.MAX_LINE_CHARS + " characters", "run", "--device", "cpu",
                "--prompts", endless.toString());
    }

    @Test
    void jsonPromptsMustHaveAListOfIntegerTokensOrAString() throws IOException {
        Path f = tmp.resolve("p.jsonl");
        Files.writeString(f, "{\"tokens\": [1, 2]}\n{\"tokens\": 5}\n");
        assertError(f + " line 2: \"tokens\" must be a list of integer token ids, got 5", "run", "--device", "cpu", "--prompts", f.toString());
        Files.writeString(f, "{\"tokens\": [1, 2.5]}\n");
        assertError("line 1: token 2.5 is not an integer id", "run", "--device", "cpu", "--prompts", f.toString());
        Files.writeString(f, "{\"text\": 7}\n");
        assertError("line 1: \"text\" must be a string, got 7", "run", "--device", "cpu", "--prompts", f.toString());
    }

    @Test
    void nonFiniteAblationValueIsRefusedWithItsNeuron() throws IOException {
        Path values = tmp.resolve("values.txt");
        StringBuilder sb = new StringBuilder();
        for (int n = 0; n < 512; n++) {
            sb.append(n == 100 ? "NaN" : n == 200 ? "Infinity" : "0.25").append('\n');
        }
        Files.writeString(values, sb);
        assertError("value of neuron 100 is NaN; ablation values must be finite numbers", "sweep", "--device", "cpu",
                "--prompt", "The ice is cold", "--ablation", "value", "--values", values.toString(), "--out", tmp.resolve("out").toString());
    }

    @Test
    void outputPathThatIsAFileFailsBeforeTheModelLoads() throws IOException {
        Path file = Files.writeString(tmp.resolve("taken"), "x");
        for (String command : new String[] {"sweep", "dla", "ln-scale", "ablate-low", "smear", "paper"}) {
            String[] args = command.equals("sweep")
                    ? new String[] {command, "--device", "cpu", "--prompt", "The ice is cold", "--out", file.toString()}
                    : new String[] {command, "--device", "cpu", "--out", file.toString()};
            assertError("--out " + file + " is a file; expected a folder", args);
        }
        assertError("--cache-out " + file + " is a file; expected a folder", "run", "--device", "cpu", "--prompt", "x",
                "--cache-out", file.toString());
    }
}
