package dev.deja.cli.debug;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The tests of a recorded JVM, read from the marker lines deja-junit's listener writes (one
 * write(2) each, to the descriptor DEJA_MARKER_FD names): {@code deja-test 1 start|end|skipped KIND
 * UNIQUE-ID NAME DISPLAY [OUTCOME MESSAGE]}, tab-separated, escaped. A marker is found by its
 * prefix in any successful write, so neither the descriptor nor the listener's version is needed.
 */
public final class TestMarkers {
    static final String PREFIX = "deja-test\t1\t";

    /**
     * One test (or a failed container) as the markers show it.
     *
     * @param startSeq the event of its start marker, -1 when it never started (skipped, a failed container)
     * @param endSeq   the event of its end marker, -1 when it never ended (the JVM died or was killed)
     * @param outcome  passed, failed, aborted, skipped, or "unfinished"
     */
    public record TestRun(String kind, String uniqueId, String name, String display, long startSeq, long endSeq,
                          int tid, String outcome, String message) {
        public boolean failed() {
            return outcome.equals("failed");
        }

        /** "#120-#340" (the events from its start to its end marker), or what is missing. */
        public String range() {
            if (startSeq < 0) return endSeq < 0 ? "-" : "#" + endSeq;
            return "#" + startSeq + "-" + (endSeq < 0 ? "(no end)" : "#" + endSeq);
        }

        /** One line of {@code tests}: range, outcome, name, display name when it says more, failure message. */
        public String line() {
            String shownDisplay = display.isEmpty() || name.endsWith("#" + display.replaceAll("\\(\\)$", "")) ? ""
                    : "  (" + display + ")";
            return String.format(Locale.ROOT, "%-17s %-10s %s%s%s", range(), outcome, name, oneLine(shownDisplay),
                    message.isEmpty() ? "" : ": " + oneLine(message));
        }
    }

    /** A message as one line of text: its tabs and line breaks escaped again. */
    static String oneLine(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
    }

    private record Marker(long seq, int tid, String[] fields) {
    }

    private TestMarkers() {
    }

    /** The tests of a recording, read in one pass over its journal. */
    public static List<TestRun> of(Recording rec) throws RecordingException {
        SyscallTable table = SyscallTable.of(Arch.parse(rec.header().arch()));
        int write = table.number("write").orElse(-1);
        List<Marker> markers = new ArrayList<>();
        try (EventReader events = rec.events()) {
            Event e;
            while ((e = events.next()) != null) add(e, write, markers);
        }
        return pair(markers);
    }

    /** The tests among events already read (the debugger's timeline). */
    static List<TestRun> of(List<Event> events, SyscallTable table) {
        int write = table.number("write").orElse(-1);
        List<Marker> markers = new ArrayList<>();
        for (Event e : events) add(e, write, markers);
        return pair(markers);
    }

    /** Collects markers from events fed one at a time (a reader that makes its own pass, as the report's). */
    public static final class Collector {
        private final int write;
        private final List<Marker> markers = new ArrayList<>();

        public Collector(SyscallTable table) {
            this.write = table.number("write").orElse(-1);
        }

        public void accept(Event e) {
            add(e, write, markers);
        }

        public List<TestRun> runs() {
            return pair(new ArrayList<>(markers));
        }
    }

    /** "N tests: P passed, F failed, A aborted, S skipped[, U unfinished]" (the wrapper script reads F). */
    public static String summary(List<TestRun> runs) {
        Map<String, Integer> by = new HashMap<>();
        for (TestRun r : runs) by.merge(r.outcome(), 1, Integer::sum);
        int unfinished = by.getOrDefault("unfinished", 0);
        return runs.size() + " test" + (runs.size() == 1 ? "" : "s") + ": " + by.getOrDefault("passed", 0) + " passed, "
                + by.getOrDefault("failed", 0) + " failed, " + by.getOrDefault("aborted", 0) + " aborted, "
                + by.getOrDefault("skipped", 0) + " skipped" + (unfinished == 0 ? "" : ", " + unfinished + " unfinished");
    }

