package dev.deja.cli.report;

import dev.deja.cli.debug.TestMarkers;
import dev.deja.cli.report.RunModel.ContextAt;
import dev.deja.cli.report.RunModel.Lane;
import dev.deja.cli.report.RunModel.OutputLine;
import dev.deja.cli.report.RunModel.Summary;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.Errno;
import dev.deja.device.syscall.Renderer;
import dev.deja.device.syscall.Signals;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.ScheduleEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads a recording once, in journal order, into a {@link RunModel}. Memory grows with the events (a
 * few hundred bytes each, their text included); nothing else is kept.
 */
public final class RunModelBuilder {
    /** Output lines a report keeps; a run that prints more is cut (the page says so). */
    public static final int MAX_OUTPUT_LINES = 20_000;
    /** Characters of one output line kept. */
    static final int MAX_LINE = 2_000;
    /** Longest string shown in an event's text, as dump -s. */
    static final int STRING_LIMIT = 64;
    /** Bytes of each written memory block shown in the details. */
    static final int MEMORY_SHOWN = 32;

    /** Lines of test frameworks and runtimes that report a failure. */
    static final Pattern FAILURE_LINE = Pattern.compile(
            "\\bFAIL(ED|URE)?\\b|^not ok \\d|Traceback \\(most recent call last\\)|Exception in thread|AssertionError"
                    + "|\\bpanicked at\\b|Segmentation fault|\\bBUILD FAILURE\\b|\\bcore dumped\\b");
    /** Words one of which every {@link #FAILURE_LINE} holds: most lines are passed over without the regex. */
    private static final String[] FAILURE_WORDS = {"FAIL", "not ok", "Traceback", "Exception", "AssertionError", "panicked",
            "Segmentation", "core dumped"};

    private RunModelBuilder() {
    }

    /** The model of {@code rec}, named {@code name} in the commands the page offers. */
    public static RunModel build(Recording rec, String name) throws RecordingException {
        RecordingHeader h = rec.header();
        Arch arch = Arch.parse(h.arch());
        State s = new State(h.startTimeNs(), arch);
        try (EventReader events = rec.events()) {
            for (Event e; (e = events.next()) != null; ) s.add(e);
        }
        s.flushOutput();
        return s.model(rec, name);
    }

    /** One thread (a task, as the kernel says) as the pass meets it; becomes a lane. */
    private static final class Task {
        final int pid;
        final int tid;
        Task parent;
        boolean spawned;
        long startNs = Long.MAX_VALUE;
        long endNs = Long.MIN_VALUE;
        String ownName = "";
        String end = "";
        boolean failed;
        boolean exited;
        final List<Task> threads = new ArrayList<>();
        final List<Task> children = new ArrayList<>();
        int lane = -1;

        Task(int pid, int tid) {
            this.pid = pid;
            this.tid = tid;
        }

        void saw(long ns) {
            startNs = Math.min(startNs, ns);
            endNs = Math.max(endNs, ns);
        }
    }

    /** One drawn event until the table is built; flags change as later events tell more (the failing write). */
    private static final class Row {
        final long seq;
        final Task thread;
        final long startNs;
        final long durationNs;
        final CallClass cls;
        final EventTable.Kind kind;
        final String text;
        final String detail;
        int flags;

        Row(long seq, Task thread, long startNs, long durationNs, CallClass cls, EventTable.Kind kind, int flags,
            String text, String detail) {
            this.seq = seq;
            this.thread = thread;
            this.startNs = startNs;
            this.durationNs = durationNs;
            this.cls = cls;
            this.kind = kind;
            this.flags = flags;
            this.text = text;
            this.detail = detail;
        }
    }

    /** Bytes of one stream not yet ended by a newline, and the write that began them. */
    private static final class Pending {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Row first;
    }

