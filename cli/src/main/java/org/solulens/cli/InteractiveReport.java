package org.solulens.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import org.solulens.analysis.Figures;
import org.solulens.report.HtmlReport;

/** What every experiment command does for its {@code report.html}: its summary with image lines where the figures go. */
final class InteractiveReport {
    private InteractiveReport() {}

    /**
     * A study's summary followed by its figures as image lines (the report draws each as its chart).
     *
     * @param summary the study's Markdown summary
     * @param dir the folder of its figures relative to the report ("" for the same folder)
     * @param figures the figures' file names
     * @return the Markdown
     */
    static String section(String summary, String dir, List<String> figures) {
        StringBuilder md = new StringBuilder(summary.strip()).append("\n\n");
        for (String f : figures) {
            md.append("![").append(f).append("](").append(dir.isEmpty() ? "" : dir + "/").append(f).append(")\n\n");
        }
        return md.toString();
    }

    /** Writes {@code staging/report.html} from the Markdown and the figures recorded while the study ran. */
    static void write(Path staging, String title, String markdown, Figures.Recording figures) throws IOException {
        HtmlReport.write(staging, title, markdown, figures.drawn());
    }

    /** Tells the user where the report is, once the output folder is in place. */
    static void announce(PrintWriter out, Path folder) {
        out.println("interactive report: " + folder.resolve("report.html").toAbsolutePath() + " (open it in a browser; it works offline)");
    }
}
