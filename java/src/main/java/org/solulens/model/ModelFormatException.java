package org.solulens.model;

/** A model folder, config or weights file that cannot be used, with a message that says what and where. */
public class ModelFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** A model file is malformed; {@code message} says what and where. */
    public ModelFormatException(String message) {
        super(message);
    }

    /** A model file is malformed; {@code message} says what and where, {@code cause} is the underlying error. */
    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
