package org.solulens.model;

import java.util.Optional;

/**
 * A one-layer model: its configuration, its weights and (optionally) its tokenizer.
 * Backends run it; this class only knows what the model is and which inputs it accepts.
 *
 * @param description where it came from, for logs and {@code info} ("demo model (random weights)", a folder path)
 * @param notes what a user should know about how it was read (defaulted config fields, where the tokenizer came
 *     from or how to fetch it), shown by {@code info}
 */
public record SoluModel(ModelConfig config, SoluWeights weights, TextTokenizer tokenizer, String description, java.util.List<String> notes)
        implements AutoCloseable {

    /** Copies the notes. */
    public SoluModel {
        notes = java.util.List.copyOf(notes);
    }

    /** A model without notes. */
    public SoluModel(ModelConfig config, SoluWeights weights, TextTokenizer tokenizer, String description) {
        this(config, weights, tokenizer, description, java.util.List.of());
    }

    /** {@return the tokenizer, if the model has one (else only token ids are accepted)} */
    public Optional<TextTokenizer> tokenizerIfAny() {
        return Optional.ofNullable(tokenizer);
    }

    /** Tokenizes a text prompt; TransformerLens's {@code to_tokens} with {@code prepend_bos}. */
    public int[] tokenize(String text, boolean prependBos) {
        if (tokenizer == null) {
            String hint = notes.stream().filter(n -> n.startsWith("tokenizer")).findFirst().map(n -> " (" + n + ")").orElse("");
            throw new IllegalArgumentException("this model has no tokenizer.json; give prompts as token ids" + hint);
        }
        if (text.isBlank()) {
            throw new IllegalArgumentException("prompt is empty");
        }
        int[] tokens = tokenizer.encode(text, prependBos);
        checkTokens(tokens);
        return tokens;
    }

    /** Throws with a specific message unless every id is in [0, d_vocab) and 1 &le; length &le; n_ctx. */
    public void checkTokens(int[] tokens) {
        if (tokens == null || tokens.length == 0) {
            throw new IllegalArgumentException("prompt is empty: at least one token is needed");
        }
        if (tokens.length > config.nCtx()) {
            throw new IllegalArgumentException("prompt has " + tokens.length + " tokens, more than the model's context n_ctx = "
                    + config.nCtx());
        }
        for (int p = 0; p < tokens.length; p++) {
            if (tokens[p] < 0 || tokens[p] >= config.dVocab()) {
                throw new IllegalArgumentException("token id " + tokens[p] + " at position " + p
                        + " is out of range: ids must be in [0, " + config.dVocab() + ") (d_vocab)");
            }
        }
    }

    /** How a token is shown in tables: its text if there is a tokenizer, else its id. */
    public String tokenText(int id) {
        return tokenizer == null ? "#" + id : tokenizer.tokenText(id);
    }

    @Override
    public void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
