package org.solulens.fuzz;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.solulens.io.Npy;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SafetensorsReader;
import org.solulens.model.Tensor;
import org.solulens.testing.Gen;
import org.solulens.testing.TestModels;

/**
 * Structured fuzzing of the parsers that read files a user hands us: every input either parses or fails with the
 * documented exception (IllegalArgumentException and its ModelFormatException for models and configs, IOException
 * for .npy), within a second, never with anything else. Each property runs {@link Gen#TRIES} seeded inputs (1000);
 * a longer run: {@code mvn -B test -pl java -Dtest=ParserFuzzTest -Dsolulens.fuzz.tries=100000}. A failing case is
 * named by its seed. Inputs that once broke a parser are kept as regression tests beside the parser's own tests
 * (ModelFolderTest, PromptFileErrorsTest).
 */
class ParserFuzzTest {
    private static final Duration PER_INPUT = Duration.ofSeconds(1);
    private static final String SEEDS = "org.solulens.testing.Gen#seeds";

    // ---------------------------------------------------------------- safetensors

    /** A JSON header of up to 4 entries, each with a dtype, a shape and data offsets of any sort. */
    private static String safetensorsHeader(Gen g) {
        List<String> entries = g.list(0, 4, () -> {
            String name = g.string(1, 3, Gen.ALPHA);
            String dtype = g.of("F32", "F16", "BF16", "F64", "I64", "BOOL", "Q4", "");
            List<String> dims = g.list(0, 4, () -> g.oneOf(() -> String.valueOf(g.between(-2, 9)),
                    () -> g.of("65536", "2147483647", "2147483648", "1e3", "2.5", "\"4\"", "null")));
            return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + String.join(",", dims) + "],\"data_offsets\":["
                    + offset(g) + "," + offset(g) + "]}";
        });
        return "{" + String.join(",", entries) + "}";
    }

