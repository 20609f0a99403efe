package org.solulens.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextTokenizerTest {
    @TempDir
    Path tmp;

    @Test
    void demoTokenizerSplitsWordsAndPunctuationAndPrependsBos() {
        try (SoluModel demo = DemoModel.load()) {
            int[] ids = demo.tokenize("BOS? No: Ice ice ICE.", false);
            assertEquals(8, ids.length, "BOS ? no : ice ice ice .");
            assertEquals(ids[4], ids[5]);
            assertEquals(ids[5], ids[6]);
            assertEquals("ice", demo.tokenText(ids[4]));
            assertEquals("?", demo.tokenText(ids[1]));
            int[] withBos = demo.tokenize("ice ice", true);
            assertArrayEquals(new int[] {0, ids[4], ids[4]}, withBos);
            assertEquals("<|BOS|>", demo.tokenText(0));
            int unknown = demo.tokenize("zyxwvut", false)[0];
            assertEquals("<unk>", demo.tokenText(unknown));
        }
    }

    @Test
    void longTextIsNotTruncatedAndTooLongPromptsAreRejected() {
        try (SoluModel demo = DemoModel.load()) {
            int ctx = demo.config().nCtx();
            String text = "ice ".repeat(ctx - 1);
            assertEquals(ctx, demo.tokenize(text, true).length);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> demo.tokenize(text + "ice", true));
            assertTrue(e.getMessage().contains((ctx + 1) + " tokens"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> demo.tokenize("   ", true));
        }
    }

    private static String added(int id, String content) {
        return "{\"id\":" + id + ",\"content\":\"" + content + "\",\"single_word\":false,\"lstrip\":false,"
                + "\"rstrip\":false,\"normalized\":false,\"special\":true}";
    }

    @Test
    void tokenizerConfigNamesTheBosToken() throws IOException {
        String json = "{\"version\":\"1.0\",\"added_tokens\":[" + added(0, "<|endoftext|>") + "," + added(1, "<|BOS|>")
                + "],\"normalizer\":null,"
                + "\"pre_tokenizer\":{\"type\":\"Whitespace\"},\"post_processor\":null,\"decoder\":null,"
                + "\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"<|endoftext|>\":0,\"<|BOS|>\":1,\"[UNK]\":2,\"hello\":3},\"unk_token\":\"[UNK]\"}}";
        Path file = Files.writeString(tmp.resolve("tokenizer.json"), json);
        try (TextTokenizer t = TextTokenizer.load(file)) {
            assertEquals(1, t.bosId(), "<|BOS|> is preferred over <|endoftext|>");
        }
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"bos_token\": {\"content\": \"<|endoftext|>\"}}");
        try (TextTokenizer t = TextTokenizer.load(file)) {
            assertEquals(0, t.bosId());
            assertArrayEquals(new int[] {0, 3, 2}, t.encode("hello world", true));
        }
    }
}
