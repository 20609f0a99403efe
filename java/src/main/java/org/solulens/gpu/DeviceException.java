package org.solulens.gpu;

/** A device operation that failed: a launch (named, with its shape), an allocation, a copy, or the device itself. */
public class DeviceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DeviceException(String message) {
        super(message);
    }

    public DeviceException(String message, Throwable cause) {
        super(message, cause);
    }
}
