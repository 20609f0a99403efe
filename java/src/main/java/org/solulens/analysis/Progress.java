package org.solulens.analysis;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on stderr for long runs; silent when quiet. On a terminal it redraws itself in place; when
 * stderr goes to a file or a pipe (a log, CI) it prints a plain line every few seconds instead, so the log holds
 * readable lines rather than carriage returns. Closing it ends an unfinished line, so that an error message that
 * follows starts on a line of its own.
 */
public final class Progress implements AutoCloseable {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final String label;
    private final long total;
    private final long start = System.nanoTime();
    private long done;
    private String detail = "";

    /** Seconds between plain lines when stderr is not a terminal. */
    static final double PLAIN_INTERVAL_SECONDS = 5;
    private final boolean terminal;
    private long lastPlain = Long.MIN_VALUE;
    /** The final state has been shown: later calls (a listener told "all done" twice, say) draw nothing. */
    private boolean finished;

    Progress(PrintStream out, String label, long total, boolean terminal) {
        this.out = out;
        this.label = label;
        this.total = Math.max(1, total);
        this.terminal = terminal;
    }

    /** Starts a bar of {@code total} steps on stderr (silent when {@code quiet}); whether stderr is a terminal decides how it draws. */
    public static Progress start(String label, long total, boolean quiet) {
        Progress p = new Progress(quiet ? null : System.err, label, total, System.console() != null);
        p.draw();
        return p;
    }

    /** Counts one step done and redraws if due. */
    public synchronized void step() {
        done = Math.min(total, done + 1);
        draw();
    }

    /** {@return the steps done so far} */
    public synchronized long done() {
        return done;
    }

    /** Advances by {@code steps} and shows {@code detail} after the time (rates, say); an ETA follows from the pace. */
    public synchronized void advance(long steps, String detail) {
        done = Math.min(total, done + steps);
        double seconds = (System.nanoTime() - start) / 1e9;
        double eta = done == 0 ? Double.NaN : seconds * (total - done) / done;
        this.detail = detail + (done < total && done > 0 ? String.format(Locale.ROOT, ", ETA %.0fs", eta) : "");
        draw();
    }

    private void draw() {
        if (out == null || finished) {
            return;
        }
        finished = done == total;
        int filled = (int) (WIDTH * done / total);
        double seconds = (System.nanoTime() - start) / 1e9;
        if (!terminal) {
            long now = System.nanoTime();
            if (done == total || lastPlain == Long.MIN_VALUE || (now - lastPlain) / 1e9 >= PLAIN_INTERVAL_SECONDS) {
                lastPlain = now;
                out.printf(Locale.ROOT, "%s: %d/%d, %.1fs%s%n", label, done, total, seconds, detail.isEmpty() ? "" : ", " + detail);
                out.flush();
            }
            return;
        }
        out.printf(Locale.ROOT, "\r%s [%s%s] %d/%d %.1fs%s%s", label, "=".repeat(filled), " ".repeat(WIDTH - filled), done, total, seconds,
                detail.isEmpty() ? "" : " " + detail, finished ? System.lineSeparator() : "");
        out.flush();
    }

    @Override
    public synchronized void close() {
        if (out != null && done < total && terminal) {
            out.println();
        }
    }
}
