package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The corpus command as a user runs it: killed mid-run and resumed, it ends with the results of a run never stopped. */
class CorpusCliTest {
    @TempDir
    Path tmp;

    /** The first chapters of the bundled sample: a few thousand tokens, several seconds of sweeping. */
    private Path corpus(int chapters) throws Exception {
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                CorpusCliTest.class.getResourceAsStream("/org/solulens/corpus/kjv-john.txt"), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null && lines.size() < chapters; ) {
                lines.add(line);
            }
        }
        return Files.write(tmp.resolve("john.txt"), lines);
    }

    @Test
    void killedMidRunAndResumedItEndsWithTheResultsOfAnUninterruptedRun() throws Exception {
        Path data = corpus(4);
        Path resumed = tmp.resolve("resumed");
        Process p = startCorpusAndWaitForItsCheckpoint(data, resumed, 1500);
        p.destroy();   // SIGTERM, as Ctrl-C: the latest state is written
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String said = Files.readString(tmp.resolve("killed.txt"));
        assertTrue(said.contains("--resume"), said);
        assertFalse(Files.exists(resumed), "no output folder from a stopped run");

        resumeAndCompareWithAnUninterruptedRun(data, resumed);
        assertFalse(Files.exists(tmp.resolve(".resumed.corpus-checkpoint")), "the checkpoint is removed once the results are written");
        // its report: the three figures, each neuron's point naming it and opening its page of the neuron browser
        ExperimentsCliTest.assertReport(resumed, 3);
        com.fasterxml.jackson.databind.JsonNode neurons = ExperimentsCliTest.chartSpec(resumed, "activation_vs_effect.png").path("series").get(0);
        for (int i = 0; i < neurons.path("x").size(); i++) {
            String neuron = neurons.path("values").get(0).get(i).asText(), page = neurons.path("links").get(i).asText();
            assertEquals("pages/neuron-" + neuron + ".html", page);
            assertTrue(Files.exists(resumed.resolve(page)), page);
        }
    }

    @Test
    void killedWithSigkillItBlocksNoLaterRunAndResumes() throws Exception {
        Path data = corpus(4);
        Path resumed = tmp.resolve("resumed");
        Process p = startCorpusAndWaitForItsCheckpoint(data, resumed, 500);
        // while it lives, a second writer is refused
        CliRunner.Outcome second = CliRunner.run("corpus", "--device", "cpu", "--data", data.toString(), "--out", resumed.toString(),
                "--quiet", "--top", "5", "--resume");
        assertEquals(2, second.code(), second.err());
        assertTrue(second.err().contains("is being written by another solulens run (process " + p.pid()), second.err());

        p.destroyForcibly();   // SIGKILL: no shutdown hook runs, nothing is cleaned up
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, p.exitValue(), "killed by SIGKILL");
        assertTrue(Files.exists(tmp.resolve(".resumed.lock")), "the dead run's lock file is still there");
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.anyMatch(f -> f.getFileName().toString().startsWith(".resumed.partial-")), "and its staging folder");
        }

        resumeAndCompareWithAnUninterruptedRun(data, resumed);
        assertEquals(0, Files.size(tmp.resolve(".resumed.lock")), "the lock file names no owner");
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(".resumed.lock"), s.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(".resumed")).toList(),
                    "nothing of either run is left beside the folder but the lock file");
        }
    }

    /** Starts a corpus run in a child JVM and returns it, alive, {@code settleMillis} after its first checkpoint. */
    private Process startCorpusAndWaitForItsCheckpoint(Path data, Path out, long settleMillis) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules",
                "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "corpus", "--device", "cpu",
                "--data", data.toString(), "--out", out.toString(), "--quiet", "--top", "5", "--batch", "1", "--checkpoint-seconds", "0.01"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(tmp.resolve("killed.txt").toFile()).start();
        Path checkpoint = out.resolveSibling("." + out.getFileName() + ".corpus-checkpoint");
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!Files.exists(checkpoint) && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        Thread.sleep(settleMillis);
        assertTrue(p.isAlive(), "the run ended before it could be stopped: " + Files.readString(tmp.resolve("killed.txt")));
        return p;
    }

    /** Resumes the run into {@code resumed}; its results must equal a run of the same data never stopped. */
    private void resumeAndCompareWithAnUninterruptedRun(Path data, Path resumed) throws Exception {
        Path whole = tmp.resolve("whole");
        CliRunner.Outcome w = CliRunner.run("corpus", "--device", "cpu", "--data", data.toString(), "--out", whole.toString(), "--quiet",
                "--top", "5");
        assertEquals(0, w.code(), w.err());
        CliRunner.Outcome r = CliRunner.run("corpus", "--device", "cpu", "--data", data.toString(), "--out", resumed.toString(), "--quiet",
                "--top", "5", "--resume");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("resumed after"), r.out());
        assertArrayEquals(Files.readAllBytes(whole.resolve("neurons.csv")), Files.readAllBytes(resumed.resolve("neurons.csv")));
        assertArrayEquals(Files.readAllBytes(whole.resolve("examples.jsonl")), Files.readAllBytes(resumed.resolve("examples.jsonl")));
    }
}
