package org.solulens.analysis;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Draws a {@link Figure} into an image file. Found with {@link java.util.ServiceLoader}: the CLI artifact
 * ({@code org.solulens:solulens-cli}) registers an XChart renderer; a library user can register their own, or
 * none, in which case the studies write their tables and skip their figures.
 */
public interface FigureRenderer {
    /**
     * Draws one figure.
     *
     * @param figure what to draw
     * @param file the PNG to write (replaced if it exists)
     * @throws IOException if the file cannot be written
     */
    void render(Figure figure, Path file) throws IOException;
}
