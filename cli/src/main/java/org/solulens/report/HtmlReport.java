package org.solulens.report;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.solulens.analysis.Figures;

/**
 * The interactive report: {@code report.html}, the studies' summaries with every figure as an Apache ECharts chart
 * (hover a point to see what it is; click it to open its neuron's page where there is one), beside the PNGs drawn from
 * the same {@link org.solulens.analysis.Figure}. It works offline from disk: the charting library, the script and the
 * style sheet are copied into {@code report-assets/}, the charts' data sit in the page as JSON, and a strict
 * Content-Security-Policy allows nothing else (no inline script or handler, no network).
 */
public final class HtmlReport {
    /** The folder beside {@code report.html} that holds the page's script, style and charting library. */
    public static final String ASSETS = "report-assets";
    /** Where the ECharts WebJar keeps its files (its version, from its Maven metadata, completes the path). */
    private static final String WEBJAR = "META-INF/resources/webjars/echarts/";
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'";

    private HtmlReport() {}

    /**
     * Writes {@code dir/report.html} and its assets. Each image line of {@code markdown} whose target is a recorded
     * figure's PNG becomes that figure's chart; recorded figures that the text does not show are added at the end.
     *
     * @param dir the output folder (the PNG paths are relative to it)
     * @param title the page's title
     * @param markdown the report's text (the studies' summaries, with image lines where the figures go)
     * @param figures the figures drawn while the studies ran
     * @return the page
     * @throws IOException if a file cannot be written
     */
    public static Path write(Path dir, String title, String markdown, List<Figures.Drawn> figures) throws IOException {
        Map<String, Figures.Drawn> byPath = new LinkedHashMap<>();
        for (Figures.Drawn d : figures) {
            byPath.put(relative(dir, d.file()), d);
        }
        List<String> shown = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        int[] next = {0};
        List<String[]> headings = new ArrayList<>();
        body.append(MarkdownHtml.render(markdown, 0, (target, alt) -> {
            Figures.Drawn d = byPath.get(target);
            if (d == null) {
                return "<p><img src=\"" + MarkdownHtml.escape(target) + "\" alt=\"" + MarkdownHtml.escape(alt) + "\"></p>\n";
            }
            shown.add(target);
            return chart(d, target, next[0]++);
        }, headings));
        // a page of several studies starts with links to them
        List<String[]> sections = headings.stream().filter(h -> h[0].equals("2")).toList();
        if (sections.size() >= 3) {
            StringBuilder toc = new StringBuilder("<nav class=\"toc\"><ul>\n");
            for (String[] h : sections) {
                toc.append("<li><a href=\"#").append(h[1]).append("\">").append(h[2]).append("</a></li>\n");
            }
            int afterTitle = body.indexOf("</h1>\n");
            body.insert(afterTitle < 0 ? 0 : afterTitle + 6, toc.append("</ul></nav>\n"));
        }
        boolean heading = false;
        for (Map.Entry<String, Figures.Drawn> e : byPath.entrySet()) {
            if (!shown.contains(e.getKey())) {
                if (!heading) {
                    body.append("<h2>More figures</h2>\n");
                    heading = true;
                }
                body.append(chart(e.getValue(), e.getKey(), next[0]++));
            }
        }
        String page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                + "<meta http-equiv=\"Content-Security-Policy\" content=\"" + CSP + "\">\n"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                + "<title>" + MarkdownHtml.escape(title) + "</title>\n"
                + "<link rel=\"stylesheet\" href=\"" + ASSETS + "/report.css\">\n</head>\n<body>\n<main>\n"
                + body
                + "</main>\n<script src=\"" + ASSETS + "/echarts.min.js\"></script>\n<script src=\"" + ASSETS + "/report.js\"></script>\n</body></html>\n";
        writeAssets(dir.resolve(ASSETS));
        Path file = dir.resolve("report.html");
        Files.writeString(file, page, StandardCharsets.UTF_8);
        return file;
    }

    /** One figure: a placeholder the script draws into, its data as JSON, and the PNG drawn from the same figure. */
    private static String chart(Figures.Drawn d, String png, int index) {
        String id = "chart-" + index;
        return "<figure class=\"chart\" data-spec=\"" + id + "\">\n<div class=\"plot\"></div>\n"
                + "<figcaption><span class=\"notes\"></span> <a class=\"png\" href=\"" + MarkdownHtml.escape(png) + "\">PNG</a></figcaption>\n"
                + "<script type=\"application/json\" id=\"" + id + "\">" + ChartSpec.json(d.figure(), png) + "</script>\n</figure>\n";
    }

    private static String relative(Path dir, Path file) {
        return dir.toAbsolutePath().normalize().relativize(file.toAbsolutePath().normalize()).toString().replace('\\', '/');
    }

    private static void writeAssets(Path assets) throws IOException {
        Files.createDirectories(assets);
        String version = echartsVersion();
        copy(WEBJAR + version + "/dist/echarts.min.js", assets.resolve("echarts.min.js"));
        copy(WEBJAR + version + "/LICENSE", assets.resolve("ECHARTS-LICENSE.txt"));
        copy("org/solulens/report/report.js", assets.resolve("report.js"));
        copy("org/solulens/report/report.css", assets.resolve("report.css"));
    }

    private static void copy(String resource, Path target) throws IOException {
        try (InputStream in = HtmlReport.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("the report's asset " + resource + " is missing from the class path (the CLI jar ships it; "
                        + "a build without org.webjars.npm:echarts cannot write report.html)");
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The ECharts version on the class path, from the WebJar's Maven metadata (the CLI jar keeps it). */
    private static String echartsVersion() throws IOException {
        try (InputStream in = HtmlReport.class.getClassLoader().getResourceAsStream("META-INF/maven/org.webjars.npm/echarts/pom.properties")) {
            if (in == null) {
                throw new IOException("the ECharts WebJar (org.webjars.npm:echarts) is not on the class path; the CLI jar ships it, "
                        + "and without it report.html cannot be written");
            }
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version");
        }
    }
}
