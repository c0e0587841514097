package dev.deja.replayer.diff;

import dev.deja.device.syscall.Renderer;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.formats.json.Json;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Renders a {@link DiffReport} as stable text for people (lines in the style of {@code deja dump},
 * marked as diff(1) marks them) or as one JSON object for programs.
 *
 * <p>Row marks: {@code ' '} the same in both runs, {@code '~'} the same call with different data,
 * {@code '!'} the same call with a different outcome or arguments, {@code '<'} only in A, {@code '>'}
 * only in B.
 */
public final class DiffRenderer {

    /** How many data differences before a control-flow difference are named as its possible causes. */
    public static final int CAUSES = 5;
    /** The longest run of rows of one block (calls only one run made) shown before eliding the rest. */
    public static final int BLOCK_ROWS = 12;
    /** Data differences shown for runs on the same path without --data. */
    public static final int SAME_PATH_DATA = 20;

    private final DiffReport r;
    private final Renderer renderer;
    private final dev.deja.device.syscall.SyscallTable table;

    public DiffRenderer(DiffReport report) {
        this.r = report;
        this.renderer = new Renderer(report.arch());
        this.table = dev.deja.device.syscall.SyscallTable.of(report.arch());
    }

    /** The report as text, one line per element, ending with a summary line. */
    public String text() {
        DiffOptions o = r.options();
        StringBuilder sb = new StringBuilder();
        sb.append("--- A ").append(run(r.a())).append('\n');
        sb.append("+++ B ").append(run(r.b())).append('\n');
        // Runs on the same path differ only in data: that is the report, not something to ask for.
        if (o.data() || r.sameControlFlow()) {
            for (ThreadDiff t : r.threads()) {
                // On the same path every data difference may matter (the program printed another time): up to 20.
                boolean samePath = !o.data() && r.sameControlFlow();
                List<Difference> data = o.all() || samePath ? t.data() : t.firstData().stream().toList();
                if (data.isEmpty()) continue;
                sb.append('\n').append(threadName(t)).append(": data differences").append('\n');
                int shown = samePath && !o.all() ? Math.min(data.size(), SAME_PATH_DATA) : data.size();
                for (Difference d : data.subList(0, shown)) sb.append(oneLine(t, d)).append('\n');
                if (shown < data.size()) sb.append("    ... ").append(data.size() - shown).append(" more (--data --all shows them)\n");
            }
        }
        List<ThreadDiff> parted = r.threads().stream().filter(t -> t.firstControl().isPresent())
                .sorted(Comparator.comparingLong((ThreadDiff t) -> t.firstControl().orElseThrow().aSeq())
                        .thenComparingInt(ThreadDiff::index))
                .toList();
        for (ThreadDiff t : parted) {
            List<Difference> control = o.all() ? t.control() : List.of(t.firstControl().orElseThrow());
            boolean first = true;
            for (Difference d : control) {
                sb.append('\n').append(threadName(t)).append(": ").append(d.kind().words());
                if (!d.detail().isEmpty()) sb.append(" (").append(d.detail()).append(')');
                sb.append(d.kind() == Difference.Kind.ONLY_B ? ", after A #" : ", at A #").append(d.aSeq())
                        .append(d.kind() == Difference.Kind.ONLY_A ? ", after B #" : ", at B #").append(d.bSeq()).append('\n');
                context(sb, t, d, o.context());
                if (first) {
                    List<Difference> causes = ranked(t, t.incomingBefore(d));
                    if (!causes.isEmpty()) {
                        sb.append("  before it, the kernel gave this thread different data (what it consumed first, then most recent first):\n");
                        for (Difference c : causes.subList(0, Math.min(CAUSES, causes.size()))) {
                            sb.append(oneLine(t, c)).append('\n');
                            Row row = t.rows().get(c.row());
                            String indent = "    " + " ".repeat(seqs(row).length());
                            sb.append(indent).append(" A ").append(event(row.a())).append('\n');
                            sb.append(indent).append(" B ").append(event(row.b())).append('\n');
                        }
                        if (causes.size() > CAUSES) {
                            sb.append("    ... ").append(causes.size() - CAUSES).append(" earlier (--data --all shows them)\n");
                        }
                    }
                    first = false;
                }
            }
        }
        sb.append('\n').append(summary(r)).append('\n');
        return sb.toString();
    }

    /**
     * The candidate causes, most relevant first: what the program itself consumed (reads, its own random
     * bytes, clocks) before what differs in every run whatever the program does: glibc's 8 random bytes
     * at start (GRND_NONBLOCK) and the stat of its standard descriptors (the size of an output file
     * grows between runs). Within each group, most recent first, as before.
     */
    List<Difference> ranked(ThreadDiff t, List<Difference> causes) {
        List<Difference> relevant = new ArrayList<>();
        List<Difference> noise = new ArrayList<>();
        for (Difference c : causes) {
            Row row = t.rows().get(c.row());
            (routine(row.a() != null ? row.a() : row.b()) ? noise : relevant).add(c);
        }
        relevant.addAll(noise);
        return relevant;
    }

