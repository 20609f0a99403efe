package org.solulens.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLoaderTest {
    @Test
    void aLoadRunsOnItsOwnThreadAndTheCallersInterruptComesBack() throws Exception {
        AtomicReference<Object> seen = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            Thread.currentThread().interrupt();
            String value = NativeLoader.load("test", () -> {
                Thread.sleep(50);   // would throw at once on an interrupted thread
                return Thread.currentThread().getName();
            });
            seen.set(new Object[] {value, Thread.currentThread().isInterrupted()});
        });
        caller.start();
        caller.join();
        Object[] result = (Object[]) seen.get();
        assertEquals("solulens-native-loader", result[0]);
        assertEquals(true, result[1], "the caller's interrupt status was lost");
    }

    @Test
    void aFailedAttemptIsTriedAgain() {
        AtomicInteger calls = new AtomicInteger();
        String value = NativeLoader.load("test", () -> {
            if (calls.incrementAndGet() < NativeLoader.ATTEMPTS) {
                throw new UnsatisfiedLinkError("not yet");
            }
            return "loaded";
        });
        assertEquals("loaded", value);
        assertEquals(NativeLoader.ATTEMPTS, calls.get());
    }

    @Test
    void aLoadThatAlwaysFailsThrowsItsLastFailureAndIsNotRemembered() {
        AtomicInteger calls = new AtomicInteger();
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class, () -> NativeLoader.load("test", () -> {
            throw new UnsatisfiedLinkError("attempt " + calls.incrementAndGet());
        }));
        assertEquals("attempt " + NativeLoader.ATTEMPTS, e.getMessage());
        assertEquals("again", NativeLoader.load("test", () -> "again"));   // the next call tries afresh
        IllegalStateException checked = assertThrows(IllegalStateException.class, () -> NativeLoader.load("test", () -> {
            throw new java.io.IOException("disk full");
        }));
        assertSame(java.io.IOException.class, checked.getCause().getClass());
    }

    @Test
    void aLoadThatNeedsAnotherRunsItInPlace() {
        String outer = NativeLoader.load("outer", () -> NativeLoader.load("inner", () -> Thread.currentThread().getName()));
        assertEquals("solulens-native-loader", outer);
        assertNotEquals("solulens-native-loader", Thread.currentThread().getName());
    }

    // A library that loads leaves nothing behind either: NativeFirstLoadTest checks that in a child JVM (loading the
    // project's library a second time in this one would bind its native methods to an uninitialised copy).
    @Test
    void aCopyThatFailsToLoadLeavesNothingEither(@TempDir Path tmp) throws Exception {
        assertThrows(java.io.FileNotFoundException.class, () -> NativeLoader.loadFromJar(NativeLoaderTest.class, "/no-such-library.so", tmp));
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeLoader.loadFromJar(NativeLoaderTest.class, "/native-loader/not-a-library.so", tmp));
        assertEquals(true, e.getMessage().contains("not-a-library.so"), e.getMessage());
        try (var left = Files.list(tmp)) {
            assertEquals(java.util.List.of(), left.toList());
        }
    }
}
