package org.solulens.analysis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.solulens.model.DemoModel;
import org.solulens.model.SoluModel;

/** The prompt families of the seed paper's LayerNorm-scale study, and the bundled default sentences. */
public final class PromptFamilies {
    private PromptFamilies() {}

    /** The sentences bundled with SoluLens (written for the project; 4 to 45 words). */
    public static List<String> defaultSentences() {
        try (InputStream in = PromptFamilies.class.getResourceAsStream("/org/solulens/prompts/sentences.txt")) {
            return Arrays.stream(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"))
                    .map(String::trim).filter(s -> !s.isEmpty()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "BOS w w w ..." for lengths 1..maxWords repetitions of {@code word} (its tokens repeated). */
    public static List<Prompt> repeat(SoluModel model, String word, int maxWords, boolean bos) {
        int[] w = model.tokenize(word, false);
        List<Prompt> out = new ArrayList<>();
        for (int i = 1; i <= maxWords; i++) {
            int offset = bos ? 1 : 0;
            int length = offset + i * w.length;
            if (length > model.config().nCtx()) {
                break;
            }
            int[] tokens = new int[length];
            if (bos) {
                tokens[0] = model.tokenizer().bosId();
            }
            for (int r = 0; r < i; r++) {
                System.arraycopy(w, 0, tokens, offset + r * w.length, w.length);
            }
            out.add(new Prompt((word + " ").repeat(i).trim(), tokens));
        }
        return out;
    }

    /**
     * One seeded random string of words from the bundled word list, tokenized once; the prompts are its
     * prefixes [:i] in tokens, i = 2..maxTokens (as the seed paper's substrings).
     */
    public static List<Prompt> randomWordPrefixes(SoluModel model, int maxTokens, long seed, boolean bos) {
        String[] words = DemoModel.words();
        Random rng = new Random(seed);
        StringBuilder text = new StringBuilder();
        int[] tokens = new int[0];
        int limit = Math.min(maxTokens, model.config().nCtx());
        while (tokens.length < limit) {
            text.append(text.length() == 0 ? "" : " ").append(words[rng.nextInt(words.length)]);
            tokens = model.tokenize(text.toString(), bos);
        }
        List<Prompt> out = new ArrayList<>();
        for (int i = 2; i <= limit; i++) {
            out.add(new Prompt(null, Arrays.copyOf(tokens, i)));
        }
        return out;
    }
}
