package org.solulens.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;

/** An output folder checked and created before any work starts, so that a bad path fails in a second, not after a sweep. */
final class OutputFolder {
    private OutputFolder() {}

    /** Creates {@code dir} (and its parents) if missing; a clear error if it is a file or cannot be written. */
    static void prepare(Path dir, String option) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException(option + " " + dir + " is a file; expected a folder (created if missing)");
        }
        try {
            Files.createDirectories(dir);
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException(option + " " + dir + ": permission denied (cannot create " + e.getFile() + ")");
        } catch (FileSystemException e) {
            throw new IllegalArgumentException(option + " " + dir + ": cannot create the folder ("
                    + (e.getReason() == null ? e.getClass().getSimpleName() : e.getReason()) + " at " + e.getFile() + ")");
        } catch (IOException e) {
            throw new IllegalArgumentException(option + " " + dir + ": cannot create the folder (" + e.getMessage() + ")");
        }
        if (!Files.isWritable(dir)) {
            throw new IllegalArgumentException(option + " " + dir + ": permission denied (the folder is not writable)");
        }
    }
}
