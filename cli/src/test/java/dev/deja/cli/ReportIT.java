package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.samples.Samples;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deja report} as a user runs it: record a sample that forks, execs, prints and fails, write its
 * page (from the directory and from a pack, to a file and to stdout), then open the page in headless
 * Chromium and read the DOM the page's script built: the lanes, the output lines, a click on a line that
 * selects its write, a search that finds a path, no script error. A screenshot is kept in
 * cli/target/report-it/ for people to look at.
 */
class ReportIT {
    private static final Path ARTIFACTS = Path.of("target", "report-it").toAbsolutePath();

    @TempDir
    Path home;

    @Test
    void theReportOfAFailingRunOpensInABrowser() throws Exception {
        Path rec = Runs.record(home, "forkexec", Samples.path("forkexec"));
        Path page = home.resolve("forkexec.html");
        Runs.Result r = Runs.deja(home, "report", rec.toString(), "-o", page.toString());
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stderr().startsWith("deja: wrote " + page + " ("), r.stderr());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(page)));
        String html = Files.readString(page, StandardCharsets.UTF_8);
        assertTrue(html.startsWith("<!DOCTYPE html>"), html.substring(0, 100));
        // Self-contained: nothing to fetch, whatever the browser.
        assertFalse(Pattern.compile("(?i)<(script|link|img|iframe)[^>]+(src|href)=").matcher(html).find(), "an external resource");
        assertFalse(html.contains("http://") || html.contains("https://"), "an address in the page");

        Runs.Result again = Runs.deja(home, "report", rec.toString(), "-o", page.toString());
        assertEquals(125, again.status());
        assertEquals("deja: " + page + " exists already (--force replaces it)\n", again.stderr());

        // A pack, to standard output: the same page, named after the pack in its commands.
        Path pack = home.resolve("forkexec.deja");
        assertEquals(0, Runs.deja(home, "pack", "-q", rec.toString(), "-o", pack.toString()).status());
        Runs.Result fromPack = Runs.deja(home, "report", pack.toString(), "-o", "-");
        assertEquals(0, fromPack.status(), fromPack.stderr());
        assertEquals("", fromPack.stderr());
        assertTrue(fromPack.stdout().startsWith("<!DOCTYPE html>") && fromPack.stdout().endsWith("</html>\n"));
        assertTrue(fromPack.stdout().contains("\"recording\":\"" + pack + "\""));

        Path chromium = chromium();
        Files.createDirectories(ARTIFACTS);
        // Line 2 of the output is "fork+_exit(5): ...": the page clicks it (#line=2) and searches for a path.
        String dom = dumpDom(chromium, page, "line=2&search=/bin/echo");
        Files.writeString(ARTIFACTS.resolve("forkexec.dom.html"), dom);
        assertFalse(dom.contains("data-error="), "the page's script failed: " + between(dom, "id=\"script-error\"", "</div>"));
        assertTrue(dom.contains("data-state=\"ready\""), "the page never finished drawing");
        assertEquals("4", attr(dom, "<body", "data-lanes"), "the parent, echo and two children");
        assertEquals(4, count(dom, "<li class=\"lane\""));
        assertTrue(dom.contains("The run failed:") && dom.contains("the program exited with 3"), "the failure is shown");

        List<String> lines = matches(dom, "<div class=\"line[^\"]*\"[^>]*>");
        assertEquals(7, lines.size(), lines::toString);
        String clicked = lines.get(2);
        assertTrue(clicked.contains(" sel\""), "the clicked line is selected: " + clicked);
        String seq = attr(clicked, "<div", "data-seq");
        String event = between(dom, "<div class=\"event\"", "</div>");
        assertEquals(seq, attr("<div class=\"event\"" + event, "<div", "data-seq"), "the details show the line's write");
        assertTrue(dom.contains("deja debug -g " + seq + " " + rec), "the debug command of the event");
        assertTrue(between(dom, "<pre class=\"text\">", "</pre>").startsWith("write(1, \"fork+_exit(5): wait4"), dom);

        String results = between(dom, "<ul id=\"results\"", "</ul>");
        assertTrue(results.contains("execve(\"/bin/echo\""), "the search finds the exec of /bin/echo: " + results);
        assertTrue(Pattern.compile("<span id=\"hits\"[^>]*>[1-9][0-9]* match").matcher(dom).find(), "the count of matches");

        Path shot = ARTIFACTS.resolve("forkexec.png");
        Files.deleteIfExists(shot);
        // A deep link to the event, as a bug report would give it; the page must draw it without an error.
        String linked = dumpDom(chromium, page, "seq=" + seq);
        assertFalse(linked.contains("data-error="), between(linked, "id=\"script-error\"", "</div>"));
        assertEquals(seq, attr(linked.substring(linked.indexOf("<div class=\"event\"")), "<div", "data-seq"));
        Runs.Result s = Runs.run(null, chromiumArgs(chromium, "--window-size=1400,1000", "--virtual-time-budget=10000",
                "--screenshot=" + shot, "file://" + page + "#seq=" + seq), Duration.ofSeconds(60));
        assertEquals(0, s.status(), s.stderr());
        assertTrue(Files.size(shot) > 20_000, "a screenshot of the drawn page");
    }

    @Test
    void theDiffPageMarksWhereTwoRunsPart() throws Exception {
        // The same script twice; only the second run misses the file it tests for, and says so.
        Path flag = home.resolve("flag");
        Files.writeString(flag, "x");
        String script = "if [ -e " + flag + " ]; then echo found; else echo 'missing: FAILED' >&2; exit 1; fi";
        Path pass = Runs.record(home, "pass", "/bin/sh", "-c", script);
        Files.delete(flag);
        Path fail = Runs.record(home, "fail", "/bin/sh", "-c", script);
        Path page = home.resolve("diff.html");

        Runs.Result r = Runs.deja(home, "diff", "--html", pass.toString(), fail.toString(), "-o", page.toString());
        assertEquals(1, r.status(), "the runs differ: " + r.stderr());
        assertEquals("deja: wrote " + page + " (the runs differ)\n", r.stderr());
        Runs.Result noFile = Runs.deja(home, "diff", "--html", pass.toString(), fail.toString());
        assertEquals(125, noFile.status());
        assertTrue(noFile.stderr().startsWith("deja: diff --html writes a page: give it a file with -o FILE"), noFile.stderr());

        String dom = dumpDom(chromium(), page, "");
        Files.createDirectories(ARTIFACTS);
        Files.writeString(ARTIFACTS.resolve("diff.dom.html"), dom);
        assertFalse(dom.contains("data-error="), "the page's script failed: " + between(dom, "id=\"script-error\"", "</div>"));
        assertTrue(dom.contains("data-state=\"ready\""));
        assertEquals("2", attr(dom, "<body", "data-lanes"), "one shell per run");
        String first = between(dom, "<li class=\"first\"", "</li>");
        assertTrue(first.contains("first difference: "), dom);
        assertFalse(attr("<li" + first, "<li", "data-a").isEmpty() || attr("<li" + first, "<li", "data-b").isEmpty(), first);
        assertTrue(dom.contains("Run B failed:") && dom.contains("missing: FAILED"), "run B's failure and its output");
    }

    /**
     * Chromium, which scripts/install.sh installs; without it the browser half of this test is skipped on a
     * developer's machine and fails in CI (CI=true), where it must run.
     */
    static Path chromium() {
        String configured = System.getenv("DEJA_CHROMIUM");
        Path p = Path.of(configured != null ? configured : "/usr/bin/chromium");
        if (Files.isExecutable(p)) return p;
        String why = "no Chromium at " + p + " (scripts/install.sh installs Debian's chromium; DEJA_CHROMIUM names another)";
        if ("true".equals(System.getenv("CI"))) throw new AssertionError(why);
        Assumptions.abort(why);
        return p;
    }

    private String dumpDom(Path chromium, Path page, String hash) throws IOException, InterruptedException {
        Runs.Result r = Runs.run(null, chromiumArgs(chromium, "--window-size=1400,1000", "--virtual-time-budget=10000", "--dump-dom",
                "file://" + page + "#" + hash), Duration.ofSeconds(60));
        assertEquals(0, r.status(), r.stderr());
        return r.stdout();
    }

    /** Headless, as the machine's notes say: no sandbox (root), nothing that reaches for the network, a fresh profile. */
    private List<String> chromiumArgs(Path chromium, String... rest) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + Files.createTempDirectory(home, "chromium-profile")));
        cmd.addAll(List.of(rest));
        return cmd;
    }

    private static String attr(String html, String tagStart, String name) {
        int at = html.indexOf(tagStart);
        if (at < 0) return "";
        String tag = html.substring(at, html.indexOf('>', at) + 1);
        Matcher m = Pattern.compile(" " + Pattern.quote(name) + "=\"([^\"]*)\"").matcher(tag);
        return m.find() ? m.group(1) : "";
    }

    private static String between(String s, String from, String to) {
        int a = s.indexOf(from);
        if (a < 0) return "";
        a += from.length();
        int b = s.indexOf(to, a);
        return b < 0 ? s.substring(a) : s.substring(a, b);
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) n++;
        return n;
    }

    private static List<String> matches(String s, String regex) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile(regex).matcher(s);
        while (m.find()) out.add(m.group());
        return out;
    }
}
