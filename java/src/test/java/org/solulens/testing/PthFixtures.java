package org.solulens.testing;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** The PyTorch checkpoints tools/make_pth_fixtures.py wrote into the test resources (pth/). */
public final class PthFixtures {
    private PthFixtures() {}

    public static Path fixture(String name) {
        try {
            return Path.of(PthFixtures.class.getResource("/pth/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
