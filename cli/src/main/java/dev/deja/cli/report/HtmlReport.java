package dev.deja.cli.report;

import dev.deja.cli.report.RunModel.ContextAt;
import dev.deja.cli.report.RunModel.Lane;
import dev.deja.cli.report.RunModel.OutputLine;
import dev.deja.cli.report.RunModel.Summary;
import dev.deja.formats.event.ProcessContext;
import dev.deja.formats.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Renders run models as one self-contained HTML page (report.html: inline CSS and script, no network).
 * The page gets the model as JSON; the event columns and texts are gzip-compressed and base64-encoded
 * inside it (a browser's DecompressionStream opens them), so that a large run stays a small file.
 */
public final class HtmlReport {
    /** Bumped when the page's data layout changes (the script checks it). */
    static final int DATA_VERSION = 1;
    private static final String TEMPLATE = "report.html";

    private HtmlReport() {
    }

    /** A report of one run. */
    public static void write(Writer out, RunModel run) throws IOException {
        write(out, "deja report: " + String.join(" ", run.summary().command()), "report", List.of(run), null);
    }

    /**
     * A page of one or more runs on one time axis; {@code diff} (or null) is what the page marks of their
     * comparison, as {@link DiffPage} builds it.
     */
    public static void write(Writer out, String title, String kind, List<RunModel> runs, Map<String, Object> diff)
            throws IOException {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("version", DATA_VERSION);
        data.put("kind", kind);
        List<Object> classes = new ArrayList<>();
        for (CallClass c : CallClass.values()) classes.add(c.word());
        data.put("classes", classes);
        List<Object> runJson = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) runJson.add(run(runs.get(i), runs.size() == 1 ? "" : String.valueOf((char) ('A' + i))));
        data.put("runs", runJson);
        data.put("diff", diff);
        // In a <script> element only "</script" and "<!--" matter; escaping every '<' (found only inside
        // JSON strings) rules both out.
        String json = Json.write(data).replace("<", "\\u003c");
        String page = template();
        int at = page.indexOf("@@DATA@@");
        out.write(page.substring(0, at).replace("@@TITLE@@", escape(title)));
        out.write(json);
        out.write(page.substring(at + "@@DATA@@".length()));
        out.flush();
    }

    static Map<String, Object> run(RunModel m, String label) {
        Summary s = m.summary();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("label", label);
        r.put("recording", s.recording());
        r.put("command", new ArrayList<Object>(s.command()));
        r.put("hostname", s.hostname());
        r.put("kernel", s.kernel());
        r.put("arch", s.arch());
        r.put("user", s.user());
        r.put("cwd", s.cwd());
        r.put("status", s.status());
        r.put("startNs", s.startNs());
        r.put("durationNs", s.durationNs());
        r.put("exitStatus", s.exitStatus());
        r.put("exitText", s.exitText());
        r.put("eventCount", s.eventCount());
        r.put("bytes", s.bytes());
        r.put("processes", s.processes());
        r.put("failures", new ArrayList<Object>(s.failures()));
        List<Object> lanes = new ArrayList<>();
        for (Lane l : m.lanes()) {
            lanes.add(List.of(l.pid(), l.tid(), l.parent(), l.depth(), l.name(), l.startNs(), l.endNs(), l.end(), l.failed()));
        }
        r.put("lanes", lanes);
        EventTable t = m.events();
        r.put("n", t.size());
        r.put("bin", gzipBase64(columns(t)));
        r.put("text", gzipBase64(texts(t)));
        List<Object> output = new ArrayList<>();
        for (OutputLine o : m.output()) output.add(List.of(o.stream(), o.pid(), o.seq(), o.text(), o.marker()));
        r.put("output", output);
        r.put("outputTruncated", m.outputTruncated());
        Map<String, Object> contexts = new LinkedHashMap<>();
        m.contexts().forEach((pid, list) -> {
            List<Object> l = new ArrayList<>();
            for (ContextAt c : list) {
                ProcessContext x = c.context();
                l.add(List.of(c.seq(), x.ppid(), x.uid(), x.gid(), x.euid(), x.egid(), x.comm(), x.exe(), x.cwd()));
            }
            contexts.put(String.valueOf(pid), l);
        });
        r.put("contexts", contexts);
        return r;
    }

    /**
     * The columns as the page reads them (little-endian typed arrays, each aligned): seq, start and
     * duration as float64 (exact below 2^53 ns, 104 days), lane as int32, then class, flags and kind bytes.
     */
    static byte[] columns(EventTable t) {
        int n = t.size();
        ByteBuffer b = ByteBuffer.allocate(n * 31).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putDouble(t.seq(i));
        for (int i = 0; i < n; i++) b.putDouble(t.startNs(i));
        for (int i = 0; i < n; i++) b.putDouble(t.durationNs(i));
        for (int i = 0; i < n; i++) b.putInt(t.lane(i));
        for (int i = 0; i < n; i++) b.put((byte) t.callClass(i).ordinal());
        for (int i = 0; i < n; i++) b.put((byte) t.flags(i));
        for (int i = 0; i < n; i++) b.put((byte) t.kind(i).ordinal());
        return b.array();
    }

    /** One line per event: its text, a tab, its detail with line breaks as U+001E. */
    static byte[] texts(EventTable t) {
        StringBuilder sb = new StringBuilder(t.size() * 80);
        for (int i = 0; i < t.size(); i++) {
            if (i > 0) sb.append('\n');
            sb.append(oneLine(t.text(i))).append('\t').append(oneLine(t.detail(i).replace('\n', '\u001e')));
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String oneLine(String s) {
        return s.indexOf('\t') < 0 && s.indexOf('\n') < 0 ? s : s.replace("\t", "\\t").replace("\n", "\\n");
    }

    static String gzipBase64(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length / 4 + 64);
        try (GZIPOutputStream gz = new GZIPOutputStream(out, 1 << 16)) {
            gz.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException("compressing in memory", e);
        }
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String template() {
        try (InputStream in = HtmlReport.class.getResourceAsStream(TEMPLATE)) {
            if (in == null) throw new IllegalStateException("missing resource " + TEMPLATE);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + TEMPLATE, e);
        }
    }
}
