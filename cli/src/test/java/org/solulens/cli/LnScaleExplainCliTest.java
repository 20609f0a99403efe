package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ln-scale --explain} on the demo model: the answer printed and written, with its table, figures and rows. */
class LnScaleExplainCliTest {
    @TempDir
    Path tmp;

    @Test
    void explainWritesTheAnswerForEachFamily() throws Exception {
        Path out = tmp.resolve("ln");
        CliRunner.Outcome o = CliRunner.run("ln-scale", "--explain", "--explain-prompts", "3", "--max-tokens", "16", "--device", "cpu", "--quiet",
                "--out", out.toString());
        assertEquals(0, o.code(), o.err());
        for (String family : new String[] {"sentences", "repeat", "random-words"}) {
            assertTrue(o.out().contains("In " + family + " the factor "), o.out());
        }
        assertTrue(o.out().contains("(embed cannot change: zero by construction)"), "a repeated word's embedding is constant: " + o.out());
        String md = Files.readString(out.resolve("ln_scale_explain.md"));
        assertTrue(md.contains("Criterion, fixed in the code before any number") && md.contains("| repeat | 3 | 0 (by construction) |"), md);
        assertTrue(Files.size(out.resolve("ln_scale_explain.csv")) > 0);
        assertTrue(Files.isRegularFile(out.resolve("ln_explain_repeat_parts.png")) && Files.isRegularFile(out.resolve("ln_explain_repeat_mediators.png")));

        CliRunner.Outcome one = CliRunner.run("ln-scale", "--explain", "--explain-prompts", "1", "--quiet", "--out", tmp.resolve("one").toString());
        assertEquals(2, one.code());
        assertTrue(one.err().contains("--explain-prompts must be at least 2"), one.err());
    }
}
