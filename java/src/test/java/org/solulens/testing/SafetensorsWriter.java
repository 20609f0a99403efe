package org.solulens.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.solulens.model.Tensor;

/** Safetensors files for tests: well-formed ones through the production writer, and raw (corrupt) ones. */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    /** The production writer ({@link org.solulens.model.SafetensorsWriter}), keyed as tests hold their tensors. */
    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        org.solulens.model.SafetensorsWriter.write(file, tensors.values());
    }

    /** A raw file from a header text and data bytes, for corrupt-file tests. */
    public static void writeRaw(Path file, long declaredHeaderLength, String headerJson, byte[] data) throws IOException {
        byte[] json = headerJson.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(declaredHeaderLength).put(json).put(data);
        Files.write(file, buf.array());
    }
}
