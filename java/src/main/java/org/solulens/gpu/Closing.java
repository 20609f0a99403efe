package org.solulens.gpu;

import java.util.Arrays;

/**
 * Best-effort release of device resources: after a device error (a sticky CUDA error makes every later call
 * fail), closing must still try every resource, so that nothing is skipped because an earlier one failed.
 */
final class Closing {
    private Closing() {}

    /** Closes every resource (nulls skipped), then throws the first failure with the later ones suppressed. */
    static void all(Iterable<? extends AutoCloseable> resources) {
        RuntimeException first = null;
        for (AutoCloseable r : resources) {
            first = closeInto(first, r);
        }
        if (first != null) {
            throw first;
        }
    }

    static void all(AutoCloseable... resources) {
        all(Arrays.asList(resources));
    }

    /**
     * Closes {@code resource} while {@code failure} is being thrown: a failure to close is added to it as suppressed.
     * Returns {@code failure}, for {@code throw Closing.after(e, buffer)}.
     */
    static <T extends Throwable> T after(T failure, AutoCloseable resource) {
        try {
            if (resource != null) {
                resource.close();
            }
        } catch (Exception | Error e) {
            failure.addSuppressed(e);
        }
        return failure;
    }

    private static RuntimeException closeInto(RuntimeException first, AutoCloseable r) {
        if (r == null) {
            return first;
        }
        try {
            r.close();
        } catch (RuntimeException e) {
            if (first == null) {
                return e;
            }
            first.addSuppressed(e);
        } catch (Exception e) {
            RuntimeException wrapped = new DeviceException("closing " + r + " failed: " + e.getMessage(), e);
            if (first == null) {
                return wrapped;
            }
            first.addSuppressed(wrapped);
        }
        return first;
    }
}
