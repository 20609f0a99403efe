package org.solulens.analysis;

import java.util.ArrayList;
import java.util.List;
import org.solulens.model.SoluModel;

/**
 * Points of a figure that are places in the prompts, each with what a reader needs to find it again: the prompt, the
 * position, the token there, the next token and, for a (position, neuron) pair, the neuron. Collected point by point,
 * then added to a {@link Figure.Series} with those descriptions.
 */
final class PointIdentities {
    private final SoluModel model;
    private final List<Prompt> prompts;
    private final boolean withNeuron;
    private final List<double[]> xy = new ArrayList<>();
    private final List<int[]> where = new ArrayList<>();   // {prompt, position, neuron}

    /**
     * @param model decodes the tokens
     * @param prompts the prompts the points index into
     * @param withNeuron whether each point is a (position, neuron) pair rather than a position
     */
    PointIdentities(SoluModel model, List<Prompt> prompts, boolean withNeuron) {
        this.model = model;
        this.prompts = prompts;
        this.withNeuron = withNeuron;
    }

    /** Adds the point (x, y) at {@code position} of prompt {@code prompt}, for {@code neuron} (ignored without neurons). */
    void add(double x, double y, int prompt, int position, int neuron) {
        xy.add(new double[] {x, y});
        where.add(new int[] {prompt, position, neuron});
    }

    /** @return how many points */
    int size() {
        return xy.size();
    }

    /** @return the points as {x, y}, in the order added */
    List<double[]> points() {
        return java.util.Collections.unmodifiableList(xy);
    }

    /**
     * Adds the points as a series with their descriptions: all of them, or for {@code step > 1} those {@link Thinning}
     * keeps (one in k and the largest |x| and |y|), in order.
     *
     * @param series where to add them
     * @param name the series' name
     * @param step 1 for all; k ({@link Thinning#step}) for a thinned cloud
     * @return the series
     */
    Figure.Series addTo(Figure.Series series, String name, int step) {
        int[] kept = Thinning.kept(xy.stream().mapToDouble(p -> p[0]).toArray(), xy.stream().mapToDouble(p -> p[1]).toArray(), step);
        int n = kept.length;
        double[] x = new double[n], y = new double[n];
        int[] position = new int[n], neuron = new int[n];
        String[] prompt = new String[n], token = new String[n], next = new String[n];
        String[] promptLabels = new String[prompts.size()];   // one string per prompt, shared by its points
        for (int j = 0; j < n; j++) {
            int i = kept[j];
            int[] w = where.get(i);
            int[] tokens = prompts.get(w[0]).tokens();
            x[j] = xy.get(i)[0];
            y[j] = xy.get(i)[1];
            if (promptLabels[w[0]] == null) {
                promptLabels[w[0]] = label(w[0], prompts.get(w[0]));
            }
            prompt[j] = promptLabels[w[0]];
            position[j] = w[1];
            token[j] = model.tokenText(tokens[w[1]]);
            next[j] = w[1] + 1 < tokens.length ? model.tokenText(tokens[w[1] + 1]) : "";
            neuron[j] = w[2];
        }
        series.add(name, x, y).describe(name, "prompt", prompt).describe(name, "position", position)
                .describe(name, "token", token).describe(name, "next token", next);
        if (withNeuron) {
            series.describe(name, "neuron", neuron);
        }
        return series;
    }

    /** A prompt as a hover names it: its index and its text (shortened), or its length where it was given as token ids. */
    static String label(int index, Prompt prompt) {
        return prompt.text() == null ? index + ": " + prompt.tokens().length + " tokens given as ids" : index + ": " + shortened(prompt.text());
    }

    private static String shortened(String text) {
        String oneLine = text.replaceAll("\\s+", " ").strip();
        return oneLine.length() <= 80 ? oneLine : oneLine.substring(0, 77) + "...";
    }
}
