package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which command lines start loading the CPU backend's native libraries before picocli reads them. */
class EarlyNativeLoadTest {
    @Test
    void commandsThatTakeAModelOnTheCpuStartTheLoad() {
        assertTrue(ModelOptions.cpuLikely("sweep", "--model", "demo"));
        assertTrue(ModelOptions.cpuLikely("run", "--device", "cpu"));
        assertTrue(ModelOptions.cpuLikely("paper", "--device=auto"));
        assertTrue(ModelOptions.cpuLikely("corpus", "--device"), "a --device without a value: picocli will say so");
    }

    @Test
    void aGpuDeviceAHelpOptionOrACommandWithoutAModelDoesNot() {
        assertFalse(ModelOptions.cpuLikely("sweep", "--device", "cuda"));
        assertFalse(ModelOptions.cpuLikely("sweep", "--model", "demo", "--device=EMULATOR"));
        assertFalse(ModelOptions.cpuLikely("sweep", "--help"), "a run that ends at once");
        assertFalse(ModelOptions.cpuLikely("run", "--model", "demo", "-V"));
        assertFalse(ModelOptions.cpuLikely("cache", "list"));
        assertFalse(ModelOptions.cpuLikely("convert", "--help"));
        assertFalse(ModelOptions.cpuLikely("--help"));
        assertFalse(ModelOptions.cpuLikely("swep", "--model", "demo"), "a misspelt command");
        assertFalse(ModelOptions.cpuLikely());
    }

    @Test
    void theCommandsTakingAModelAreThoseWithModelOptions() {
        long withModel = Main.COMMANDS.stream().filter(ModelOptions::takesModel).count();
        assertEquals(10, withModel, "info, run, sweep, ln-scale, ablate-low, smear, smearing, dla, paper, corpus, and no other");
        assertFalse(ModelOptions.takesModel(CacheCommand.class));
        assertTrue(ModelOptions.takesModel(SweepCommand.class));
    }
}
