package org.solulens.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.cpu.CpuBackend;
import org.solulens.testing.SafetensorsWriter;
import org.solulens.testing.TestModels;

/** Loading model folders: the round trip, the formats accepted, and every kind of bad input. */
class ModelFolderTest {
    private static final ModelConfig CFG = TestModels.config(12, 20, 2, 6, 10, 15, ActivationFunction.SOLU_LN);

    @TempDir
    Path tmp;

    private Path writeRandom(long seed) throws IOException {
        return TestModels.writeFolder(tmp.resolve("model"), CFG, RandomWeights.of(CFG, seed));
    }

    @Test
    void aWrittenFolderLoadsBackWithIdenticalOutputs() throws IOException {
        SoluModel inMemory = TestModels.random(CFG, 21);
        Path dir = TestModels.writeFolder(tmp.resolve("m"), CFG, inMemory.weights());
        try (SoluModel loaded = ModelFolder.load(dir)) {
            assertEquals(CFG.dMlp(), loaded.config().dMlp());
            assertNull(loaded.tokenizer());
            int[] tokens = TestModels.randomTokens(new Random(1), 10, CFG.dVocab());
            ForwardResult a = new CpuBackend(inMemory).run(tokens, Hooks.ALL);
            ForwardResult b = new CpuBackend(loaded).run(tokens, Hooks.ALL);
            for (String hook : Hooks.ALL) {
                assertArrayEquals(a.get(hook).data(), b.get(hook).data(), 0, hook);
            }
        }
    }