    private static final class State {
        final long originNs;
        final Renderer renderer;
        final SyscallTable table;
        final CallClass[] classes;
        final int nrWrite;
        final int nrWritev;
        final int nrPrctl;
        final Map<Integer, Task> live = new HashMap<>();
        final List<Task> all = new ArrayList<>();
        final Map<Integer, String> comm = new HashMap<>();
        final Map<Integer, List<ContextAt>> contexts = new LinkedHashMap<>();
        final List<Row> rows = new ArrayList<>();
        final List<OutputLine> output = new ArrayList<>();
        final Pending[] pending = {null, new Pending(), new Pending()};
        boolean outputTruncated;
        int markerLines;
        String firstMarker;
        final TestMarkers.Collector tests;
        Task root;
        ExitEvent rootExit;
        final List<String> killed = new ArrayList<>();
        long lastNs;

        State(long originNs, Arch arch) {
            this.originNs = originNs;
            this.renderer = new Renderer(arch, STRING_LIMIT);
            this.table = SyscallTable.of(arch);
            this.classes = CallClass.of(table);
            this.nrWrite = table.number("write").orElse(-1);
            this.nrWritev = table.number("writev").orElse(-1);
            this.nrPrctl = table.number("prctl").orElse(-1);
            this.tests = new TestMarkers.Collector(table);
            this.lastNs = originNs;
        }

        long rel(long ns) {
            return ns - originNs;
        }

        Task thread(int pid, int tid) {
            Task t = live.get(tid);
            if (t == null) {
                t = new Task(pid, tid);
                live.put(tid, t);
                all.add(t);
                if (root == null) root = t;
            }
            return t;
        }

        void add(Event e) {
            lastNs = Math.max(lastNs, e.timeNs());
            tests.accept(e);
            switch (e) {
                case SyscallEvent c -> syscall(c);
                case SignalEvent g -> {
                    Task t = seen(g, g.timeNs());
                    String sender = g.senderPid() != 0 ? "sent by pid " + g.senderPid() + " (uid " + g.senderUid() + ")" : "";
                    rows.add(new Row(g.seq(), t, rel(g.timeNs()), 0, CallClass.SIGNALS, EventTable.Kind.SIGNAL,
                            EventTable.MARK, renderer.renderSignal(g), join(sender, g.delivered() ? "" : "suppressed by the tracer")));
                }
                case SpawnEvent p -> spawn(p);
                case ExecEvent x -> {
                    Task t = seen(x, x.timeNs());
                    rows.add(new Row(x.seq(), t, rel(x.timeNs()), 0, CallClass.PROCESS, EventTable.Kind.EXEC, EventTable.MARK,
                            "exec " + x.path() + " " + x.argv(), x.formerTid() != 0 && x.formerTid() != x.tid()
                                    ? "called by thread " + x.formerTid() : ""));
                }
                case ExitEvent x -> exit(x);
                case ContextEvent c -> {
                    seen(c, c.timeNs());
                    comm.put(c.pid(), c.context().comm());
                    contexts.computeIfAbsent(c.pid(), k -> new ArrayList<>()).add(new ContextAt(c.seq(), c.context()));
                }
                case MappingEvent m -> seen(m, m.timeNs());
                case ScheduleEvent g -> seen(g, g.timeNs());
            }
        }

        Task seen(Event e, long ns) {
            Task t = thread(e.pid(), e.tid());
            t.saw(rel(ns));
            return t;
        }

        void syscall(SyscallEvent c) {
            Task t = seen(c, c.timeNs());
            long end = c.returned() ? Math.max(c.exitTimeNs(), c.timeNs()) : c.timeNs();
            t.saw(rel(end));
            int flags = c.failed() ? EventTable.FAILED : 0;
            if (!c.returned()) flags |= EventTable.NO_EXIT;
            CallClass cls = c.nr() >= 0 && c.nr() < classes.length ? classes[c.nr()] : CallClass.OTHER;
            boolean write = c.nr() == nrWrite || c.nr() == nrWritev;
            boolean output = write && (c.arg(0) == 1 || c.arg(0) == 2) && c.returned() && !c.failed() && c.result() > 0;
            if (output) flags |= EventTable.OUTPUT;
            Row row = new Row(c.seq(), t, rel(c.timeNs()), end - c.timeNs(), cls, EventTable.Kind.SYSCALL, flags,
                    unaligned(renderer.render(c)), detail(c));
            rows.add(row);
            if (output) output(row, (int) c.arg(0), c);
            if (c.nr() == nrPrctl && c.arg(0) == 15 && !c.failed()) { // PR_SET_NAME: how runtimes name their threads
                for (MemoryBlock b : c.inputs()) if (b.arg() == 1) t.ownName = cString(b.data());
            }
        }

