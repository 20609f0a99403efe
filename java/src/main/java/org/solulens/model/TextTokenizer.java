package org.solulens.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.solulens.gpu.CudaDevice;
import org.solulens.natives.NativeLoader;

/**
 * A Hugging Face {@code tokenizer.json} (through DJL's bundled native tokenizer), plus the BOS token that
 * TransformerLens prepends. The tokenizer itself adds no special tokens, as in TransformerLens.
 */
public final class TextTokenizer implements AutoCloseable {
    static {
        // DJL otherwise reaches out to the network on start, and on a CUDA machine would look for a GPU build.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getProperty("RUST_FLAVOR") == null) {
            System.setProperty("RUST_FLAVOR", "cpu");
        }
    }

    /**
     * Loads DJL's native tokenizer once, on {@link NativeLoader}'s thread: DJL keeps a failed first load (an interrupted
     * extraction into its cache) for the life of the JVM. Where no NVIDIA driver is installed, DJL's GPU lookup is
     * switched off first: it would find the CUDA toolkit's runtime and warn "Failed to detect GPU count" on every
     * start, about a GPU neither it nor we could use.
     */
    private static void loadNativeLibrary() {
        if (nativeLoaded) {
            return;
        }
        NativeLoader.load("DJL's tokenizer library", () -> {
            ClassLoader loader = TextTokenizer.class.getClassLoader();
            if (System.getProperty(DJL_FORK_PROPERTY) == null && CudaDevice.driverMissing()) {
                // CudaUtils binds the CUDA runtime in its initializer unless this property is set then; without the
                // binding it counts 0 GPUs, silently. The property is cleared again so that nothing forks later.
                System.setProperty(DJL_FORK_PROPERTY, "true");
                try {
                    Class.forName("ai.djl.util.cuda.CudaUtils", true, loader);
                } finally {
                    System.clearProperty(DJL_FORK_PROPERTY);
                }
            }
            Class.forName("ai.djl.huggingface.tokenizers.jni.LibUtils", true, loader);
            ai.djl.huggingface.tokenizers.jni.LibUtils.checkStatus();
            return null;
        });
        nativeLoaded = true;
    }

    /** Set once DJL's library has loaded: later tokenizers skip the loader thread. */
    private static volatile boolean nativeLoaded;

    private static final String DJL_FORK_PROPERTY = "ai.djl.util.cuda.fork";

    /** BOS spellings looked for when no tokenizer_config.json names one. */
    private static final List<String> BOS_CANDIDATES = List.of("<|BOS|>", "<|endoftext|>", "<s>", "<bos>", "[BOS]");

    private final HuggingFaceTokenizer tokenizer;
    private final Map<Integer, String> idToToken;
    /** Decoded token texts: a report names tens of thousands of tokens, and each decode is a native call. */
    private final java.util.concurrent.ConcurrentHashMap<Integer, String> texts = new java.util.concurrent.ConcurrentHashMap<>();
    private final int bosId;
    /** The tokenizer.json it was made from, for {@code convert} to write out again. */
    private final byte[] json;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, Map<Integer, String> idToToken, int bosId, byte[] json) {
        this.tokenizer = tokenizer;
        this.idToToken = idToToken;
        this.bosId = bosId;
        this.json = json;
    }

    /** The tokenizer.json this tokenizer was loaded from. */
    public byte[] json() {
        return json.clone();
    }

    /** The end-of-text token's id ({@code <|endoftext|>}, {@code </s>}, {@code <eos>}, {@code [EOS]}), or -1. */
    public int eosId() {
        for (String name : List.of("<|endoftext|>", "</s>", "<eos>", "[EOS]", "<|EOS|>")) {
            int id = idOf(idToToken, name);
            if (id >= 0) {
                return id;
            }
        }
        return -1;
    }

    /** The BOS token's text, or null when it has none. */
    public String bosToken() {
        return bosId < 0 ? null : idToToken.get(bosId);
    }

    /** Loads {@code tokenizer.json}; {@code tokenizer_config.json} beside it, if present, names the BOS token. */
    public static TextTokenizer load(Path tokenizerJson) throws IOException {
        byte[] json = Files.readAllBytes(tokenizerJson);
        Path configFile = tokenizerJson.resolveSibling("tokenizer_config.json");
        String bosName = Files.isRegularFile(configFile) ? bosFromConfig(Files.readAllBytes(configFile), configFile) : null;
        return fromBytes(json, bosName, tokenizerJson.toString());
    }

    /** Loads a tokenizer.json held in memory (the bundled demo model's). */
    public static TextTokenizer fromBytes(byte[] json, String bosName, String source) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new ModelFormatException(source + ": not valid JSON: " + e.getOriginalMessage());
        }
        Map<Integer, String> idToToken = vocabulary(root);
        int bos = -1;
        for (String name : bosName != null ? List.of(bosName) : BOS_CANDIDATES) {
            bos = idOf(idToToken, name);
            if (bos >= 0) {
                break;
            }
        }
        Map<String, String> options = new HashMap<>();
        options.put("addSpecialTokens", "false");
        options.put("truncation", "false");
        options.put("padding", "false");
        loadNativeLibrary();
        HuggingFaceTokenizer hf;
        try (InputStream in = new java.io.ByteArrayInputStream(json)) {
            hf = HuggingFaceTokenizer.newInstance(in, options);
        } catch (RuntimeException e) {
            throw new ModelFormatException(source + ": the tokenizer could not be loaded: " + e.getMessage(), e);
        }
        return new TextTokenizer(hf, idToToken, bos, json.clone());
    }

    private static int idOf(Map<Integer, String> idToToken, String token) {
        for (Map.Entry<Integer, String> e : idToToken.entrySet()) {
            if (e.getValue().equals(token)) {
                return e.getKey();
            }
        }
        return -1;
    }

    private static String bosFromConfig(byte[] json, Path file) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new ModelFormatException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode bos = root == null ? null : root.get("bos_token");
        if (bos == null || bos.isNull()) {
            return null;
        }
        if (bos.isTextual()) {
            return bos.asText();
        }
        if (bos.path("content").isTextual()) {
            return bos.path("content").asText();
        }
        throw new ModelFormatException(file + ": bos_token must be a string or an object with a \"content\" string, got " + bos);
    }

    private static Map<Integer, String> vocabulary(JsonNode root) {
        Map<Integer, String> out = new HashMap<>();
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                out.put(e.getValue().asInt(), e.getKey());
            }
        }
        for (JsonNode added : root.path("added_tokens")) {
            out.put(added.path("id").asInt(), added.path("content").asText());
        }
        return out;
    }

    /** Token ids of {@code text}, with the BOS id first when {@code prependBos}. */
    public int[] encode(String text, boolean prependBos) {
        long[] ids = tokenizer.encode(text, false, false).getIds();
        if (prependBos && bosId < 0) {
            throw new IllegalStateException("the tokenizer has no BOS token; use --no-bos (or prependBos=false)");
        }
        int offset = prependBos ? 1 : 0;
        int[] out = new int[ids.length + offset];
        if (prependBos) {
            out[0] = bosId;
        }
        for (int i = 0; i < ids.length; i++) {
            out[i + offset] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /** The text of one token as the decoder renders it (leading spaces kept), for tables. */
    public String tokenText(int id) {
        return texts.computeIfAbsent(id, this::decodeOne);
    }

    private String decodeOne(int id) {
        String s = tokenizer.decode(new long[] {id}, false);
        if (s.isEmpty() && idToToken.containsKey(id)) {
            return idToToken.get(id);
        }
        return s;
    }

    /** The BOS token id, or -1 when the tokenizer has none. */
    public int bosId() {
        return bosId;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
