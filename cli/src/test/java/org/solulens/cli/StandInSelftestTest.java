package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@code selftest --device cuda} and {@code info} as a user with a GPU runs them, on the stand-in driver (tag "standin"). */
@Tag("standin")
class StandInSelftestTest {
    @org.junit.jupiter.api.BeforeEach
    void kernels() {
        org.solulens.testing.KernelBuild.assumeKernelsUnlessCi();
    }

    @Test
    void selftestOnCudaRunsTheRealCudaDeviceAndPassesEveryCheck() {
        CliRunner.Outcome o = CliRunner.run("selftest", "--device", "cuda");
        assertEquals(0, o.code(), o.out() + o.err());
        assertTrue(o.out().contains("all 17 checks passed on cuda (SoluLens stand-in driver over the CPU emulator"), o.out());
    }

    @Test
    void infoSaysCudaIsAvailable() {
        CliRunner.Outcome o = CliRunner.run("info");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("cuda: available"), o.out());
    }
}
