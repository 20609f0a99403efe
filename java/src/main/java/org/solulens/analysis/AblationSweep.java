package org.solulens.analysis;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;
import org.solulens.model.ModelConfig;

/**
 * An ablation sweep over one or many prompts: for every selected (position, neuron), the change of that
 * position's next-token loss when the neuron is ablated at that position only. Works on any backend.
 */
public final class AblationSweep {
    /**
     * What to sweep. Start from {@link #at(Ablation.Site)} (zero-ablation, exact method, every neuron, no cosines) and
     * change what differs: {@code Settings.at(Site.MID).withMethod(SweepMethod.REFORWARD)}.
     *
     * @param values per-neuron replacement values for {@code VALUE} ablation (else null)
     * @param meanPrompts prompts whose activations define mean-ablation values; null: the swept prompts themselves
     * @param cosine also compute the cosine similarity of each ablated position's logits with the clean ones
     */
    public record Settings(Ablation.Site site, Ablation.Kind kind, double[] values, List<int[]> meanPrompts,
                           SweepMethod method, NeuronSelection selection, boolean cosine) {
        /** Zero-ablation of every neuron at {@code site}, by the exact method, without cosines. */
        public static Settings at(Ablation.Site site) {
            return new Settings(site, Ablation.Kind.ZERO, null, null, SweepMethod.EXACT, NeuronSelection.all(), false);
        }

        /** Zero, mean (over the swept prompts) or paper ablation; for replacement values use {@link #withValues}. */
        public Settings withKind(Ablation.Kind k) {
            return new Settings(site, k, values, meanPrompts, method, selection, cosine);
        }

        /** Value-ablation: neuron n's activation replaced by {@code perNeuron[n]}. */
        public Settings withValues(double[] perNeuron) {
            return new Settings(site, Ablation.Kind.VALUE, perNeuron.clone(), meanPrompts, method, selection, cosine);
        }

        /** Mean-ablation with means over these prompts' positions instead of the swept ones. */
        public Settings withMeansOver(List<int[]> prompts) {
            return new Settings(site, Ablation.Kind.MEAN, values, List.copyOf(prompts), method, selection, cosine);
        }

        /** {@return these settings with sweep method {@code m} (exact, reforward or attribution)} */
        public Settings withMethod(SweepMethod m) {
            return new Settings(site, kind, values, meanPrompts, m, selection, cosine);
        }

        /** Which (position, neuron) pairs to ablate: all, some neurons, or per-position selections. */
        public Settings withSelection(NeuronSelection s) {
            return new Settings(site, kind, values, meanPrompts, method, s, cosine);
        }

        /** {@return these settings, also computing each ablation's logit cosine similarity with the clean logits when {@code on}} */
        public Settings withCosine(boolean on) {
            return new Settings(site, kind, values, meanPrompts, method, selection, on);
        }
    }

    /**
     * Told as prompts are swept, in positions (a prompt of P tokens has P - 1): how many are done of how many, e.g. to
     * draw a progress bar whose pace is the work's. On the CPU it is told after each chunk of positions of the exact
     * sweep (each prompt for the other methods); on a GPU after each batch (one kernel launch for up to
     * {@link Backend#sweepBatchPositions()} positions).
     */
    @FunctionalInterface
    public interface ProgressListener {
        /** A listener that ignores every update. */
        ProgressListener NONE = (done, total) -> { };

        /** Called after each sweep call: {@code positionsDone} of {@code positionsTotal} are swept. */
        void update(long positionsDone, long positionsTotal);
    }

    /**
     * One prompt's outcome. {@code exact} is the exact sweep alongside an attribution run (so the estimate can be
     * judged), else null.
     */
    public record PromptResult(Prompt prompt, ForwardResult clean, SweepResult result, SweepResult exact) {}

    /** A whole sweep: the ablation applied, the settings, and one result per prompt in the order given. */
    public record Run(Ablation ablation, Settings settings, List<PromptResult> results) {}


    private AblationSweep() {}

    /** The end (exclusive) of the batch that starts at prompt {@code first}: at least one prompt. */
    private static int batchEnd(List<Prompt> prompts, int first, int batchPositions) {
        int end = first, positions = 0;
        while (end < prompts.size() && (end == first || positions + prompts.get(end).tokens().length - 1 <= batchPositions)) {
            positions += prompts.get(end).tokens().length - 1;
            end++;
        }
        return end;
    }

    /** Sweeps the prompts without reporting progress. */
    public static Run run(Backend backend, List<Prompt> prompts, Settings s) {
        return run(backend, prompts, s, ProgressListener.NONE);
    }

