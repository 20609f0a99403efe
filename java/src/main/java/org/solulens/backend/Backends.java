package org.solulens.backend;

import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.solulens.cpu.CpuBackend;
import org.solulens.model.SoluModel;

/** The one place that decides which backend runs a model, and says why. */
public final class Backends {
    private static final Logger log = LoggerFactory.getLogger(Backends.class);

    /** What a user may ask for with {@code --device}. */
    public enum Choice {
        CPU, AUTO;

        public static Choice parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown device '" + s + "'; expected cpu or auto");
            }
        }
    }

    private Backends() {}

    public static Backend create(SoluModel model, Choice choice) {
        if (choice == Choice.AUTO) {
            log.info("backend: cpu (this build has no GPU backend yet)");
        }
        return new CpuBackend(model);
    }

    /** One line per backend saying whether it can run here, for {@code info}. */
    public static java.util.List<String> availability() {
        return java.util.List.of(
                "cpu: available (pure Java, float64 accumulation; the reference)",
                "cuda: not available: this build has no GPU backend yet");
    }
}
