package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.solulens.model.DemoModel;
import org.solulens.model.SoluModel;
import org.solulens.testing.Gen;

/**
 * Structured fuzzing of prompt files (text lines, JSON lines with "text" or "tokens" of any type, bytes that are not
 * UTF-8): each file is read or refused with an IllegalArgumentException or IllegalStateException within a second.
 * {@link Gen#TRIES} seeded files per run (1000); longer: {@code mvn -B test -pl cli -Dtest=PromptFileFuzzTest
 * -Dsolulens.fuzz.tries=100000}.
 */
class PromptFileFuzzTest {
    private static final SoluModel MODEL = DemoModel.load();

    /** One line: JSON with tokens or text of any type, printable text with a few awkward characters, or invalid UTF-8. */
    private static byte[] promptLine(Gen g) {
        return g.oneOf(() -> {
            String json = g.oneOf(() -> {
                String tokens = g.oneOf(() -> "[" + String.join(",", g.list(0, 6, () -> g.oneOf(() -> String.valueOf(g.between(-2, 5000)),
                        () -> g.of("2.5", "\"7\"", "null", "true", "1e3", "99999999999", "[]")))) + "]", () -> g.of("5", "\"1,2\"", "{}", "null"));
                return "{\"tokens\": " + tokens + "}";
            }, () -> g.of("{\"text\": 7}", "{\"text\": \"the ice\"}", "{\"text\": null}", "{}", "{\"tokens\": [1,", "{\"other\": 1}"));
            return json.getBytes(StandardCharsets.UTF_8);
        }, () -> g.string(0, 40, Gen.PRINTABLE + "é\t\r\u0000").getBytes(StandardCharsets.UTF_8),
                () -> g.of(new byte[] {(byte) 0xff, (byte) 0xfe}, new byte[] {(byte) 0xc3}, new byte[] {(byte) 0x80}));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("org.solulens.testing.Gen#seeds")
    void promptFilesAreReadOrRefusedWithADocumentedError(long seed) throws Exception {
        Gen g = new Gen(seed);
        List<byte[]> lines = g.list(0, 5, () -> promptLine(g));
        Path file = Files.createTempFile("prompts", ".txt");
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (byte[] line : lines) {
                bytes.write(line);
                bytes.write('\n');
            }
            Files.write(file, bytes.toByteArray());
            assertTimeoutPreemptively(Duration.ofSeconds(1), () -> {
                try {
                    PromptOptions.readFile(file, MODEL, true);
                } catch (IllegalArgumentException | IllegalStateException expected) {
                    // documented: the message names the file and the line
                } catch (Exception e) {
                    throw new AssertionError("undocumented " + e.getClass().getName() + ": " + e.getMessage(), e);
                }
            });
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
