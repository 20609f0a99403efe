package org.solulens.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.solulens.analysis.Figure;

/** The charts' data: every point's identity travels with it, thinning keeps the outliers, and no text can end its script element. */
class ChartSpecTest {
    @Test
    void aLargeCloudIsThinnedEvenlyKeepingItsExtremesAndEveryPointKeepsItsIdentity() throws Exception {
        Random random = new Random(5);
        int n = 40_000;
        double[] x = new double[n], y = new double[n];
        String[] id = new String[n], link = new String[n];
        for (int i = 0; i < n; i++) {
            x[i] = random.nextGaussian();
            y[i] = random.nextGaussian();
            id[i] = Integer.toString(i);
            link[i] = "neurons/neuron-" + i + ".html";
        }
        int outlier = 1 + 2 * random.nextInt(n / 2 - 1);   // odd: not on the even grid a step of 2 keeps
        y[outlier] = 1e3;
        Figure.Series series = new Figure.Series().add("cloud", x, y).describe("cloud", "id", id).link("cloud", link)
                .interval("cloud", y.clone(), y.clone());
        JsonNode spec = new ObjectMapper().readTree(ChartSpec.json(new Figure(Figure.Kind.SCATTER, "t", "x", "y", series, null), "cloud.png"));
        JsonNode s = spec.path("series").get(0);
        int shown = s.path("x").size();
        assertTrue(shown < ChartSpec.MAX_POINTS + 2 * org.solulens.analysis.Thinning.EXTREMES && shown >= n / 2, "kept " + shown);
        assertTrue(spec.path("notes").get(0).asText().startsWith("Showing one point in 2 of each series"), spec.path("notes").toString());
        boolean sawOutlier = false;
        int previous = -1;
        for (int j = 0; j < shown; j++) {
            int i = Integer.parseInt(s.path("values").get(0).get(j).asText());
            assertTrue(i > previous, "points stay in order");
            previous = i;
            assertEquals((float) x[i], s.path("x").get(j).floatValue());
            assertEquals((float) y[i], s.path("y").get(j).floatValue());
            assertEquals((float) y[i], s.path("lo").get(j).floatValue());
            assertEquals(link[i], s.path("links").get(j).asText());
            sawOutlier |= i == outlier;
        }
        assertTrue(sawOutlier, "the largest |y| is drawn");
    }

    @Test
    void textCannotCloseTheScriptElementAndNonFiniteValuesAreGaps() throws Exception {
        String hostile = "</script><img src=x onerror=alert(1)> & \u2028";
        Figure.Series series = new Figure.Series().add(hostile, new double[] {1, 2, Double.NaN}, new double[] {Double.POSITIVE_INFINITY, 1e300, 3})
                .describe(hostile, hostile, new String[] {hostile, "a", "b"});
        String json = ChartSpec.json(new Figure(Figure.Kind.SCATTER, hostile, hostile, "y", series, null).withNote(hostile), "f.png");
        assertFalse(json.contains("<") || json.contains(">") || json.contains("&"), json);
        JsonNode spec = new ObjectMapper().readTree(json);
        assertEquals(hostile, spec.path("title").asText());
        assertEquals(hostile, spec.path("series").get(0).path("name").asText());
        assertEquals(hostile, spec.path("series").get(0).path("columns").get(0).asText());
        assertEquals(hostile, spec.path("series").get(0).path("values").get(0).get(0).asText());
        assertEquals(hostile, spec.path("notes").get(0).asText());
        assertTrue(spec.path("series").get(0).path("y").get(0).isNull(), "infinity is a gap");
        assertTrue(spec.path("series").get(0).path("y").get(1).isNull(), "beyond float's range is a gap, not Infinity");
        assertTrue(spec.path("series").get(0).path("x").get(2).isNull(), "NaN is a gap");
    }
}