    private boolean routine(Event e) {
        if (!(e instanceof SyscallEvent s)) return false;
        String name = table.name(s.nr());
        return switch (name) {
            case "getrandom" -> (s.arg(2) & 1) != 0 && s.arg(1) == 8; // glibc's malloc and stack-protector bytes
            case "fstat", "newfstatat", "statx" -> s.arg(0) >= 0 && s.arg(0) <= 2
                    && (name.equals("fstat") || s.inputs().stream().anyMatch(b -> b.arg() == 1 && b.length() <= 1));
            default -> false;
        };
    }

    private static String run(DiffReport.Run run) {
        return run.name() + " (" + (run.exitStatus() < 0 ? "no exit status" : "exit status " + run.exitStatus()) + "; "
                + plural(run.processes(), "process", "processes") + ", " + plural(run.threads(), "thread", "threads")
                + ", " + plural(run.events(), "event", "events") + ")";
    }

    private static String plural(long n, String one, String many) {
        return n + " " + (n == 1 ? one : many);
    }

    private static String threadName(ThreadDiff t) {
        return "thread " + t.index() + " (A " + task(t.pidA(), t.tidA()) + ", B " + task(t.pidB(), t.tidB()) + ")";
    }

    private static String task(int pid, int tid) {
        if (tid == 0) return "none";
        return pid == tid ? "pid " + pid : "pid " + pid + " tid " + tid;
    }

    /** "the runs part ..." or "the runs take the same path ...", with the counts. */
    static String summary(DiffReport r) {
        int data = r.dataDifferences();
        String dataText = data == 0 ? "no data differences" : plural(data, "data difference", "data differences")
                + (r.options().data() || r.sameControlFlow() ? "" : " (--data shows them)");
        if (r.sameControlFlow()) {
            return (data == 0 ? "the runs are the same" : "the runs take the same path") + ": " + dataText;
        }
        long threads = r.threads().stream().filter(t -> t.firstControl().isPresent()).count();
        return "the runs part in " + plural(threads, "thread", "threads") + ": "
                + plural(r.controlDifferences(), "control-flow difference", "control-flow differences") + ", " + dataText;
    }

    /** One difference as one line: mark, the event numbers, the A event and what differs. */
    private String oneLine(ThreadDiff t, Difference d) {
        Row row = t.rows().get(d.row());
        Event e = row.a() != null ? row.a() : row.b();
        return "  " + mark(d) + " " + seqs(row) + " " + name(e) + ": " + d.kind().words()
                + (d.detail().isEmpty() ? "" : " (" + d.detail() + ")");
    }

    private void context(StringBuilder sb, ThreadDiff t, Difference d, int context) {
        int from = Math.max(0, d.row() - context);
        int blockEnd = d.row() + d.rows();
        int to = Math.min(t.rows().size(), blockEnd + context);
        for (int i = from; i < to; i++) {
            if (i >= d.row() + BLOCK_ROWS && i < blockEnd) {
                sb.append("    ... ").append(blockEnd - i).append(" more events of this block\n");
                i = blockEnd - 1;
                continue;
            }
            row(sb, t, i);
        }
    }

    private void row(StringBuilder sb, ThreadDiff t, int i) {
        Row row = t.rows().get(i);
        char mark = ' ';
        for (Difference d : t.differences()) {
            if (i >= d.row() && i < d.row() + d.rows()) mark = stronger(mark, mark(d));
        }
        String seqs = seqs(row);
        if (row.a() != null && row.b() != null && mark != ' ') {
            sb.append("  ").append(mark).append(' ').append(seqs).append(" A ").append(event(row.a())).append('\n');
            sb.append("    ").append(" ".repeat(seqs.length())).append(" B ").append(event(row.b())).append('\n');
        } else {
            sb.append("  ").append(mark).append(' ').append(seqs).append("   ").append(event(row.a() != null ? row.a() : row.b()))
                    .append('\n');
        }
    }

    private static char mark(Difference d) {
        return switch (d.kind()) {
            case ONLY_A -> '<';
            case ONLY_B -> '>';
            case THREAD -> '|';
            default -> d.control() ? '!' : '~';
        };
    }

    private static char stronger(char current, char next) {
        String order = " ~!|<>";
        return order.indexOf(next) > order.indexOf(current) ? next : current;
    }