        String detail(SyscallEvent c) {
            StringBuilder sb = new StringBuilder();
            if (c.failed()) {
                int errno = (int) -c.result();
                sb.append("error: ").append(Errno.name(errno)).append(" (").append(Errno.message(errno)).append(")\n");
            }
            if (!c.returned()) sb.append("never returned (the thread exited, was killed, or exec replaced it)\n");
            if ((c.flags() & SyscallEvent.SKIPPED) != 0) sb.append("answered by a tracer; the kernel never ran it\n");
            for (MemoryBlock b : c.outputs()) {
                sb.append("wrote ").append(b.length()).append(" bytes at 0x").append(Long.toHexString(b.address()))
                        .append(b.arg() >= 0 ? " (argument " + b.arg() + ")" : "").append(": ");
                hex(sb, b);
                sb.append('\n');
            }
            if (!sb.isEmpty()) sb.setLength(sb.length() - 1);
            return sb.toString();
        }

        static void hex(StringBuilder sb, MemoryBlock b) {
            int n = Math.min(b.length(), MEMORY_SHOWN);
            StringBuilder ascii = new StringBuilder();
            for (int i = 0; i < n; i++) {
                int v = b.byteAt(i) & 0xff;
                sb.append(Character.forDigit(v >> 4, 16)).append(Character.forDigit(v & 15, 16));
                if (i % 4 == 3) sb.append(' ');
                ascii.append(v >= 0x20 && v < 0x7f ? (char) v : '.');
            }
            sb.append(" |").append(ascii).append('|');
            if (b.length() > n) sb.append(" ...");
        }

        void spawn(SpawnEvent p) {
            Task parent = seen(p, p.timeNs());
            Task child = live.get(p.childTid());
            if (child == null || child.spawned || child.exited) {
                child = new Task(p.childPid(), p.childTid());
                live.put(p.childTid(), child);
                all.add(child);
            }
            child.spawned = true;
            child.parent = parent;
            child.saw(rel(p.timeNs()));
            String what = switch (p.spawnKind()) {
                case THREAD -> "new thread " + p.childTid();
                case FORK -> "fork: child pid " + p.childPid();
                case VFORK -> "vfork: child pid " + p.childPid();
                case CLONE -> "clone: child pid " + p.childPid() + " tid " + p.childTid();
            };
            rows.add(new Row(p.seq(), parent, rel(p.timeNs()), 0, CallClass.PROCESS, EventTable.Kind.SPAWN,
                    EventTable.MARK, what, String.format("clone flags 0x%x", p.cloneFlags())));
        }

        void exit(ExitEvent x) {
            Task t = seen(x, x.timeNs());
            t.exited = true;
            int flags = EventTable.MARK;
            if (x.processExit()) {
                t.end = x.killed() ? "killed by " + Signals.name(x.termSignal()) + (x.coreDumped() ? " (core dumped)" : "")
                        : "exited with " + x.exitCode();
                t.failed = x.killed() || x.exitCode() != 0;
                boolean isRoot = root != null && x.pid() == root.pid;
                if (isRoot) rootExit = x;
                if (x.killed() || isRoot && x.exitCode() != 0) flags |= EventTable.FATAL;
                if (x.killed() && !isRoot) killed.add("pid " + x.pid() + " (" + comm.getOrDefault(x.pid(), "?") + ") was " + t.end);
            } else {
                t.end = "thread exited";
            }
            rows.add(new Row(x.seq(), t, rel(x.timeNs()), 0, CallClass.PROCESS, EventTable.Kind.EXIT, flags,
                    x.processExit() ? renderer.renderExit(x) : "+++ thread exited +++", ""));
        }

