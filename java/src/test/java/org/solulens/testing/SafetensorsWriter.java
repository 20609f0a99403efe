package org.solulens.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.solulens.model.Tensor;

/** Writes float32 safetensors files, for tests that need a model folder on disk. */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        long offset = 0;
        for (Tensor t : tensors.values()) {
            long bytes = 4L * t.size();
            header.put(t.name(), Map.of("dtype", "F32", "shape", t.shape(), "data_offsets", new long[] {offset, offset + bytes}));
            offset += bytes;
        }
        header.put("__metadata__", Map.of("format", "pt"));
        byte[] json = new ObjectMapper().writeValueAsBytes(header);
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(8 + json.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(json.length).put(json);
        for (Tensor t : tensors.values()) {
            for (int i = 0; i < t.size(); i++) {
                buf.putFloat(t.get(i));
            }
        }
        Files.write(file, buf.array());
    }

    /** A raw file from a header text and data bytes, for corrupt-file tests. */
    public static void writeRaw(Path file, long declaredHeaderLength, String headerJson, byte[] data) throws IOException {
        byte[] json = headerJson.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(declaredHeaderLength).put(json).put(data);
        Files.write(file, buf.array());
    }
}
