package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.model.ModelConfig;

/** Every command's --help renders cleanly, -V works on each, and a usage error is short and names a typo first. */
class HelpAndUsageTest {
    private static final List<String> COMMANDS = List.of("info", "run", "sweep", "ln-scale", "ablate-low", "smear", "smearing", "dla", "paper", "bench-sweep",
            "selftest", "convert", "corpus", "cache");

    @Test
    void everyCommandsHelpRendersWithoutPicocliWarnings() {
        PrintStream saved = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));   // picocli's tracer writes here
        try {
            assertEquals(COMMANDS.size() + 1, Main.commandLine().getSubcommands().size(), "a command missing from this test");
            for (String command : COMMANDS) {
                CliRunner.Outcome o = CliRunner.run(command, "--help");
                assertEquals(0, o.code(), command);
                assertTrue(o.out().contains("Usage: solulens " + command), command + ": " + o.out());
                assertFalse(o.out().contains("%n") || o.out().contains("%%"), command + " shows a raw format string");
            }
        } finally {
            System.setErr(saved);
        }
        String warnings = captured.toString(StandardCharsets.UTF_8);
        assertFalse(warnings.contains("WARN") || warnings.contains("Could not format"), warnings);
    }

    @Test
    void aRunBuildsTheCommandItNamesAloneAndEveryCommandOtherwise() {
        assertEquals(List.of("sweep"), List.copyOf(Main.commandLine("sweep", "--out", "x").getSubcommands().keySet()));
        List<String> all = new java.util.ArrayList<>(COMMANDS);
        all.add("help");
        for (String[] args : new String[][] {{}, {"--help"}, {"-V"}, {"help", "sweep"}, {"swep", "--out", "x"}}) {
            assertEquals(all, List.copyOf(Main.commandLine(args).getSubcommands().keySet()), String.join(" ", args));
        }
        String usage = CliRunner.run("--help").out();
        for (String command : COMMANDS) {
            assertTrue(usage.contains("\n  " + command + " "), command + " missing from:\n" + usage);
        }
        assertTrue(CliRunner.run("help", "sweep").out().contains("Usage: solulens sweep"));
        CliRunner.Outcome typo = CliRunner.run("swep");
        assertEquals(2, typo.code());
        assertTrue(typo.err().contains("'swep'; did you mean sweep"), typo.err());
    }

    @Test
    void versionOnEveryCommand() {
        for (String command : COMMANDS) {
            CliRunner.Outcome o = CliRunner.run(command, "-V");
            assertEquals(0, o.code(), command);
            assertTrue(o.out().startsWith("solulens "), command + ": '" + o.out() + "'");
        }
    }

    @Test
    void aTypoInARequiredOptionIsReportedAsUnknownWithTheNearestAndNoWallOfUsage() {
        CliRunner.Outcome o = CliRunner.run("sweep", "--prompt", "The ice is cold", "--otu", "x");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("unknown option '--otu'; did you mean --out?"), o.err());
        assertTrue(o.err().contains("Try 'solulens sweep --help'"), o.err());
        assertFalse(o.err().contains("Usage:"), o.err());
        assertEquals(2, o.err().strip().lines().count(), o.err());
    }

    @Test
    void everyCommandThatTakesPromptsTakesTheSameThreeForms() {
        for (String command : List.of("run", "sweep", "ln-scale", "ablate-low", "smear", "smearing", "dla", "paper")) {
            String help = CliRunner.run(command, "--help").out();
            assertTrue(help.contains("--prompt=TEXT") && help.contains("--tokens=IDS") && help.contains("--prompts=FILE"), command + ":\n" + help);
        }
    }

    @Test
    void optionsThatNeedNoModelAreCheckedBeforeItLoads() {
        // the model folder does not exist: had it been loaded first, that would be the error
        CliRunner.Outcome o = CliRunner.run("sweep", "--model", "target/no-such-model", "--prompt", "The ice is cold", "--site", "middle",
                "--out", "target/never-written");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("unknown site 'middle'"), o.err());
    }

    @Test
    void neuronIdsAreCheckedAgainstTheConfigBeforeTheWeightsLoad(@TempDir Path tmp) throws Exception {
        // config.json alone: loading the weights would fail ("no *.safetensors"), so the neuron error must come first
        Path folder = Files.createDirectories(tmp.resolve("config-only"));
        try (var in = getClass().getResourceAsStream("/tl-reference/solu1l-random-small/config.json")) {
            Files.copy(in, folder.resolve("config.json"));
        }
        int dMlp = ModelConfig.read(folder.resolve("config.json")).dMlp();
        CliRunner.Outcome o = CliRunner.run("sweep", "--model", folder.toString(), "--prompt", "The ice is cold", "--neurons", "3," + dMlp,
                "--out", tmp.resolve("never-written").toString());
        assertEquals(2, o.code(), o.err());
        assertTrue(o.err().contains("neuron " + dMlp + " is out of range [0, " + dMlp + ") (d_mlp)"), o.err());
        CliRunner.Outcome demo = CliRunner.run("sweep", "--prompt", "The ice is cold", "--neurons", "9999", "--out", tmp.resolve("x").toString());
        assertTrue(demo.err().contains("neuron 9999 is out of range [0, 512)"), demo.err());
        assertFalse(Files.exists(tmp.resolve("x")), "nothing is written");
    }

    @Test
    void benchSweepsLengthIsLengthAndItsOldNameSaysSo() {
        CliRunner.Outcome o = CliRunner.run("bench-sweep", "--tokens", "3");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("--tokens is now --length") && o.err().contains("--length 3"), o.err());
        assertTrue(CliRunner.run("bench-sweep", "--help").out().contains("--length=N"));
    }
}
