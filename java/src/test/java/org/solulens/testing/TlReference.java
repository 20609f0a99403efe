package org.solulens.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** The reference outputs TransformerLens computed for a random solu-1l-shaped model (test resources). */
public final class TlReference {
    private TlReference() {}

    public static Path modelDir() {
        try {
            return Path.of(TlReference.class.getResource("/tl-reference/solu1l-random-small/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Path promptDir(int k) {
        return modelDir().resolve("ref").resolve(Integer.toString(k));
    }

    public static int[] tokens(int k) throws IOException {
        return new ObjectMapper().readValue(promptDir(k).resolve("tokens.json").toFile(), int[].class);
    }
}
