package org.solulens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.solulens.analysis.Prompt;
import org.solulens.model.SoluModel;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** Where prompts come from: {@code --prompt TEXT}, {@code --tokens 1,2,3} or {@code --prompts FILE}; and {@code --no-bos}. */
final class PromptOptions {
    static final class Source {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "One text prompt (tokenized; BOS prepended unless --no-bos).")
        String text;

        @Option(names = "--tokens", paramLabel = "IDS", split = ",",
                description = "One prompt as comma-separated token ids, used exactly as given (no BOS added).")
        int[] tokens;

        @Option(names = "--prompts", paramLabel = "FILE",
                description = "Several prompts: one text per line, or JSON lines {\"text\": ...} or {\"tokens\": [...]}. Blank lines are skipped.")
        Path file;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--no-bos", description = "Do not prepend the BOS token to text prompts.")
    boolean noBos;

    List<Prompt> resolve(SoluModel model) throws IOException {
        boolean bos = !noBos && model.config().defaultPrependBos();
        List<Prompt> out = new ArrayList<>();
        if (source.text != null) {
            out.add(new Prompt(source.text, model.tokenize(source.text, bos)));
        } else if (source.tokens != null) {
            model.checkTokens(source.tokens);
            out.add(new Prompt(null, source.tokens));
        } else {
            out.addAll(readFile(source.file, model, bos));
        }
        return out;
    }

    /** Longer lines are refused: a prompt is at most a few thousand tokens, and an endless line must not fill the heap. */
    static final int MAX_LINE_CHARS = 1_000_000;

    /** Prompts from a file: one text per line, or JSON lines with "text" or "tokens"; blank lines skipped. */
    static List<Prompt> readFile(Path file, SoluModel model, boolean bos) throws IOException {
        List<String> lines = readLines(file);
        List<Prompt> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(line.trim().startsWith("{") ? fromJson(json, line, model, bos) : new Prompt(line, model.tokenize(line, bos)));
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("prompts file " + file + " has no prompts");
        }
        return out;
    }

    /** The file's lines, strictly UTF-8, each at most {@link #MAX_LINE_CHARS}; errors name the file and the line. */
    private static List<String> readLines(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException("prompts file " + file + " is a directory; expected a text file with one prompt per line");
        }
        java.nio.charset.CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        List<String> lines = new ArrayList<>();
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
        // bytes, split at '\n' and decoded line by line, so that an encoding error names its own line
        try (java.io.InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file))) {
            for (int b = in.read(); ; b = in.read()) {
                if (b == -1 || b == '\n') {
                    if (b != -1 || line.size() > 0) {
                        String text = decode(utf8, line.toByteArray(), file, lines.size() + 1);
                        lines.add(text.endsWith("\r") ? text.substring(0, text.length() - 1) : text);
                    }
                    if (b == -1) {
                        return lines;
                    }
                    line.reset();
                } else if (line.size() == 4 * MAX_LINE_CHARS) {   // UTF-8: at most 4 bytes a character
                    throw new IllegalArgumentException("prompts file " + file + " line " + (lines.size() + 1) + " is longer than "
                            + MAX_LINE_CHARS + " characters; expected one prompt per line");
                } else {
                    line.write(b);
                }
            }
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("prompts file " + file + " does not exist");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new IllegalArgumentException("prompts file " + file + " cannot be read: permission denied");
        }
    }

    private static String decode(java.nio.charset.CharsetDecoder utf8, byte[] bytes, Path file, int lineNumber) {
        try {
            String text = utf8.decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            if (text.length() > MAX_LINE_CHARS) {
                throw new IllegalArgumentException("prompts file " + file + " line " + lineNumber + " is longer than "
                        + MAX_LINE_CHARS + " characters; expected one prompt per line");
            }
            return text;
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IllegalArgumentException("prompts file " + file + " line " + lineNumber
                    + " is not valid UTF-8; prompt files must be UTF-8 text");
        }
    }

    boolean prependBos(SoluModel model) {
        return !noBos && model.config().defaultPrependBos();
    }

    private static Prompt fromJson(ObjectMapper json, String line, SoluModel model, boolean bos) {
        JsonNode node;
        try {
            node = json.readTree(line);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage());
        }
        if (node.hasNonNull("tokens")) {
            JsonNode arr = node.get("tokens");
            if (!arr.isArray()) {
                throw new IllegalArgumentException("\"tokens\" must be a list of integer token ids, got " + arr);
            }
            int[] tokens = new int[arr.size()];
            for (int k = 0; k < tokens.length; k++) {
                if (!arr.get(k).isIntegralNumber() || !arr.get(k).canConvertToInt()) {
                    throw new IllegalArgumentException("token " + arr.get(k) + " is not an integer id");
                }
                tokens[k] = arr.get(k).asInt();
            }
            model.checkTokens(tokens);
            return new Prompt(null, tokens);
        }
        if (node.hasNonNull("text")) {
            if (!node.get("text").isTextual()) {
                throw new IllegalArgumentException("\"text\" must be a string, got " + node.get("text"));
            }
            String text = node.get("text").asText();
            return new Prompt(text, model.tokenize(text, bos));
        }
        throw new IllegalArgumentException("a JSON prompt needs \"text\" or \"tokens\"");
    }
}