        void output(Row row, int fd, SyscallEvent c) {
            byte[] data = bytes(c, c.nr() == nrWrite ? 1 : -1);
            int n = (int) Math.min(data.length, c.result());
            Pending p = pending[fd];
            for (int i = 0; i < n; i++) {
                if (p.first == null) p.first = row;
                if (data[i] == '\n') line(fd, p);
                else if (p.bytes.size() < MAX_LINE * 4) p.bytes.write(data[i]);
            }
        }

        void line(int fd, Pending p) {
            String text = p.bytes.toString(StandardCharsets.UTF_8);
            if (text.length() > MAX_LINE) text = text.substring(0, MAX_LINE) + "...";
            boolean marker = failureLine(text);
            if (marker) {
                p.first.flags |= EventTable.FATAL;
                if (markerLines++ == 0) firstMarker = text.strip();
            }
            if (output.size() < MAX_OUTPUT_LINES) {
                output.add(new OutputLine(fd, p.first.thread.pid, p.first.seq, text, marker));
            } else {
                outputTruncated = true;
            }
            p.bytes.reset();
            p.first = null;
        }

        void flushOutput() {
            for (int fd = 1; fd <= 2; fd++) if (pending[fd].first != null) line(fd, pending[fd]);
        }

        static byte[] bytes(SyscallEvent s, int arg) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (MemoryBlock m : s.inputs()) if (m.arg() == arg) b.writeBytes(m.data());
            return b.toByteArray();
        }

        RunModel model(Recording rec, String name) {
            List<Lane> lanes = lanes();
            rows.sort(Comparator.comparingInt((Row r) -> r.thread.lane).thenComparingLong(r -> r.startNs)
                    .thenComparingLong(r -> r.seq));
            int n = rows.size();
            long[] seq = new long[n];
            int[] lane = new int[n];
            long[] start = new long[n];
            long[] dur = new long[n];
            byte[] cls = new byte[n];
            byte[] flags = new byte[n];
            byte[] kind = new byte[n];
            String[] text = new String[n];
            String[] detail = new String[n];
            for (int i = 0; i < n; i++) {
                Row r = rows.get(i);
                seq[i] = r.seq;
                lane[i] = r.thread.lane;
                start[i] = r.startNs;
                dur[i] = r.durationNs;
                cls[i] = (byte) r.cls.ordinal();
                flags[i] = (byte) r.flags;
                kind[i] = (byte) r.kind.ordinal();
                text[i] = r.text;
                detail[i] = r.detail;
            }
            EventTable table = new EventTable(seq, lane, start, dur, cls, flags, kind, text, detail);
            return new RunModel(summary(rec, name, n), lanes, table, output, contexts, outputTruncated);
        }

        /** Lanes depth first: a process, its other threads, then its child processes, in the order they appeared. */
        List<Lane> lanes() {
            Map<Integer, Task> leaders = new HashMap<>();
            List<Task> roots = new ArrayList<>();
            for (Task t : all) if (t.tid == t.pid) leaders.put(t.pid, t);
            for (Task t : all) {
                if (t.tid != t.pid) {
                    Task leader = leaders.get(t.pid);
                    if (leader != null && leader != t) {
                        leader.threads.add(t);
                        continue;
                    }
                }
                Task parentProcess = t.parent == null ? null : leaders.getOrDefault(t.parent.pid, t.parent);
                if (parentProcess != null && parentProcess != t) parentProcess.children.add(t);
                else roots.add(t);
            }
            List<Lane> out = new ArrayList<>();
            for (Task r : roots) place(r, -1, 0, out);
            return out;
        }