    private static String offset(Gen g) {
        return g.oneOf(() -> String.valueOf(g.between(-4L, 64L)), () -> g.of("\"8\"", "1.5", "9223372036854775807", "null"));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource(SEEDS)
    void safetensorsHeadersParseOrFailWithAModelFormatError(long seed) throws IOException {
        Gen g = new Gen(seed);
        String header = safetensorsHeader(g);
        int skew = g.chance(8, 9) ? 0 : g.between(-20, 20);   // the header length as written, mostly right
        int dataBytes = g.between(0, 80);
        Path file = Files.createTempFile("fuzz", ".safetensors");
        try {
            byte[] h = header.getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(h.length + skew).put(h);
            Files.write(file, b.array());
            documentedFailureOnly(() -> {
                SafetensorsReader r = SafetensorsReader.open(file);
                for (String name : r.entries().keySet()) {
                    Tensor t = r.read(name);
                    for (int i = 0; i < Math.min(t.size(), 4); i++) {
                        t.get(i);
                    }
                }
            }, IllegalArgumentException.class);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    // ---------------------------------------------------------------- config.json

    private static final String[] CONFIG_FIELDS = {"n_layers", "d_model", "d_mlp", "n_heads", "d_head", "n_ctx", "d_vocab",
        "d_vocab_out", "act_fn", "normalization_type", "eps", "attn_scale", "use_attn_scale", "attn_only",
        "positional_embedding_type", "default_prepend_bos", "model_name", "final_rms", "gated_mlp"};

    @ParameterizedTest(name = "seed {0}")
    @MethodSource(SEEDS)
    void configFieldsOfAnyValueParseOrFailWithAnIllegalArgument(long seed) {
        Gen g = new Gen(seed);
        String field = g.of(CONFIG_FIELDS);
        Object value = g.oneOf(() -> g.between(-3, 5000),
                () -> g.of(0.5, 8.0, -1.0, 1e12, Double.MAX_VALUE, 3_000_000_000L, "yes", "8.0", "", true, false, List.of(1, 2), Map.of("a", 1)));
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = json.valueToTree(TestModels.configJson(TestModels.config(8, 16, 2, 4, 10, 19, ActivationFunction.SOLU_LN)));
        cfg.set(field, json.valueToTree(value));
        documentedFailureOnly(() -> ModelConfig.fromJson(cfg), IllegalArgumentException.class);
    }

    // ---------------------------------------------------------------- .npy

    private static String npyHeader(Gen g) {
        List<String> dims = g.list(0, 3, () -> g.oneOf(() -> String.valueOf(g.between(-1, 6)), () -> g.of("99999999999", "65536", "x", "")));
        String shape = "(" + String.join(", ", dims) + (dims.size() == 1 ? ",)" : ")");
        return "{'descr': '" + g.of("<f4", "<f8", "<i8", "|b1") + "', 'fortran_order': " + g.of("False", "True") + ", 'shape': " + shape + ", }\n";
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource(SEEDS)
    void npyFilesParseOrFailWithAnIOException(long seed) throws IOException {
        Gen g = new Gen(seed);
        String header = npyHeader(g);
        int dataBytes = g.between(0, 80);
        int version = g.of(1, 2);
        Path file = Files.createTempFile("fuzz", ".npy");
        try {
            byte[] h = header.getBytes(StandardCharsets.US_ASCII);
            int pre = version == 1 ? 10 : 12;
            ByteBuffer b = ByteBuffer.allocate(pre + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
            b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) version, 0});
            if (version == 1) {
                b.putShort((short) h.length);
            } else {
                b.putInt(h.length);
            }
            b.put(h);
            Files.write(file, b.array());
            documentedFailureOnly(() -> Npy.read(file), IOException.class);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Seeds the fuzzer once found: each crashed the reader with an unchecked exception before. */
    @Test
    void npyRegressionSeedsFailWithTheirReason() throws IOException {
        String[][] seeds = {
                {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", "needs 12 bytes after the header"},
                {"{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536), }\n", "more elements than an array can hold"},
                {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n", "negative dimension"},
                {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }\n", "not an integer: 99999999999"},
        };
        for (String[] seed : seeds) {
            Path file = Files.createTempFile("seed", ".npy");
            try {
                byte[] h = seed[0].getBytes(StandardCharsets.US_ASCII);
                ByteBuffer b = ByteBuffer.allocate(10 + h.length).order(ByteOrder.LITTLE_ENDIAN);
                b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) h.length).put(h);
                Files.write(file, b.array());
                IOException e = assertThrows(IOException.class, () -> Npy.read(file));
                assertTrue(e.getMessage().contains(seed[1]), e.getMessage());
            } finally {
                Files.deleteIfExists(file);
            }
        }
    }

    // ---------------------------------------------------------------- PyTorch checkpoints

    private static final byte[] CHECKPOINT = readFixture("/pth/solu-small/model_final.pth");

    private static byte[] readFixture(String resource) {
        try (var in = ParserFuzzTest.class.getResourceAsStream(resource)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** 1 to 6 byte edits, mostly inside data.pkl (the zip's first entry) and the zip directory at the end. */
    private static int[] byteEdits(Gen g) {
        List<int[]> edits = g.list(1, 6, () -> {
            int choice = g.between(0, 9);
            int position = choice < 6 ? g.between(0, 2200)
                    : choice < 9 ? g.between(CHECKPOINT.length - 3000, CHECKPOINT.length - 1) : g.between(0, CHECKPOINT.length - 1);
            return new int[] {position, g.between(0, 255)};
        });
        return edits.stream().flatMapToInt(java.util.Arrays::stream).toArray();
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource(SEEDS)
    void mutatedCheckpointsLoadOrFailWithAModelFormatError(long seed) throws IOException {
        int[] edits = byteEdits(new Gen(seed));
        byte[] bytes = CHECKPOINT.clone();
        for (int i = 0; i + 1 < edits.length; i += 2) {
            bytes[edits[i]] = (byte) edits[i + 1];
        }
        Path file = Files.createTempFile("fuzz", ".pth");
        try {
            Files.write(file, bytes);
            documentedFailureOnly(() -> {
                try (org.solulens.model.pth.TorchCheckpoint ckpt = org.solulens.model.pth.TorchCheckpoint.open(file)) {
                    for (String name : ckpt.names()) {
                        if (!name.endsWith(".mask")) {
                            Tensor t = ckpt.read(name);
                            for (int i = 0; i < Math.min(t.size(), 4); i++) {
                                t.get(i);
                            }
                        }
                    }
                }
            }, IllegalArgumentException.class);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    // ---------------------------------------------------------------- helpers

    @FunctionalInterface
    interface Parse {
        void run() throws Exception;
    }

    private static void documentedFailureOnly(Parse parse, Class<? extends Exception> documented) {
        assertTimeoutPreemptively(PER_INPUT, () -> {
            try {
                parse.run();
            } catch (Exception e) {
                if (!documented.isInstance(e)) {
                    throw new AssertionError("undocumented " + e.getClass().getName() + ": " + e.getMessage(), e);
                }
            }
        });
    }
}
