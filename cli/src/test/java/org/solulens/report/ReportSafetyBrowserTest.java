package org.solulens.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.solulens.analysis.Figure;
import org.solulens.analysis.Figures;
import org.solulens.cli.Main;

/**
 * Text from a model or corpus stays text in the report (a token may be anything), and a click on a sweep's neuron opens
 * that neuron's page.
 */
class ReportSafetyBrowserTest {
    static final String SCRIPT = "<script>window.__pwned = 1;</script>";
    static final String IMAGE = "\"><img src=x onerror=\"window.__pwned = 2\">";

    @TempDir
    static Path tmp;
    static Browser browser;

    @BeforeAll
    static void startBrowser() {
        browser = Browser.start();
    }

    @AfterAll
    static void closeBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    @Test
    void hostileTokenStringsAreShownAsText() throws Exception {
        Path dir = tmp.resolve("hostile");
        java.nio.file.Files.createDirectories(dir);
        Random random = new Random(11);
        double[] x = {random.nextDouble(), 1 + random.nextDouble(), 2 + random.nextDouble()};
        double[] y = {random.nextGaussian(), 3 + random.nextGaussian(), -3 + random.nextGaussian()};
        Figure.Series series = new Figure.Series().add("tokens " + SCRIPT, x, y)
                .describe("tokens " + SCRIPT, "token", new String[] {SCRIPT, IMAGE, "plain & </script> \u2028 'quoted'"})
                .describe("tokens " + SCRIPT, "neuron", new int[] {7, 8, 9});
        Figure figure = new Figure(Figure.Kind.SCATTER, "a title with " + IMAGE, "x " + SCRIPT, "y", series, null).withNote("note " + IMAGE);
        String markdown = "# Tokens " + SCRIPT + "\n\n| token | value |\n| --- | --- |\n| " + IMAGE.replace("|", "\\|") + " | 1 |\n\n"
                + "A paragraph with `" + SCRIPT + "` and a [link](javascript:alert(1)).\n\n![fig](hostile.png)\n";
        HtmlReport.write(dir, "title " + SCRIPT, markdown, List.of(new Figures.Drawn(dir.resolve("hostile.png"), figure)));
        browser.open(dir.resolve("report.html"));

        assertNull(browser.script("return window.__pwned;"), "a token string ran as script");
        assertEquals(0L, browser.script("return document.images.length;"), "a token string became an image element");
        assertEquals(0L, browser.script("return document.querySelectorAll('a[href^=javascript]').length;"), "a javascript: link was kept");
        assertEquals("Tokens " + SCRIPT, browser.script("return document.querySelector('h1').textContent;"));
        assertEquals(IMAGE, browser.script("return document.querySelector('td').textContent;"));
        assertEquals("note " + IMAGE, browser.script("return document.querySelector('figure .notes').textContent;"));

        WebElement plot = browser.driver.findElement(By.cssSelector("figure.chart .plot"));
        for (int i = 0; i < 3; i++) {
            String tip = browser.hover(plot, 0, x[i], y[i]);
            String[] expected = {SCRIPT, IMAGE, "plain & </script> \u2028 'quoted'"};
            assertTrue(tip.contains("token=" + expected[i]), "point " + i + " shows its token as text: " + tip);
            assertTrue(tip.contains("neuron=" + (7 + i)), "point " + i + "'s neuron: " + tip);
        }
        assertNull(browser.script("return window.__pwned;"), "a token string ran as script on hover");
        assertEquals(0L, browser.script("return document.images.length;"), "a hover made an image element");
        assertEquals(List.of(), browser.consoleErrors(), "nothing was blocked, because nothing was injected");
    }

    @Test
    void clickingANeuronOfTheSweepOpensItsPage() {
        Path out = tmp.resolve("sweep");
        int code = Main.execute(new java.io.PrintWriter(java.io.Writer.nullWriter()), new java.io.PrintWriter(System.err, true), "sweep",
                "--prompt", "And God said, Let there be light: and there was light. And God saw the light", "--out", out.toString(), "--quiet");
        assertEquals(0, code, "sweep failed");
        browser.open(out.resolve("report.html"));
        assertEquals(List.of(), browser.consoleErrors());
        WebElement figure = browser.figure("sweep_neurons.png");
        @SuppressWarnings("unchecked")
        List<Object> top = (List<Object>) browser.script("var spec = JSON.parse(document.getElementById(arguments[0].getAttribute('data-spec')).textContent);"
                + "var s = spec.series[0], best = 0; for (var i = 1; i < s.y.length; i++) { if (s.y[i] > s.y[best]) { best = i; } }"
                + "return [s.x[best], s.y[best], s.values[0][best], s.links[best]];", figure);
        String neuron = (String) top.get(2);
        assertEquals("neurons/neuron-" + neuron + ".html", top.get(3), "the most affecting neuron has a page");
        WebElement plot = figure.findElement(By.cssSelector(".plot"));
        String tip = browser.hover(plot, 0, ((Number) top.get(0)).doubleValue(), ((Number) top.get(1)).doubleValue());
        assertTrue(tip.contains("neuron=" + neuron), tip);
        new Actions(browser.driver).click().perform();
        for (int i = 0; i < 50 && !browser.driver.getCurrentUrl().contains("/neurons/"); i++) {
            Browser.sleep(100);
        }
        assertTrue(browser.driver.getCurrentUrl().endsWith("/neurons/neuron-" + neuron + ".html"), browser.driver.getCurrentUrl());
        assertEquals("Neuron " + neuron, browser.driver.findElement(By.tagName("h1")).getText());
        assertTrue(browser.driver.findElements(By.cssSelector("table tr")).size() > 1, "the page lists the neuron's largest effects");
        assertEquals(List.of(), browser.consoleErrors());
    }
}
