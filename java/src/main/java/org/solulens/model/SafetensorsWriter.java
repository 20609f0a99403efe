package org.solulens.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;

/**
 * Writes float32 tensors as one safetensors file: an 8-byte little-endian header length, the JSON header (names,
 * dtype F32, shapes, byte ranges; padded with spaces to 8 bytes), then the values, little-endian, in header order.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    /** Writes {@code tensors} as float32 safetensors, in the order given. */
    public static void write(Path file, Collection<Tensor> tensors) throws IOException {
        ObjectNode header = new ObjectMapper().createObjectNode();
        long offset = 0;
        for (Tensor t : tensors) {
            ObjectNode entry = header.putObject(t.name());
            entry.put("dtype", "F32");
            var shape = entry.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            entry.putArray("data_offsets").add(offset).add(offset + 4L * t.size());
            offset += 4L * t.size();
        }
        byte[] json = new ObjectMapper().writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(json);
            out.write(" ".repeat(padded - json.length).getBytes(StandardCharsets.US_ASCII));
            ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (Tensor t : tensors) {
                FloatBuffer values = t.buffer();
                while (values.hasRemaining()) {
                    chunk.clear();
                    while (chunk.remaining() >= 4 && values.hasRemaining()) {
                        chunk.putFloat(values.get());
                    }
                    out.write(chunk.array(), 0, chunk.position());
                }
            }
        }
    }
}
