package dev.deja.cli.debug;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.ArgKind;
import dev.deja.device.syscall.Errno;
import dev.deja.device.syscall.Renderer;
import dev.deja.device.syscall.Schema;
import dev.deja.device.syscall.Schemas;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.ProcessContext;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SyscallEvent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A recording's events as the debugger moves over them: every event in {@code seq} order, and the
 * <em>stops</em>, the recorded syscalls, one per place a live replay can be held (before the call
 * is replayed). A position is a stop index; {@link #size()} is the end of the run.
 */
final class Timeline {
    private final List<Event> events;
    private final List<SyscallEvent> stops = new ArrayList<>();
    private final long[] stopSeqs;
    /** Per stop: the signals its thread received since its previous call (delivered before this one). */
    private final List<List<SignalEvent>> signalsBefore = new ArrayList<>();
    private final Map<Integer, List<ContextEvent>> contexts = new HashMap<>();
    private final Map<Integer, List<Integer>> stopsOfThread = new LinkedHashMap<>();
    private final Map<Integer, List<Integer>> stopsOfProcess = new LinkedHashMap<>();
    private final Map<Integer, Integer> processOfThread = new HashMap<>();
    private final Schemas schemas;
    private final SyscallTable table;
    private final Renderer renderer;
    private final Arch arch;
    /** The tests deja-junit's markers name, and the stops of their start markers; read on first use. */
    private List<TestMarkers.TestRun> tests;
    private Set<Integer> testStarts;
    /** Per thread: the names it gave itself (prctl PR_SET_NAME, as HotSpot names its threads), by event. */
    private final Map<Integer, TreeMap<Long, String>> threadNames = new HashMap<>();

    private Timeline(List<Event> all, Arch arch) {
        this.events = all;
        this.arch = arch;
        this.schemas = Schemas.of(arch);
        this.table = schemas.table();
        this.renderer = new Renderer(arch);
        Map<Integer, List<SignalEvent>> pending = new HashMap<>();
        int nrPrctl = ThreadNames.prctl(table);
        ThreadNames.JavaMain javaMain = new ThreadNames.JavaMain();
        for (Event e : all) {
            processOfThread.putIfAbsent(e.tid(), e.pid());
            javaMain.accept(e);
            switch (e) {
                case SignalEvent s -> pending.computeIfAbsent(s.tid(), k -> new ArrayList<>()).add(s);
                case ContextEvent c -> contexts.computeIfAbsent(c.pid(), k -> new ArrayList<>()).add(c);
                case SyscallEvent s -> {
                    int index = stops.size();
                    stops.add(s);
                    List<SignalEvent> before = pending.remove(s.tid());
                    signalsBefore.add(before == null ? List.of() : List.copyOf(before));
                    stopsOfThread.computeIfAbsent(s.tid(), k -> new ArrayList<>()).add(index);
                    stopsOfProcess.computeIfAbsent(s.pid(), k -> new ArrayList<>()).add(index);
                    ThreadNames.given(s, nrPrctl).ifPresent(n -> threadNames.computeIfAbsent(s.tid(), k -> new TreeMap<>()).put(s.seq(), n));
                }
                default -> {
                }
            }
        }
        stopSeqs = stops.stream().mapToLong(SyscallEvent::seq).toArray();
        for (int tid : processOfThread.keySet()) {
            if (javaMain.isMain(tid)) threadNames.computeIfAbsent(tid, k -> new TreeMap<>()).putIfAbsent(0L, ThreadNames.JAVA_MAIN);
        }
    }

    static Timeline load(Recording rec) throws RecordingException {
        List<Event> all = new ArrayList<>();
        try (EventReader r = rec.events()) {
            Event e;
            while ((e = r.next()) != null) all.add(e);
        }
        try {
            return of(all, Arch.parse(rec.header().arch()));
        } catch (IllegalArgumentException e) {
            throw new RecordingException(rec.path() + " was recorded on " + rec.header().arch() + " (its meta.json says"
                    + " so); this deja reads recordings of x86_64 and aarch64");
        }
    }

    /** A timeline of events in any order (a journal holds them in completion order). */
    static Timeline of(List<Event> events, Arch arch) {
        List<Event> all = new ArrayList<>(events);
        all.sort(Comparator.comparingLong(Event::seq));
        return new Timeline(all, arch);
    }

    private static final long CLOCK_REALTIME = 0;
    private static final long CLOCK_REALTIME_COARSE = 5;

    /** A wall-clock time the program read: at stop {@code index}, {@code epochNanos} since 1970 (UTC). */
    record WallRead(int index, long epochNanos) {
    }

    private List<WallRead> wallReads;

    /**
     * Every wall-clock time the program saw, in event order: clock_gettime of CLOCK_REALTIME (and its
     * coarse form: System.currentTimeMillis and a logger's timestamps come from these), gettimeofday
     * and time. Read on first use.
     */
    List<WallRead> wallReads() {
        if (wallReads != null) return wallReads;
        int clockGettime = table.number("clock_gettime").orElse(-1);
        int gettimeofday = table.number("gettimeofday").orElse(-1);
        int time = table.number("time").orElse(-1);
        List<WallRead> out = new ArrayList<>();
        for (int i = 0; i < stops.size(); i++) {
            SyscallEvent s = stops.get(i);
            if (!s.returned() || s.failed()) continue;
            long ns = -1;
            if (s.nr() == clockGettime && (s.arg(0) == CLOCK_REALTIME || s.arg(0) == CLOCK_REALTIME_COARSE)) {
                ns = pair(s, 1, 1);
            } else if (s.nr() == gettimeofday && s.arg(0) != 0) {
                ns = pair(s, 0, 1000);
            } else if (s.nr() == time) {
                ns = s.result() * 1_000_000_000L;
            }
            if (ns >= 0) out.add(new WallRead(i, ns));
        }
        wallReads = List.copyOf(out);
        return wallReads;
    }

    /** A timespec or timeval the kernel wrote at argument {@code arg}, in nanoseconds; -1 if not recorded. */
    private static long pair(SyscallEvent s, int arg, long unitNs) {
        for (MemoryBlock b : s.outputs()) {
            if (b.arg() != arg || b.data().length < 16) continue;
            ByteBuffer bb = ByteBuffer.wrap(b.data()).order(ByteOrder.LITTLE_ENDIAN);
            long sec = bb.getLong(0);
            long frac = bb.getLong(8);
            if (sec < 0 || frac < 0) return -1;
            return sec * 1_000_000_000L + frac * unitNs;
        }
        return -1;
    }

    Arch arch() {
        return arch;
    }

    /** The tests of the recorded JVM(s), from deja-junit's marker writes, in the order they started. */
    List<TestMarkers.TestRun> tests() {
        if (tests == null) {
            tests = TestMarkers.of(events, table);
            Set<Integer> starts = new HashSet<>();
            for (TestMarkers.TestRun r : tests) {
                if (r.startSeq() >= 0 && indexOf(r.startSeq()) >= 0) starts.add(indexOf(r.startSeq()));
            }
            testStarts = starts;
        }
        return tests;
    }

    /** True when stop {@code index} is the marker write of a test's start. */
    boolean isTestStart(int index) {
        tests();
        return testStarts.contains(index);
    }

    /** The name the thread gave itself last at or before event {@code seq} (its first one if later), or empty. */
    Optional<String> threadName(int tid, long seq) {
        TreeMap<Long, String> names = threadNames.get(tid);
        if (names == null) return Optional.empty();
        Map.Entry<Long, String> e = names.floorEntry(seq);
        return Optional.of(e != null ? e.getValue() : names.firstEntry().getValue());
    }

    SyscallTable table() {
        return table;
    }

    Schemas schemas() {
        return schemas;
    }

    /** How many stops; also the position "after the last event". */
    int size() {
        return stops.size();
    }

    SyscallEvent stop(int index) {
        return stops.get(index);
    }

    List<Event> events() {
        return events;
    }

    /** The first stop whose event number is at least {@code seq}, or {@link #size()}. */
    int atOrAfter(long seq) {
        int lo = 0;
        int hi = stopSeqs.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (stopSeqs[mid] < seq) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /** The stop of event {@code seq}, or -1 when it is not a recorded syscall. */
    int indexOf(long seq) {
        int i = atOrAfter(seq);
        return i < stopSeqs.length && stopSeqs[i] == seq ? i : -1;
    }

    List<SignalEvent> signalsBefore(int index) {
        return signalsBefore.get(index);
    }

    /** Stop indices of one recorded thread, in order. */
    List<Integer> stopsOfThread(int tid) {
        return stopsOfThread.getOrDefault(tid, List.of());
    }

    List<Integer> stopsOfProcess(int pid) {
        return stopsOfProcess.getOrDefault(pid, List.of());
    }

    java.util.Set<Integer> threads() {
        return stopsOfThread.keySet();
    }

    /** Recorded process ids in order of their first event. */
    List<Integer> processes() {
        List<Integer> out = new ArrayList<>();
        for (Event e : events) if (!out.contains(e.pid())) out.add(e.pid());
        return out;
    }

    int processOf(int tid) {
        return processOfThread.getOrDefault(tid, tid);
    }

    /** The process's context as recorded last before event {@code seq} (or its first one). */
    Optional<ProcessContext> context(int pid, long seq) {
        List<ContextEvent> cs = contexts.get(pid);
        if (cs == null || cs.isEmpty()) return Optional.empty();
        ContextEvent best = cs.getFirst();
        for (ContextEvent c : cs) if (c.seq() <= seq) best = c;
        return Optional.of(best.context());
    }

    /** The process's program name before event {@code seq}: its recorded comm, else the last program it executed. */
    String program(int pid, long seq) {
        String exec = null;
        for (Event e : events) {
            if (e.seq() > seq) break;
            if (e instanceof dev.deja.formats.event.ExecEvent x && x.pid() == pid) exec = x.path();
        }
        if (exec != null) {
            java.nio.file.Path name = java.nio.file.Path.of(exec).getFileName();
            if (name != null) return name.toString();
        }
        return context(pid, seq).map(ProcessContext::comm).orElse("?");
    }

    /** How the process ended, as recorded, or empty when the recording does not say. */
    Optional<ExitEvent> processExit(int pid) {
        for (int i = events.size() - 1; i >= 0; i--) {
            if (events.get(i) instanceof ExitEvent x && x.pid() == pid && x.processExit()) return Optional.of(x);
        }
        return Optional.empty();
    }

    String name(SyscallEvent e) {
        return table.name(e.nr());
    }

    Optional<Schema> schema(SyscallEvent e) {
        return schemas.schema(e.nr());
    }

    /** The strace-style text of a syscall, "openat(AT_FDCWD, "/etc/hosts", O_RDONLY) = 3". */
    String render(SyscallEvent e) {
        return renderer.render(e).replaceAll(" {2,}= ", " = ");
    }

    /** An event as {@code deja dump -n} shows it, or null for the kinds dump hides. */
    String line(Event e) {
        String body = switch (e) {
            case SyscallEvent s -> render(s);
            case SignalEvent s -> renderer.renderSignal(s);
            case ExitEvent x -> x.processExit() ? renderer.renderExit(x) : null;
            default -> null;
        };
        return body == null ? null : "#" + e.seq() + " [pid " + e.tid() + "] " + body;
    }

    /** The strings the call's path arguments name, in argument order. */
    List<String> paths(SyscallEvent e) {
        Schema s = schema(e).orElse(null);
        if (s == null) return List.of();
        List<String> out = new ArrayList<>();
        for (MemoryBlock b : e.inputs()) {
            if (b.arg() >= 0 && b.arg() < s.argCount() && s.arg(b.arg()).kind() == ArgKind.PATH) out.add(cString(b.data()));
        }
        return out;
    }

    /** The descriptor arguments of the call (fd and dirfd kinds), as ints. */
    List<Integer> fds(SyscallEvent e) {
        Schema s = schema(e).orElse(null);
        if (s == null) return List.of();
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < s.argCount(); i++) {
            ArgKind k = s.arg(i).kind();
            if (k == ArgKind.FD || k == ArgKind.DIRFD) out.add((int) e.arg(i));
        }
        return out;
    }

    /** Every path any call of the recording names (for completion). */
    TreeSet<String> allPaths() {
        TreeSet<String> out = new TreeSet<>();
        for (SyscallEvent s : stops) out.addAll(paths(s));
        return out;
    }

    /** The result as strace shows it: -1 for a failure, else the value. */
    static long shownResult(SyscallEvent e) {
        return e.failed() ? -1 : e.result();
    }

    static String errno(SyscallEvent e) {
        return e.failed() ? Errno.name((int) -e.result()) : "";
    }

    static String cString(byte[] d) {
        int n = 0;
        while (n < d.length && d[n] != 0) n++;
        return new String(d, 0, n, StandardCharsets.UTF_8);
    }
}
