package org.solulens.corpus;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.solulens.model.SoluModel;

/**
 * The static neuron browser: {@code index.html}, a table of every neuron that sorts by any column (a few lines of
 * inline script), and {@code pages/neuron-N.html} per neuron with its top, bottom and most-active contexts, each token
 * coloured by the neuron's Δloss at that position (red: ablating hurts; blue: it helps), as Neuroscope colours
 * activations. Plain files: no server, no network.
 */
final class NeuronBrowser {
    private NeuronBrowser() {}

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    static void write(Path dir, SoluModel model, CorpusStats s, Integer[] order) throws IOException {
        StringBuilder t = new StringBuilder();
        t.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>SoluLens corpus sweep: neurons</title>\n<style>")
                .append("body{font-family:sans-serif}table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}")
                .append("th{cursor:pointer;background:#f0f0f0}</style></head><body>\n<h1>Neurons</h1>\n<p>")
                .append(escape(model.description())).append(String.format(Locale.ROOT, ": %,d positions. Click a column to sort.</p>\n", s.positions()))
                .append("<table id=\"neurons\"><thead><tr>");
        String[] head = {"neuron", "mean |Δloss|", "mean Δloss", "max Δloss", "min Δloss", "fraction > " + s.threshold(), "mean activation",
                "corr(activation, Δloss)"};
        for (int c = 0; c < head.length; c++) {
            t.append("<th onclick=\"sortBy(").append(c).append(")\">").append(escape(head[c])).append("</th>");
        }
        t.append("</tr></thead><tbody>\n");
        for (int n : order) {
            t.append(String.format(Locale.ROOT,
                    "<tr><td><a href=\"pages/neuron-%d.html\">%d</a></td><td>%.6g</td><td>%.6g</td><td>%.6g</td><td>%.6g</td><td>%.6g</td><td>%.6g</td><td>%.4f</td></tr>%n",
                    n, n, s.meanAbs(n), s.mean(n), s.max(n), s.min(n), s.fractionAbove(n), s.activationMean(n), s.correlation(n)));
        }
        t.append("</tbody></table>\n<script>\nvar ascending = {};\nfunction sortBy(c) {\n")
                .append("  var body = document.getElementById('neurons').tBodies[0];\n")
                .append("  var rows = Array.prototype.slice.call(body.rows);\n")
                .append("  var up = ascending[c] = !ascending[c];\n")
                .append("  rows.sort(function (a, b) {\n")
                .append("    var x = parseFloat(a.cells[c].textContent), y = parseFloat(b.cells[c].textContent);\n")
                .append("    if (isNaN(x)) x = -Infinity; if (isNaN(y)) y = -Infinity;\n")
                .append("    return up ? x - y : y - x;\n  });\n")
                .append("  for (var i = 0; i < rows.length; i++) body.appendChild(rows[i]);\n}\n</script>\n</body></html>\n");
        Files.writeString(dir.resolve("index.html"), t.toString(), StandardCharsets.UTF_8);

        Path pages = Files.createDirectories(dir.resolve("pages"));
        for (int n = 0; n < s.neurons(); n++) {
            StringBuilder p = new StringBuilder();
            p.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Neuron ").append(n).append("</title>\n<style>")
                    .append("body{font-family:sans-serif}.ctx span{padding:1px 2px;margin:0 1px;border-radius:2px}")
                    .append(".ctx .target{outline:1px solid #333}li{margin:4px 0}</style></head><body>\n")
                    .append("<p><a href=\"../index.html\">all neurons</a></p>\n")
                    .append(String.format(Locale.ROOT, "<h1>Neuron %d</h1>\n<p>mean |Δloss| %.6g, mean Δloss %.6g, max %.6g, min %.6g;"
                            + " mean activation %.6g, max %.6g; corr(activation, Δloss) %.4f.</p>\n", n, s.meanAbs(n), s.mean(n), s.max(n), s.min(n),
                            s.activationMean(n), s.activationMax(n), s.correlation(n)))
                    .append("<p>Each token is coloured by this neuron's Δloss at its position (the change of the loss of predicting the next"
                            + " token when the neuron is ablated there): red, ablating hurts; blue, it helps. The outlined token is the one predicted"
                            + " at the example's position.</p>\n");
            section(p, model, "Largest Δloss (ablating it hurts most)", s.top(n));
            section(p, model, "Smallest Δloss (ablating it helps most)", s.bottom(n));
            section(p, model, "Most active", s.mostActive(n));
            p.append("</body></html>\n");
            Files.writeString(pages.resolve("neuron-" + n + ".html"), p.toString(), StandardCharsets.UTF_8);
        }
    }

    private static void section(StringBuilder p, SoluModel model, String title, List<Example> examples) {
        double scale = 1e-12;
        for (Example e : examples) {
            for (double d : e.contextDeltas()) {
                if (Double.isFinite(d)) {
                    scale = Math.max(scale, Math.abs(d));
                }
            }
        }
        p.append("<h2>").append(escape(title)).append("</h2>\n<ol>\n");
        for (Example e : examples) {
            p.append(String.format(Locale.ROOT, "<li>Δloss %.5g, activation %.5g (document %d, position %d): <span class=\"ctx\">", e.delta(),
                    e.activation(), e.document(), e.position()));
            for (int i = 0; i < e.context().length; i++) {
                double d = e.contextDeltas()[i];
                double a = Double.isFinite(d) ? Math.min(1, Math.abs(d) / scale) : 0;
                String colour = d >= 0 ? String.format(Locale.ROOT, "rgba(220,40,40,%.2f)", a) : String.format(Locale.ROOT, "rgba(40,80,220,%.2f)", a);
                boolean target = e.contextStart() + i == e.windowPosition() + 1;
                p.append("<span").append(target ? " class=\"target\"" : "").append(" style=\"background:").append(colour).append("\" title=\"")
                        .append(Double.isFinite(d) ? String.format(Locale.ROOT, "Δloss %.5g", d) : "predicted token").append("\">")
                        .append(escape(model.tokenText(e.context()[i]))).append("</span>");
            }
            p.append("</span></li>\n");
        }
        p.append("</ol>\n");
    }
}
