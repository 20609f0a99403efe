package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code solulens} launcher script, run on a stand-in jar ({@link LauncherProbe}) in a checkout whose path holds a
 * space: the arguments arrive intact, the JVM options it adds are single arguments, a class-data archive that the
 * JVM cannot use changes nothing a run prints, and the heap's young generation is sized only where nothing else sizes it.
 */
class LauncherTest {
    @TempDir
    Path tmp;
    Path checkout;

    @BeforeEach
    void standInCheckout() throws IOException {
        checkout = Files.createDirectories(tmp.resolve("a checkout"));
        Files.copy(Path.of("..", "solulens"), checkout.resolve("solulens"));
        Path target = Files.createDirectories(checkout.resolve("cli").resolve("target"));
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, LauncherProbe.class.getName());
        String entry = LauncherProbe.class.getName().replace('.', '/') + ".class";
        try (OutputStream file = Files.newOutputStream(target.resolve("solulens.jar")); JarOutputStream jar = new JarOutputStream(file, manifest);
             InputStream probe = LauncherProbe.class.getResourceAsStream("/" + entry)) {
            jar.putNextEntry(new JarEntry(entry));
            probe.transferTo(jar);
            jar.closeEntry();
        }
    }

    @Test
    void argumentsAndOptionsArriveWhole() throws Exception {
        String out = run(Map.of("SOLULENS_JAVA_OPTS", "-Dprobe=given"), "sweep", "two words", "--out=a b");
        assertTrue(out.contains("arg <sweep>\narg <two words>\narg <--out=a b>\n"), out);
        assertTrue(out.contains("probe <given>"), out);
        assertTrue(out.contains("jvm <-XX:+UseParallelGC>"), out);
        assertFalse(out.contains("SharedArchiveFile"), "no archive, no option: " + out);
    }

    @Test
    void anArchiveTheJvmCannotUseIsIgnoredSilently() throws Exception {
        Path archive = checkout.resolve("cli").resolve("target").resolve("solulens.jsa");
        Files.writeString(archive, "not a class-data archive");
        String out = run(Map.of(), "info");
        assertTrue(out.contains("jvm <-XX:SharedArchiveFile=" + archive + ">"), out);
        assertTrue(out.contains("arg <info>"), out);
        List<String> unexpected = out.lines().filter(l -> !l.startsWith("arg <") && !l.startsWith("jvm <") && !l.startsWith("probe <")
                && !l.equals("WARNING: Using incubator modules: jdk.incubator.vector")).toList();
        assertEquals(List.of(), unexpected, out);

        // -Xshare in SOLULENS_JAVA_OPTS turns the archive off
        String off = run(Map.of("SOLULENS_JAVA_OPTS", "-Xshare:off"), "info");
        assertFalse(off.contains("SharedArchiveFile"), off);
        assertTrue(off.contains("jvm <-Xshare:off>"), off);
    }

    @Test
    void theYoungGenerationIsSizedWhereMemoryAllowsAndNoOptionSizesTheHeap() throws Exception {
        String out = run(Map.of(), "info");
        boolean sized = out.contains("jvm <-XX:NewSize=256m>");
        assertEquals(sized, out.contains("jvm <-Xms768m>"), "both or neither: " + out);
        if (memoryMb() >= 8192) {   // well above the launcher's 4 GB (a container's limit could lower it)
            assertTrue(sized, out);
        }
        for (String heap : List.of("-Xmx2g", "-Xms1g", "-XX:MaxRAMPercentage=50", "-XX:NewRatio=3")) {
            String given = run(Map.of("SOLULENS_JAVA_OPTS", heap), "info");
            assertTrue(given.contains("jvm <" + heap + ">"), given);
            assertFalse(given.contains("NewSize=256m") || given.contains("-Xms768m"), heap + " sizes the heap itself: " + given);
        }
    }

    /** MemTotal of /proc/meminfo in MB, or 0 where it cannot be read. */
    private static long memoryMb() {
        try {
            return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                    .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024).findFirst().orElse(0);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private String run(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("bash", checkout.resolve("solulens").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("SOLULENS_JAVA_OPTS");
        builder.environment().remove("JAVA_TOOL_OPTIONS");   // the JVM would print a line naming them
        builder.environment().putAll(env);
        // the launcher runs the `java` on the PATH: the one running these tests
        builder.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + java.io.File.pathSeparator + System.getenv("PATH"));
        Process p = builder.start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher did not end");
            assertEquals(0, p.exitValue(), out);
            return out;
        } finally {
            p.destroyForcibly();
        }
    }
}
