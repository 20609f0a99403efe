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
     * @param values per-neuron replacement values for {@code VALUE} ablation (else null)
     * @param meanPrompts prompts whose activations define mean-ablation values; null: the swept prompts themselves
     */
    public record Settings(Ablation.Site site, Ablation.Kind kind, double[] values, List<int[]> meanPrompts,
                           SweepMethod method, NeuronSelection selection, boolean cosine) {}

    /**
     * One prompt's outcome. {@code exact} is the exact sweep alongside an attribution run (so the estimate can be
     * judged), else null.
     */
    public record PromptResult(Prompt prompt, ForwardResult clean, SweepResult result, SweepResult exact) {}

    public record Run(Ablation ablation, Settings settings, List<PromptResult> results) {}

    /**
     * Prompts are swept in batches of about this many predicting positions: a GPU backend runs a batch in one kernel
     * launch, and the progress bar moves once a batch.
     */
    static final int BATCH_POSITIONS = 1024;

    private AblationSweep() {}

    /** The end (exclusive) of the batch that starts at prompt {@code first}: at least one prompt. */
    private static int batchEnd(List<Prompt> prompts, int first) {
        int end = first, positions = 0;
        while (end < prompts.size() && (end == first || positions + prompts.get(end).tokens().length - 1 <= BATCH_POSITIONS)) {
            positions += prompts.get(end).tokens().length - 1;
            end++;
        }
        return end;
    }

    public static Run run(Backend backend, List<Prompt> prompts, Settings s, boolean quiet) {
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
        List<PromptResult> out = new ArrayList<>();
        try (Progress progress = Progress.start(ablation.label() + " " + s.method().label() + " sweep", prompts.size(), quiet)) {
            for (int first = 0; first < prompts.size(); ) {
                int last = batchEnd(prompts, first);
                List<Prompt> batch = prompts.subList(first, last);
                List<ForwardResult> cleans = backend.run(batch.stream().map(Prompt::tokens).toList(), hooks);
                List<SweepRequest> requests = new ArrayList<>();
                for (ForwardResult clean : cleans) {
                    requests.add(new SweepRequest(ablation, s.method(), s.selection().mask(clean, cfg.dMlp()), s.cosine()));
                }
                List<SweepResult> results = backend.sweep(cleans, requests);
                List<SweepResult> exact = s.method() != SweepMethod.ATTRIBUTION ? null
                        : backend.sweep(cleans, requests.stream().map(r -> new SweepRequest(ablation, SweepMethod.EXACT, r.selected(), false)).toList());
                for (int i = 0; i < batch.size(); i++) {
                    out.add(new PromptResult(batch.get(i), cleans.get(i), results.get(i), exact == null ? null : exact.get(i)));
                    progress.step();
                }
                first = last;
            }
        }
        return new Run(ablation, s, out);
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
