package org.solulens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Progress on a terminal redraws one line; into a file or pipe it writes plain lines, a few seconds apart. */
class ProgressTest {
    @Test
    void withoutATerminalProgressIsPlainLinesNotCarriageReturns() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), "work", 1000, false)) {
            for (int i = 0; i < 1000; i++) {
                p.step();
            }
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertFalse(text.contains("\r"), text);
        // the first line and the last (1000 steps take far less than the interval)
        assertEquals(2, text.lines().count(), text);
        assertTrue(text.lines().toList().get(1).startsWith("work: 1000/1000"), text);
    }

    @Test
    void onATerminalItRedrawsInPlace() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), "work", 3, true)) {
            p.step();
            p.step();
            p.step();
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(3, text.chars().filter(c -> c == '\r').count(), text);
        assertEquals(1, text.chars().filter(c -> c == '\n').count(), text);
    }

    @Test
    void theFinalStateIsShownOnceHoweverOftenItIsReported() {
        for (boolean terminal : new boolean[] {false, true}) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), "sweep", 4, terminal)) {
                p.advance(4, "");
                p.advance(0, "");   // a listener told "4 of 4" again, as the sweep's last chunk and its end both do
                p.step();
            }
            String text = bytes.toString(StandardCharsets.UTF_8);
            assertEquals(1, text.split("4/4", -1).length - 1, (terminal ? "terminal: " : "plain: ") + text);
            assertTrue(text.endsWith("\n"), text);
        }
    }
}
