package org.solulens.report;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Headless Chromium for the report's tests, through the system's chromedriver (Debian's {@code chromium} and
 * {@code chromium-driver}, which {@code .ci/run} installs): nothing is downloaded at run time. Where they are missing,
 * the tests fail with the reason under CI and are skipped, saying why, elsewhere.
 */
final class Browser implements AutoCloseable {
    private static final List<String> DRIVERS = List.of("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");
    private static final List<String> BROWSERS = List.of("/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser");

    final ChromeDriver driver;

    private Browser(ChromeDriver driver) {
        this.driver = driver;
    }

    /** Starts the browser, or fails (CI) / skips (elsewhere) with the reason it cannot. */
    static Browser start() {
        String driverPath = find("SOLULENS_CHROMEDRIVER", DRIVERS), browserPath = find("SOLULENS_CHROMIUM", BROWSERS);
        if (driverPath == null || browserPath == null) {
            unavailable("no " + (driverPath == null ? "chromedriver (looked in " + DRIVERS + ", $SOLULENS_CHROMEDRIVER)"
                    : "chromium (looked in " + BROWSERS + ", $SOLULENS_CHROMIUM)") + "; install Debian's chromium and chromium-driver", null);
        }
        // no Selenium Manager: the driver and the browser are named, and it must not reach the network
        System.setProperty("webdriver.chrome.driver", driverPath);
        ChromeOptions options = new ChromeOptions();
        options.setBinary(browserPath);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-features=MediaRouter,OptimizationHints,Translate");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        logs.enable(LogType.PERFORMANCE, Level.ALL);   // DevTools' network events: every request the page makes
        options.setCapability("goog:loggingPrefs", logs);
        try {
            ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(driverPath)).usingAnyFreePort()
                    .withTimeout(Duration.ofSeconds(60)).build();
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60)).scriptTimeout(Duration.ofSeconds(30));
            return new Browser(driver);
        } catch (RuntimeException e) {
            unavailable("chromium did not start through " + driverPath + ": " + e.getMessage().lines().findFirst().orElse(""), e);
            return null;
        }
    }

    private static void unavailable(String reason, Throwable cause) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail("the report's browser tests need headless Chromium, and " + reason, cause);
        }
        Assumptions.abort("the report's browser tests need headless Chromium, and " + reason + " (under CI=true this fails)");
    }

    private static String find(String variable, List<String> candidates) {
        String named = System.getenv(variable);
        if (named != null && !named.isBlank()) {
            return Files.isExecutable(Path.of(named)) ? named : null;
        }
        return candidates.stream().filter(c -> Files.isExecutable(Path.of(c))).findFirst().orElse(null);
    }

    /** Opens a file, waiting until every chart has been drawn or failed. */
    void open(Path page) {
        driver.get(page.toUri().toString());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Object pending = script("return document.querySelectorAll('figure.chart:not([data-drawn])').length - "
                    + "document.querySelectorAll('figure.chart .error').length;");
            if (((Number) pending).intValue() == 0) {
                return;
            }
            sleep(100);
        }
        fail("the charts of " + page + " were not drawn within 60 s");
    }

    /** Runs JavaScript in the page. */
    Object script(String js, Object... args) {
        return driver.executeScript(js, args);
    }

    /** @return the console's messages since the last call, as "LEVEL message" */
    List<String> console() {
        return driver.manage().logs().get(LogType.BROWSER).getAll().stream().map(LogEntry::toString).toList();
    }

    /** @return the console's errors (SEVERE) since the last call */
    List<String> consoleErrors() {
        return driver.manage().logs().get(LogType.BROWSER).getAll().stream().filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                .map(e -> e.getMessage()).toList();
    }

    /** @return the URL of every request the page has made since the last call (DevTools' Network.requestWillBeSent) */
    List<String> requests() {
        List<String> urls = new java.util.ArrayList<>();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (LogEntry e : driver.manage().logs().get(LogType.PERFORMANCE).getAll()) {
            try {
                com.fasterxml.jackson.databind.JsonNode message = json.readTree(e.getMessage()).path("message");
                if (message.path("method").asText().equals("Network.requestWillBeSent")) {
                    urls.add(message.path("params").path("request").path("url").asText());
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException bad) {
                throw new IllegalStateException("chromedriver's performance log is not JSON: " + e.getMessage(), bad);
            }
        }
        return urls;
    }

    @SuppressWarnings("unchecked")
    List<Map<String, Object>> list(String js, Object... args) {
        return (List<Map<String, Object>>) script(js, args);
    }

    /** @return the {@code figure.chart} drawn from the figure whose PNG is {@code png} (relative to the page) */
    org.openqa.selenium.WebElement figure(String png) {
        return (org.openqa.selenium.WebElement) script("var png = arguments[0]; return Array.prototype.find.call(document.querySelectorAll('figure.chart'),"
                + " function (f) { return JSON.parse(document.getElementById(f.getAttribute('data-spec')).textContent).png === png; });", png);
    }

    /**
     * Moves the mouse onto the point (x, y) of a chart's series and returns the hover box: the series' name, then one
     * "name=value" line per row.
     */
    String hover(org.openqa.selenium.WebElement plot, int series, double x, double y) {
        script("arguments[0].scrollIntoView({block: 'center'});", plot);
        @SuppressWarnings("unchecked")
        List<Number> at = (List<Number>) script("var c = echarts.getInstanceByDom(arguments[0]);"
                + "var p = c.convertToPixel({seriesIndex: arguments[1]}, [arguments[2], arguments[3]]);"
                + "var r = arguments[0].getBoundingClientRect(); return [p[0], p[1], r.width, r.height];", plot, series, x, y);
        // Selenium's offsets count from the element's centre
        new org.openqa.selenium.interactions.Actions(driver).moveToElement(plot, (int) Math.round(at.get(0).doubleValue() - at.get(2).doubleValue() / 2),
                (int) Math.round(at.get(1).doubleValue() - at.get(3).doubleValue() / 2)).perform();
        for (int i = 0; i < 50; i++) {
            Object text = script("var t = arguments[0].querySelector('.tip'); if (!t || t.offsetParent === null) { return null; }"
                    + "return [t.querySelector('.name').textContent].concat(Array.prototype.map.call(t.querySelectorAll('tr'), function (r) {"
                    + " return r.children[0].textContent + '=' + r.children[1].textContent; })).join('\\n');", plot);
            if (text != null) {
                return (String) text;
            }
            sleep(100);
        }
        throw new AssertionError("no hover box appeared over (" + x + ", " + y + ")");
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        driver.quit();
    }
}
