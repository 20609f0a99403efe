package org.solulens.corpus;

import java.util.LinkedHashSet;
import java.util.Set;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.gpu.GpuBackend;

/**
 * One window's part of the corpus sweep on one backend: the clean run, the whole MLP ablated at each position, every
 * neuron ablated at every position, and the fold of all that into {@link CorpusStats}. One window per backend call: a
 * backend batching several prompts into one matrix product may round differently than for one, and the results must
 * not depend on batching, on the number of workers or on how a cluster splits the corpus.
 */
public final class WindowSweeper {
    private final Backend backend;
    private final SweepRequest request;
    private final Set<String> hooks;
    private final String activationHook;
    private final Ablation whole;
    private final double threshold;
    private final int k;
    /** On a GPU the fold runs on the device too (cuda/corpus.cu): only the per-neuron partials come back. */
    private final boolean onDevice;

    /** A sweeper for {@code backend} with the corpus sweep's settings {@code s}. */
    public WindowSweeper(Backend backend, CorpusSweep.Settings s) {
        this.backend = backend;
        this.request = new SweepRequest(s.ablation(), s.method(), null, false);
        this.hooks = new LinkedHashSet<>(request.requiredHooks(backend.model().config()));
        this.activationHook = s.ablation().site() == Ablation.Site.MID ? Hooks.MLP_MID : Hooks.MLP_POST;
        hooks.add(activationHook);
        this.whole = Ablation.zero(s.ablation().site());
        this.threshold = s.threshold();
        this.k = s.k();
        this.onDevice = backend instanceof GpuBackend && s.method() == SweepMethod.EXACT;
    }

    /** Sweeps one window; {@link Swept#foldInto} adds it to the statistics. */
    Swept sweep(Window w) {
        ForwardResult clean = backend.run(w.tokens(), hooks);
        double[] activation = clean.get(activationHook).data(), wholeMlp = backend.ablatePositions(clean, whole);
        if (onDevice) {
            DeviceFold.Partial part = ((GpuBackend) backend).sweepOnDevice(clean, request, new DeviceFold(activation, threshold, k));
            return new Swept(w, null, activation, wholeMlp, part);
        }
        return new Swept(w, backend.sweep(clean, request).delta(), activation, wholeMlp, null);
    }

    /** Sweeps one window and folds it into {@code stats}. */
    public void sweepInto(Window w, CorpusStats stats) {
        sweep(w).foldInto(stats);
    }

    /** One window's sweep, on its way to the fold. */
    record Swept(Window window, double[] delta, double[] activation, double[] wholeMlp, DeviceFold.Partial partial) {
        void foldInto(CorpusStats stats) {
            if (partial != null) {
                stats.addPartial(window, partial, activation, wholeMlp);
            } else {
                stats.add(window, delta, activation, wholeMlp);
            }
        }
    }
}
