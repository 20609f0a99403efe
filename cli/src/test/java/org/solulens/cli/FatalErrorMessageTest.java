package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Errors the JVM raises reach the user as a sentence that says what to do, not as a stack trace. */
class FatalErrorMessageTest {
    @Test
    void outOfMemoryPointsToTheHeapOption() {
        String m = Main.describeFatal(new OutOfMemoryError("Java heap space"));
        assertTrue(m.startsWith("out of memory (Java heap space); give Java a larger heap, e.g. SOLULENS_JAVA_OPTS=-Xmx16g"), m);
    }

    @Test
    void faultOnAMappedFileSaysTheModelFileChanged() {
        String m = Main.describeFatal(new InternalError("a fault occurred in an unsafe memory access operation"));
        assertTrue(m.contains("was the model file changed or truncated on disk while this command ran?"), m);
    }
}
