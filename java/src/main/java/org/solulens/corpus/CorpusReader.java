package org.solulens.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.solulens.io.Npy;
import org.solulens.model.SoluModel;

/**
 * A corpus file as a stream of documents, read lazily: {@code .txt} (one document per line), {@code .jsonl}
 * ({@code {"text": ...}} or {@code {"tokens": [...]}} per line) or a tokenized {@code .npy} ([documents, tokens],
 * int32/int64). Bad input is an error naming the file and line (row), or, with {@code skipBad}, skipped and counted.
 */
public final class CorpusReader implements Iterator<Document>, AutoCloseable {
    private static final int MAX_LINE_CHARS = 10_000_000;

    private final Path file;
    private final SoluModel model;
    private final boolean skipBad;
    private final BufferedReader text;
    private final boolean jsonl;
    private final int[][] rows;
    private long line;
    private int index;
    private long skipped;
    private String firstSkip;
    private Document next;

    private CorpusReader(Path file, SoluModel model, boolean skipBad) throws IOException {
        this.file = file;
        this.model = model;
        this.skipBad = skipBad;
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--data " + file + ": " + (Files.isDirectory(file) ? "is a directory" : "no such file"));
        }
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".npy")) {
            try {
                rows = Npy.readTokenRows(file);
            } catch (IOException e) {
                throw new IllegalArgumentException("--data " + e.getMessage(), e);
            }
            text = null;
            jsonl = false;
        } else {
            rows = null;
            jsonl = isJsonl(name);
            text = new BufferedReader(new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)), 1 << 16);
        }
    }

    /** Opens a corpus: {@code .txt} (one document per non-blank line), {@code .jsonl} (a {@code text} field per line) or {@code .npy} (token rows). With {@code skipBad}, malformed documents are skipped and counted; else the first one throws naming its line. */
    public static CorpusReader open(Path file, SoluModel model, boolean skipBad) throws IOException {
        return new CorpusReader(file, model, skipBad);
    }

    /** Documents skipped so far as bad (only with skipBad). */
    public long skipped() {
        return skipped;
    }

    /** Why the first skipped document was skipped, or null. */
    public String firstSkipReason() {
        return firstSkip;
    }

    @Override
    public boolean hasNext() {
        try {
            while (next == null) {
                Document d = readOne();
                if (d == null) {
                    return false;
                }
                next = d;
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Document next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Document d = next;
        next = null;
        return d;
    }

    private Document readOne() throws IOException {
        while (true) {
            int[] tokens;
            long where;
            if (rows != null) {
                if (line >= rows.length) {
                    return null;
                }
                where = line++;
                tokens = rows[(int) where];
            } else {
                String s;
                try {
                    s = text.readLine();
                } catch (CharacterCodingException e) {
                    throw new IllegalArgumentException(file + ", line " + (line + 1) + ": not UTF-8 text (a binary file given as text?)");
                }
                if (s == null) {
                    return null;
                }
                where = ++line;
                try {
                    tokens = parse(s);
                } catch (IllegalArgumentException e) {
                    if (!skipBad) {
                        throw new IllegalArgumentException(file + ", line " + where + ": " + e.getMessage() + " (--skip-bad skips such lines)");
                    }
                    skip(where, e.getMessage());
                    continue;
                }
                if (tokens == null) {
                    continue;   // a blank line of a text file: no document
                }
            }
            try {
                check(tokens, model);
            } catch (IllegalArgumentException e) {
                String at = rows != null ? "row " + where : "line " + where;
                if (!skipBad) {
                    throw new IllegalArgumentException(file + ", " + at + ": " + e.getMessage() + " (--skip-bad skips such documents)");
                }
                skip(where, e.getMessage());
                continue;
            }
            return new Document(index++, where, tokens);
        }
    }

    private void skip(long where, String why) {
        skipped++;
        if (firstSkip == null) {
            firstSkip = (rows != null ? "row " : "line ") + where + ": " + why;
        }
    }

    /**
     * The tokens of one line of a {@code .txt} ({@code jsonl} false) or {@code .jsonl} corpus, checked against the model
     * (not empty, ids in range), as this reader makes its documents; null for a blank line, which is no document.
     *
     * @throws IllegalArgumentException saying what is wrong with the line (not where: the caller knows)
     */
    public static int[] documentTokens(String line, boolean jsonl, SoluModel model) {
        int[] tokens = parse(line, jsonl, model);
        if (tokens != null) {
            check(tokens, model);
        }
        return tokens;
    }

    /** Checks a document given as token ids (a {@code .npy} row): not empty, ids in range. */
    public static void checkDocument(int[] tokens, SoluModel model) {
        check(tokens, model);
    }

    /** Whether a corpus file of this name is read as JSON lines (else as text lines, or a {@code .npy}). */
    public static boolean isJsonl(String fileName) {
        String name = fileName.toLowerCase(java.util.Locale.ROOT);
        return name.endsWith(".jsonl") || name.endsWith(".json");
    }

    private int[] parse(String s) {
        return parse(s, jsonl, model);
    }

    private static int[] parse(String s, boolean jsonl, SoluModel model) {
        if (s.length() > MAX_LINE_CHARS) {
            throw new IllegalArgumentException("a line of " + s.length() + " characters (at most " + MAX_LINE_CHARS + ")");
        }
        if (s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a NUL character: a binary file given as text?");
        }
        if (!jsonl) {
            return s.isBlank() ? null : encode(s, model);
        }
        if (s.isBlank()) {
            return null;
        }
        JsonNode node;
        try {
            node = new ObjectMapper().readTree(s);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("expected a JSON object {\"text\": ...} or {\"tokens\": [...]}");
        }
        if (node.has("tokens")) {
            JsonNode t = node.get("tokens");
            if (!t.isArray()) {
                throw new IllegalArgumentException("\"tokens\" must be a list of integer token ids, got " + t.getNodeType());
            }
            int[] out = new int[t.size()];
            for (int i = 0; i < out.length; i++) {
                if (!t.get(i).isIntegralNumber() || !t.get(i).canConvertToInt()) {
                    throw new IllegalArgumentException("token " + i + " is " + t.get(i) + ", not an integer token id");
                }
                out[i] = t.get(i).intValue();
            }
            return out;
        }
        JsonNode t = node.get("text");
        if (t == null || !t.isTextual()) {
            throw new IllegalArgumentException("expected a \"text\" string or a \"tokens\" list");
        }
        return t.asText().isBlank() ? new int[0] : encode(t.asText(), model);
    }

    /** A document's text as token ids, without BOS and without the context limit (the packer cuts windows). */
    private static int[] encode(String s, SoluModel model) {
        if (model.tokenizer() == null) {
            throw new IllegalArgumentException("text, but the model has no tokenizer.json; give {\"tokens\": [...]} lines or a .npy");
        }
        return model.tokenizer().encode(s, false);
    }

    private static void check(int[] tokens, SoluModel model) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("an empty document");
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= model.config().dVocab()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " at position " + i + " is out of range [0, " + model.config().dVocab() + ")");
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (text != null) {
            text.close();
        }
    }
}
