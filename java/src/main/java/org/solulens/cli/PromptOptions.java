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

    /** Prompts from a file: one text per line, or JSON lines with "text" or "tokens"; blank lines skipped. */
    static List<Prompt> readFile(Path file, SoluModel model, boolean bos) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("prompts file " + file + " does not exist");
        }
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
            int[] tokens = new int[arr.size()];
            for (int k = 0; k < tokens.length; k++) {
                if (!arr.get(k).canConvertToInt()) {
                    throw new IllegalArgumentException("token " + arr.get(k) + " is not an integer id");
                }
                tokens[k] = arr.get(k).asInt();
            }
            model.checkTokens(tokens);
            return new Prompt(null, tokens);
        }
        if (node.hasNonNull("text")) {
            String text = node.get("text").asText();
            return new Prompt(text, model.tokenize(text, bos));
        }
        throw new IllegalArgumentException("a JSON prompt needs \"text\" or \"tokens\"");
    }
}
