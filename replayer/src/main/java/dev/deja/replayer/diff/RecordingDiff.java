package dev.deja.replayer.diff;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.Schemas;
import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Compares two recordings of the same program: matches their threads, aligns each matched thread's
 * events and says where the runs differ, in control flow first.
 *
 * <p>Threads are matched by creation order: the first thread of each run pairs, then the k-th task a
 * matched thread created in A pairs with the k-th it created in B (processes and threads alike), so
 * ids never have to agree. Each pair's syscalls, signals and ends are aligned by {@link Alignment}
 * over keys of syscall number and path arguments, with a window of {@link #WINDOW} events and
 * {@link #CONFIRM} events of confirmation, and paired events are compared field by field.
 */
public final class RecordingDiff {

    /** How many events either run may have extra before the alignment gives up re-synchronising. */
    public static final int WINDOW = 64;
    /** How many events after a re-synchronisation point must agree too. */
    public static final int CONFIRM = 2;

    private RecordingDiff() {
    }

    /** Reads both recordings and compares them. */
    public static DiffReport compare(Recording a, Recording b, DiffOptions o) throws RecordingException {
        Arch archA = arch(a);
        Arch archB = arch(b);
        if (archA != archB) {
            throw new RecordingException("cannot compare a recording of " + archA.unameName() + " (" + a.path()
                    + ") with one of " + archB.unameName() + " (" + b.path() + ")");
        }
        List<Event> ea = load(a);
        List<Event> eb = load(b);
        return compare(run(a.path().toString(), a, ea), ea, run(b.path().toString(), b, eb), eb, archA, o);
    }

    private static Arch arch(Recording r) throws RecordingException {
        try {
            return Arch.parse(r.header().arch());
        } catch (IllegalArgumentException e) {
            throw new RecordingException(r.path() + " was recorded on " + r.header().arch() + " (its meta.json says so);"
                    + " this deja reads recordings of x86_64 and aarch64");
        }
    }

    private static List<Event> load(Recording r) throws RecordingException {
        List<Event> all = new ArrayList<>();
        try (EventReader reader = r.events()) {
            for (Event e; (e = reader.next()) != null; ) all.add(e);
        }
        return all;
    }

    private static DiffReport.Run run(String name, Recording r, List<Event> events) {
        DiffReport.Run counted = summarise(name, r.header().command(), events);
        int status = r.summary().map(RecordingSummary::exitStatus).orElse(counted.exitStatus());
        return new DiffReport.Run(name, counted.command(), status, counted.processes(), counted.threads(), counted.events());
    }

    /** A run's counts from its events; the exit status is the first thread's process exit, or -1. */
    public static DiffReport.Run summarise(String name, List<String> command, List<Event> events) {
        Set<Integer> pids = new HashSet<>();
        Set<Integer> tids = new HashSet<>();
        int status = -1;
        int rootPid = events.isEmpty() ? -1 : events.stream().min(Comparator.comparingLong(Event::seq)).get().pid();
        for (Event e : events) {
            pids.add(e.pid());
            tids.add(e.tid());
            if (e instanceof ExitEvent x && x.processExit() && x.pid() == rootPid) status = x.shellStatus();
        }
        return new DiffReport.Run(name, command, status, pids.size(), tids.size(), events.size());
    }

    /** Compares two runs given as events in any order (a recording's journal is in completion order). */
    public static DiffReport compare(DiffReport.Run runA, List<Event> a, DiffReport.Run runB, List<Event> b, Arch arch,
                                     DiffOptions o) {
        Schemas schemas = Schemas.of(arch);
        Tasks ta = Tasks.of(a);
        Tasks tb = Tasks.of(b);
        IdMap ids = new IdMap();
        List<int[]> pairs = match(ta, tb, ids);
        EventComparison cmp = new EventComparison(schemas, ids);
        List<ThreadDiff> threads = new ArrayList<>();
        for (int[] p : pairs) threads.add(thread(threads.size() + 1, ta, p[0], tb, p[1], cmp));
        return new DiffReport(runA, runB, withOrder(threads, cmp), arch, o);
    }

    /** A paired syscall on a descriptor: where it is, and its numbers in both runs. */
    private record FdCall(int thread, int row, long aSeq, long bSeq, String name) {
    }

    /**
     * Adds an {@link Difference.Kind#ORDER} difference wherever two threads' calls on the same descriptor of
     * the same process came in one order in A and the other in B: consecutive (in A) calls on one descriptor
     * by different threads whose B numbers are inverted.
     */
    private static List<ThreadDiff> withOrder(List<ThreadDiff> threads, EventComparison cmp) {
        Map<String, List<FdCall>> byDescriptor = new LinkedHashMap<>();
        for (ThreadDiff t : threads) {
            for (int i = 0; i < t.rows().size(); i++) {
                Row row = t.rows().get(i);
                if (!(row.a() instanceof SyscallEvent sa) || !(row.b() instanceof SyscallEvent sb)) continue;
                long fd = cmp.descriptor(sa);
                if (fd < 0 || cmp.descriptor(sb) != fd) continue;
                byDescriptor.computeIfAbsent(sa.pid() + "/" + fd, k -> new ArrayList<>())
                        .add(new FdCall(t.index(), i, sa.seq(), sb.seq(), cmp.name(sa)));
            }
        }
        Map<Integer, List<Difference>> added = new HashMap<>();
        for (List<FdCall> calls : byDescriptor.values()) {
            calls.sort(Comparator.comparingLong(FdCall::aSeq));
            for (int k = 1; k < calls.size(); k++) {
                FdCall before = calls.get(k - 1);
                FdCall after = calls.get(k);
                if (before.thread() == after.thread() || after.bSeq() > before.bSeq()) continue;
                added.computeIfAbsent(after.thread(), x -> new ArrayList<>()).add(new Difference(Difference.Kind.ORDER,
                        after.thread(), after.row(), 1, after.aSeq(), after.bSeq(), "after thread " + before.thread()
                                + "'s " + before.name() + " #" + before.aSeq() + " in A, before its #" + before.bSeq() + " in B"));
            }
        }
        if (added.isEmpty()) return threads;
        List<ThreadDiff> out = new ArrayList<>();
        for (ThreadDiff t : threads) {
            List<Difference> more = added.get(t.index());
            if (more == null) {
                out.add(t);
                continue;
            }
            List<Difference> merged = new ArrayList<>(t.differences());
            merged.addAll(more);
            merged.sort(Comparator.comparingInt(Difference::row)); // stable: a row's own differences first
            out.add(new ThreadDiff(t.index(), t.pidA(), t.tidA(), t.pidB(), t.tidB(), t.rows(), merged));
        }
        return out;
    }

    /** Each run's tasks: events per thread in seq order, and the tasks each thread created, in order. */
    private record Tasks(int root, Map<Integer, List<Event>> events, Map<Integer, List<SpawnEvent>> spawns) {

        static Tasks of(List<Event> unordered) {
            List<Event> all = new ArrayList<>(unordered);
            all.sort(Comparator.comparingLong(Event::seq));
            Map<Integer, List<Event>> events = new LinkedHashMap<>();
            Map<Integer, List<SpawnEvent>> spawns = new LinkedHashMap<>();
            for (Event e : all) {
                events.computeIfAbsent(e.tid(), t -> new ArrayList<>()).add(e);
                if (e instanceof SpawnEvent s) spawns.computeIfAbsent(s.tid(), t -> new ArrayList<>()).add(s);
            }
            return new Tasks(all.isEmpty() ? 0 : all.getFirst().tid(), events, spawns);
        }

        int pidOf(int tid) {
            List<Event> es = events.get(tid);
            return es == null || es.isEmpty() ? tid : es.getFirst().pid();
        }

        /** The events the alignment works on: syscalls, signals and ends (the rest details a syscall). */
        List<Event> aligned(int tid) {
            if (tid == 0) return List.of();
            return events.getOrDefault(tid, List.of()).stream()
                    .filter(e -> e instanceof SyscallEvent || e instanceof SignalEvent || e instanceof ExitEvent)
                    .toList();
        }
    }

    /** Pairs of (tid in A, tid in B), 0 for a thread only one run has; fills the id map. */
    private static List<int[]> match(Tasks a, Tasks b, IdMap ids) {
        List<int[]> out = new ArrayList<>();
        Set<Integer> seenA = new HashSet<>();
        Set<Integer> seenB = new HashSet<>();
        Deque<int[]> queue = new ArrayDeque<>();
        if (a.root() != 0 || b.root() != 0) queue.add(new int[] {a.root(), b.root()});
        while (!queue.isEmpty()) {
            int[] p = queue.poll();
            if (p[0] != 0 && !seenA.add(p[0]) || p[1] != 0 && !seenB.add(p[1])) continue;
            out.add(p);
            if (p[0] != 0 && p[1] != 0) {
                ids.put(p[0], p[1]);
                ids.put(a.pidOf(p[0]), b.pidOf(p[1]));
            }
            List<SpawnEvent> ca = p[0] == 0 ? List.of() : a.spawns().getOrDefault(p[0], List.of());
            List<SpawnEvent> cb = p[1] == 0 ? List.of() : b.spawns().getOrDefault(p[1], List.of());
            for (int k = 0; k < Math.max(ca.size(), cb.size()); k++) {
                int childA = k < ca.size() ? ca.get(k).childTid() : 0;
                int childB = k < cb.size() ? cb.get(k).childTid() : 0;
                if (childA != 0 && childB != 0) ids.put(ca.get(k).childPid(), cb.get(k).childPid());
                queue.add(new int[] {childA, childB});
            }
        }
        // Threads no spawn event names (a recording cut short): paired in order of first appearance.
        List<Integer> restA = a.events().keySet().stream().filter(t -> !seenA.contains(t)).toList();
        List<Integer> restB = b.events().keySet().stream().filter(t -> !seenB.contains(t)).toList();
        for (int k = 0; k < Math.max(restA.size(), restB.size()); k++) {
            int ta = k < restA.size() ? restA.get(k) : 0;
            int tb = k < restB.size() ? restB.get(k) : 0;
            if (ta != 0 && tb != 0) ids.put(ta, tb);
            out.add(new int[] {ta, tb});
        }
        return out;
    }

    private static ThreadDiff thread(int index, Tasks ta, int tidA, Tasks tb, int tidB, EventComparison cmp) {
        List<Event> a = ta.aligned(tidA);
        List<Event> b = tb.aligned(tidB);
        int pidA = tidA == 0 ? 0 : ta.pidOf(tidA);
        int pidB = tidB == 0 ? 0 : tb.pidOf(tidB);
        List<Row> rows = new ArrayList<>();
        List<Difference> diffs = new ArrayList<>();
        if (tidA == 0 || tidB == 0) {
            for (Event e : a) rows.add(new Row(e, null));
            for (Event e : b) rows.add(new Row(null, e));
            long seqA = a.isEmpty() ? 0 : a.getFirst().seq();
            long seqB = b.isEmpty() ? 0 : b.getFirst().seq();
            if (!rows.isEmpty()) {
                diffs.add(new Difference(Difference.Kind.THREAD, index, 0, rows.size(), seqA, seqB,
                        "created in " + (tidA == 0 ? "B" : "A") + " only"));
            }
            return new ThreadDiff(index, pidA, tidA, pidB, tidB, rows, diffs);
        }
        List<Alignment.Step> steps = Alignment.align(a.stream().map(cmp::key).toList(), b.stream().map(cmp::key).toList(),
                WINDOW, CONFIRM);
        long lastA = 0;
        long lastB = 0;
        int k = 0;
        while (k < steps.size()) {
            Alignment.Step s = steps.get(k);
            if (s.paired()) {
                Event ea = a.get(s.a());
                Event eb = b.get(s.b());
                for (EventComparison.Finding f : cmp.compare(ea, eb)) {
                    diffs.add(new Difference(f.kind(), index, rows.size(), 1, ea.seq(), eb.seq(), f.detail()));
                }
                rows.add(new Row(ea, eb));
                lastA = ea.seq();
                lastB = eb.seq();
                k++;
                continue;
            }
            // A block of unpaired steps: A's events, then B's.
            int start = rows.size();
            List<Event> onlyA = new ArrayList<>();
            List<Event> onlyB = new ArrayList<>();
            while (k < steps.size() && !steps.get(k).paired()) {
                Alignment.Step u = steps.get(k++);
                if (u.a() >= 0) onlyA.add(a.get(u.a()));
                else onlyB.add(b.get(u.b()));
            }
            onlyA.forEach(e -> rows.add(new Row(e, null)));
            onlyB.forEach(e -> rows.add(new Row(null, e)));
            long seqA = onlyA.isEmpty() ? lastA : onlyA.getFirst().seq();
            long seqB = onlyB.isEmpty() ? lastB : onlyB.getFirst().seq();
            boolean scheduling = Stream.concat(onlyA.stream(), onlyB.stream()).allMatch(cmp::synchronisation);
            boolean signalMoved = signalMoved(onlyA, onlyB, cmp);
            diffs.add(new Difference(scheduling || signalMoved ? Difference.Kind.SCHEDULE : blockKind(onlyA, onlyB), index,
                    start, rows.size() - start, seqA, seqB, signalMoved
                            ? "the same " + onlyA.size() + " events in another order: a signal arrived at another point"
                            : blockDetail(onlyA, onlyB)));
            if (!onlyA.isEmpty()) lastA = onlyA.getLast().seq();
            if (!onlyB.isEmpty()) lastB = onlyB.getLast().seq();
        }
        return new ThreadDiff(index, pidA, tidA, pidB, tidB, rows, diffs);
    }

    /**
     * True when both runs made the same calls and took the same signals, in another order, around a signal: the
     * thread did the same work and only the signal's asynchronous arrival moved (a SIGCHLD before or after a close).
     */
    private static boolean signalMoved(List<Event> onlyA, List<Event> onlyB, EventComparison cmp) {
        if (onlyA.size() != onlyB.size() || onlyA.stream().noneMatch(e -> e instanceof SignalEvent)) return false;
        List<String> ka = new ArrayList<>(onlyA.stream().map(cmp::key).toList());
        List<String> kb = new ArrayList<>(onlyB.stream().map(cmp::key).toList());
        ka.sort(null);
        kb.sort(null);
        return ka.equals(kb);
    }

    private static Difference.Kind blockKind(List<Event> onlyA, List<Event> onlyB) {
        if (onlyB.isEmpty()) return Difference.Kind.ONLY_A;
        if (onlyA.isEmpty()) return Difference.Kind.ONLY_B;
        if (onlyA.size() == 1 && onlyB.size() == 1 && onlyA.getFirst() instanceof SyscallEvent x
                && onlyB.getFirst() instanceof SyscallEvent y && x.nr() == y.nr()) {
            return Difference.Kind.PATH;
        }
        return Difference.Kind.CALL;
    }

    private static String blockDetail(List<Event> onlyA, List<Event> onlyB) {
        if (onlyA.isEmpty() || onlyB.isEmpty()) {
            int n = onlyA.size() + onlyB.size();
            return n + " event" + (n == 1 ? "" : "s");
        }
        return onlyA.size() + " event" + (onlyA.size() == 1 ? "" : "s") + " of A, " + onlyB.size() + " event"
                + (onlyB.size() == 1 ? "" : "s") + " of B";
    }
}
