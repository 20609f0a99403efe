package org.solulens.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The first load of every native library on a fresh machine survives interrupts of the thread that asked for it: a
 * child JVM whose home, temporary folder and JavaCPP cache are empty folders loads OpenBLAS, the emulator, JCuda and
 * DJL's tokenizer from threads interrupted all through their loads (FirstLoadsUnderInterrupts). Where the BLAS
 * cannot load at all, the fallback to the Java loops is a warning that names the cause.
 */
class NativeFirstLoadTest {
    @TempDir
    Path fresh;

    @Test
    void everyNativeLibraryLoadsForTheFirstTimeFromAnInterruptedThread() throws Exception {
        Path cache = fresh.resolve("javacpp-cache");
        String out = runChild(List.of("-Dorg.bytedeco.javacpp.cachedir=" + cache), List.of());
        assertTrue(out.contains("OK OpenBLAS: OpenBLAS dgemm"), out);
        assertTrue(out.contains("OK emulator: emulator"), out);
        assertTrue(out.contains("OK JCuda: "), out);
        assertTrue(out.contains("OK tokenizer: "), out);
        assertTrue(out.contains("OK temporary folder: "), out);
        assertFalse(out.contains("FAIL"), out);
        try (Stream<Path> files = Files.walk(cache)) {
            assertTrue(files.anyMatch(p -> p.getFileName().toString().contains("openblas")), "OpenBLAS was not extracted into the empty cache " + cache);
        }
        // DJL, on a machine with the CUDA toolkit's runtime and no driver, warned about a GPU it could not count
        assertFalse(out.contains("Failed to detect GPU count"), out);
    }

    @Test
    void aBlasThatCannotLoadIsAWarningWithItsCause() throws Exception {
        // a platform JavaCPP has no OpenBLAS build for in these jars: the load fails on every attempt
        String out = runChild(List.of("-Dorg.bytedeco.javacpp.platform=windows-x86_64",
                "-Dorg.bytedeco.javacpp.cachedir=" + fresh.resolve("javacpp-cache")), List.of("fallback"));
        assertTrue(out.contains("OK OpenBLAS: pure Java"), out);
        String warning = out.lines().filter(l -> l.contains("matrix products: pure Java")).findFirst().orElse("");
        assertTrue(warning.contains("WARN"), "no warning line: " + out);
        assertTrue(warning.contains("6x slower") && warning.contains("Error"), "the warning names neither cost nor cause: " + warning);
    }

    private String runChild(List<String> properties, List<String> args) throws IOException, InterruptedException {
        Path home = Files.createDirectories(fresh.resolve("home")), tmp = Files.createDirectories(fresh.resolve("tmp"));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Duser.home=" + home, "-Djava.io.tmpdir=" + tmp, "-Dai.djl.offline=true",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-Dsolulens.blas="));
        command.addAll(properties);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), FirstLoadsUnderInterrupts.class.getName()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("HOME", home.toString());
        builder.environment().remove("JAVA_TOOL_OPTIONS");   // CI's would put back its own home
        Process child = builder.start();
        byte[] bytes;
        try {
            bytes = child.getInputStream().readAllBytes();
            assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the child JVM did not end");
        } finally {
            child.destroyForcibly();
        }
        String out = new String(bytes, StandardCharsets.UTF_8);
        assertEquals(0, child.exitValue(), out);
        return out;
    }
}
