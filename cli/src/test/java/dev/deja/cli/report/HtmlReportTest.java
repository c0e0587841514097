package dev.deja.cli.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.cli.report.RunModel.Lane;
import dev.deja.cli.report.RunModel.OutputLine;
import dev.deja.cli.report.RunModel.Summary;
import dev.deja.formats.json.Json;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** The page as bytes: self-contained, its data where and as the script reads it, nothing a run prints can break out. */
class HtmlReportTest {

    private static RunModel model(String outputLine) {
        Summary s = new Summary("rec", List.of("app", "<b>x</b>"), "host", "6.8", "x86_64", "qa", "/w", "complete", 1_000,
                5_000, 1, "exited with 1", 3, 4096, 1, List.of("the program exited with 1"));
        Lane lane = new Lane(0, 10, 10, -1, 0, "app", 0, 4_000, "exited with 1", true);
        EventTable t = new EventTable(new long[] {1, 2, 3}, new int[] {0, 0, 0}, new long[] {100, 200, 3_000},
                new long[] {50, 0, 0}, new byte[] {(byte) CallClass.FILE.ordinal(), (byte) CallClass.FILE.ordinal(),
                (byte) CallClass.PROCESS.ordinal()}, new byte[] {0, EventTable.OUTPUT | EventTable.FATAL, EventTable.MARK | EventTable.FATAL},
                new byte[] {0, 0, (byte) EventTable.Kind.EXIT.ordinal()},
                new String[] {"openat(AT_FDCWD, \"/etc/hosts\", O_RDONLY) = 3", "write(1, \"x\\n\", 2) = 2", "+++ exited with 1 +++"},
                new String[] {"", "wrote\ttab\nsecond line", ""});
        return new RunModel(s, List.of(lane), t, List.of(new OutputLine(1, 10, 2, outputLine, false)), Map.of(), false);
    }

    private static String page(RunModel m) throws IOException {
        StringWriter w = new StringWriter();
        HtmlReport.write(w, m);
        return w.toString();
    }

    @Test
    void thePageFetchesNothingAndCarriesItsData() throws Exception {
        String html = page(model("hello"));
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("content=\"default-src 'none';"), "a policy that forbids every request");
        assertFalse(html.contains("http://") || html.contains("https://") || html.contains("@@"), "no address, no placeholder left");
        assertTrue(html.contains("<title>deja report: app &lt;b&gt;x&lt;/b&gt;</title>"));

        Map<?, ?> data = (Map<?, ?>) Json.parse(dataOf(html));
        assertEquals(1L, ((Number) data.get("version")).longValue());
        assertEquals(List.of("file", "network", "process", "time", "memory", "signals", "wait", "other"), data.get("classes"));
        Map<?, ?> run = (Map<?, ?>) ((List<?>) data.get("runs")).getFirst();
        assertEquals(3L, ((Number) run.get("n")).longValue());

        ByteBuffer b = ByteBuffer.wrap(gunzip((String) run.get("bin"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(3 * 31, b.remaining());
        assertEquals(2.0, b.getDouble(8), "seq column");
        assertEquals(3_000.0, b.getDouble(3 * 8 + 16), "start column");
        assertEquals(50.0, b.getDouble(6 * 8), "duration column");
        assertEquals(0, b.getInt(9 * 8), "lane column");
        assertEquals(CallClass.PROCESS.ordinal(), b.get(3 * 28 + 2), "class column");
        assertEquals(EventTable.OUTPUT | EventTable.FATAL, b.get(3 * 29 + 1), "flags column");
        assertEquals(EventTable.Kind.EXIT.ordinal(), b.get(3 * 30 + 2), "kind column");

        String[] texts = new String(gunzip((String) run.get("text")), StandardCharsets.UTF_8).split("\n", -1);
        assertEquals(3, texts.length);
        assertEquals("write(1, \"x\\n\", 2) = 2\twrote\\ttab\u001esecond line", texts[1], "text, tab, detail lines");
        assertEquals(List.of(List.of(10L, 10L, -1L, 0L, "app", 0L, 4_000L, "exited with 1", true)), run.get("lanes"));
    }

    @Test
    void whatTheProgramPrintedCannotEndTheScript() throws Exception {
        String evil = "</script><script>alert(1)</script><!--";
        String html = page(model(evil));
        String data = dataOf(html);
        assertFalse(data.contains("<"), "no '<' inside the data element");
        Map<?, ?> run = (Map<?, ?>) ((List<?>) ((Map<?, ?>) Json.parse(data)).get("runs")).getFirst();
        assertEquals(evil, ((List<?>) ((List<?>) run.get("output")).getFirst()).get(3), "the line itself survives");
    }

    private static String dataOf(String html) {
        String open = "<script type=\"application/json\" id=\"deja-data\">";
        int from = html.indexOf(open) + open.length();
        return html.substring(from, html.indexOf("</script>", from));
    }

    private static byte[] gunzip(String base64) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(Base64.getDecoder().decode(base64)))) {
            return in.readAllBytes();
        }
    }
}
