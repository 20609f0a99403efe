package org.solulens.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a safetensors file: an 8-byte little-endian header length, a JSON header naming every tensor's
 * dtype, shape and byte range, then the data. Every byte range is checked before anything is mapped;
 * float32 tensors are memory-mapped views, float16 and bfloat16 are widened onto the heap when read.
 */
public final class SafetensorsReader {
    /** A header larger than this is refused, as the reference implementation does (real headers are a few kB). */
    private static final long MAX_HEADER_BYTES = 100_000_000L;

    /** One entry of the header. */
    public record Entry(String name, String dtype, int[] shape, long begin, long end) {}

    private final String file;
    private final ByteBuffer data;   // the data section, little-endian, position 0
    private final Map<String, Entry> entries;

    private SafetensorsReader(String file, ByteBuffer data, Map<String, Entry> entries) {
        this.file = file;
        this.data = data;
        this.entries = entries;
    }

    /** Reads a safetensors image held in memory (the demo model inside the jar). */
    public static SafetensorsReader fromBytes(byte[] bytes, String name) {
        ByteBuffer all = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 8) {
            throw new ModelFormatException(name + ": truncated safetensors file (" + bytes.length + " bytes)");
        }
        long headerLen = all.getLong(0);
        if (headerLen < 2 || headerLen > bytes.length - 8 || headerLen > MAX_HEADER_BYTES) {
            throw new ModelFormatException(name + ": corrupt safetensors header: header length " + headerLen
                    + " does not fit in a file of " + bytes.length + " bytes");
        }
        JsonNode root = parseHeader(name, java.util.Arrays.copyOfRange(bytes, 8, (int) (8 + headerLen)));
        ByteBuffer data = all.position((int) (8 + headerLen)).slice().order(ByteOrder.LITTLE_ENDIAN);
        return new SafetensorsReader(name, data, Collections.unmodifiableMap(parseEntries(name, root, data.capacity())));
    }

    /** Opens and checks a safetensors file (header, offsets, dtypes); its float32 tensors are memory-mapped. Throws {@link ModelFormatException} naming what is wrong. */
    public static SafetensorsReader open(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < 8) {
                throw new ModelFormatException(file + ": truncated safetensors file (" + fileSize
                        + " bytes; at least the 8-byte header length is needed)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 2 || headerLen > fileSize - 8 || headerLen > MAX_HEADER_BYTES) {
                throw new ModelFormatException(file + ": corrupt safetensors header: header length " + headerLen
                        + " does not fit in a file of " + fileSize + " bytes");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8);
            JsonNode root = parseHeader(file.toString(), header.array());
            long dataStart = 8 + headerLen;
            Map<String, Entry> entries = parseEntries(file.toString(), root, fileSize - dataStart);
            if (fileSize - dataStart > Integer.MAX_VALUE) {
                throw new ModelFormatException(file + ": the data section has " + (fileSize - dataStart)
                        + " bytes; files over 2 GiB are not supported (a one-layer model is far smaller)");
            }
            // One read-only mapping of the data section: tensors are views of it, nothing is copied onto the heap.
            ByteBuffer data = ch.map(FileChannel.MapMode.READ_ONLY, dataStart, fileSize - dataStart).order(ByteOrder.LITTLE_ENDIAN);
            return new SafetensorsReader(file.toString(), data, Collections.unmodifiableMap(entries));
        }
    }

    private static JsonNode parseHeader(String file, byte[] header) {
        JsonNode root;
        try {
            root = org.solulens.io.Json.read(header);
        } catch (IOException e) {
            throw new ModelFormatException(file + ": corrupt safetensors header: not valid JSON ("
                    + (e instanceof com.fasterxml.jackson.core.JacksonException j ? j.getOriginalMessage() : e.getMessage()) + ")");
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(file + ": corrupt safetensors header: expected a JSON object");
        }
        return root;
    }

    /** Elements times width, refusing a shape whose byte count does not fit in a long. */
    private static long byteCount(String where, JsonNode shape, int[] dims, int width) {
        try {
            long n = width;
            for (int d : dims) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        } catch (ArithmeticException e) {
            throw new ModelFormatException(where + ": shape " + shape + " has more bytes than a file can hold");
        }
    }

    private static Map<String, Entry> parseEntries(String file, JsonNode root, long dataSize) {
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            String name = field.getKey();
            if (name.equals("__metadata__")) {
                continue;
            }
            JsonNode t = field.getValue();
            String where = file + ": tensor '" + name + "'";
            JsonNode dtype = t.get("dtype"), shape = t.get("shape"), offsets = t.get("data_offsets");
            if (dtype == null || !dtype.isTextual() || shape == null || !shape.isArray()
                    || offsets == null || !offsets.isArray() || offsets.size() != 2) {
                throw new ModelFormatException(where + ": header entry needs dtype, shape and data_offsets [begin, end]");
            }
            int[] dims = new int[shape.size()];
            for (int i = 0; i < dims.length; i++) {
                JsonNode d = shape.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToInt() || d.asInt() < 0) {
                    throw new ModelFormatException(where + ": bad dimension " + d + " in shape " + shape);
                }
                dims[i] = d.asInt();
            }
            for (JsonNode o : offsets) {
                if (!o.isIntegralNumber() || !o.canConvertToLong()) {
                    throw new ModelFormatException(where + ": data_offsets " + offsets + " must be two integers");
                }
            }
            long begin = offsets.get(0).asLong(), end = offsets.get(1).asLong();
            if (begin < 0 || end < begin || end > dataSize) {
                throw new ModelFormatException(where + ": data_offsets [" + begin + ", " + end
                        + "] out of range: the data section has " + dataSize + " bytes");
            }
            int width = bytesPerElement(dtype.asText());
            long needed = width > 0 ? byteCount(where, shape, dims, width) : -1;
            if (width > 0 && end - begin != needed) {
                throw new ModelFormatException(where + ": data_offsets span " + (end - begin) + " bytes but "
                        + dtype.asText() + " shape " + shape + " needs " + needed);
            }
            entries.put(name, new Entry(name, dtype.asText(), dims, begin, end));
        }
        // every non-empty range against the one reaching furthest so far: neighbours alone miss a range that
        // covers several later ones when an empty tensor sorts between them
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.removeIf(e -> e.end() == e.begin());
        sorted.sort(Comparator.comparingLong(Entry::begin));
        Entry furthest = null;
        for (Entry b : sorted) {
            if (furthest != null && b.begin() < furthest.end()) {
                throw new ModelFormatException(file + ": tensors '" + furthest.name() + "' [" + furthest.begin() + ", " + furthest.end()
                        + ") and '" + b.name() + "' [" + b.begin() + ", " + b.end() + ") overlap");
            }
            if (furthest == null || b.end() > furthest.end()) {
                furthest = b;
            }
        }
        return entries;
    }

    /** Bytes per element of a safetensors dtype, or -1 for dtypes whose size we do not check. */
    private static int bytesPerElement(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "BOOL", "I8", "U8", "F8_E4M3", "F8_E5M2" -> 1;
            default -> -1;
        };
    }

    /** The file (or resource) name, for messages. */
    public String file() {
        return file;
    }

    /** {@return the header's tensors by name, in file order} */
    public Map<String, Entry> entries() {
        return entries;
    }

    /** Reads one tensor as float32: a mapped view for F32, a widened heap copy for F16 and BF16. */
    public Tensor read(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new ModelFormatException(file + ": no tensor named '" + name + "'");
        }
        long bytes = e.end() - e.begin();
        if (bytes == 0) {
            return new Tensor(name, e.shape(), FloatBuffer.allocate(0));
        }
        ByteBuffer le = data.duplicate().position((int) e.begin()).limit((int) e.end()).slice().order(ByteOrder.LITTLE_ENDIAN);
        return switch (e.dtype()) {
            case "F32" -> new Tensor(name, e.shape(), le.asFloatBuffer());
            case "F16" -> new Tensor(name, e.shape(), widen(le, true));
            case "BF16" -> new Tensor(name, e.shape(), widen(le, false));
            default -> throw new ModelFormatException(file + ": tensor '" + name + "' has unsupported dtype "
                    + e.dtype() + "; expected F32, F16 or BF16");
        };
    }

    private static FloatBuffer widen(ByteBuffer le, boolean half) {
        int n = le.remaining() / 2;
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            short bits = le.getShort(2 * i);
            out[i] = half ? halfToFloat(bits) : Float.intBitsToFloat((bits & 0xffff) << 16);
        }
        return FloatBuffer.wrap(out);
    }

    /** IEEE 754 binary16 to float32 (Float.float16ToFloat needs Java 20). */
    public static float halfToFloat(short bits) {
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            // subnormal half: mant * 2^-24, exact in float32
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position + buf.position());
            if (n < 0) {
                throw new ModelFormatException("unexpected end of file while reading the safetensors header");
            }
        }
    }
}
