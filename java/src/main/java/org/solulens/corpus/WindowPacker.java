package org.solulens.corpus;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Documents into the windows the sweep runs, as TransformerLens's {@code tokenize_and_concatenate} does: the documents'
 * tokens joined with the end-of-text token (BOS where the tokenizer has none), cut into windows of {@code length - 1}
 * tokens with BOS prepended, the last incomplete window dropped. Or, {@code perDocument}, each document one window
 * (BOS + its tokens, truncated to {@code length}; {@link #truncated()} counts those). {@code maxTokens} stops after that
 * many corpus tokens (0: no limit).
 */
public final class WindowPacker implements Iterator<Window> {
    private final Iterator<Document> documents;
    private final int length, bos, separator;
    private final boolean perDocument;
    private final long maxTokens;
    private long taken, windows, truncated, dropped;
    private Document current;
    private int offset;   // next token of current
    private boolean separatorPending;
    private Window next;

    /** Packs {@code documents} into windows of {@code length} tokens as the class describes. */
    public WindowPacker(Iterator<Document> documents, int length, int bos, int separator, boolean perDocument, long maxTokens) {
        if (length < 2) {
            throw new IllegalArgumentException("--window must be at least 2 tokens, got " + length);
        }
        this.documents = documents;
        this.length = length;
        this.bos = bos;
        this.separator = separator;
        this.perDocument = perDocument;
        this.maxTokens = maxTokens;
    }

    /** Documents longer than a window, cut (per-document packing only). */
    public long truncated() {
        return truncated;
    }

    /** Corpus tokens read but left out (the tail that fills no whole window). */
    public long dropped() {
        return dropped;
    }

    /** Corpus tokens taken so far. */
    public long tokens() {
        return taken;
    }

    @Override
    public boolean hasNext() {
        if (next == null) {
            next = perDocument ? nextDocumentWindow() : nextPackedWindow();
        }
        return next != null;
    }

    @Override
    public Window next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Window w = next;
        next = null;
        return w;
    }

    private boolean budgetLeft() {
        return maxTokens <= 0 || taken < maxTokens;
    }

    private Window nextDocumentWindow() {
        if (!budgetLeft() || !documents.hasNext()) {
            return null;
        }
        Document d = documents.next();
        int n = Math.min(d.tokens().length, length - 1);
        if (maxTokens > 0) {
            n = (int) Math.min(n, maxTokens - taken);
        }
        if (n < d.tokens().length) {
            truncated++;
        }
        Window w = new Window(windows++, new int[n + 1], new int[n + 1], new int[n + 1]);
        fill(w, 0, bos, -1, -1);
        for (int i = 0; i < n; i++) {
            fill(w, i + 1, d.tokens()[i], d.index(), i);
        }
        taken += n;
        return w;
    }

    private Window nextPackedWindow() {
        int[] tokens = new int[length], document = new int[length], position = new int[length];
        fill(tokens, document, position, 0, bos, -1, -1);
        int filled = 1;
        while (filled < length) {
            if (!budgetLeft()) {
                dropped += filled - 1;
                return null;
            }
            if (current == null || offset == current.tokens().length) {
                if (!documents.hasNext()) {
                    dropped += filled - 1;
                    return null;
                }
                separatorPending = current != null;
                current = documents.next();
                offset = 0;
            }
            if (separatorPending) {
                fill(tokens, document, position, filled++, separator, -1, -1);
                separatorPending = false;
                continue;
            }
            fill(tokens, document, position, filled++, current.tokens()[offset], current.index(), offset);
            offset++;
            taken++;
        }
        return new Window(windows++, tokens, document, position);
    }

    private static void fill(Window w, int i, int token, int doc, int pos) {
        fill(w.tokens(), w.document(), w.position(), i, token, doc, pos);
    }

    private static void fill(int[] tokens, int[] document, int[] position, int i, int token, int doc, int pos) {
        tokens[i] = token;
        document[i] = doc;
        position[i] = pos;
    }
}