    @Test
    void float16AndBfloat16WeightsAreWidenedOnLoad() throws IOException {
        Path file = tmp.resolve("half.safetensors");
        // 1.5 = 0x3E00 in binary16 and 0x3FC0 in bfloat16; -0.25 = 0xB400 / 0xBE80; 2^-24 is the smallest half subnormal
        ByteBuffer data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        data.putShort((short) 0x3E00).putShort((short) 0xB400).putShort((short) 0x0001);
        data.putShort((short) 0x3FC0).putShort((short) 0xBE80).putShort((short) 0x4049);
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[6,12]}}";
        SafetensorsWriter.writeRaw(file, header.length(), header, data.array());
        SafetensorsReader r = SafetensorsReader.open(file);
        assertArrayEquals(new float[] {1.5f, -0.25f, 0x1p-24f}, r.read("h").toArray());
        assertArrayEquals(new float[] {1.5f, -0.25f, 3.140625f}, r.read("b").toArray());
    }

    @Test
    void severalSafetensorsFilesAreMergedAndTlBuffersAndMissingUnembedBiasAreHandled() throws IOException {
        SoluWeights w = RandomWeights.of(CFG, 22);
        Path dir = tmp.resolve("sharded");
        Files.createDirectories(dir);
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), TestModels.configJson(CFG));
        Map<String, Tensor> first = new LinkedHashMap<>(), second = new LinkedHashMap<>();
        int i = 0;
        for (Tensor t : w.byName().values()) {
            if (!t.name().equals("unembed.b_U")) {
                (i++ % 2 == 0 ? first : second).put(t.name(), t);
            }
        }
        first.put("blocks.0.attn.IGNORE", Tensor.of("blocks.0.attn.IGNORE", new int[] {}, new float[] {-1e5f}));
        SafetensorsWriter.write(dir.resolve("part-1.safetensors"), first);
        SafetensorsWriter.write(dir.resolve("part-2.safetensors"), second);
        try (SoluModel m = ModelFolder.load(dir)) {
            assertEquals(0f, m.weights().bU.get(3));
            assertEquals(w.wU.get(5), m.weights().wU.get(5));
        }
    }

    @Test
    void theTransformerLensReferenceFolderLoadsWithItsBoolMaskBuffer() throws IOException {
        try (SoluModel m = ModelFolder.load(org.solulens.testing.TlReference.modelDir())) {
            assertEquals(ActivationFunction.SOLU_LN, m.config().actFn());
            assertEquals(4.0, m.config().attnScale());
        }
    }

    @Test
    void lnPreModelsNeedNoLayerNormTensors() throws IOException {
        ModelConfig pre = new ModelConfig("t", 8, 16, 2, 4, 6, 9, ActivationFunction.SOLU_LN, Normalization.LN_PRE, 1e-5, 2, true);
        SoluWeights full = RandomWeights.of(pre, 5);
        Map<String, Tensor> noLn = new LinkedHashMap<>(full.byName());
        noLn.keySet().removeIf(n -> n.contains("ln"));
        assertEquals(pre.parameterCount(), noLn.values().stream().mapToLong(Tensor::size).sum());
        Path dir = tmp.resolve("lnpre");
        Files.createDirectories(dir);
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), TestModels.configJson(pre));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), noLn);
        try (SoluModel m = ModelFolder.load(dir)) {
            ForwardResult r = new CpuBackend(m).run(new int[] {1, 2, 3}, List.of(Hooks.MLP_POST));
            double sum = 0;
            for (int n = 0; n < 16; n++) {
                sum += r.get(Hooks.MLP_POST).at(1, n);
            }
            assertEquals(0, sum, 1e-12, "without a gain and bias, mlp.ln's output has mean 0");
        }
    }

    @Test
    void parameterCountMatchesTheTensorsOfAnLnModel() {
        long n = RandomWeights.of(CFG, 1).byName().values().stream().mapToLong(Tensor::size).sum();
        assertEquals(n, CFG.parameterCount());
    }

    // ---- bad input: each names the problem ----

    private static void assertFails(String expectedFragment, org.junit.jupiter.api.function.Executable action) {
        Exception e = assertThrows(IllegalArgumentException.class, action);
        assertTrue(e.getMessage().contains(expectedFragment), "message was: " + e.getMessage());
    }

    @Test
    void missingFolderConfigOrWeightsAreNamed() throws IOException {
        assertFails("does not exist", () -> ModelFolder.load(tmp.resolve("nope")));
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertFails("is not a folder", () -> ModelFolder.load(file));
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertFails("config.json", () -> ModelFolder.load(empty));
        new ObjectMapper().writeValue(empty.resolve("config.json").toFile(), TestModels.configJson(CFG));
        assertFails("no model.safetensors", () -> ModelFolder.load(empty));
    }

    @Test
    void attnScaleFollowsTransformerLens() {
        com.fasterxml.jackson.databind.node.ObjectNode cfg = new ObjectMapper().valueToTree(TestModels.configJson(CFG));
        assertEquals(Math.sqrt(6), ModelConfig.fromJson(cfg).attnScale(), 1e-15, "default: sqrt(d_head)");
        cfg.put("attn_scale", -1.0);
        assertEquals(Math.sqrt(6), ModelConfig.fromJson(cfg).attnScale(), 1e-15, "-1 means not set");
        cfg.put("attn_scale", 3.5);
        assertEquals(3.5, ModelConfig.fromJson(cfg).attnScale(), 0);
        cfg.put("use_attn_scale", false);
        assertEquals(1.0, ModelConfig.fromJson(cfg).attnScale(), 0);
    }

    @Test
    void configFieldsOfTheWrongTypeAreErrorsNotDefaults() {
        // each of these once fell back silently to a default or to false, changing the loss without a word
        Object[][] cases = {
                {"eps", "0.5", "field 'eps' must be a number, got \"0.5\""},
                {"attn_scale", "8.0", "field 'attn_scale' must be a number, got \"8.0\""},
                {"attn_only", "yes", "field 'attn_only' must be true or false, got \"yes\""},
                {"use_attn_scale", "no", "field 'use_attn_scale' must be true or false, got \"no\""},
                {"default_prepend_bos", 1, "field 'default_prepend_bos' must be true or false, got 1"},
                {"d_vocab_out", "37", "field 'd_vocab_out' must be an integer, got \"37\""},
                {"d_model", 12.0, "field 'd_model' must be an integer, got 12.0"},
                {"d_vocab", 1_000_000_000_000L, "field 'd_vocab' is 1000000000000, too large (at most 2147483647)"},
                {"model_name", 7, "field 'model_name' must be a string, got 7"},
                {"attn_scale", 0.0, "attn_scale must be a positive finite number, got 0.0"},
        };
        ObjectMapper json = new ObjectMapper();
        for (Object[] c : cases) {
            com.fasterxml.jackson.databind.node.ObjectNode cfg = json.valueToTree(TestModels.configJson(CFG));
            cfg.set((String) c[0], json.valueToTree(c[1]));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromJson(cfg), c[0] + " = " + c[1]);
            assertEquals(c[2], e.getMessage());
        }
        com.fasterxml.jackson.databind.node.ObjectNode cfg = json.valueToTree(TestModels.configJson(CFG));
        cfg.putNull("eps");
        cfg.putNull("attn_only");
        assertEquals(1e-5, ModelConfig.fromJson(cfg).eps(), 0, "null means not set, as TransformerLens writes it");
    }

    @Test
    void badConfigsNameTheField() throws IOException {
        Path dir = writeRandom(1);
        Map<String, Object> cfg = TestModels.configJson(CFG);
        cfg.put("n_layers", 2);
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), cfg);
        assertFails("n_layers is 2", () -> ModelFolder.load(dir));
        cfg.put("n_layers", 1);
        cfg.remove("d_mlp");
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), cfg);
        assertFails("'d_mlp' is missing", () -> ModelFolder.load(dir));
        cfg.put("d_mlp", 20);
        cfg.put("act_fn", "swish");
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), cfg);
        assertFails("unsupported act_fn 'swish'", () -> ModelFolder.load(dir));
        Files.writeString(dir.resolve("config.json"), "{\"n_layers\": 1,");
        assertFails("not valid JSON", () -> ModelFolder.load(dir));
    }

    @Test
    void truncatedOrCorruptSafetensorsAreReported() throws IOException {
        Path dir = writeRandom(2);
        Path st = dir.resolve("model.safetensors");
        byte[] good = Files.readAllBytes(st);

        Files.write(st, java.util.Arrays.copyOf(good, 5));
        assertFails("truncated", () -> ModelFolder.load(dir));

        Files.write(st, java.util.Arrays.copyOf(good, good.length - 100));
        assertFails("out of range", () -> ModelFolder.load(dir));

        SafetensorsWriter.writeRaw(st, 1_000_000, "{}", new byte[0]);
        assertFails("header length 1000000", () -> ModelFolder.load(dir));

        String bad = "{\"a\": [1, 2";
        SafetensorsWriter.writeRaw(st, bad.length(), bad, new byte[0]);
        assertFails("not valid JSON", () -> ModelFolder.load(dir));

        String overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        SafetensorsWriter.writeRaw(st, overlap.length(), overlap, new byte[12]);
        assertFails("overlap", () -> ModelFolder.load(dir));

        String wrongSpan = "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
        SafetensorsWriter.writeRaw(st, wrongSpan.length(), wrongSpan, new byte[8]);
        assertFails("needs 12", () -> ModelFolder.load(dir));
    }

    @Test
    void tensorsTheConfigDoesNotUseAreAnErrorUnlessIgnored() throws IOException {
        // a second layer's weights beside a config that says n_layers = 1 used to load silently
        SoluWeights w = RandomWeights.of(CFG, 6);
        Map<String, Tensor> tensors = new java.util.LinkedHashMap<>(w.byName());
        tensors.put("blocks.1.mlp.W_in", Tensor.of("blocks.1.mlp.W_in", new int[] {2, 3}, new float[] {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}));
        tensors.put("blocks.0.attn.mask", Tensor.of("blocks.0.attn.mask", new int[] {1}, new float[] {1}));   // TL's buffer: fine
        Path dir = Files.createDirectories(tmp.resolve("two-layers"));
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), TestModels.configJson(CFG));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors);
        assertFails("1 tensor(s) that a one-layer solu_ln model does not use: [blocks.1.mlp.W_in]", () -> ModelFolder.load(dir));
        try (SoluModel m = ModelFolder.load(dir, true)) {
            assertEquals(CFG.dMlp(), m.weights().wIn.dim(1));
        }
    }

    @Test
    void tokenizerFilesThatCannotBeReadAreNamed() throws IOException {
        Path dir = writeRandom(7);
        Files.createDirectories(dir.resolve("tokenizer.json"));
        assertFails(dir.resolve("tokenizer.json") + " is not a file", () -> ModelFolder.load(dir));
        Files.delete(dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0, \"<|BOS|>\": 1},"
                + " \"unk_token\": \"a\"}}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": ");
        assertFails(dir.resolve("tokenizer_config.json") + ": not valid JSON", () -> ModelFolder.load(dir));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": 5}");
        assertFails(dir.resolve("tokenizer_config.json") + ": bos_token must be a string", () -> ModelFolder.load(dir));
    }

    @Test
    void craftedHeadersThatOnceLoadedAreRefused() throws IOException {
        Path dir = writeRandom(4);
        Path st = dir.resolve("model.safetensors");
        // 'a' covers 'c'; the empty 'e' sorts between them, and a neighbours-only check saw no overlap
        String aliased = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[2,2]},"
                + "\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        SafetensorsWriter.writeRaw(st, aliased.length(), aliased, new byte[16]);
        assertFails("tensors 'a' [0, 16) and 'c' [4, 8) overlap", () -> ModelFolder.load(dir));
        // 65536^4 elements: the element count wrapped to 0 bytes and matched an empty range
        String wrapped = "{\"w\":{\"dtype\":\"F32\",\"shape\":[65536,65536,65536,65536],\"data_offsets\":[0,0]}}";
        SafetensorsWriter.writeRaw(st, wrapped.length(), wrapped, new byte[0]);
        assertFails("has more bytes than a file can hold", () -> ModelFolder.load(dir));
        String textOffsets = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",\"8\"]}}";
        SafetensorsWriter.writeRaw(st, textOffsets.length(), textOffsets, new byte[8]);
        assertFails("data_offsets [\"0\",\"8\"] must be two integers", () -> ModelFolder.load(dir));
        String floatDim = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}";
        SafetensorsWriter.writeRaw(st, floatDim.length(), floatDim, new byte[8]);
        assertFails("bad dimension 2.5", () -> ModelFolder.load(dir));
    }

    @Test
    void missingTensorsWrongShapesDtypesAndNonFiniteWeightsNameTheTensor() throws IOException {
        SoluWeights w = RandomWeights.of(CFG, 3);
        Path dir = tmp.resolve("t");
        Files.createDirectories(dir);
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), TestModels.configJson(CFG));
        Path st = dir.resolve("model.safetensors");

        Map<String, Tensor> missing = new LinkedHashMap<>(w.byName());
        missing.remove("blocks.0.mlp.W_in");
        SafetensorsWriter.write(st, missing);
        assertFails("missing tensor 'blocks.0.mlp.W_in'", () -> ModelFolder.load(dir));

        Map<String, Tensor> wrong = new LinkedHashMap<>(w.byName());
        wrong.put("blocks.0.mlp.W_in", Tensor.of("blocks.0.mlp.W_in", new int[] {12, 19}, new float[12 * 19]));
        SafetensorsWriter.write(st, wrong);
        assertFails("blocks.0.mlp.W_in has shape [12, 19], expected [12, 20] (d_model, d_mlp)", () -> ModelFolder.load(dir));

        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
            Map<String, Tensor> nan = new LinkedHashMap<>(w.byName());
            float[] v = w.wOut.toArray();
            v[2 * 12 + 5] = bad;
            nan.put("blocks.0.mlp.W_out", Tensor.of("blocks.0.mlp.W_out", new int[] {20, 12}, v));
            SafetensorsWriter.write(st, nan);
            assertFails("blocks.0.mlp.W_out contains " + bad + " at flat index 29 [2, 5]", () -> ModelFolder.load(dir));
        }

        String header = "{\"embed.W_E\":{\"dtype\":\"I32\",\"shape\":[15,12],\"data_offsets\":[0,720]}}";
        SafetensorsWriter.writeRaw(st, header.length(), header, new byte[720]);
        assertFails("unsupported dtype I32", () -> ModelFolder.load(dir));
    }

    @Test
    void theFirstNonFiniteWeightIsNamedWhenTheCheckSpansManyBlocks() throws IOException {
        // W_U of 12 x 20,000 values: the check scans blocks of 65,536 in parallel and must still name the first one
        ModelConfig wide = TestModels.config(12, 20, 2, 6, 10, 20_000, ActivationFunction.SOLU_LN);
        SoluWeights w = RandomWeights.of(wide, 5);
        Path dir = tmp.resolve("wide");
        Files.createDirectories(dir);
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), TestModels.configJson(wide));
        float[] v = w.wU.toArray();
        v[200_001] = Float.NaN;          // the fourth block
        v[70_000] = Float.NEGATIVE_INFINITY;   // the second block: the first in flat order
        v[131_071] = Float.POSITIVE_INFINITY;  // the last value of the second block
        Map<String, Tensor> bad = new LinkedHashMap<>(w.byName());
        bad.put("unembed.W_U", Tensor.of("unembed.W_U", new int[] {12, 20_000}, v));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), bad);
        assertFails("unembed.W_U contains -Infinity at flat index 70000 [3, 10000]", () -> ModelFolder.load(dir));
        v[70_000] = 1f;
        bad.put("unembed.W_U", Tensor.of("unembed.W_U", new int[] {12, 20_000}, v));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), bad);
        assertFails("unembed.W_U contains Infinity at flat index 131071 [6, 11071]", () -> ModelFolder.load(dir));
    }

    @Test
    void badTokensNameThePositionAndTheRange() {
        SoluModel m = TestModels.random(CFG, 4);
        assertFails("token id 15 at position 2 is out of range", () -> m.checkTokens(new int[] {1, 2, 15}));
        assertFails("token id -1 at position 0", () -> m.checkTokens(new int[] {-1}));
        assertFails("prompt is empty", () -> m.checkTokens(new int[0]));
        assertFails("11 tokens, more than the model's context n_ctx = 10", () -> m.checkTokens(new int[11]));
        assertFails("no tokenizer.json", () -> m.tokenize("hello", true));
        assertFails("unknown hook name 'blocks.0.mlp.hook_poost'",
                () -> new CpuBackend(m).run(new int[] {1, 2}, List.of("blocks.0.mlp.hook_poost")));
        SoluModel gelu = TestModels.random(TestModels.config(8, 8, 2, 4, 5, 7, ActivationFunction.GELU), 1);
        assertFails("does not exist for act_fn gelu", () -> new CpuBackend(gelu).run(new int[] {1}, List.of(org.solulens.backend.Hooks.MLP_MID)));
    }

    @Test
    void randomWeightsAreDeterministic() {
        assertArrayEquals(RandomWeights.of(CFG, 7).wU.toArray(), RandomWeights.of(CFG, 7).wU.toArray());
        // java.util.Random's Gaussian sequence is fixed by the Java specification: pin its first value.
        assertEquals((float) new Random(7).nextGaussian(), RandomWeights.of(CFG, 7).wE.get(0));
    }

    @Test
    void theBundledDemoModelLoadsFromTheJarWithItsTokenizer() {
        try (SoluModel demo = DemoModel.load()) {
            assertTrue(demo.description().contains("King James"));
            assertEquals(ActivationFunction.SOLU_LN, demo.config().actFn());
            assertNotNull(demo.tokenizer());
            assertEquals(demo.config().dVocab(), demo.weights().wU.dim(1));
        }
    }
}
