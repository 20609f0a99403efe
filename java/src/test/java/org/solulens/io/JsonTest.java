package org.solulens.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Json} reads what {@code ObjectMapper.readTree} reads and writes what {@code ObjectMapper} writes, byte for byte. */
class JsonTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** A random value of the kinds the commands write: nested maps and lists, arrays of primitives, every scalar. */
    private static Object value(Random rng, int depth) {
        int kind = rng.nextInt(depth > 3 ? 9 : 12);
        return switch (kind) {
            case 0 -> null;
            case 1 -> rng.nextBoolean();
            case 2 -> rng.nextInt();
            case 3 -> rng.nextLong();
            case 4 -> rng.nextGaussian() * Math.pow(10, rng.nextInt(40) - 20);
            case 5 -> (float) rng.nextGaussian();
            case 6 -> text(rng);
            case 7 -> rng.ints(rng.nextInt(5), -1000, 1000).toArray();
            case 8 -> rng.doubles(rng.nextInt(5)).map(x -> x * 1e3 - 500).toArray();
            case 9, 10 -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (int i = rng.nextInt(5); i > 0; i--) {
                    m.put(text(rng), value(rng, depth + 1));
                }
                yield m;
            }
            default -> {
                List<Object> l = new ArrayList<>();
                for (int i = rng.nextInt(5); i > 0; i--) {
                    l.add(value(rng, depth + 1));
                }
                yield l;
            }
        };
    }

    /** Letters, quotes, backslashes, control characters, non-ASCII and a character outside the BMP. */
    private static String text(Random rng) {
        String[] pieces = {"a", "Z", "\"", "\\", "\n", "\t", "\u0001", "é", "中", "\uD83D\uDE00", " ", "<", "&"};
        StringBuilder s = new StringBuilder();
        for (int i = rng.nextInt(6); i > 0; i--) {
            s.append(pieces[rng.nextInt(pieces.length)]);
        }
        return s.toString();
    }

    @Test
    void writesWhatObjectMapperWritesIndentedOrNot(@TempDir Path dir) throws Exception {
        Random rng = new Random(21);
        for (int i = 0; i < 300; i++) {
            Object v = value(rng, 0);
            for (boolean indented : new boolean[] {true, false}) {
                Path file = dir.resolve("v.json");
                Json.write(file, v, indented);
                byte[] expected = indented ? MAPPER.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(v)
                        : MAPPER.writeValueAsBytes(v);
                assertArrayEquals(expected, Files.readAllBytes(file), () -> "value " + v + ", indented " + indented);
            }
        }
    }

    @Test
    void readsTheTreeObjectMapperReads() throws Exception {
        Random rng = new Random(22);
        for (int i = 0; i < 300; i++) {
            byte[] json = MAPPER.writeValueAsBytes(value(rng, 0));
            assertEquals(MAPPER.readTree(json), Json.read(json), new String(json, StandardCharsets.UTF_8));
        }
        // integers past a long, exponents, a repeated key (the last wins), what follows the first value (ignored)
        for (String json : List.of("{\"a\": 123456789012345678901234567890, \"b\": 1e300, \"c\": -0.0, \"d\": 2147483648}",
                "[1e400, -1e400, 0.12345678901234567890123456789, 4.9e-325, -9223372036854775809]",
                "{\"k\": 1, \"k\": [true, null]}", "[1, 2] trailing", "  \"text\"  ", "-7")) {
            byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
            assertEquals(MAPPER.readTree(bytes), Json.read(bytes), json);
        }
    }

    @Test
    void nothingToReadIsNullAndBrokenJsonIsJacksonsError() {
        assertNull(assertDoesNotThrowRead(""));
        assertNull(assertDoesNotThrowRead("   "));
        for (String broken : List.of("{", "{\"a\" 1}", "[1, 2", "{\"a\": tru}", "\"unterminated")) {
            byte[] bytes = broken.getBytes(StandardCharsets.UTF_8);
            JacksonException ours = assertThrows(JacksonException.class, () -> Json.read(bytes), broken);
            JacksonException mapper = assertThrows(JacksonException.class, () -> MAPPER.readTree(bytes), broken);
            assertEquals(mapper.getOriginalMessage(), ours.getOriginalMessage(), broken);
        }
    }

    private static JsonNode assertDoesNotThrowRead(String json) {
        try {
            return Json.read(json.getBytes(StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            throw new AssertionError(json, e);
        }
    }

    @Test
    void aValueWithNoJsonFormIsRefusedByName(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.write(dir.resolve("x.json"), new Object(), false));
        assertEquals("no JSON form for a java.lang.Object", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Json.write(dir.resolve("y.json"), Map.of(1, 2), false));
    }
}
