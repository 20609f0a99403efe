package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Output folders are written whole or not at all: a re-used folder needs --overwrite and then holds only the new run's
 * files, a second writer is refused, a failed run leaves nothing under the folder's name, and a completed folder
 * carries a manifest written last.
 */
class OutputFolderTest {
    @TempDir
    Path tmp;

    private static CliRunner.Outcome sweep(Path out, String... extra) {
        String[] base = {"sweep", "--device", "cpu", "--quiet", "--out", out.toString()};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CliRunner.run(args);
    }

    @Test
    void reusedFolderNeedsOverwriteAndThenHoldsOnlyTheNewRun() throws IOException {
        Path out = tmp.resolve("sweep");
        Path prompts = Files.writeString(tmp.resolve("two.txt"), "The ice is cold\nThe water is warm\n");
        assertEquals(0, sweep(out, "--prompts", prompts.toString()).code());
        assertTrue(Files.isDirectory(out.resolve("1")), "two prompts: one sub-folder each");

        CliRunner.Outcome again = sweep(out, "--prompt", "The ice is cold");
        assertEquals(2, again.code());
        assertTrue(again.err().contains("already holds files (an earlier run's?); add --overwrite"), again.err());
        assertTrue(Files.isDirectory(out.resolve("1")), "the refused run changed nothing");

        assertEquals(0, sweep(out, "--prompt", "The ice is cold", "--overwrite").code());
        assertFalse(Files.exists(out.resolve("1")), "no stale files of the earlier run");
        assertTrue(Files.isRegularFile(out.resolve("delta_loss.npy")));
        JsonNode manifest = new ObjectMapper().readTree(out.resolve(OutputFolder.MANIFEST).toFile());
        assertEquals("--overwrite", manifest.get("command").get(manifest.get("command").size() - 1).asText());
        for (JsonNode f : manifest.get("files")) {
            assertEquals(Files.size(out.resolve(f.get("path").asText())), f.get("bytes").asLong(), f.toString());
        }
        assertNoLeftovers();
    }

    @Test
    void aFileWhereTheFolderWouldGoIsNamedBeforeAnyWork() throws IOException {
        Path file = Files.writeString(tmp.resolve("plain-file"), "not a folder");
        CliRunner.Outcome o = sweep(file.resolve("sweep"), "--prompt", "The ice is cold");
        assertEquals(2, o.code(), o.err());
        assertTrue(o.err().contains("a file, not a folder, is in the way: " + file), o.err());
        assertTrue(!o.out().contains("pairs over"), "refused before the sweep ran: " + o.out());
    }

    @Test
    void aSecondLiveWriterIsRefused() throws IOException {
        Path out = tmp.resolve("busy");
        try (OutputFolder first = OutputFolder.open(out, "--out", false)) {
            CliRunner.Outcome o = sweep(out, "--prompt", "The ice is cold");
            assertEquals(2, o.code());
            assertTrue(o.err().contains("--out " + out + " is being written by another solulens run (process "
                    + ProcessHandle.current().pid() + ", lock " + tmp.resolve(".busy.lock") + ")"), o.err());
            assertTrue(Files.isDirectory(first.staging()), "the live run's staging folder is left alone");
        }
        assertFalse(Files.exists(out));
        assertNoLeftovers();
    }

    @Test
    void whatADeadRunLeftBesideTheFolderBlocksNothingAndIsCleared() throws IOException {
        // a run killed with SIGKILL: its lock file (no process holds a lock on it) and a staging folder with partial results
        Path out = tmp.resolve("killed");
        Files.writeString(tmp.resolve(".killed.lock"), "999999 1\n");
        Path staging = Files.createDirectories(tmp.resolve(".killed.partial-999999-1"));
        Files.writeString(staging.resolve("half.csv"), "a,b\n");
        CliRunner.Outcome o = sweep(out, "--prompt", "The ice is cold");
        assertEquals(0, o.code(), o.err());
        assertTrue(Files.isRegularFile(out.resolve(OutputFolder.MANIFEST)));
        assertNoLeftovers();
    }

    @Test
    void aRunKilledInsideItsCommitLeavesTheEarlierFolderAsItWas() throws IOException {
        // killed between moving the earlier folder aside and moving its own in: the earlier results are put back
        Path out = tmp.resolve("results");
        Path aside = Files.createDirectories(tmp.resolve(".results.old-12345"));
        Files.writeString(aside.resolve("earlier.csv"), "kept\n");
        Files.createDirectories(tmp.resolve(".results.partial-999999-2"));
        CliRunner.Outcome o = sweep(out, "--prompt", "The ice is cold");
        assertEquals(2, o.code(), "the restored folder holds results: --overwrite is needed");
        assertTrue(o.err().contains("already holds files"), o.err());
        assertEquals("kept\n", Files.readString(out.resolve("earlier.csv")));
        assertNoLeftovers();
    }

    @Test
    void failedRunLeavesNothingUnderTheFolderNameAndNoLock() throws IOException {
        Path out = tmp.resolve("failed");
        CliRunner.Outcome o = sweep(out, "--tokens", "4");   // one token: refused after the folder was opened
        assertEquals(2, o.code());
        assertTrue(o.err().contains("at least 2 tokens"), o.err());
        assertFalse(Files.exists(out));
        assertNoLeftovers();
    }

    /** No staging or set-aside folder beside the outputs; a lock file may stay, empty (it blocks nothing once unlocked). */
    private void assertNoLeftovers() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String n = p.getFileName().toString();
                if (n.endsWith(".lock")) {
                    assertEquals(0, Files.size(p), n + " still names an owner");
                } else {
                    assertFalse(n.startsWith("."), "left beside the outputs: " + n);
                }
            }
        }
    }
}