        void place(Task t, int parentLane, int depth, List<Lane> out) {
            if (t.lane >= 0) return;
            t.lane = out.size();
            String c = comm.getOrDefault(t.pid, "");
            String laneName = !t.ownName.isEmpty() ? t.ownName : c;
            if (t.startNs == Long.MAX_VALUE) t.startNs = t.endNs = 0;
            out.add(new Lane(t.lane, t.pid, t.tid, parentLane, depth, laneName, t.startNs, t.endNs, t.end, t.failed));
            for (Task th : t.threads) place(th, t.lane, depth + 1, out);
            for (Task ch : t.children) place(ch, t.lane, depth + 1, out);
        }

        /** The tests deja-junit's markers show failed (or never finished): at most 5 named, then a count. */
        List<String> failedTests() {
            List<TestMarkers.TestRun> bad = tests.runs().stream()
                    .filter(r -> r.failed() || r.outcome().equals("aborted") || r.outcome().equals("unfinished")).toList();
            List<String> lines = new ArrayList<>();
            for (TestMarkers.TestRun r : bad.subList(0, Math.min(5, bad.size()))) {
                String verb = r.failed() ? "failed" : r.outcome().equals("aborted") ? "was aborted" : "never finished";
                lines.add("test " + r.name() + " " + verb + " (events " + r.range() + ")"
                        + (r.message().isEmpty() ? "" : ": " + abbreviate(r.message().strip(), 160)));
            }
            if (bad.size() > 5) lines.add((bad.size() - 5) + " more tests failed");
            return lines;
        }

        Summary summary(Recording rec, String name, int drawn) {
            RecordingHeader h = rec.header();
            RecordingSummary fin = rec.summary().orElse(null);
            long endNs = fin != null ? fin.endTimeNs() : lastNs;
            int status = fin != null ? fin.exitStatus() : rootExit != null ? rootExit.shellStatus() : -1;
            String exitText = rootExit != null ? (rootExit.killed() ? "killed by " + Signals.name(rootExit.termSignal())
                    + (rootExit.coreDumped() ? " (core dumped)" : "") : "exited with " + rootExit.exitCode())
                    : status >= 0 ? "exit status " + status : "";
            List<String> failures = new ArrayList<>();
            if (status > 0) failures.add("the program " + (exitText.isEmpty() ? "exited with status " + status : exitText));
            failures.addAll(killed.subList(0, Math.min(5, killed.size())));
            if (killed.size() > 5) failures.add((killed.size() - 5) + " more processes were killed by signals");
            failures.addAll(failedTests());
            if (markerLines > 0) {
                failures.add(markerLines + (markerLines == 1 ? " output line reports" : " output lines report")
                        + " a failure (first: \"" + abbreviate(firstMarker, 120) + "\")");
            }
            long events = fin != null ? fin.eventCount() : drawn;
            int processes = fin != null ? fin.processCount() : (int) all.stream().filter(t -> t.tid == t.pid).count();
            String user = h.environment().getOrDefault("USER", h.environment().getOrDefault("LOGNAME", ""));
            return new Summary(name, h.command(), h.hostname(), h.kernel(), h.arch(), user, h.cwd(), rec.status().word(),
                    h.startTimeNs(), Math.max(0, endNs - h.startTimeNs()), status, exitText, events, rec.sizeBytes(),
                    processes, failures);
        }
    }

    static boolean failureLine(String text) {
        for (String w : FAILURE_WORDS) if (text.contains(w)) return FAILURE_LINE.matcher(text).find();
        return false;
    }

    /** strace aligns " = " at a column; a details panel and a search want the plain line. */
    static String unaligned(String line) {
        int eq = line.lastIndexOf(" = ");
        int from = eq;
        while (from > 0 && line.charAt(from - 1) == ' ') from--;
        return from < eq ? line.substring(0, from) + line.substring(eq) : line;
    }

    static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(Arrays.copyOf(b, n), StandardCharsets.UTF_8);
    }

    static String join(String a, String b) {
        if (a.isEmpty()) return b;
        if (b.isEmpty()) return a;
        return a + "\n" + b;
    }

    static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }
}
