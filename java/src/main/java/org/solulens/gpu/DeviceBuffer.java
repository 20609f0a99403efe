package org.solulens.gpu;

/** Memory on a device; close it to free it. */
public interface DeviceBuffer extends AutoCloseable {
    long bytes();

    @Override
    void close();
}
