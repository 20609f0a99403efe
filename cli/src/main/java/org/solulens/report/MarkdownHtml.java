package org.solulens.report;

import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The small part of Markdown that the studies' summaries use (headings, paragraphs, bullet lists, pipe tables, inline
 * code, bold, links, and image lines) as HTML. All text is escaped before any markup is added, so a token string in a
 * summary stays text. An image line is handed to a callback, which draws the chart for it.
 */
final class MarkdownHtml {
    private static final Pattern IMAGE = Pattern.compile("!\\[([^\\]]*)\\]\\(([^)\\s]+)\\)");
    private static final Pattern CODE = Pattern.compile("`([^`]+)`");
    private static final Pattern BOLD = Pattern.compile("\\*\\*(.+?)\\*\\*");
    private static final Pattern ITALIC = Pattern.compile("(?<![*\\w])\\*(?![\\s*])([^*]+?)(?<!\\s)\\*(?![*\\w])");
    private static final Pattern LINK = Pattern.compile("\\[([^\\]]+)\\]\\(([^)\\s]+)\\)");
    /** Links the page may follow: relative paths, fragments and web addresses (never {@code javascript:} and the like). */
    private static final Pattern SAFE_HREF = Pattern.compile("(?i)(https?://|#|[^:]*$).*");

    private MarkdownHtml() {}

    /** Escapes text for HTML element content and attribute values. */
    static String escape(String text) {
        StringBuilder b = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * Renders Markdown as HTML.
     *
     * @param markdown the text
     * @param headingShift added to every heading's level (a section inside a page starts at h2)
     * @param image given an image line's target path and alt text, returns the HTML that stands for it
     * @param headings receives each heading as {level, id, HTML text}, for a table of contents
     * @return the HTML
     */
    static String render(String markdown, int headingShift, java.util.function.BiFunction<String, String, String> image, List<String[]> headings) {
        List<String> lines = markdown.lines().toList();
        StringBuilder html = new StringBuilder();
        int i = 0;
        while (i < lines.size()) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                i++;
            } else if (line.startsWith("#")) {
                int level = 0;
                while (level < line.length() && line.charAt(level) == '#') {
                    level++;
                }
                int h = Math.min(6, level + headingShift);
                String id = "s-" + (headings.size() + 1), text = inline(line.substring(level).strip());
                headings.add(new String[] {Integer.toString(h), id, text});
                html.append("<h").append(h).append(" id=\"").append(id).append("\">").append(text).append("</h").append(h).append(">\n");
                i++;
            } else if (IMAGE.matcher(line).matches()) {
                Matcher m = IMAGE.matcher(line);
                m.matches();
                html.append(image.apply(m.group(2), m.group(1)));
                i++;
            } else if (line.startsWith("|")) {
                html.append("<div class=\"table\"><table>\n");
                boolean header = i + 1 < lines.size() && lines.get(i + 1).strip().matches("\\|[\\s:|-]+\\|");
                for (; i < lines.size() && lines.get(i).strip().startsWith("|"); i++) {
                    String row = lines.get(i).strip();
                    if (row.matches("\\|[\\s:|-]+\\|")) {
                        continue;
                    }
                    String cell = header ? "th" : "td";
                    html.append("<tr>");
                    for (String c : cells(row)) {
                        html.append('<').append(cell).append('>').append(inline(c)).append("</").append(cell).append('>');
                    }
                    html.append("</tr>\n");
                    header = false;
                }
                html.append("</table></div>\n");
            } else if (line.startsWith("- ") || line.startsWith("* ")) {
                html.append("<ul>\n");
                for (; i < lines.size() && (lines.get(i).strip().startsWith("- ") || lines.get(i).strip().startsWith("* ")); i++) {
                    html.append("<li>").append(inline(lines.get(i).strip().substring(2))).append("</li>\n");
                }
                html.append("</ul>\n");
            } else {
                StringBuilder p = new StringBuilder();
                for (; i < lines.size() && !lines.get(i).isBlank() && !startsBlock(lines.get(i).strip()); i++) {
                    p.append(p.length() > 0 ? " " : "").append(lines.get(i).strip());
                }
                html.append("<p>").append(inline(p.toString())).append("</p>\n");
            }
        }
        return html.toString();
    }

    private static boolean startsBlock(String line) {
        return line.startsWith("#") || line.startsWith("|") || line.startsWith("- ") || line.startsWith("* ") || IMAGE.matcher(line).matches();
    }

    /** A pipe-table row's cells (an escaped pipe {@code \|} stays inside its cell). */
    private static List<String> cells(String row) {
        String inner = row.substring(1, row.endsWith("|") && row.length() > 1 ? row.length() - 1 : row.length());
        return java.util.Arrays.stream(inner.split("(?<!\\\\)\\|", -1)).map(c -> c.strip().replace("\\|", "|")).toList();
    }

    /** Inline markup on escaped text: code spans (kept verbatim), bold, links with safe targets. */
    static String inline(String text) {
        String escaped = escape(text);
        StringBuilder out = new StringBuilder();
        Matcher code = CODE.matcher(escaped);
        int last = 0;
        while (code.find()) {
            out.append(boldAndLinks(escaped.substring(last, code.start()))).append("<code>").append(code.group(1)).append("</code>");
            last = code.end();
        }
        return out.append(boldAndLinks(escaped.substring(last))).toString();
    }

    private static String boldAndLinks(String escaped) {
        String bold = ITALIC.matcher(BOLD.matcher(escaped).replaceAll("<strong>$1</strong>")).replaceAll("<em>$1</em>");
        return replace(LINK, bold, m -> SAFE_HREF.matcher(m.group(2)).matches()
                ? "<a href=\"" + m.group(2) + "\">" + m.group(1) + "</a>" : m.group(0));
    }

    private static String replace(Pattern p, String text, Function<Matcher, String> with) {
        Matcher m = p.matcher(text);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(b, Matcher.quoteReplacement(with.apply(m)));
        }
        m.appendTail(b);
        return b.toString();
    }
}
