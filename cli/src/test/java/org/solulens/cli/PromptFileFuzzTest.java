package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.solulens.model.DemoModel;
import org.solulens.model.SoluModel;

/**
 * Structured fuzzing of prompt files (text lines, JSON lines with "text" or "tokens" of any type, bytes that are not
 * UTF-8): each file is read or refused with an IllegalArgumentException or IllegalStateException within a second.
 * Longer run: {@code mvn -B test -pl java -Dtest=PromptFileFuzzTest -Djqwik.tries.default=100000}.
 */
class PromptFileFuzzTest {
    private static final SoluModel MODEL = DemoModel.load();

    @Provide
    Arbitrary<byte[]> promptLine() {
        Arbitrary<String> token = Arbitraries.oneOf(Arbitraries.integers().between(-2, 5000).map(String::valueOf),
                Arbitraries.of("2.5", "\"7\"", "null", "true", "1e3", "99999999999", "[]"));
        Arbitrary<String> tokens = Arbitraries.oneOf(token.list().ofMaxSize(6).map(l -> "[" + String.join(",", l) + "]"),
                Arbitraries.of("5", "\"1,2\"", "{}", "null"));
        Arbitrary<String> json = Arbitraries.oneOf(
                tokens.map(t -> "{\"tokens\": " + t + "}"),
                Arbitraries.of("{\"text\": 7}", "{\"text\": \"the ice\"}", "{\"text\": null}", "{}", "{\"tokens\": [1,", "{\"other\": 1}"));
        Arbitrary<String> text = Arbitraries.strings().withCharRange(' ', '~').withChars('é', '\t', '\r', '\u0000').ofMaxLength(40);
        Arbitrary<byte[]> invalid = Arbitraries.of(new byte[] {(byte) 0xff, (byte) 0xfe}, new byte[] {(byte) 0xc3}, new byte[] {(byte) 0x80});
        return Arbitraries.oneOf(json.map(s -> s.getBytes(StandardCharsets.UTF_8)), text.map(s -> s.getBytes(StandardCharsets.UTF_8)), invalid);
    }

    @Property
    void promptFilesAreReadOrRefusedWithADocumentedError(@ForAll("promptLines") List<byte[]> lines) throws Exception {
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

    @Provide
    Arbitrary<List<byte[]>> promptLines() {
        return promptLine().list().ofMaxSize(5);
    }
}
