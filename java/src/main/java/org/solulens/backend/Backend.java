package org.solulens.backend;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.solulens.model.SoluModel;

/**
 * Runs one model. A backend is bound to its model so that it can prepare the weights once (a GPU backend
 * uploads them); close it to release what it holds. After {@link #close()} every method except {@link #model()} and
 * {@link #name()} throws {@link IllegalStateException}; closing twice does nothing.
 *
 * <p>Threads: every backend may be called from several threads at once. The CPU backend runs such calls concurrently
 * (each call already uses every core); the GPU backends ({@code cuda}, {@code emulator}) run them one at a time, in
 * turn, since they share one device and its buffers.
 */
public interface Backend extends AutoCloseable {
    /** {@return the model this backend runs (still available after close)} */
    SoluModel model();

    /** A short name for logs and tables: "cpu", "cuda", "emulator". */
    String name();

    /**
     * The forward pass of one prompt given as token ids (used exactly as given), caching the hooks named
     * in {@code hooks} (see {@link Hooks}; unknown names are an error).
     */
    ForwardResult run(int[] tokens, Collection<String> hooks);

    /** Several prompts of different lengths; results in input order. */
    default List<ForwardResult> run(List<int[]> prompts, Collection<String> hooks) {
        List<ForwardResult> out = new ArrayList<>(prompts.size());
        for (int[] tokens : prompts) {
            out.add(run(tokens, hooks));
        }
        return out;
    }

    /**
     * Every selected (position, neuron) ablation of one prompt, from its clean forward pass, which must have cached
     * {@link SweepRequest#requiredHooks}.
     */
    SweepResult sweep(ForwardResult clean, SweepRequest request);

    /**
     * A hint that sweeps like {@code request} follow: a backend may start what they need in the background (the CPU
     * backend: B's key and cache file, while the clean forward passes run). Nothing by default.
     */
    default void prepareSweep(SweepRequest request) {}

    /**
     * {@link #sweep(ForwardResult, SweepRequest)}, telling {@code positionsDone} how many more positions are swept as
     * it goes (the CPU after each chunk of positions; other backends once, at the end).
     */
    default SweepResult sweep(ForwardResult clean, SweepRequest request, java.util.function.IntConsumer positionsDone) {
        SweepResult result = sweep(clean, request);
        positionsDone.accept(result.positions());
        return result;
    }

    /**
     * The sweeps of several prompts (request i for prompt i; results in input order). A GPU backend packs the positions
     * of all prompts into one kernel launch when they share an ablation and device memory allows.
     */
    default List<SweepResult> sweep(List<ForwardResult> cleans, List<SweepRequest> requests) {
        if (cleans.size() != requests.size()) {
            throw new IllegalArgumentException(cleans.size() + " prompts but " + requests.size() + " sweep requests: give one request per prompt");
        }
        List<SweepResult> out = new ArrayList<>(cleans.size());
        for (int i = 0; i < cleans.size(); i++) {
            out.add(sweep(cleans.get(i), requests.get(i)));
        }
        return out;
    }

    /** Direct logit attribution of the MLP and of every neuron toward each next token (needs the sweep's hooks). */
    DlaResult dla(ForwardResult clean, boolean tlVariant);

    /** Entry p: the change of position p's loss when the whole {@code ablation.site()} vector at p is ablated. */
    double[] ablatePositions(ForwardResult clean, Ablation ablation);

    @Override
    default void close() {}

    /**
     * {@return how many positions this backend sweeps best in one {@link #sweep(List, List)} call} Callers group prompts
     * up to it. A GPU sweeps a batch in one kernel launch; the CPU gains nothing from batching, so it takes one prompt
     * per call (which lets progress move with each prompt).
     */
    default int sweepBatchPositions() {
        return 1;
    }
}