    private static void add(Event e, int write, List<Marker> markers) {
        if (!(e instanceof SyscallEvent s) || s.nr() != write || !s.returned() || s.failed() || s.result() <= PREFIX.length()) return;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (MemoryBlock m : s.inputs()) if (m.arg() == 1) b.writeBytes(m.data());
        byte[] data = b.toByteArray();
        int n = (int) Math.min(data.length, s.result());
        String text = new String(data, 0, n, StandardCharsets.UTF_8);
        if (!text.startsWith(PREFIX)) return;
        if (text.endsWith("\n")) text = text.substring(0, text.length() - 1);
        String[] f = text.substring(PREFIX.length()).split("\t", -1);
        for (int i = 0; i < f.length; i++) f[i] = unescape(f[i]);
        if (f.length >= 5) markers.add(new Marker(s.seq(), s.tid(), f));
    }

    /** Starts and ends of one unique id paired in event order (a journal holds events in completion order). */
    private static List<TestRun> pair(List<Marker> markers) {
        markers.sort(Comparator.comparingLong(Marker::seq));
        List<TestRun> runs = new ArrayList<>();
        Map<String, Integer> open = new HashMap<>();
        for (Marker m : markers) {
            String[] f = m.fields();
            String what = f[0];
            String kind = f[1];
            String id = f[2];
            String outcome = f.length > 5 ? f[5] : "unfinished";
            String message = f.length > 6 ? f[6] : "";
            switch (what) {
                case "start" -> {
                    open.put(id, runs.size());
                    runs.add(new TestRun(kind, id, f[3], f[4], m.seq(), -1, m.tid(), "unfinished", ""));
                }
                case "end" -> {
                    Integer at = open.remove(id);
                    if (at != null) {
                        TestRun s = runs.get(at);
                        runs.set(at, new TestRun(s.kind(), id, s.name(), s.display(), s.startSeq(), m.seq(), s.tid(),
                                outcome, message));
                    } else {
                        runs.add(new TestRun(kind, id, f[3], f[4], -1, m.seq(), m.tid(), outcome, message));
                    }
                }
                case "skipped" -> runs.add(new TestRun(kind, id, f[3], f[4], -1, -1, m.tid(), "skipped", message));
                default -> {
                    // a marker kind of a newer listener: not one this deja knows how to show
                }
            }
        }
        return List.copyOf(runs);
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                sb.append(c);
                continue;
            }
            char d = s.charAt(++i);
            switch (d) {
                case 't' -> sb.append('\t');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 'u' -> {
                    if (i + 4 < s.length() && s.substring(i + 1, i + 5).matches("[0-9a-fA-F]{4}")) {
                        sb.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                        i += 4;
                    } else {
                        sb.append("\\u");
                    }
                }
                default -> sb.append(d);
            }
        }
        return sb.toString();
    }

    /**
     * The tests an ID names: the unique id or name itself, else those whose name or unique id ends with
     * it at a boundary ("CacheTest#evicts" for "com.acme.CacheTest#evicts"), else a 1-based index.
     */
    static List<TestRun> find(List<TestRun> runs, String id) {
        List<TestRun> exact = runs.stream().filter(r -> r.name().equals(id) || r.uniqueId().equals(id)).toList();
        if (!exact.isEmpty()) return exact;
        List<TestRun> suffix = runs.stream().filter(r -> endsAtBoundary(r.name(), id) || endsAtBoundary(r.uniqueId(), id))
                .toList();
        if (!suffix.isEmpty() || !id.matches("\\d{1,9}")) return suffix;
        int k = Integer.parseInt(id);
        return k >= 1 && k <= runs.size() ? List.of(runs.get(k - 1)) : List.of();
    }

    private static boolean endsAtBoundary(String s, String suffix) {
        if (!s.endsWith(suffix) || s.length() == suffix.length()) return s.equals(suffix);
        char before = s.charAt(s.length() - suffix.length() - 1);
        char first = suffix.charAt(0);
        return !Character.isJavaIdentifierPart(before) || !Character.isJavaIdentifierPart(first);
    }
}
