package org.solulens.analysis;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The studies' figures: each is described as a {@link Figure} and drawn by the installed {@link FigureRenderer}, if any.
 * A caller that wants the figures themselves (the CLI's interactive report) {@link #record() records} them while the
 * studies run.
 */
public final class Figures {
    private static final Logger LOG = LoggerFactory.getLogger(Figures.class);
    private static final FigureRenderer RENDERER = installed();
    private static final ThreadLocal<Deque<Recording>> RECORDINGS = ThreadLocal.withInitial(ArrayDeque::new);

    /**
     * One figure as a study drew it.
     *
     * @param file the PNG it was (or would have been) drawn into
     * @param figure what was drawn
     */
    public record Drawn(Path file, Figure figure) {}

    /** The figures drawn on one thread while it is open (nested recordings each get every figure). */
    public static final class Recording implements AutoCloseable {
        private final List<Drawn> drawn = new ArrayList<>();

        private Recording() {}

        /** @return the figures drawn so far, in order */
        public List<Drawn> drawn() {
            return List.copyOf(drawn);
        }

        /** Stops recording. */
        @Override
        public void close() {
            RECORDINGS.get().remove(this);
        }
    }

    /** @return a recording of every figure drawn on this thread until it is closed (use with try-with-resources) */
    public static Recording record() {
        Recording r = new Recording();
        RECORDINGS.get().push(r);
        return r;
    }

    private Figures() {}

    private static FigureRenderer installed() {
        Iterator<FigureRenderer> found = ServiceLoader.load(FigureRenderer.class, Figures.class.getClassLoader()).iterator();
        if (found.hasNext()) {
            return found.next();
        }
        LOG.info("No FigureRenderer on the class path: studies write their tables and skip their PNG figures "
                + "(org.solulens:solulens-cli provides one).");
        return null;
    }

    /** @return whether figures are drawn: a {@link FigureRenderer} is on the class path */
    public static boolean available() {
        return RENDERER != null;
    }

    /**
     * Draws a figure with the installed renderer.
     *
     * @param file the PNG to write
     * @param figure what to draw
     * @return whether it was drawn (false when no renderer is installed)
     * @throws IOException if the file cannot be written
     */
    public static boolean draw(Path file, Figure figure) throws IOException {
        for (Recording r : RECORDINGS.get()) {
            r.drawn.add(new Drawn(file, figure));
        }
        if (RENDERER == null) {
            return false;
        }
        RENDERER.render(figure, file);
        return true;
    }

    /** Draws lines; see {@link #draw}. @return whether it was drawn */
    public static boolean lines(Path file, String title, String xLabel, String yLabel, Figure.Series series) throws IOException {
        return draw(file, new Figure(Figure.Kind.LINES, title, xLabel, yLabel, series, null));
    }

    /** Draws points, later series over earlier ones; see {@link #draw}. @return whether it was drawn */
    public static boolean scatter(Path file, String title, String xLabel, String yLabel, Figure.Series series) throws IOException {
        return draw(file, new Figure(Figure.Kind.SCATTER, title, xLabel, yLabel, series, null));
    }

    /**
     * Draws a histogram of {@code values} in {@code bins} equal-width bins; see {@link #draw}.
     *
     * @return whether it was drawn
     */
    public static boolean histogram(Path file, String title, String xLabel, double[] values, int bins) throws IOException {
        return draw(file, Figure.histogram(title, xLabel, values, bins));
    }
}
