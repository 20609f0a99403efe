package org.solulens.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The summaries' Markdown as HTML: text escaped first, then the few constructs the studies use. */
class MarkdownHtmlTest {
    @Test
    void inlineMarkupOnEscapedTextWithSafeLinksOnly() {
        assertEquals("<strong>a</strong> <em>b</em> <code>&lt;c&gt; **d**</code> <a href=\"x.html#n\">l</a> [bad](javascript:alert(1)) 2 * 3 * 4",
                MarkdownHtml.inline("**a** *b* `<c> **d**` [l](x.html#n) [bad](javascript:alert(1)) 2 * 3 * 4"));
        assertEquals("&quot;&gt;&lt;img onerror=&#39;x&#39;&gt; &amp;amp;", MarkdownHtml.inline("\"><img onerror='x'> &amp;"));
    }

    @Test
    void blocksBecomeHeadingsTablesListsParagraphsAndCharts() {
        List<String[]> headings = new ArrayList<>();
        String html = MarkdownHtml.render("# Title <x>\n\nline one\nline two\n\n| a | b |\n| --- | --- |\n| 1 \\| 2 | <3> |\n\n- item\n- *two*\n\n"
                + "![alt](dir/f.png)\n", 1, (target, alt) -> "[chart " + target + " " + alt + "]\n", headings);
        assertEquals("<h2 id=\"s-1\">Title &lt;x&gt;</h2>\n<p>line one line two</p>\n"
                + "<div class=\"table\"><table>\n<tr><th>a</th><th>b</th></tr>\n<tr><td>1 | 2</td><td>&lt;3&gt;</td></tr>\n</table></div>\n"
                + "<ul>\n<li>item</li>\n<li><em>two</em></li>\n</ul>\n[chart dir/f.png alt]\n", html);
        assertEquals(1, headings.size());
        assertEquals("2", headings.get(0)[0]);
    }
}
