package org.solulens.corpus;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The windows {@link WindowPacker} makes, cut from each document on its own: given a document's index and how many
 * corpus tokens come before it ({@link #budgetOf} summed over the earlier documents: a prefix sum that parts of a corpus
 * can compute from their totals), {@link #pieces} says which positions of which windows its tokens fill, and
 * {@link #assemble} puts a window together from its pieces in any order. Packed, the documents form one stream with a
 * separator before each but the first, so document i's first token is stream position {@code before + i}, and stream
 * position q is slot {@code 1 + q % (length - 1)} of window {@code q / (length - 1)} (slot 0 is BOS). Per document,
 * document i is window i, truncated to the window and to what {@code maxTokens} leaves.
 */
public final class WindowPieces implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Tokens (with their documents and positions) filling slots {@code slot ..} of window {@code window}. */
    public record Piece(long window, int slot, int[] tokens, int[] document, int[] position) implements Serializable {}

    private final int length, bos, separator;
    private final boolean perDocument;
    private final long maxTokens;

    /** As {@link WindowPacker#WindowPacker} takes them. */
    public WindowPieces(int length, int bos, int separator, boolean perDocument, long maxTokens) {
        if (length < 2) {
            throw new IllegalArgumentException("--window must be at least 2 tokens, got " + length);
        }
        this.length = length;
        this.bos = bos;
        this.separator = separator;
        this.perDocument = perDocument;
        this.maxTokens = maxTokens;
    }

    /** What a document of this many tokens counts toward {@code before} of the documents after it. */
    public long budgetOf(int documentLength) {
        return perDocument ? Math.min(documentLength, length - 1) : documentLength;
    }

    /** How many of the document's tokens are swept, given {@code before}. */
    public int taken(int documentLength, long before) {
        long n = budgetOf(documentLength);
        if (maxTokens > 0) {
            n = Math.max(0, Math.min(n, maxTokens - before));
        }
        return (int) n;
    }

    /** Whether the document is cut (per-document packing: longer than a window, or than what the budget leaves). */
    public boolean truncated(int documentLength, long before) {
        int n = taken(documentLength, before);
        return perDocument && n > 0 && n < documentLength;
    }

    /** The pieces of document {@code index}, whose earlier documents count {@code before} ({@link #budgetOf}). */
    public List<Piece> pieces(int index, int[] tokens, long before) {
        int n = taken(tokens.length, before);
        List<Piece> out = new ArrayList<>();
        if (n == 0) {
            return out;
        }
        if (perDocument) {
            out.add(piece(index, 1, index, tokens, 0, n, false));
            return out;
        }
        int c = length - 1;
        long first = before + index;   // the stream position of the first token
        int i = index > 0 ? -1 : 0;   // -1: the separator before the document
        while (i < n) {
            long q = first + i;
            long window = Math.floorDiv(q, c);
            int slot = (int) (q - window * c) + 1;
            int count = (int) Math.min(n - i, length - slot);
            out.add(piece(window, slot, index, tokens, i, count, i < 0));
            i += count;
        }
        return out;
    }

    private Piece piece(long window, int slot, int index, int[] tokens, int from, int count, boolean separatorFirst) {
        int[] t = new int[count], d = new int[count], p = new int[count];
        for (int j = 0; j < count; j++) {
            int at = from + j;
            boolean sep = separatorFirst && j == 0;
            t[j] = sep ? separator : tokens[at];
            d[j] = sep ? -1 : index;
            p[j] = sep ? -1 : at;
        }
        return new Piece(window, slot, t, d, p);
    }

    /**
     * Window {@code window} from its pieces, in any order; null when they do not fill it (the corpus' last window, which
     * the packer drops too: {@link #filled} counts what it held).
     */
    public Window assemble(long window, Iterable<Piece> pieces) {
        if (perDocument) {
            Piece only = pieces.iterator().next();
            int n = only.tokens().length;
            Window w = new Window(window, new int[n + 1], new int[n + 1], new int[n + 1]);
            fill(w, 0, bos, -1, -1);
            for (int j = 0; j < n; j++) {
                fill(w, j + 1, only.tokens()[j], only.document()[j], only.position()[j]);
            }
            return w;
        }
        if (filled(pieces) < length - 1) {
            return null;
        }
        Window w = new Window(window, new int[length], new int[length], new int[length]);
        fill(w, 0, bos, -1, -1);
        for (Piece piece : pieces) {
            for (int j = 0; j < piece.tokens().length; j++) {
                fill(w, piece.slot() + j, piece.tokens()[j], piece.document()[j], piece.position()[j]);
            }
        }
        return w;
    }

    /** Stream positions the pieces fill (BOS not counted). */
    public int filled(Iterable<Piece> pieces) {
        int filled = 0;
        for (Piece p : pieces) {
            filled += p.tokens().length;
        }
        return filled;
    }

    private static void fill(Window w, int i, int token, int doc, int pos) {
        w.tokens()[i] = token;
        w.document()[i] = doc;
        w.position()[i] = pos;
    }
}