    private static String seqs(Row row) {
        return pad(row.a() == null ? "" : "#" + row.a().seq()) + " " + pad(row.b() == null ? "" : "#" + row.b().seq());
    }

    private static String pad(String s) {
        return s.length() >= 8 ? s : s + " ".repeat(8 - s.length());
    }

    private String name(Event e) {
        String text = event(e);
        int paren = text.indexOf('(');
        return e instanceof SyscallEvent && paren > 0 ? text.substring(0, paren) : e.kind();
    }

    /** An event as deja dump shows it, with the result column's padding removed. */
    public String event(Event e) {
        String s = switch (e) {
            case SyscallEvent x -> renderer.render(x);
            case SignalEvent x -> renderer.renderSignal(x);
            case ExitEvent x -> x.processExit() ? renderer.renderExit(x) : "+++ thread exited +++";
            default -> e.kind();
        };
        return s.replaceAll(" {2,}= ", " = ");
    }

    // ---------------------------------------------------------------- JSON

    /**
     * The report as one JSON object: both runs, the verdict, and for each thread the differences the
     * options select (all control-flow differences with --all, else the first; data differences with
     * --data), each with both events rendered; the first control-flow difference carries its causes.
     */
    public String json() {
        DiffOptions o = r.options();
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("a", run(r.a(), "A"));
        root.put("b", run(r.b(), "B"));
        root.put("same_control_flow", r.sameControlFlow());
        root.put("identical", r.identical());
        root.put("control_differences", r.controlDifferences());
        root.put("data_differences", r.dataDifferences());
        Optional<Difference> first = r.firstControl();
        root.put("first", first.map(d -> difference(r.thread(d.thread()), d, true)).orElse(null));
        List<Object> threads = new ArrayList<>();
        for (ThreadDiff t : r.threads()) {
            Map<String, Object> tj = new LinkedHashMap<>();
            tj.put("index", t.index());
            tj.put("a", task(t.pidA(), t.tidA(), t.rows().stream().filter(x -> x.a() != null).count()));
            tj.put("b", task(t.pidB(), t.tidB(), t.rows().stream().filter(x -> x.b() != null).count()));
            List<Object> diffs = new ArrayList<>();
            List<Difference> shown = new ArrayList<>();
            if (o.data()) shown.addAll(o.all() ? t.data() : t.firstData().stream().toList());
            shown.addAll(o.all() ? t.control() : t.firstControl().stream().toList());
            Optional<Difference> firstControl = t.firstControl();
            for (Difference d : shown) {
                diffs.add(difference(t, d, firstControl.isPresent() && firstControl.get().equals(d)));
            }
            tj.put("differences", diffs);
            threads.add(tj);
        }
        root.put("threads", threads);
        root.put("summary", summary(r));
        return Json.write(root);
    }

    private static Map<String, Object> run(DiffReport.Run run, String label) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("label", label);
        m.put("recording", run.name());
        m.put("command", List.copyOf(run.command()));
        m.put("exit_status", run.exitStatus());
        m.put("processes", run.processes());
        m.put("threads", run.threads());
        m.put("events", run.events());
        return m;
    }

    private static Map<String, Object> task(int pid, int tid, long events) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", pid);
        m.put("tid", tid);
        m.put("events", events);
        return m;
    }

    private Map<String, Object> difference(ThreadDiff t, Difference d, boolean withCauses) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("thread", t.index());
        m.put("kind", d.kind().name().toLowerCase());
        m.put("control", d.control());
        m.put("what", d.kind().words());
        m.put("detail", d.detail());
        m.put("a_seq", d.aSeq());
        m.put("b_seq", d.bSeq());
        List<Object> rows = new ArrayList<>();
        for (int i = d.row(); i < d.row() + Math.min(d.rows(), BLOCK_ROWS); i++) {
            Row row = t.rows().get(i);
            Map<String, Object> rj = new LinkedHashMap<>();
            rj.put("a", row.a() == null ? null : event(row.a()));
            rj.put("b", row.b() == null ? null : event(row.b()));
            rows.add(rj);
        }
        m.put("rows", d.rows());
        m.put("events", rows);
        if (withCauses) {
            List<Object> causes = new ArrayList<>();
            for (Difference c : t.incomingBefore(d)) {
                Row row = t.rows().get(c.row());
                Map<String, Object> cj = new LinkedHashMap<>();
                cj.put("kind", c.kind().name().toLowerCase());
                cj.put("detail", c.detail());
                cj.put("a_seq", c.aSeq());
                cj.put("b_seq", c.bSeq());
                cj.put("a", row.a() == null ? null : event(row.a()));
                cj.put("b", row.b() == null ? null : event(row.b()));
                causes.add(cj);
            }
            m.put("causes", causes);
        }
        return m;
    }
}
