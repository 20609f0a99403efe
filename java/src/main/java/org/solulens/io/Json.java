package org.solulens.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The JSON every command reads and writes on its way (config.json, safetensors headers, summaries, manifests), through
 * Jackson's streaming parser and generator only. What it reads and writes is what an {@code ObjectMapper} reads
 * ({@code readTree}) and writes (its default or indented output); it skips the mapper's set-up, ~0.3 s of a fresh JVM's
 * start on the sweep's path (benchmarks/NOTES.md), which a command that reads one config and writes one summary does
 * not need.
 */
public final class Json {
    private static final JsonFactory FACTORY = new JsonFactory();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Json() {}

    /** The JSON value in {@code bytes} (null when there is none), as {@code ObjectMapper.readTree} reads it. */
    public static JsonNode read(byte[] bytes) throws IOException {
        try (JsonParser p = FACTORY.createParser(bytes)) {
            return p.nextToken() == null ? null : value(p);
        }
    }

    /** The JSON value in {@code file} (null when there is none), as {@code ObjectMapper.readTree} reads it. */
    public static JsonNode read(Path file) throws IOException {
        return read(Files.readAllBytes(file));
    }

    private static JsonNode value(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT: {
                ObjectNode o = NODES.objectNode();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    o.set(name, value(p));
                }
                return o;
            }
            case START_ARRAY: {
                ArrayNode a = NODES.arrayNode();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    a.add(value(p));
                }
                return a;
            }
            case VALUE_STRING:
                return NODES.textNode(p.getText());
            case VALUE_NUMBER_INT:
                switch (p.getNumberType()) {
                    case INT:
                        return NODES.numberNode(p.getIntValue());
                    case LONG:
                        return NODES.numberNode(p.getLongValue());
                    default:
                        return NODES.numberNode(p.getBigIntegerValue());
                }
            case VALUE_NUMBER_FLOAT:
                return NODES.numberNode(p.getDoubleValue());
            case VALUE_TRUE:
                return NODES.booleanNode(true);
            case VALUE_FALSE:
                return NODES.booleanNode(false);
            case VALUE_NULL:
                return NODES.nullNode();
            default:
                throw new com.fasterxml.jackson.core.JsonParseException(p, "unexpected " + t);
        }
    }

    /**
     * Writes {@code value} (maps with string keys, lists, arrays, strings, numbers, booleans, null) to {@code file},
     * indented as {@code ObjectMapper}'s {@code INDENT_OUTPUT} indents, or on one line.
     */
    public static void write(Path file, Object value, boolean indented) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); JsonGenerator g = FACTORY.createGenerator(out)) {
            if (indented) {
                g.setPrettyPrinter(new DefaultPrettyPrinter());
            }
            write(g, value);
        }
    }

    private static void write(JsonGenerator g, Object v) throws IOException {
        if (v == null) {
            g.writeNull();
        } else if (v instanceof String s) {
            g.writeString(s);
        } else if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            g.writeNumber(((Number) v).intValue());
        } else if (v instanceof Long l) {
            g.writeNumber(l);
        } else if (v instanceof Double d) {
            g.writeNumber(d);
        } else if (v instanceof Float f) {
            g.writeNumber(f);
        } else if (v instanceof java.math.BigInteger b) {
            g.writeNumber(b);
        } else if (v instanceof java.math.BigDecimal b) {
            g.writeNumber(b);
        } else if (v instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (v instanceof Map<?, ?> m) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new IllegalArgumentException("a JSON object's keys are strings, not " + e.getKey());
                }
                g.writeFieldName(key);
                write(g, e.getValue());
            }
            g.writeEndObject();
        } else if (v instanceof Iterable<?> items) {
            g.writeStartArray();
            for (Object item : items) {
                write(g, item);
            }
            g.writeEndArray();
        } else if (v instanceof int[] a) {
            g.writeArray(a, 0, a.length);
        } else if (v instanceof long[] a) {
            g.writeArray(a, 0, a.length);
        } else if (v instanceof double[] a) {
            g.writeArray(a, 0, a.length);
        } else if (v instanceof float[] a) {
            g.writeStartArray();
            for (float x : a) {
                g.writeNumber(x);
            }
            g.writeEndArray();
        } else if (v instanceof Object[] a) {
            write(g, java.util.Arrays.asList(a));
        } else {
            throw new IllegalArgumentException("no JSON form for a " + v.getClass().getName());
        }
    }
}