    /** Sweeps the prompts (in batches: one kernel launch each on a GPU), telling {@code listener} after each prompt. */
    public static Run run(Backend backend, List<Prompt> prompts, Settings s, ProgressListener listener) {
        ModelConfig cfg = backend.model().config();
        double[] values = switch (s.kind()) {
            case MEAN -> neuronMeans(backend, s.meanPrompts() != null ? s.meanPrompts() : prompts.stream().map(Prompt::tokens).toList(), s.site());
            case VALUE -> {
                if (s.values() == null || s.values().length != cfg.dMlp()) {
                    throw new IllegalArgumentException("value-ablation needs " + cfg.dMlp() + " values (one per neuron), got "
                            + (s.values() == null ? 0 : s.values().length));
                }
                yield s.values();
            }
            default -> null;
        };
        Ablation ablation = new Ablation(s.site(), s.kind(), values);
        Set<String> hooks = new LinkedHashSet<>(new SweepRequest(ablation, s.method(), null, false).requiredHooks(cfg));
        hooks.addAll(List.of(s.selection().hooks()));
        hooks.add(s.site().hook());
        for (Prompt prompt : prompts) {
            if (prompt.tokens().length < 2) {
                throw new IllegalArgumentException("a sweep needs prompts of at least 2 tokens (position p predicts token p+1); got "
                        + prompt.tokens().length);
            }
        }
        backend.prepareSweep(new SweepRequest(ablation, s.method(), null, false));
        List<PromptResult> out = new ArrayList<>();
        long positionsTotal = prompts.stream().mapToLong(q -> q.tokens().length - 1).sum(), positionsDone = 0;
        int batchPositions = backend.sweepBatchPositions();
        {
            for (int first = 0; first < prompts.size(); ) {
                int last = batchEnd(prompts, first, batchPositions);
                List<Prompt> batch = prompts.subList(first, last);
                List<ForwardResult> cleans = backend.run(batch.stream().map(Prompt::tokens).toList(), hooks);
                List<SweepRequest> requests = new ArrayList<>();
                for (ForwardResult clean : cleans) {
                    requests.add(new SweepRequest(ablation, s.method(), s.selection().mask(clean, cfg.dMlp()), s.cosine()));
                }
                List<SweepResult> results;
                if (batch.size() == 1) {   // one prompt a call (the CPU): the bar moves with each chunk of positions
                    long[] done = {positionsDone};
                    results = List.of(backend.sweep(cleans.get(0), requests.get(0), n -> listener.update(done[0] += n, positionsTotal)));
                } else {
                    results = backend.sweep(cleans, requests);
                }
                List<SweepResult> exact = s.method() != SweepMethod.ATTRIBUTION ? null
                        : backend.sweep(cleans, requests.stream().map(r -> new SweepRequest(ablation, SweepMethod.EXACT, r.selected(), false)).toList());
                for (int i = 0; i < batch.size(); i++) {
                    out.add(new PromptResult(batch.get(i), cleans.get(i), results.get(i), exact == null ? null : exact.get(i)));
                    positionsDone += batch.get(i).tokens().length - 1;
                }
                listener.update(positionsDone, positionsTotal);
                first = last;
            }
        }
        return new Run(ablation, s, out);
    }

    /** A console progress bar (stderr) as a listener, for the command line; close it when the sweep is done. */
    public static final class ConsoleProgress implements ProgressListener, AutoCloseable {
        private final Progress bar;

        /**
         * A bar labelled with the sweep's kind and method, counting the positions of {@code prompts}; silent when
         * {@code quiet}.
         */
        public ConsoleProgress(Settings s, List<Prompt> prompts, boolean quiet) {
            bar = Progress.start(s.kind().name().toLowerCase(java.util.Locale.ROOT) + " " + s.method().label() + " sweep (positions)",
                    prompts.stream().mapToLong(q -> q.tokens().length - 1).sum(), quiet);
        }

        @Override
        public void update(long done, long total) {
            bar.advance(done - bar.done(), "");
        }

        @Override
        public void close() {
            bar.close();
        }
    }

    /** Per-neuron mean of the site's activation over every position of every prompt. */
    public static double[] neuronMeans(Backend backend, List<int[]> prompts, Ablation.Site site) {
        int n = backend.model().config().dMlp();
        double[] sum = new double[n];
        long rows = 0;
        for (int[] tokens : prompts) {
            double[] act = backend.run(tokens, List.of(site.hook())).get(site.hook()).data();
            for (int i = 0; i < act.length; i++) {
                sum[i % n] += act[i];
            }
            rows += act.length / n;
        }
        for (int i = 0; i < n; i++) {
            sum[i] /= rows;
        }
        return sum;
    }
}
