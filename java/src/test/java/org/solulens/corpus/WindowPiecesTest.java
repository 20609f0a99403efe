package org.solulens.corpus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.solulens.testing.Gen;

/** Windows cut document by document from prefix sums are the packer's windows: same tokens, places, order, counts. */
class WindowPiecesTest {
    static LongStream seeds() {
        return Gen.seeds().limit(Math.max(1, Gen.TRIES / 2));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void piecesAssembleIntoThePackersWindows(long seed) {
        Gen g = new Gen(seed);
        List<Document> documents = new ArrayList<>();
        for (int i = g.between(0, 12); i > 0; i--) {
            int[] tokens = new int[g.between(1, 20)];
            for (int j = 0; j < tokens.length; j++) {
                tokens[j] = g.between(2, 99);
            }
            documents.add(new Document(documents.size(), documents.size() + 1, tokens));
        }
        int length = g.between(2, 9);
        boolean perDocument = g.chance(1, 2);
        long maxTokens = g.chance(1, 2) ? 0 : g.between(1, 60);
        WindowPacker packer = new WindowPacker(documents.iterator(), length, 0, 1, perDocument, maxTokens);
        List<Window> expected = new ArrayList<>();
        packer.forEachRemaining(expected::add);

        WindowPieces cut = new WindowPieces(length, 0, 1, perDocument, maxTokens);
        Map<Long, List<WindowPieces.Piece>> byWindow = new TreeMap<>();
        long before = 0, truncated = 0;
        for (Document d : documents) {
            for (WindowPieces.Piece p : cut.pieces(d.index(), d.tokens(), before)) {
                byWindow.computeIfAbsent(p.window(), w -> new ArrayList<>()).add(p);
            }
            truncated += cut.truncated(d.tokens().length, before) ? 1 : 0;
            before += cut.budgetOf(d.tokens().length);
        }
        List<Window> assembled = new ArrayList<>();
        long dropped = 0;
        for (Map.Entry<Long, List<WindowPieces.Piece>> e : byWindow.entrySet()) {
            Collections.shuffle(e.getValue(), new Random(seed));   // pieces arrive in any order
            Window w = cut.assemble(e.getKey(), e.getValue());
            if (w == null) {
                dropped += cut.filled(e.getValue());
            } else {
                assembled.add(w);
            }
        }
        String where = "seed " + seed + ", length " + length + (perDocument ? ", per document" : ", packed") + ", max " + maxTokens;
        assertEquals(expected.size(), assembled.size(), where);
        for (int i = 0; i < expected.size(); i++) {
            Window a = expected.get(i), b = assembled.get(i);
            assertEquals(a.index(), b.index(), where);
            assertArrayEquals(a.tokens(), b.tokens(), where + ", window " + i);
            assertArrayEquals(a.document(), b.document(), where + ", window " + i);
            assertArrayEquals(a.position(), b.position(), where + ", window " + i);
        }
        assertEquals(packer.dropped(), dropped, where + ": dropped");
        assertEquals(packer.truncated(), truncated, where + ": truncated");
    }
}
