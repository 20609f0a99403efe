package org.solulens.fuzz;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

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
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.solulens.io.Npy;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SafetensorsReader;
import org.solulens.model.Tensor;
import org.solulens.testing.TestModels;

/**
 * Structured fuzzing of the parsers that read files a user hands us: every input either parses or fails with the
 * documented exception (IllegalArgumentException and its ModelFormatException for models and configs, IOException
 * for .npy), within a second, never with anything else. Each property runs jqwik's default number of tries in CI;
 * a longer run: {@code mvn -B test -pl java -Dtest=ParserFuzzTest -Djqwik.tries.default=100000}. Inputs that once
 * broke a parser are kept as regression tests beside the parser's own tests (ModelFolderTest, PromptFileErrorsTest).
 */
class ParserFuzzTest {
    private static final Duration PER_INPUT = Duration.ofSeconds(1);

    // ---------------------------------------------------------------- safetensors

    @Provide
    Arbitrary<String> headerEntries() {
        Arbitrary<String> dtype = Arbitraries.of("F32", "F16", "BF16", "F64", "I64", "BOOL", "Q4", "");
        Arbitrary<String> dim = Arbitraries.oneOf(Arbitraries.integers().between(-2, 9).map(String::valueOf),
                Arbitraries.of("65536", "2147483647", "2147483648", "1e3", "2.5", "\"4\"", "null"));
        Arbitrary<String> shape = dim.list().ofMaxSize(4).map(l -> "[" + String.join(",", l) + "]");
        Arbitrary<String> offset = Arbitraries.oneOf(Arbitraries.longs().between(-4, 64).map(String::valueOf),
                Arbitraries.of("\"8\"", "1.5", "9223372036854775807", "null"));
        Arbitrary<String> entry = Combinators.combine(Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(3), dtype, shape, offset, offset)
                .as((name, d, s, b, e) -> "\"" + name + "\":{\"dtype\":\"" + d + "\",\"shape\":" + s + ",\"data_offsets\":[" + b + "," + e + "]}");
        return entry.list().ofMaxSize(4).map(l -> "{" + String.join(",", l) + "}");
    }

    @Property
    void safetensorsHeadersParseOrFailWithAModelFormatError(@ForAll("headerEntries") String header,
                                                           @ForAll("lengthSkew") int skew,
                                                           @ForAll("dataBytes") int dataBytes) throws IOException {
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

    @Provide
    Arbitrary<Integer> lengthSkew() {
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(8, Arbitraries.just(0)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(-20, 20)));
    }

    @Provide
    Arbitrary<Integer> dataBytes() {
        return Arbitraries.integers().between(0, 80);
    }

    // ---------------------------------------------------------------- config.json

    @Provide
    Arbitrary<Object> jsonValues() {
        return Arbitraries.oneOf(Arbitraries.integers().between(-3, 5000).map(i -> (Object) i),
                Arbitraries.of(0.5, 8.0, -1.0, 1e12, Double.MAX_VALUE, 3_000_000_000L, "yes", "8.0", "", true, false, List.of(1, 2), Map.of("a", 1)));
    }

    @Property
    void configFieldsOfAnyValueParseOrFailWithAnIllegalArgument(@ForAll("configFields") String field, @ForAll("jsonValues") Object value) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = json.valueToTree(TestModels.configJson(TestModels.config(8, 16, 2, 4, 10, 19, ActivationFunction.SOLU_LN)));
        cfg.set(field, json.valueToTree(value));
        documentedFailureOnly(() -> ModelConfig.fromJson(cfg), IllegalArgumentException.class);
    }

    @Provide
    Arbitrary<String> configFields() {
        return Arbitraries.of("n_layers", "d_model", "d_mlp", "n_heads", "d_head", "n_ctx", "d_vocab", "d_vocab_out", "act_fn",
                "normalization_type", "eps", "attn_scale", "use_attn_scale", "attn_only", "positional_embedding_type",
                "default_prepend_bos", "model_name", "final_rms", "gated_mlp");
    }

    // ---------------------------------------------------------------- .npy

    @Property
    void npyFilesParseOrFailWithAnIOException(@ForAll("npyHeaders") String header, @ForAll("dataBytes") int dataBytes,
                                              @ForAll("npyVersion") int version) throws IOException {
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
    @net.jqwik.api.Example
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
                IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> Npy.read(file));
                org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains(seed[1]), e.getMessage());
            } finally {
                Files.deleteIfExists(file);
            }
        }
    }

    @Provide
    Arbitrary<String> npyHeaders() {
        Arbitrary<String> dim = Arbitraries.oneOf(Arbitraries.integers().between(-1, 6).map(String::valueOf),
                Arbitraries.of("99999999999", "65536", "x", ""));
        Arbitrary<String> shape = dim.list().ofMaxSize(3).map(l -> "(" + String.join(", ", l) + (l.size() == 1 ? ",)" : ")"));
        return Combinators.combine(Arbitraries.of("<f4", "<f8", "<i8", "|b1"), Arbitraries.of("False", "True"), shape)
                .as((d, o, s) -> "{'descr': '" + d + "', 'fortran_order': " + o + ", 'shape': " + s + ", }\n");
    }

    @Provide
    Arbitrary<Integer> npyVersion() {
        return Arbitraries.of(1, 2);
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

    @Provide
    Arbitrary<int[]> byteEdits() {
        // (position, value) pairs; positions mostly inside data.pkl (the zip's first entry) and the zip directory at the end
        Arbitrary<Integer> position = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(6, Arbitraries.integers().between(0, 2200)),
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(CHECKPOINT.length - 3000, CHECKPOINT.length - 1)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, CHECKPOINT.length - 1)));
        return Combinators.combine(position, Arbitraries.integers().between(0, 255)).as((p, v) -> new int[] {p, v}).list().ofMinSize(1).ofMaxSize(6)
                .map(l -> l.stream().flatMapToInt(java.util.Arrays::stream).toArray());
    }

    @Property
    void mutatedCheckpointsLoadOrFailWithAModelFormatError(@ForAll("byteEdits") int[] edits) throws IOException {
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
